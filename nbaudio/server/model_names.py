"""Which model names each route answers, and which ones `/v1/models` lists.

OpenAI's names are answered by the local models (any `gpt-*` chat name, dated snapshots of the
speech and transcription models), so OpenAI code runs unchanged; the local models are also
answered by their own names.
"""

from __future__ import annotations

from .._wire.spec import SPEECH_MODELS, TRANSCRIPTION_MODELS
from .catalog.chat_models import CHAT_MODELS
from .catalog.weights import WHISPER_EN, WHISPER_MULTI

__all__ = ["LOCAL_TTS_MODEL", "LOCAL_STT_MODELS", "LISTED_CHAT_MODELS", "speech_model_ok", "stt_model_ok",
           "chat_model_ok", "multilingual_only"]

LOCAL_TTS_MODEL = "piper"
LOCAL_STT_MODELS = (WHISPER_EN, WHISPER_MULTI)
# The OpenAI audio chat names /v1/models lists (a few of spec.CHAT_MODELS; every gpt-* name is answered).
LISTED_CHAT_MODELS = ("gpt-4o-audio-preview", "gpt-4o-mini-audio-preview", "gpt-audio", "gpt-audio-mini")


def speech_model_ok(model: str) -> bool:
    return model in SPEECH_MODELS or model == LOCAL_TTS_MODEL or model.startswith(("tts-1", "gpt-4o-mini-tts"))


def stt_model_ok(model: str, task: str) -> bool:
    if task == "translate":  # English out of any language: the multilingual model only
        return model in ("whisper-1", WHISPER_MULTI)
    return model in TRANSCRIPTION_MODELS or model in LOCAL_STT_MODELS or model.startswith(
        ("gpt-4o-transcribe", "gpt-4o-mini-transcribe"))  # dated snapshots


def multilingual_only(model: str) -> bool:
    """The request names the multilingual Whisper: it hears every window, English ones too (any other
    name: the English-only model hears English, the multilingual one the rest)."""
    return model == WHISPER_MULTI


def chat_model_ok(model: str, *, upstream: bool) -> bool:
    if upstream:
        return True  # the upstream decides which names it serves
    # OpenAI's names (answered by the local model), "local", or a local chat model by its name.
    return model.startswith(("gpt-", "chatgpt-")) or model == "local" or model in CHAT_MODELS
