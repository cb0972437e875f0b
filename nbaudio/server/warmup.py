"""Ready means ready: once the engine listens, it asks itself what a first user would (a sentence
spoken, that sentence transcribed, a one-token chat answer, the Realtime turn detector), over real
HTTP on loopback, so every model a first request needs is loaded and has run once.

A request that arrives meanwhile simply waits for the model it needs (each loads once, behind its
own lock: registry.py); nothing is refused. A step that fails (a model missing) is logged and
left for the first request to report with its own error. `GET /health` says `"models": "loading"`
until the warm-up is over, then `"ready"`, with what each step took.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Warmup"]

log = logging.getLogger("nbaudio.engine")
_TIMEOUT_S = 300.0  # a first load on a slow disk; never reached on a normal machine


@dataclass
class Warmup:
    """The warm-up of one app: `start(base_url)` once it listens; `state()` for /health."""

    api_key: str | None
    local_chat: bool
    # The registry's loaded models (ModelRegistry.loaded): a step whose models another engine in
    # this process already loaded and ran (they share the registry) is skipped.
    loaded: Callable[[], dict[str, str]] = dict
    # The engine's TLS certificate when it serves https: the warm-up's requests trust it (tls.py).
    tls_cert: Path | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)
    started: float | None = None

    def start(self, base_url: str) -> threading.Thread:
        self.started = time.monotonic()
        thread = threading.Thread(target=self.run, args=(base_url,), name="nbaudio-engine-warmup", daemon=True)
        thread.start()
        return thread

    def state(self) -> dict[str, Any]:
        out: dict[str, Any] = {"models": "ready" if self.done.is_set() else "loading",
                               "warmup_seconds": {k: round(v, 2) for k, v in self.seconds.items()}}
        if self.failed:
            out["warmup_failed"] = dict(self.failed)
        return out

    def run(self, base_url: str) -> None:
        import requests

        session = requests.Session()
        session.trust_env = False  # loopback: no proxy from the environment
        if self.tls_cert is not None:
            session.mount("https://", _self_trusting_adapter(self.tls_cert))
        if self.api_key:
            session.headers["Authorization"] = f"Bearer {self.api_key}"
        loaded = set(self.loaded())
        try:
            spoken: list[bytes] = []
            whisper_loaded = {"whisper-en", "whisper-multi"} <= loaded
            if not whisper_loaded or not any(k.startswith("piper:") for k in loaded):
                self._step("speech", lambda: spoken.append(_post(session, base_url + "/audio/speech", json={
                    "model": "tts-1", "voice": "alloy", "input": "Ready.", "response_format": "wav"}).content))
            if spoken or not whisper_loaded:
                audio = spoken[0] if spoken else _quiet_wav()  # without a voice, a second of near silence
                self._step("transcription", lambda: _post(session, base_url + "/audio/transcriptions",
                                                          data={"model": "whisper-1"},
                                                          files={"file": ("ready.wav", audio, "audio/wav")}))
            # Without llama-cpp-python (still compiling, or a speech-only install) the first chat
            # request says how to get it; a warm-up step would only log the same failure.
            if self.local_chat and "chat" not in loaded and importlib.util.find_spec("llama_cpp") is not None:
                self._step("chat", lambda: _post(session, base_url + "/chat/completions", json={
                    "model": "gpt-4o-mini", "max_tokens": 1, "messages": [{"role": "user", "content": "Hi"}]}))
            self._step("turn detection", _load_turn_detector)
        finally:
            session.close()
            self.done.set()
        total = time.monotonic() - (self.started or time.monotonic())
        log.info("models ready in %.1f s (%s)", total, ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items()))

    def _step(self, name: str, work: Callable[[], Any]) -> None:
        t0 = time.monotonic()
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - any failure is the first request's to report
            self.failed[name] = f"{type(exc).__name__}: {exc}"[:300]
            log.warning("warm-up: %s did not load (%s); the first request will say why", name, self.failed[name])
        else:
            self.seconds[name] = time.monotonic() - t0


def _self_trusting_adapter(cert: Path) -> Any:
    """A requests adapter whose connections trust the engine's own certificate and nothing else (made
    here, as requests loads lazily)."""
    import requests.adapters

    from .tls import self_trusting_context

    class Adapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            # assert_hostname=False: urllib3 checks the name itself when the context does not.
            super().init_poolmanager(*args, ssl_context=self_trusting_context(cert), assert_hostname=False, **kwargs)

    return Adapter()


def _post(session: Any, url: str, **kwargs: Any) -> Any:
    r = session.post(url, timeout=_TIMEOUT_S, **kwargs)
    r.raise_for_status()
    return r


def _quiet_wav() -> bytes:
    import io

    import numpy as np
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.random.default_rng(0).normal(0, 0.001, 16000).astype(np.float32), 16000, format="WAV")
    return buf.getvalue()


def _load_turn_detector() -> None:
    import numpy as np

    from .realtime.vad import load_vad

    load_vad()(np.zeros(1024, dtype=np.float32))  # whole 512-sample windows
