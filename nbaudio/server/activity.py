"""How long the engine has been idle: an ASGI middleware counts open requests and WebSockets.

A shared engine (nbaudio.shared_engine, `nbaudio serve --idle-exit S`) stops itself after S seconds
with nothing open, so the engine a notebook started does not outlive its use by hours.
"""

from __future__ import annotations

import threading
import time
from typing import Any

__all__ = ["Activity", "ActivityMiddleware"]


class Activity:
    """Open requests (HTTP and WebSocket) and when the last one ended."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open = 0
        self._since = time.monotonic()

    def begin(self) -> None:
        with self._lock:
            self._open += 1

    def end(self) -> None:
        with self._lock:
            self._open -= 1
            self._since = time.monotonic()

    def idle_seconds(self) -> float:
        """0 while anything is open, else the seconds since the last request ended (or since start)."""
        with self._lock:
            return 0.0 if self._open else time.monotonic() - self._since


class ActivityMiddleware:
    def __init__(self, app: Any, activity: Activity) -> None:
        self.app = app
        self.activity = activity

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        self.activity.begin()
        try:
            await self.app(scope, receive, send)
        finally:
            self.activity.end()
