"""How well the engine translates speech to English, per language.

    .venv/bin/python experiments/translation_quality.py [--out docs/translation.md]

Five everyday sentences per language (written for this benchmark, with their English), spoken by
espeak-ng from the engine's own wheel (nbaudio.server.models.espeak, at 140 words per minute), sent to the
engine's real `/v1/audio/translations` (Whisper base, multilingual, task=translate) and scored
against the reference English with chrF and BLEU (sacrebleu, corpus level per language).
espeak-ng is robotic speech, so these figures are a lower bound of what a person's recording gets;
the ranking between languages is what they are for.

The engine warns on translations from languages under `POOR_CHRF` (nbaudio.server.models.translation_quality
holds the measured table; this script prints where the two disagree).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]

# (language code, spoken sentence, reference English)
SENTENCES: dict[str, list[tuple[str, str]]] = {
    "de": [("Guten Morgen. Die Katze schläft auf dem Sofa.", "Good morning. The cat is sleeping on the sofa."),
           ("Heute ist das Wetter sehr schön, wir gehen in den Park.",
            "Today the weather is very nice, we are going to the park."),
           ("Ich möchte einen Kaffee und ein Stück Kuchen, bitte.",
            "I would like a coffee and a piece of cake, please."),
           ("Der Zug nach Berlin fährt um acht Uhr ab.", "The train to Berlin leaves at eight o'clock."),
           ("Meine Schwester lernt Klavier spielen.", "My sister is learning to play the piano.")],
    "fr": [("Bonjour tout le monde. Le chat est sur la table.", "Hello everyone. The cat is on the table."),
           ("Il fait très beau aujourd'hui, allons à la plage.",
            "The weather is very nice today, let's go to the beach."),
           ("Je voudrais un café et un croissant, s'il vous plaît.", "I would like a coffee and a croissant, please."),
           ("Le train pour Paris part à huit heures.", "The train to Paris leaves at eight o'clock."),
           ("Ma sœur apprend à jouer du piano.", "My sister is learning to play the piano.")],
    "es": [("Buenos días. El perro duerme en el jardín.", "Good morning. The dog is sleeping in the garden."),
           ("Hoy hace mucho calor, vamos a la playa.", "It is very hot today, let's go to the beach."),
           ("Quisiera un café con leche, por favor.", "I would like a coffee with milk, please."),
           ("El tren a Madrid sale a las ocho.", "The train to Madrid leaves at eight."),
           ("Mi hermana aprende a tocar el piano.", "My sister is learning to play the piano.")],
    "it": [("Buongiorno a tutti. Il gatto è sul tavolo.", "Good morning everyone. The cat is on the table."),
           ("Oggi fa bel tempo, andiamo al mare.", "The weather is nice today, let's go to the sea."),
           ("Vorrei un caffè e una brioche, per favore.", "I would like a coffee and a brioche, please."),
           ("Il treno per Roma parte alle otto.", "The train to Rome leaves at eight."),
           ("Mia sorella impara a suonare il pianoforte.", "My sister is learning to play the piano.")],
    "pt": [("Bom dia. O gato está em cima da mesa.", "Good morning. The cat is on the table."),
           ("Hoje está muito calor, vamos à praia.", "It is very hot today, let's go to the beach."),
           ("Eu queria um café e um pão, por favor.", "I would like a coffee and a bread roll, please."),
           ("O comboio para Lisboa parte às oito horas.", "The train to Lisbon leaves at eight o'clock."),
           ("A minha irmã está a aprender a tocar piano.", "My sister is learning to play the piano.")],
    "nl": [("Goedemorgen. De kat ligt op de tafel.", "Good morning. The cat is lying on the table."),
           ("Vandaag is het mooi weer, we gaan naar het strand.",
            "Today the weather is nice, we are going to the beach."),
           ("Ik wil graag een koffie en een broodje, alstublieft.", "I would like a coffee and a sandwich, please."),
           ("De trein naar Amsterdam vertrekt om acht uur.", "The train to Amsterdam leaves at eight o'clock."),
           ("Mijn zus leert piano spelen.", "My sister is learning to play the piano.")],
    "ru": [("Доброе утро. Кошка спит на диване.", "Good morning. The cat is sleeping on the sofa."),
           ("Сегодня очень хорошая погода, пойдём в парк.", "The weather is very good today, let's go to the park."),
           ("Я хотел бы чашку чая, пожалуйста.", "I would like a cup of tea, please."),
           ("Поезд в Москву отправляется в восемь часов.", "The train to Moscow leaves at eight o'clock."),
           ("Моя сестра учится играть на пианино.", "My sister is learning to play the piano.")],
}
NAMES = {"de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese", "nl": "Dutch",
         "ru": "Russian"}
WPM = 140


def _wav(text: str, language: str) -> bytes:
    import soundfile as sf

    from nbaudio.server.models import espeak

    samples = espeak.synthesize(text, language, speed=WPM / 165)
    buf = io.BytesIO()
    sf.write(buf, samples, espeak.sample_rate(), format="WAV", subtype="PCM_16")
    return buf.getvalue()


def measure() -> dict[str, dict]:
    import requests
    import sacrebleu

    from nbaudio import local

    server = local.start()
    results: dict[str, dict] = {}
    try:
        for lang, pairs in SENTENCES.items():
            hyps = []
            for text, _ref in pairs:
                r = requests.post(server.base_url + "/audio/translations", timeout=300,
                                  files={"file": ("s.wav", _wav(text, lang), "audio/wav")},
                                  data={"model": "whisper-1", "response_format": "verbose_json"})
                r.raise_for_status()
                body = r.json()
                hyps.append(body["text"].strip())
                print(f"{lang} {hyps[-1]!r}", flush=True)
            refs = [[ref for _t, ref in pairs]]
            results[lang] = {"chrf": sacrebleu.corpus_chrf(hyps, refs).score,
                             "bleu": sacrebleu.corpus_bleu(hyps, refs).score,
                             "hyps": hyps}
    finally:
        server.stop()
    return results


def render(results: dict[str, dict]) -> str:
    from nbaudio.server.models.translation_quality import POOR_CHRF

    lines = ["# Speech translation to English on the engine, per language", "",
             f"Generated by `experiments/translation_quality.py` on {dt.date.today().isoformat()} (method in its "
             "docstring): 5 espeak-ng sentences per language through `/v1/audio/translations` (Whisper base).", "",
             "| language | chrF | BLEU | engine says |", "|---|---|---|---|"]
    for lang, r in sorted(results.items(), key=lambda kv: -kv[1]["chrf"]):
        verdict = "warns: may be inaccurate" if r["chrf"] < POOR_CHRF else "no warning"
        lines.append(f"| {NAMES[lang]} ({lang}) | {r['chrf']:.0f} | {r['bleu']:.0f} | {verdict} |")
    lines += ["", f"chrF under {POOR_CHRF}: the translation keeps little of the meaning; the engine adds a warning "
              "(`warning` in the JSON body, an `X-NbAudio-Warning` header, a note in the display).", "",
              "## What it heard", ""]
    for lang, r in results.items():
        for (text, ref), hyp in zip(SENTENCES[lang], r["hyps"], strict=True):
            lines.append(f"- {lang}: {text} → **{hyp}** (reference: {ref})")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "translation.md")
    args = ap.parse_args(argv)
    results = measure()
    from nbaudio.server.models.translation_quality import CHRF_BY_LANGUAGE

    for lang, r in results.items():
        table = CHRF_BY_LANGUAGE.get(lang)
        if table is None or abs(table - r["chrf"]) > 5:
            print(f"note: {lang} measured chrF {r['chrf']:.0f}, the engine's table says {table}")
    args.out.write_text(render(results), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
