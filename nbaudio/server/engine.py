"""What the routes share (`Engine`, given to each route as `engine: EngineDep`) and the waiting
room for model requests (`Admission`, used by the guard)."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from .models.llm import ChatBackend, UpstreamChat
from .registry import ModelRegistry
from .settings import Settings
from .store import AudioStore

__all__ = ["Engine", "EngineDep", "get_engine", "Admission"]


@dataclass
class Engine:
    """One app's settings, models (maybe shared with other apps), audio id store and upstream."""

    settings: Settings
    models: ModelRegistry
    store: AudioStore
    started: float = field(default_factory=time.time)
    _upstream: UpstreamChat | None = field(default=None, init=False, repr=False)
    _upstream_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def chat_backend(self) -> ChatBackend:
        """This engine's upstream when its settings name one, else the registry's local model. The
        upstream is kept per engine, not in the registry: engines that share one registry (several
        in a process, the tests) may front different upstreams, or none."""
        if not self.settings.chat_upstream:
            return self.models.local_chat()
        with self._upstream_lock:
            if self._upstream is None:
                self._upstream = UpstreamChat(self.settings)
            return self._upstream


def get_engine(request: Request) -> Engine:
    """The FastAPI dependency behind `EngineDep`: the engine of the app serving this request."""
    return request.app.state.engine


EngineDep = Annotated[Engine, Depends(get_engine)]


class Admission:
    """Model requests inside the engine: at most `max_concurrent` run, `max_queue` more wait.

    Used from the server's event loop only (no locks). `Retry-After` is estimated from how long
    recent jobs held their slot and how many are waiting.
    """

    def __init__(self, max_concurrent: int, max_queue: int, queue_timeout: float) -> None:
        self.max_concurrent = max_concurrent
        self.limit = max_concurrent + max_queue
        self.queue_timeout = queue_timeout
        self.inside = 0
        self.running = 0
        self.refused = 0
        self._slots = asyncio.Semaphore(max_concurrent)
        self._job_seconds = 1.0  # moving average of slot hold times

    def try_enter(self) -> bool:
        if self.inside >= self.limit:
            self.refused += 1
            return False
        self.inside += 1
        return True

    def leave(self) -> None:
        self.inside -= 1

    async def acquire(self) -> float:
        """Wait for a run slot (TimeoutError after `queue_timeout`); returns when it was taken."""
        async with asyncio.timeout(self.queue_timeout):
            await self._slots.acquire()
        self.running += 1
        return time.monotonic()

    def release(self, taken: float) -> None:
        self.running -= 1
        self._job_seconds = 0.8 * self._job_seconds + 0.2 * (time.monotonic() - taken)
        self._slots.release()

    def retry_after(self) -> int:
        """Whole seconds until a place is likely free (1..60)."""
        waiting = max(0, self.inside - self.max_concurrent)
        return int(min(60, max(1, math.ceil(self._job_seconds * (waiting + 1) / self.max_concurrent))))
