"""The engine's models, each loaded once, on first use, and kept loaded.

Concurrency: each model object lives once (loading twice would double the memory), and different
models run side by side. llama.cpp contexts and piper voices are not safe to call from several
threads at once, so one `threading.Lock` each serialises their calls. Whisper is the exception:
CTranslate2 keeps `num_workers` replicas that share one copy of the weights, so each Whisper model
has two workers with half the cores each (`stt.whisper_options`) and a semaphore of two slots;
on 2 cores, 8 concurrent transcriptions finish ~1.8x sooner than one after another while a
single one is no slower (a decode does not keep two threads busy). Memory stays bounded: at most
two windows per model are in flight, each worker with its own activations (the weights are
shared; docs/benchmarks.md). llama.cpp gets half the cores (llm.py) and piper's threads do not
spin (tts.py): on a small shared machine spinning threads stall each other. Audio decoding,
resampling and encoding happen outside the locks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .catalog.weights import DEFAULT_PIPER_VOICE
from .models.sources import llm_source, piper_source, whisper_en_source, whisper_multi_source
from .settings import Settings

if TYPE_CHECKING:
    from .models.llm import LlamaChat
    from .models.stt import WhisperEngine
    from .models.tts import PiperEngine

__all__ = ["ModelRegistry"]


class _Slot:
    """One lazily loaded model: loaded at most once, by whichever request needs it first."""

    def __init__(self, load: Callable[[], Any]) -> None:
        self._load = load
        self._lock = threading.Lock()
        self.value: Any = None

    def get(self) -> Any:
        if self.value is None:
            with self._lock:
                if self.value is None:
                    self.value = self._load()
        return self.value


class ModelRegistry:
    """The local models. Several engines in one process may share one registry (the tests do); an
    upstream chat endpoint is per engine, so it is not here (engine.py)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._slots: dict[str, _Slot] = {}
        self._slots_lock = threading.Lock()

    def _slot(self, key: str, load: Callable[[], Any]) -> Any:
        with self._slots_lock:
            slot = self._slots.setdefault(key, _Slot(load))
        return slot.get()

    # The model modules import numpy and more: imported when a model is first asked for.
    def whisper(self, which: str) -> WhisperEngine:
        """`en` (tiny.en by default) or `multi` (base by default)."""
        from .models.stt import WhisperEngine

        if which == "en":
            return self._slot("whisper-en", lambda: WhisperEngine(whisper_en_source(self.settings), self.settings))
        return self._slot("whisper-multi", lambda: WhisperEngine(whisper_multi_source(self.settings), self.settings))

    def piper(self, voice: str | None = None) -> PiperEngine:
        from .models.tts import PiperEngine

        key = voice or self.settings.tts_voice or DEFAULT_PIPER_VOICE
        return self._slot(f"piper:{key}", lambda: PiperEngine(piper_source(self.settings, voice), self.settings))

    def local_chat(self) -> LlamaChat:
        """The local GGUF chat model (`Settings.llm_model`)."""
        from .models.llm import LlamaChat, llama_class

        def load() -> LlamaChat:
            llama_class()  # the library first: without it the weights are no use, and it is the one to tell
            return LlamaChat(llm_source(self.settings), self.settings)

        return self._slot("chat", load)

    def loaded(self) -> dict[str, str]:
        """Loaded models and where each came from."""
        with self._slots_lock:
            slots = dict(self._slots)
        return {k: getattr(s.value, "origin", "loaded") for k, s in slots.items() if s.value is not None}
