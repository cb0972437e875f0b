"""Engine settings: one dataclass, filled from keyword arguments, the CLI and `NBAUDIO_*` env vars.

Limits that keep the engine standing when a client misbehaves (defaults in brackets):
- `max_upload_bytes` [25 MB]: a file upload; JSON bodies (base64 `input_audio`) get 4/3 of it.
  Enforced while the body arrives, so a 1 GB upload is cut off at the cap (413), never buffered.
- `max_audio_seconds` [3600]: decoded length of one upload or `input_audio` part (400
  `audio_too_long`); checked from the header and again while decoding, so a FLAC that
  decompresses to gigabytes stops at the limit. Whisper's features take ~0.8 MB per second.
- `max_concurrent` [4] model requests run at once; up to `max_queue` [64] more wait (uploading
  or queued). Beyond that, and after `queue_timeout` [120 s] in the queue, the answer is 503
  `engine_busy` with `Retry-After`. /health and /v1/models are never queued.
- `body_timeout` [30 s] without a byte of request body -> 408; `send_timeout` [60 s] without
  the client reading the response -> the connection is closed (its model slot is freed). The
  work per request is bounded by the inputs: 4096 characters of speech, `max_audio_seconds`
  of audio, and chat answers by the model context (`llm_context`).
- `tls_cert` and `tls_key` [none]: a PEM certificate (chain) and its private key; the engine then
  serves https:// and wss:// (nbaudio.server.tls checks both files before anything binds).
- `cors_origins` [none]: browser origins that may call the engine. Without it a page from another
  origin gets no `Access-Control-Allow-Origin` and its requests are refused (403), which stops
  cross-site writes to a keyless engine. Credentials are never allowed cross-origin.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .._wire.hosts import is_loopback_host
from .._wire.spec import MAX_UPLOAD_BYTES
from .catalog.chat_models import check_llm_model
from .catalog.weights import WeightError
from .tls import check_tls_files

__all__ = ["ENGINE_ENV", "Settings", "default_cache_dir"]

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
    "NBAUDIO_MAX_AUDIO_SECONDS": "max_audio_seconds",
    "NBAUDIO_MAX_CONCURRENT": "max_concurrent",
    "NBAUDIO_MAX_QUEUE": "max_queue",
}
# The environment variables that change what an engine does (nbaudio.shared_engine compares them
# before a kernel uses an engine another kernel started).
ENGINE_ENV = tuple(_ENV)
_NUMERIC = {"max_upload_bytes": int, "max_audio_seconds": float, "max_concurrent": int, "max_queue": int,
            "queue_timeout": float, "body_timeout": float, "send_timeout": float}


# What a key may be: it travels in 'Authorization: Bearer <key>' (a client sending a non-ASCII key
# could never match it; an upstream request with one fails to encode).
_HEADER_TOKEN = re.compile(r"[!-~]+")


def default_cache_dir() -> Path:
    """$NBAUDIO_CACHE_DIR, else $XDG_CACHE_HOME/nbaudio, else ~/.cache/nbaudio."""
    if os.environ.get("NBAUDIO_CACHE_DIR"):
        return Path(os.environ["NBAUDIO_CACHE_DIR"]).expanduser()
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
    cache_dir: Path = field(default_factory=default_cache_dir)
    # Extra piper voices (*.onnx + .onnx.json), GGUF files and faster-whisper model folders.
    model_dir: Path | None = None
    stt_en_model: str | None = None
    stt_multi_model: str | None = None
    tts_voice: str | None = None
    # A chat model by name (nbaudio.server.catalog.chat_models.CHAT_MODELS: smollm2-135m-instruct, gemma3-270m)
    # or a .gguf path; None is the default model.
    llm_model: str | None = None
    llm_context: int = 4096
    # The local model's defaults for what a request does not set (nbaudio.server.models.llm.LlamaChat says why).
    llm_max_tokens: int = 200
    llm_temperature: float = 0.0
    llm_seed: int = 0
    llm_repeat_penalty: float = 1.1
    # OpenAI-compatible text chat endpoint used instead of the local LLM (an audio bridge).
    chat_upstream: str | None = None
    chat_upstream_key: str | None = field(default=None, repr=False)
    chat_upstream_model: str | None = None
    # How long assistant audio ids stay usable in later turns (OpenAI: one hour).
    audio_ttl: float = 3600.0
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    # Extra Host header values to accept (besides loopback names) when bound to loopback.
    allowed_hosts: tuple[str, ...] = ()
    # Hardening limits: see the module docstring.
    max_audio_seconds: float = 3600.0
    max_concurrent: int = 4
    max_queue: int = 64
    queue_timeout: float = 120.0
    body_timeout: float = 30.0
    send_timeout: float = 60.0
    # Browser origins (scheme://host[:port]) allowed to call the engine; never "*".
    cors_origins: tuple[str, ...] = ()
    # TLS: both or neither (nbaudio.server.tls checks they load as a certificate and its key).
    tls_cert: Path | None = None
    tls_key: Path | None = None
    threads: int = field(default_factory=lambda: max(1, os.cpu_count() or 1))
    # Load and run every model a first request needs as soon as the engine listens (warmup.py).
    warm_up: bool = True

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Settings from `overrides`, then NBAUDIO_* env vars, then defaults."""
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown engine setting(s): {', '.join(sorted(unknown))}; "
                            f"known: {', '.join(sorted(known))}")
        values = {k: v for k, v in overrides.items() if v is not None}
        for env, name in _ENV.items():
            if name not in values and os.environ.get(env):
                values[name] = os.environ[env]
        for name in ("cache_dir", "model_dir"):
            if values.get(name) is not None:
                values[name] = Path(values[name]).expanduser()
        for name, kind in _NUMERIC.items():
            if isinstance(values.get(name), str):  # from the environment
                try:
                    values[name] = kind(values[name])
                except ValueError:
                    raise ValueError(f"engine setting {name} must be a number, not {values[name]!r}") from None
        return cls(**values)

    def __post_init__(self) -> None:
        for name in ("api_key", "chat_upstream_key"):  # first: a bad key is told before any other mistake
            key = getattr(self, name)
            if key is not None and not (isinstance(key, str) and _HEADER_TOKEN.fullmatch(key)):
                raise ValueError(f"engine setting {name} must be printable ASCII without spaces (it travels in an "
                                 "HTTP header, 'Authorization: Bearer <key>')")
        for name in _NUMERIC:
            value = getattr(self, name)
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not number or value < 0 or (value == 0 and name != "max_queue"):  # a queue of 0: no waiting
                raise ValueError(f"engine setting {name} must be a positive number, not {value!r}")
        origins = (self.cors_origins,) if isinstance(self.cors_origins, str) else tuple(self.cors_origins)
        self.cors_origins = tuple(o.strip().rstrip("/").lower() for o in origins)
        bad = [o for o in self.cors_origins if o == "*" or "://" not in o]
        if bad:
            raise ValueError(f"cors_origins must list explicit origins like 'http://localhost:8888', not {bad}; "
                             "a wildcard would let any web page use the engine")
        tls = check_tls_files(self.tls_cert, self.tls_key)  # a TLSFileError is a ValueError that says what to do
        self.tls_cert, self.tls_key = tls or (None, None)
        try:  # a typo or a missing package fails here (`nbaudio serve` exits 2) instead of at the first chat
            check_llm_model(self.llm_model, self.model_dir)
        except WeightError as exc:
            raise ValueError(str(exc)) from None

    @property
    def scheme(self) -> str:
        """The URL scheme: https when the engine serves TLS, else http (its WebSocket: wss or ws)."""
        return "https" if self.tls_cert else "http"

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)
