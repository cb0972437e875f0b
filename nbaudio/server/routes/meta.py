"""`GET /v1/models`, `GET /v1/audio/voices`, `GET /health`."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request

from ..._wire.spec import SPEECH_MODELS, TRANSCRIPTION_MODELS, VOICES
from .. import paths
from ..catalog.chat_models import DEFAULT_CHAT_MODEL
from ..catalog.packages import INSTALL_LOCAL
from ..catalog.weights import DEFAULT_PIPER_VOICE, WHISPER_EN, WHISPER_MULTI
from ..engine import EngineDep
from ..model_names import LISTED_CHAT_MODELS, LOCAL_STT_MODELS, LOCAL_TTS_MODEL
from ..models.sources import extra_piper_voices
from ..models.tts import ESPEAK_PREFIX, VOICE_STYLES, espeak_voices

router = APIRouter()

_CREATED = 1735689600  # 2025-01-01: fixed, so listings are stable


def _model(mid: str, backend: str, **notes: Any) -> dict[str, Any]:
    return {"id": mid, "object": "model", "created": _CREATED, "owned_by": "nbaudio-local",
            "nbaudio": {"backend": backend, **notes}}


@router.get(paths.MODELS)
def list_models(engine: EngineDep) -> dict[str, Any]:
    s = engine.settings
    data = []
    tts_notes = {"voices": list(VOICES), "local_voice": s.tts_voice or DEFAULT_PIPER_VOICE,
                 "ignored": ["instructions"], "non_english": "espeak-ng" if espeak_voices() else "unavailable"}
    for mid in (*SPEECH_MODELS, LOCAL_TTS_MODEL):
        data.append(_model(mid, "piper", **tts_notes))
    stt_notes = {"english": s.stt_en_model or WHISPER_EN, "other_languages": s.stt_multi_model or WHISPER_MULTI,
                 "diarization": "diarized_json (and verbose_json with diarize=true or known speakers): speakers "
                                "from Resemblyzer's encoder; known_speaker_references matched by voice"}
    for mid in (*TRANSCRIPTION_MODELS, *LOCAL_STT_MODELS):
        data.append(_model(mid, "faster-whisper", **stt_notes))
    if s.chat_upstream:
        chat_notes = {"upstream": "OpenAI-compatible text endpoint (configured)", "audio": "piper + faster-whisper"}
        backend = "upstream"
    else:
        chat_notes = {"llm": s.llm_model or DEFAULT_CHAT_MODEL, "audio": "piper + faster-whisper",
                      "ignored": ["tools", "logprobs", "n>1"]}
        backend = "llama-cpp"
    for mid in (*LISTED_CHAT_MODELS, DEFAULT_CHAT_MODEL):
        data.append(_model(mid, backend, **chat_notes))
    return {"object": "list", "data": data}


@router.get(paths.VOICES)
def list_voices(engine: EngineDep) -> dict[str, Any]:
    s = engine.settings
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
                        if espeak else f"espeak-ng could not be loaded ({INSTALL_LOCAL} brings it) so "
                                       "only English is spoken"),
    }


@router.get(paths.HEALTH)
def health(engine: EngineDep, request: Request) -> dict[str, Any]:
    warmup = request.app.state.warmup
    return {"status": "ok", **(warmup.state() if warmup is not None else {"models": "on first use"}),
            "uptime": round(time.time() - engine.started, 1), "loaded_models": engine.models.loaded(),
            "espeak_ng": bool(espeak_voices()), "stored_audio_ids": len(engine.store),
            "chat_backend": "upstream" if engine.settings.chat_upstream else "llama-cpp"}
