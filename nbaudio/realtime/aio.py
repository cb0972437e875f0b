"""The asyncio form of a Realtime session, for code that already runs an event loop:

    async with nbaudio.realtime.aconnect(model="gpt-realtime") as rt:
        await rt.send_text("Hello!")
        async for event in rt.events():
            if event.type == "response.done":
                break

Same events, record and errors as the sync `RealtimeSession` (events.py holds what they share).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from .._wire.realtime import SAMPLE_RATE
from ..pricing import Prices
from .connection import asyncio_connect, connect_options, handshake_error, require_websockets
from .core import SessionCore, same_doc, session_update
from .events import (
    CHUNK_MS,
    DEFAULT_TIMEOUT,
    FIRST_EVENT_TIMEOUT,
    PING_INTERVAL,
    RealtimeEvent,
    Wire,
    appends,
    pcm16,
    text_item,
    truncate_event,
    wait_seconds,
)
from .session import RealtimeSession

__all__ = ["AsyncRealtimeSession"]


class AsyncRealtimeSession(SessionCore):
    """One open session on asyncio; made by `nbaudio.realtime.aconnect(...)`. Each method is the
    sync `RealtimeSession`'s, awaited (the docstrings are that class's)."""

    def __init__(self, wire: Wire, websocket: Any, session: dict[str, Any], timeout: float) -> None:
        super().__init__(wire, session, timeout)
        self._ws = websocket

    @classmethod
    async def open(cls, *, model: str, base_url: str, api_key: str | None, websocket_base_url: str | None = None,
                   first_event_timeout: float = FIRST_EVENT_TIMEOUT, timeout: float = DEFAULT_TIMEOUT,
                   redact: Any = None, intent: str | None = None,
                   prices: Callable[[Any], Prices] | None = None) -> AsyncRealtimeSession:
        wire = Wire(base_url, model, api_key, websocket_base_url, redact, intent)
        require_websockets()
        connect = asyncio_connect()
        try:
            ws = await connect(wire.url, **connect_options(wire.url, api_key, timeout=first_event_timeout,
                                                           ping_interval=PING_INTERVAL, redact=wire.redact))
        except Exception as exc:
            err = handshake_error(exc, wire.url, first_event_timeout, wire.redact)
            if err is None:
                raise
            raise err from None
        rt = cls(wire, ws, {}, timeout)
        rt._price(prices, ws.response, model)
        try:
            rt.session = wire.first(await rt._recv(first_event_timeout, "session.created"))
        except BaseException:
            await ws.close()
            raise
        return rt

    @same_doc(RealtimeSession.send)
    async def send(self, event: dict[str, Any]) -> None:
        from websockets.exceptions import ConnectionClosed

        text = self._wire.encode(event)
        try:
            await self._ws.send(text)
        except ConnectionClosed as exc:
            raise self._wire.closed_error(exc) from None

    @same_doc(RealtimeSession.update_session)
    async def update_session(self, **session: Any) -> RealtimeEvent:
        await self.send(session_update(session, self.kind))
        return self._updated(await self.wait_for("session.updated"))

    @same_doc(RealtimeSession.send_audio)
    async def send_audio(self, audio: Any, *, sample_rate: int | None = None, chunk_ms: int = CHUNK_MS,
                         pace: bool = False, commit: bool = False) -> float:
        pcm = pcm16(audio, sample_rate)
        start, sent = time.monotonic(), 0
        for piece, event in appends(pcm, chunk_ms):
            await self.send(event)
            self._wire.record.sent_audio(piece)
            sent += len(piece)
            if pace and (ahead := start + sent / (2 * SAMPLE_RATE) - time.monotonic()) > 0:
                await asyncio.sleep(ahead)
        if commit:
            await self.send({"type": "input_audio_buffer.commit"})
        return len(pcm) / (2 * SAMPLE_RATE)

    @same_doc(RealtimeSession.commit)
    async def commit(self) -> None:
        await self.send({"type": "input_audio_buffer.commit"})

    @same_doc(RealtimeSession.clear_audio)
    async def clear_audio(self) -> None:
        await self.send({"type": "input_audio_buffer.clear"})
        self._wire.record.cleared()

    @same_doc(RealtimeSession.send_text)
    async def send_text(self, text: str, *, respond: bool = True, role: str = "user") -> None:
        await self.send(text_item(text, role))
        if respond:
            await self.create_response()

    @same_doc(RealtimeSession.create_response)
    async def create_response(self, **response: Any) -> None:
        await self.send({"type": "response.create", **({"response": response} if response else {})})

    @same_doc(RealtimeSession.cancel)
    async def cancel(self) -> None:
        await self.send({"type": "response.cancel"})

    @same_doc(RealtimeSession.truncate)
    async def truncate(self, item_id: str, audio_end_ms: int, content_index: int = 0) -> None:
        await self.send(truncate_event(item_id, audio_end_ms, content_index))

    async def _recv(self, timeout: float, waiting_for: str) -> RealtimeEvent:
        from websockets.exceptions import ConnectionClosed

        try:
            async with asyncio.timeout(timeout):
                raw = await self._ws.recv()
        except TimeoutError:
            raise self._wire.timed_out(timeout, waiting_for) from None
        except ConnectionClosed as exc:
            raise self._wire.closed_error(exc) from None
        return self._wire.decode(raw)

    @same_doc(RealtimeSession.events)
    async def events(self, *, timeout: float | None = None, errors: str = "raise") -> AsyncIterator[RealtimeEvent]:
        while True:
            event = await self._recv(wait_seconds(timeout, self.timeout), "the next event")
            if event.type == "error" and errors == "raise":
                raise self._wire.server_error(event)
            yield event

    @same_doc(RealtimeSession.wait_for)
    async def wait_for(self, *types: str, timeout: float | None = None) -> RealtimeEvent:
        while True:
            event = await self._recv(wait_seconds(timeout, self.timeout), " or ".join(types))
            if event.type == "error":
                raise self._wire.server_error(event)
            if event.type in types:
                return event

    @same_doc(RealtimeSession.close)
    async def close(self) -> None:
        if not self._wire.closed:
            self._wire.closed = True
            await self._ws.close()

    async def __aenter__(self) -> AsyncRealtimeSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
