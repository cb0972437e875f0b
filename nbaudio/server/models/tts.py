"""Text to speech: piper for English, espeak-ng for other languages, sentence by sentence.

Only `nbaudio.server` may import piper (GPL-3.0); core modules never do.

Voices. The 13 OpenAI voice names all map to the one shipped piper voice (en_US joe, medium)
with a different pitch and pace each, so they are told apart (`VOICE_STYLES`, also served at
`/v1/audio/voices`). A pitch factor p is made by synthesizing p times slower and playing it
back p times faster (resampling), which raises the pitch by p and keeps the length. Any other
piper voice found in the model dir is used by its name (`en_GB-alan-medium`); `espeak-ng:<lang>`
names an espeak-ng voice directly. English-only piper voices cannot say German: text detected
as another language is spoken by espeak-ng's voice for that language (robotic, but right); the
library and its data come from a wheel (espeak.py), so no system package is needed.
`instructions` are accepted and ignored (piper has no style control).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ...codec import resample
from ...longform import split_sentences
from . import espeak

if TYPE_CHECKING:
    from ..catalog.weights import ModelSource
    from ..settings import Settings

__all__ = ["VoiceStyle", "VOICE_STYLES", "PiperEngine", "espeak_voices", "espeak_synthesize",
           "detect_text_language", "ESPEAK_PREFIX"]

ESPEAK_PREFIX = "espeak-ng:"


@dataclass(frozen=True)
class VoiceStyle:
    pitch: float  # >1 higher
    pace: float  # >1 slower
    noise: float  # piper noise_scale: expressiveness
    description: str


VOICE_STYLES: dict[str, VoiceStyle] = {
    "alloy": VoiceStyle(1.00, 1.00, 0.667, "neutral (the piper voice as trained)"),
    "ash": VoiceStyle(0.94, 1.02, 0.60, "slightly lower, calm"),
    "ballad": VoiceStyle(1.06, 1.08, 0.75, "slightly higher, slow, expressive"),
    "coral": VoiceStyle(1.12, 0.98, 0.70, "higher, warm"),
    "echo": VoiceStyle(0.90, 1.00, 0.55, "low, even"),
    "fable": VoiceStyle(1.04, 1.05, 0.80, "storyteller: expressive, unhurried"),
    "nova": VoiceStyle(1.18, 0.95, 0.70, "high, brisk"),
    "onyx": VoiceStyle(0.84, 1.04, 0.60, "deepest"),
    "sage": VoiceStyle(1.08, 1.06, 0.55, "higher, measured"),
    "shimmer": VoiceStyle(1.22, 1.00, 0.72, "highest"),
    "verse": VoiceStyle(0.97, 0.94, 0.85, "lively, quicker"),
    "marin": VoiceStyle(1.14, 1.02, 0.65, "high, clear"),
    "cedar": VoiceStyle(0.88, 1.06, 0.62, "low, slow"),
}

# Characters piper reads aloud or chokes on that carry no speech (markdown from LLMs).
_MARKUP = re.compile(r"[*_#`~|<>\[\]{}]+")


def clean_for_speech(text: str) -> str:
    return " ".join(_MARKUP.sub(" ", text).split())


def load_piper_voice(path: str, config_path: str | None, threads: int) -> Any:
    """A piper voice whose onnxruntime threads sleep instead of spinning when idle.

    With onnxruntime's defaults (what `PiperVoice.load` uses) the intra-op threads spin between
    operators; on a small machine shared with other work (whisper and llama.cpp in this engine,
    or other processes) that steals the cores the voice needs: RTF 0.077 with the defaults
    against 0.049 without spinning, measured on 2 loaded cores (benchmarks/bench_engine.py,
    docs/benchmarks.md). The session is built once, here, with those options.
    """
    import onnxruntime
    from piper import PiperConfig, PiperVoice

    with open(config_path or f"{path}.json", encoding="utf-8") as f:
        config = PiperConfig.from_dict(json.load(f))
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])
    return PiperVoice(config=config, session=session)


class PiperEngine:
    """One loaded piper voice with its lock (see registry.py on why a lock per model)."""

    def __init__(self, source: ModelSource, settings: Settings) -> None:
        self.name = source.name
        self.origin = source.origin
        self.voice = load_piper_voice(source.path, source.config_path, settings.threads)
        self.sample_rate = int(self.voice.config.sample_rate)
        self.language = (self.voice.config.espeak_voice or "en").split("-")[0]
        self.lock = threading.Lock()

    def synthesize(self, text: str, *, speed: float = 1.0, style: VoiceStyle | None = None) -> Iterator[np.ndarray]:
        """float32 mono audio at `sample_rate`, one array per sentence, as each is made.

        The lock is held per sentence, so concurrent requests interleave sentence by sentence
        and an abandoned stream never holds the voice.
        """
        from piper import SynthesisConfig

        style = style or VOICE_STYLES["alloy"]
        length = style.pace * style.pitch / speed
        cfg = SynthesisConfig(length_scale=self.voice.config.length_scale * length, noise_scale=style.noise)
        for sentence in split_sentences(clean_for_speech(text)):
            with self.lock:
                chunks = [c.audio_float_array for c in self.voice.synthesize(sentence, syn_config=cfg)]
            if not chunks:
                continue
            audio = np.concatenate(chunks).astype(np.float32)
            if style.pitch != 1.0:
                audio = resample(audio, int(round(self.sample_rate * style.pitch)), self.sample_rate)
            # a short pause between sentences, as a reader makes
            yield np.concatenate([audio, np.zeros(int(0.12 * self.sample_rate), dtype=np.float32)])


# ---- espeak-ng (from the espeakng-loader wheel, see espeak.py) -------------------------------
ESPEAK_RATE = 22050


def espeak_voices() -> dict[str, str]:
    """{language code: espeak-ng voice name} (empty when espeak-ng cannot load)."""
    return espeak.voices()


def espeak_voice_for(language: str) -> str | None:
    """The espeak-ng language id for a language code, or None."""
    return espeak.voice_for(language)


def espeak_synthesize(text: str, language: str, *, speed: float = 1.0) -> Iterator[np.ndarray]:
    """espeak-ng speech at ESPEAK_RATE, a sentence at a time."""
    if espeak_voice_for(language) is None:
        raise RuntimeError(f"no espeak-ng voice for {language!r}")
    for sentence in split_sentences(clean_for_speech(text)):
        audio = espeak.synthesize(sentence, language, speed=speed)
        if espeak.sample_rate() != ESPEAK_RATE:
            audio = resample(audio, espeak.sample_rate(), ESPEAK_RATE)
        yield np.concatenate([audio, np.zeros(int(0.12 * ESPEAK_RATE), dtype=np.float32)])


# ---- which language is this text? ------------------------------------------------------------
_SCRIPTS = [
    (re.compile(r"[\u3040-\u30ff]"), "ja"),
    (re.compile(r"[\uac00-\ud7af]"), "ko"),
    (re.compile(r"[\u4e00-\u9fff]"), "zh"),
    (re.compile(r"[\u0400-\u04ff]"), "ru"),
    (re.compile(r"[\u0370-\u03ff]"), "el"),
    (re.compile(r"[\u0590-\u05ff]"), "he"),
    (re.compile(r"[\u0600-\u06ff]"), "ar"),
    (re.compile(r"[\u0900-\u097f]"), "hi"),
    (re.compile(r"[\u0e00-\u0e7f]"), "th"),
]
_STOPWORDS: dict[str, set[str]] = {
    "en": set("the and is are of to in it you that this with for on was what how be have i not do my your we".split()),
    "de": set("der die das und ist nicht ich sie es ein eine mit auf für zu den dem wir sind auch wie was bitte "
              "heute haben ihr sehr gut danke".split()),
    "fr": set("le la les et est un une des je vous nous il elle pas que qui dans pour avec sur ce du au "
              "bonjour merci très".split()),
    "es": set("el la los las y es un una que en no por con para se del al está como pero yo muy gracias hola".split()),
    "it": set("il lo gli e è un una di che non per con sono mi ti ci del della ma come ciao grazie molto".split()),
    "pt": set("o os as e é um uma de que não em para com do da você eu mas por obrigado muito olá".split()),
    "nl": set("de het een en is niet ik je van dat met op zijn voor wij ook dank goed".split()),
    "sv": set("och är det en ett jag du inte att på med för som vi har tack".split()),
    "pl": set("i w nie jest to na się że z do jak co ale tak dziękuję".split()),
}
_DIACRITICS = {"de": "äöüß", "fr": "çàèêëîïôœùû", "es": "ñ¿¡áíóú", "pt": "ãõâêôç", "pl": "łąęśżźćń",
               "sv": "åäö", "cs": "řůěšč", "tr": "ğışç"}


def detect_text_language(text: str) -> str:
    """A best guess at the language of `text`: 'en' unless another language is clearly ahead."""
    for pattern, lang in _SCRIPTS:
        if len(pattern.findall(text)) >= max(1, len(text) // 10):
            if lang == "ru" and re.search(r"[іїєґ]", text):
                return "uk"
            return lang
    words = re.findall(r"[^\W\d_]+", text.lower())
    if not words:
        return "en"
    scores = {lang: sum(w in stop for w in words) for lang, stop in _STOPWORDS.items()}
    lowered = text.lower()
    for lang, chars in _DIACRITICS.items():
        scores[lang] = scores.get(lang, 0) + sum(lowered.count(c) for c in chars)
    best = max(scores, key=lambda k: scores[k])
    if best != "en" and scores[best] >= 2 and scores[best] > 1.5 * scores["en"]:
        return best
    return "en"
