"""`GET /v1/models`, `GET /v1/audio/voices`, `GET /health`."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request

from ..spec import SPEECH_MODELS, TRANSCRIPTION_MODELS, VOICES
from .models import DEFAULT_PIPER_VOICE, extra_piper_voices
from .tts import ESPEAK_PREFIX, VOICE_STYLES, espeak_voices

router = APIRouter()

# Chat model names answered by the local LLM (or passed to the upstream).
CHAT_MODELS = ("gpt-4o-audio-preview", "gpt-4o-mini-audio-preview", "gpt-audio", "gpt-audio-mini")
LOCAL_CHAT_MODEL = "smollm2-135m-instruct"
LOCAL_STT_MODELS = ("whisper-tiny.en", "whisper-base")
LOCAL_TTS_MODEL = "piper"
_CREATED = 1735689600  # 2025-01-01: fixed, so listings are stable


def _model(mid: str, backend: str, **notes: Any) -> dict[str, Any]:
    return {"id": mid, "object": "model", "created": _CREATED, "owned_by": "nbaudio-local",
            "nbaudio": {"backend": backend, **notes}}


@router.get("/v1/models")
def list_models(request: Request) -> dict[str, Any]:
    engine = request.app.state.engine
    s = engine.settings
    data = []
    tts_notes = {"voices": list(VOICES), "local_voice": s.tts_voice or DEFAULT_PIPER_VOICE,
                 "ignored": ["instructions"], "non_english": "espeak-ng" if espeak_voices() else "unavailable"}
    for mid in (*SPEECH_MODELS, LOCAL_TTS_MODEL):
        data.append(_model(mid, "piper", **tts_notes))
    stt_notes = {"english": s.stt_en_model or "whisper-tiny.en", "other_languages": s.stt_multi_model or "whisper-base",
                 "ignored": ["known_speaker_names", "known_speaker_references"],
                 "diarization": "not available: every segment is speaker A"}
    for mid in (*TRANSCRIPTION_MODELS, *LOCAL_STT_MODELS):
        data.append(_model(mid, "faster-whisper", **stt_notes))
    if s.chat_upstream:
        chat_notes = {"upstream": "OpenAI-compatible text endpoint (configured)", "audio": "piper + faster-whisper"}
        backend = "upstream"
    else:
        chat_notes = {"llm": s.llm_model or LOCAL_CHAT_MODEL, "audio": "piper + faster-whisper",
                      "ignored": ["tools", "logprobs", "n>1"]}
        backend = "llama-cpp"
    for mid in (*CHAT_MODELS, LOCAL_CHAT_MODEL):
        data.append(_model(mid, backend, **chat_notes))
    return {"object": "list", "data": data}


@router.get("/v1/audio/voices")
def list_voices(request: Request) -> dict[str, Any]:
    s = request.app.state.engine.settings
    piper_voice = s.tts_voice or DEFAULT_PIPER_VOICE
    data = [{"id": name, "object": "voice", "engine": "piper", "local_voice": piper_voice, "language": "en",
             "pitch": st.pitch, "pace": st.pace, "description": st.description}
            for name, st in VOICE_STYLES.items()]
    for name in [DEFAULT_PIPER_VOICE, *extra_piper_voices(s)]:
        lang = name.split("-")[0].split("_")[0]
        data.append({"id": name, "object": "voice", "engine": "piper", "local_voice": name, "language": lang})
    espeak = espeak_voices()
    for lang, name in sorted(espeak.items()):
        data.append({"id": ESPEAK_PREFIX + lang, "object": "voice", "engine": "espeak-ng", "language": lang,
                     "description": name})
    return {
        "object": "list", "data": data,
        "non_english": ("text detected as another language is spoken by the espeak-ng voice for it"
                        if espeak else "espeak-ng could not be loaded (pip install 'nbaudio[local]' brings it) so "
                                       "only English is spoken"),
    }


@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    engine = request.app.state.engine
    return {"status": "ok", "uptime": round(time.time() - engine.started, 1), "loaded_models": engine.models.loaded(),
            "espeak_ng": bool(espeak_voices()), "stored_audio_ids": len(engine.store),
            "chat_backend": "upstream" if engine.settings.chat_upstream else "llama-cpp"}
