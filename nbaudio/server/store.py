"""Assistant audio ids: what a later chat turn may refer to with `{"audio": {"id": ...}}`.

Only the transcript is kept (that is all the text-only LLM needs from an earlier turn), so
memory stays small however long the audio was.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["AudioStore", "StoredAudio"]


@dataclass(frozen=True, slots=True)
class StoredAudio:
    id: str
    transcript: str
    expires_at: int
    duration: float


class AudioStore:
    """Audio ids with expiry; thread-safe; oldest entries dropped beyond `max_items`."""

    def __init__(self, ttl: float = 3600.0, *, max_items: int = 10_000, clock: Callable[[], float] = time.time) -> None:
        self.ttl = float(ttl)
        self.max_items = max_items
        self._clock = clock
        self._items: OrderedDict[str, StoredAudio] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def new_id() -> str:
        return "audio_" + secrets.token_hex(16)

    def put(self, transcript: str, duration: float, audio_id: str | None = None) -> StoredAudio:
        item = StoredAudio(
            id=audio_id or self.new_id(),
            transcript=transcript,
            # OpenAI's expires_at is whole seconds; round up so the id never dies early.
            expires_at=int(self._clock() + self.ttl + 0.999),
            duration=duration,
        )
        with self._lock:
            self._items[item.id] = item
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return item

    def get(self, audio_id: str) -> StoredAudio | None:
        """The stored audio, or None when unknown or expired (expired entries are dropped)."""
        now = self._clock()
        with self._lock:
            item = self._items.get(audio_id)
            if item is None:
                return None
            if item.expires_at <= now:
                del self._items[audio_id]
                return None
            return item

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
