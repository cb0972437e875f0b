"""A session's outgoing events, in order, sent by one task (so concurrent producers never
interleave frames), with the audio of a cancelled response taken out before it is sent."""

from __future__ import annotations

import asyncio
import collections
from typing import Any

__all__ = ["Outbox"]


class Outbox:
    """A queue of server events; `put` from the event loop, `get` by the sender. After `close()`
    the sender gets what is left, then None."""

    def __init__(self) -> None:
        self._events: collections.deque[dict[str, Any]] = collections.deque()
        self._ready = asyncio.Event()
        self._closed = False

    def put(self, event: dict[str, Any]) -> None:
        if not self._closed:
            self._events.append(event)
            self._ready.set()

    def drop_audio(self, response_id: str) -> None:
        """Forget the not yet sent audio deltas of `response_id` (it was interrupted)."""
        self._events = collections.deque(e for e in self._events if not (
            e.get("type") == "response.output_audio.delta" and e.get("response_id") == response_id))

    def close(self) -> None:
        self._closed = True
        self._ready.set()

    async def get(self) -> dict[str, Any] | None:
        while not self._events:
            if self._closed:
                return None
            self._ready.clear()
            await self._ready.wait()
        return self._events.popleft()
