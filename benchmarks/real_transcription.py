"""The transcription part of the `real` area (benchmarks/bench_real.py): recordings of people.

- WER per language on the reported recordings (tests/fixtures/real_speech/README.md), the engine
  (HTTP, verbose_json, no language given: its own routing) beside faster-whisper called directly
  on the same audio with the model the engine picked for that language (tiny.en for English, base
  for the others), beam 5, its other options at their defaults. Normaliser: Whisper's (English for
  English, basic for the rest; characters for Chinese), tests/support/real_speech.normalize.
- The English-then-German file: WER of each half, the engine beside faster-whisper direct (base,
  language detected once, as a plain faster-whisper call does).
- The default model: WER and real-time factor (decode seconds per second of audio, one request,
  the engine's CTranslate2 options: int8, 2 workers x 1 thread on 2 cores) of tiny.en, base told
  the language is English, and base detecting it, on the English tuning recordings (what the
  choice was made on) and on the reported ones.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

from benchmarks.harness import Result

LANGUAGE_NAMES = {"english": "en", "german": "de", "french": "fr", "spanish": "es", "portuguese": "pt",
                  "chinese": "zh"}


def _wav(samples: Any) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, samples, 16000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _engine_text(base_url: str, samples: Any) -> tuple[str, dict[str, Any]]:
    import requests

    r = requests.post(base_url + "/audio/transcriptions", files={"file": ("a.wav", _wav(samples), "audio/wav")},
                      data={"model": "whisper-1", "response_format": "verbose_json"}, timeout=900)
    r.raise_for_status()
    body = r.json()
    return body["text"], body


def _models() -> dict[str, Any]:
    from faster_whisper import WhisperModel

    from nbaudio.server.models.sources import whisper_en_source, whisper_multi_source
    from nbaudio.server.models.stt import whisper_options
    from nbaudio.server.settings import Settings

    s = Settings()
    opts = whisper_options(s)
    return {"tiny.en": WhisperModel(whisper_en_source(s).path, **opts),
            "base": WhisperModel(whisper_multi_source(s).path, **opts)}


def _direct(model: Any, samples: Any, language: str | None = None) -> str:
    segments, _ = model.transcribe(samples, beam_size=5, language=language)
    return "".join(s.text for s in segments)


class _Tally:
    """Edits and reference length per key, and the WER they make."""

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = {}

    def add(self, key: str, reference: str, hypothesis: str, language: str) -> None:
        from tests.support.real_speech import error_counts

        edits, n = error_counts(reference, hypothesis, language)
        c = self.counts.setdefault(key, [0, 0])
        c[0] += edits
        c[1] += n

    def rate(self, key: str) -> float:
        edits, n = self.counts[key]
        return edits / n if n else 0.0

    def text(self, key: str) -> str:
        edits, n = self.counts[key]
        return f"{self.rate(key):.3f} ({edits}/{n})"


def _per_language(base_url: str, models: dict[str, Any], quick: bool) -> list[Result]:
    from tests.support.real_speech import CHARACTER_LANGUAGES, recordings

    recs = recordings(split="reported")
    if quick:
        recs = [r for i, r in enumerate(recs) if i % 5 == 0]
    ours, peer, languages = _Tally(), _Tally(), []
    for rec in recs:
        samples = rec.samples()
        text, _ = _engine_text(base_url, samples)
        ours.add(rec.language, rec.reference, text, rec.language)
        model = models["tiny.en" if rec.language == "en" else "base"]
        peer.add(rec.language, rec.reference, _direct(model, samples), rec.language)
        if rec.language not in languages:
            languages.append(rec.language)
    out = []
    for lang in languages:
        unit = "CER" if lang in CHARACTER_LANGUAGES else "WER"
        n_recs = sum(r.language == lang for r in recs)
        model = "tiny.en" if lang == "en" else "base"
        out.append(Result(
            f"{unit} {lang}, {n_recs} reported recording(s), Whisper normaliser", ours.text(lang),
            f"faster-whisper direct ({model}, beam 5): {peer.text(lang)}",
            ours.rate(lang) / peer.rate(lang) if peer.rate(lang) else None, "≤ 1.1× direct",
            ours.rate(lang) <= 1.1 * peer.rate(lang) + 0.01))
    return out


def _switch(base_url: str, models: dict[str, Any]) -> list[Result]:
    from tests.support.real_speech import language_switch

    sw = language_switch()
    _, body = _engine_text(base_url, sw.samples)
    segments, _ = models["base"].transcribe(sw.samples, beam_size=5)
    direct = [(s.start, s.end, s.text) for s in segments]
    ours, peer = _Tally(), _Tally()
    langs = []
    for lang, reference, start, end in sw.halves:
        def inside(spans: list[tuple[float, float, str]], a: float = start, b: float = end) -> str:
            return " ".join(t for s, e, t in spans if a - 0.5 <= (s + e) / 2 <= b + 0.5)

        ours.add(lang, reference, inside([(s["start"], s["end"], s["text"]) for s in body["segments"]]), lang)
        peer.add(lang, reference, inside(direct), lang)
        langs.append(lang)
    return [Result(f"English-then-German file: WER of the {lang} half", ours.text(lang),
                   f"faster-whisper direct (base, language detected once): {peer.text(lang)}", None,
                   "each half in its language", ours.rate(lang) < 0.5,
                   note=f"engine's segment languages: {sorted({s.get('language') for s in body['segments']})}")
            for lang in langs]


def _model_choice(models: dict[str, Any], quick: bool) -> list[Result]:
    from tests.support.real_speech import recordings

    contenders: dict[str, Callable[[Any], str]] = {
        "tiny.en": lambda x: _direct(models["tiny.en"], x),
        "base, language en": lambda x: _direct(models["base"], x, "en"),
        "base, language detected": lambda x: _direct(models["base"], x),
    }
    out = []
    for split in ("tuning", "reported"):
        recs = recordings(split=split, language="en")[: 2 if quick else None]
        tally, seconds, audio = _Tally(), dict.fromkeys(contenders, 0.0), 0.0
        for rec in recs:
            samples = rec.samples()
            audio += len(samples) / 16000
            for name, fn in contenders.items():  # interleaved: load from other processes hits all alike
                t0 = time.perf_counter()
                text = fn(samples)
                seconds[name] += time.perf_counter() - t0
                tally.add(name, rec.reference, text, "en")
        for name in contenders:
            out.append(Result(f"default model choice, English {split} recordings ({len(recs)}): {name}",
                              f"WER {tally.text(name)}, RTF {seconds[name] / audio:.3f}", "—", None,
                              "report", None))
    return out


def _engine_speed(base_url: str, models: dict[str, Any], quick: bool) -> Result:
    from tests.support.real_speech import recordings

    recs = recordings(split="reported", language="en")[: 2 if quick else None]
    ours = peer = audio = 0.0
    for rec in recs:
        samples = rec.samples()
        audio += len(samples) / 16000
        t0 = time.perf_counter()
        _engine_text(base_url, samples)
        ours += time.perf_counter() - t0
        t0 = time.perf_counter()
        _direct(models["tiny.en"], samples)
        peer += time.perf_counter() - t0
    return Result(f"engine RTF on the English reported recordings ({len(recs)}), no language given",
                  f"{ours / audio:.3f}", f"faster-whisper direct tiny.en: {peer / audio:.3f}", ours / peer,
                  "report", None, note="the engine adds VAD, base's language detection per window and word "
                                       "alignment (to find unheard speech), and HTTP")


def collect(quick: bool = False) -> list[Result]:
    from nbaudio import local

    models = _models()
    server = local.start()
    try:
        _engine_text(server.base_url, recordings_first_samples())  # load the engine's models untimed
        results = _per_language(server.base_url, models, quick)
        results += _switch(server.base_url, models)
        results.append(_engine_speed(server.base_url, models, quick))
    finally:
        server.stop()
    return results + _model_choice(models, quick)


def recordings_first_samples() -> Any:
    from tests.support.real_speech import recordings

    return recordings(split="reported")[0].samples()
