"""From a request's voice and text to audio chunks: which engine speaks, at which rate.

Shared by `/audio/speech` and the audio output of `/chat/completions` (not the speech route itself).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._wire.spec import VOICES
from .api_errors import EngineError, bad_request, model_unavailable
from .catalog.packages import INSTALL_LOCAL
from .catalog.weights import DEFAULT_PIPER_VOICE, WeightError
from .models.sources import extra_piper_voices
from .models.tts import (
    ESPEAK_PREFIX,
    ESPEAK_RATE,
    VOICE_STYLES,
    detect_text_language,
    espeak_synthesize,
    espeak_voice_for,
    espeak_voices,
)

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["VoicePlan", "plan_voice", "voice_name"]


@dataclass
class VoicePlan:
    voice: str  # the voice that speaks: the name asked for, or espeak-ng's for the text's language
    rate: int
    synthesize: Callable[[str], Iterator[np.ndarray]]


def voice_name(voice: Any, param: str = "voice") -> str:
    """The voice as a string: a name, or the `id` of `{"id": ...}`."""
    if isinstance(voice, dict):
        vid = voice.get("id")
        if not isinstance(vid, str) or not vid:
            raise bad_request(f"Invalid value for '{param}': a voice object needs a string 'id'.", param=param)
        return vid
    if not isinstance(voice, str) or not voice:
        raise bad_request(f"Invalid type for '{param}': expected a voice name or {{\"id\": ...}}.", param=param)
    return voice


def _unknown_voice(engine: Engine, voice: str, param: str) -> EngineError:
    extra = extra_piper_voices(engine.settings)
    names = ", ".join(f"'{v}'" for v in (*VOICES, DEFAULT_PIPER_VOICE, *extra))
    esp = f", or '{ESPEAK_PREFIX}<language>' (see /v1/audio/voices)" if espeak_voices() else ""
    return bad_request(f"Invalid value for '{param}': '{voice}'. Supported voices are: {names}{esp}.",
                       param=param, code="invalid_value")


def _needs_espeak(language: str, param: str) -> EngineError:
    return bad_request(f"The text looks like language '{language}', which the local piper voice cannot speak, "
                       "and espeak-ng (which speaks it) could not be loaded. Reinstall the engine with "
                       f"{INSTALL_LOCAL} (it brings espeak-ng in the espeakng-loader wheel), "
                       "or pick a piper voice for that language.",
                       param=param, code="unsupported_language")


def plan_voice(engine: Engine, voice: str, text: str, speed: float, *, param: str = "voice") -> VoicePlan:
    """Resolve the voice for this text; loads the piper voice if needed. Raises EngineError."""
    if voice.startswith(ESPEAK_PREFIX):
        lang = voice[len(ESPEAK_PREFIX):]
        if not espeak_voices():
            raise _needs_espeak(lang, param)
        if espeak_voice_for(lang) is None:
            raise _unknown_voice(engine, voice, param)
        return VoicePlan(voice, ESPEAK_RATE, lambda t: espeak_synthesize(t, lang, speed=speed))
    style = VOICE_STYLES.get(voice)
    if style is not None:
        piper_name = None
    elif voice == DEFAULT_PIPER_VOICE or voice in extra_piper_voices(engine.settings):
        piper_name = voice
    else:
        raise _unknown_voice(engine, voice, param)
    try:
        piper = engine.models.piper(piper_name)
    except WeightError as exc:
        raise model_unavailable("piper voice", exc) from None
    language = detect_text_language(text)
    if language != piper.language:
        if espeak_voice_for(language) is not None:
            return VoicePlan(ESPEAK_PREFIX + language, ESPEAK_RATE,
                             lambda t: espeak_synthesize(t, language, speed=speed))
        if not espeak_voices():
            raise _needs_espeak(language, param)
        # espeak-ng is there but has no voice for it: the piper voice does its best.
    return VoicePlan(voice, piper.sample_rate, lambda t: piper.synthesize(t, speed=speed, style=style))
