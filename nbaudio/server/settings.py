"""Engine settings: one dataclass, filled from keyword arguments, the CLI and `NBAUDIO_*` env vars."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..spec import MAX_UPLOAD_BYTES

__all__ = ["Settings", "LOOPBACK_HOSTS"]

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")

# env var -> settings field, read when the field is not given explicitly.
_ENV = {
    "NBAUDIO_CACHE_DIR": "cache_dir",
    "NBAUDIO_MODEL_DIR": "model_dir",
    "NBAUDIO_STT_EN_MODEL": "stt_en_model",
    "NBAUDIO_STT_MODEL": "stt_multi_model",
    "NBAUDIO_TTS_VOICE": "tts_voice",
    "NBAUDIO_LLM_MODEL": "llm_model",
    "NBAUDIO_CHAT_UPSTREAM": "chat_upstream",
    "NBAUDIO_CHAT_UPSTREAM_KEY": "chat_upstream_key",
    "NBAUDIO_CHAT_UPSTREAM_MODEL": "chat_upstream_model",
}


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nbaudio"


@dataclass
class Settings:
    """Everything the engine can be told. Model fields take a path (or, online, a hub name);
    None means the pinned package that ships the weights."""

    host: str = "127.0.0.1"
    port: int = 8000
    # Clients must send `Authorization: Bearer <api_key>` when set. Never logged or echoed.
    api_key: str | None = field(default=None, repr=False)
    cache_dir: Path = field(default_factory=_default_cache_dir)
    # Extra piper voices (*.onnx + .onnx.json), GGUF files and faster-whisper model folders.
    model_dir: Path | None = None
    stt_en_model: str | None = None
    stt_multi_model: str | None = None
    tts_voice: str | None = None
    llm_model: str | None = None
    llm_context: int = 4096
    llm_max_tokens: int = 256
    # OpenAI-compatible text chat endpoint used instead of the local LLM (an audio bridge).
    chat_upstream: str | None = None
    chat_upstream_key: str | None = field(default=None, repr=False)
    chat_upstream_model: str | None = None
    # How long assistant audio ids stay usable in later turns (OpenAI: one hour).
    audio_ttl: float = 3600.0
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    # Extra Host header values to accept (besides loopback names) when bound to loopback.
    allowed_hosts: tuple[str, ...] = ()
    threads: int = field(default_factory=lambda: max(1, os.cpu_count() or 1))

    @classmethod
    def from_env(cls, **overrides: Any) -> "Settings":
        """Settings from `overrides`, then NBAUDIO_* env vars, then defaults."""
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown engine setting(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        values = {k: v for k, v in overrides.items() if v is not None}
        for env, name in _ENV.items():
            if name not in values and os.environ.get(env):
                values[name] = os.environ[env]
        for name in ("cache_dir", "model_dir"):
            if values.get(name) is not None:
                values[name] = Path(values[name]).expanduser()
        return cls(**values)

    @property
    def is_loopback(self) -> bool:
        return self.host in LOOPBACK_HOSTS or self.host.startswith("127.")
