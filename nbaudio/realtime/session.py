"""A Realtime session over a WebSocket, synchronous (notebooks, scripts).

    with nbaudio.realtime.connect(model="gpt-realtime") as rt:
        rt.update_session(audio={"input": {"turn_detection": None}})
        rt.send_audio(clip, commit=True)
        rt.create_response()
        for event in rt.events():
            if event.type == "response.done":
                break
    rt.conversation          # the turns: transcripts and AudioClips

The key is sent in the Authorization header only. Faults are exceptions of nbaudio.errors: a
refused upgrade is the status's class (AuthenticationError, PermissionDeniedError, ...), a close is
RealtimeClosedError with the close code's meaning, an `error` event is RealtimeServerError (raised
by `events()` / `wait_for()` unless `errors="yield"`; the session goes on), an event whose fields
are not what the protocol promises is APIResponseError (raised the same way, the event not
recorded: see nbaudio.realtime.server_events), silence past the deadline is APITimeoutError.
Nothing waits forever: the first event must come within `first_event_timeout`, each later one
within `timeout` while you wait, and pings detect a dead peer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from .._wire.realtime import SAMPLE_RATE
from ..pricing import Prices
from .connection import open_websocket
from .core import SessionCore, session_update
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

__all__ = ["RealtimeSession", "RealtimeEvent"]


class RealtimeSession(SessionCore):
    """One open session. Use `nbaudio.realtime.connect(...)` to make it; close it (or use `with`).
    Its methods' docstrings are also the asyncio form's (`AsyncRealtimeSession`)."""

    def __init__(self, *, model: str, base_url: str, api_key: str | None, websocket_base_url: str | None = None,
                 first_event_timeout: float = FIRST_EVENT_TIMEOUT, timeout: float = DEFAULT_TIMEOUT,
                 redact: Any = None, intent: str | None = None,
                 prices: Callable[[Any], Prices] | None = None) -> None:
        super().__init__(Wire(base_url, model, api_key, websocket_base_url, redact, intent), {}, timeout)
        self.model = model
        self._ws = open_websocket(self.url, api_key, timeout=first_event_timeout, ping_interval=PING_INTERVAL,
                                  redact=self._wire.redact)
        self._price(prices, self._ws.response, model)
        try:
            self.session: dict[str, Any] = self._wire.first(self._recv(first_event_timeout, "session.created"))
        except BaseException:
            self._ws.close()
            raise

    # ---- sending ----------------------------------------------------------------------------
    def send(self, event: dict[str, Any]) -> None:
        """Send a client event as is (its `type` must be a Realtime client event)."""
        from websockets.exceptions import ConnectionClosed

        text = self._wire.encode(event)
        try:
            self._ws.send(text)
        except ConnectionClosed as exc:
            raise self._wire.closed_error(exc) from None

    def update_session(self, **session: Any) -> RealtimeEvent:
        """`session.update` with these fields (the session's type added: "realtime", or
        "transcription" in a transcription session) and wait for session.updated."""
        self.send(session_update(session, self.kind))
        return self._updated(self.wait_for("session.updated"))

    def send_audio(self, audio: Any, *, sample_rate: int | None = None, chunk_ms: int = CHUNK_MS,
                   pace: bool = False, commit: bool = False) -> float:
        """Append audio to the input buffer in `chunk_ms` pieces (at the pace of speech when `pace`);
        `commit=True` commits it (for turn_detection None). Returns the seconds sent."""
        pcm = pcm16(audio, sample_rate)
        start, sent = time.monotonic(), 0
        for piece, event in appends(pcm, chunk_ms):
            self.send(event)
            self._wire.record.sent_audio(piece)
            sent += len(piece)
            if pace and (ahead := start + sent / (2 * SAMPLE_RATE) - time.monotonic()) > 0:
                time.sleep(ahead)
        if commit:
            self.commit()
        return len(pcm) / (2 * SAMPLE_RATE)

    def commit(self) -> None:
        """Commit the input buffer as a user turn (`input_audio_buffer.commit`; with turn_detection None)."""
        self.send({"type": "input_audio_buffer.commit"})

    def clear_audio(self) -> None:
        """Drop the audio appended and not yet committed (`input_audio_buffer.clear`)."""
        self.send({"type": "input_audio_buffer.clear"})
        self._wire.record.cleared()

    def send_text(self, text: str, *, respond: bool = True, role: str = "user") -> None:
        """Add a text message (and ask for a response, unless `respond=False`)."""
        self.send(text_item(text, role))
        if respond:
            self.create_response()

    def create_response(self, **response: Any) -> None:
        """`response.create`; keyword arguments go into its `response` (instructions=, output_modalities=...)."""
        self.send({"type": "response.create", **({"response": response} if response else {})})

    def cancel(self) -> None:
        """Stop the response in progress (`response.cancel`)."""
        self.send({"type": "response.cancel"})

    def truncate(self, item_id: str, audio_end_ms: int, content_index: int = 0) -> None:
        """Cut an assistant item to what was played (`conversation.item.truncate`)."""
        self.send(truncate_event(item_id, audio_end_ms, content_index))

    # ---- receiving --------------------------------------------------------------------------
    def _recv(self, timeout: float, waiting_for: str) -> RealtimeEvent:
        from websockets.exceptions import ConnectionClosed

        try:
            raw = self._ws.recv(timeout=timeout)
        except TimeoutError:
            raise self._wire.timed_out(timeout, waiting_for) from None
        except ConnectionClosed as exc:
            raise self._wire.closed_error(exc) from None
        return self._wire.decode(raw)

    def events(self, *, timeout: float | None = None, errors: str = "raise") -> Iterator[RealtimeEvent]:
        """Server events as they come. An `error` event raises RealtimeServerError (`errors="yield"`
        yields it instead), a malformed event APIResponseError; the session stays usable, call
        events() again to go on."""
        while True:
            event = self._recv(wait_seconds(timeout, self.timeout), "the next event")
            if event.type == "error" and errors == "raise":
                raise self._wire.server_error(event)
            yield event

    def wait_for(self, *types: str, timeout: float | None = None) -> RealtimeEvent:
        """Read events until one of `types` arrives (every event read still goes into the record);
        an `error` event on the way raises RealtimeServerError."""
        while True:
            event = self._recv(wait_seconds(timeout, self.timeout), " or ".join(types))
            if event.type == "error":
                raise self._wire.server_error(event)
            if event.type in types:
                return event

    def close(self) -> None:
        """Close the WebSocket (the record stays readable)."""
        if not self._wire.closed:
            self._wire.closed = True
            self._ws.close()

    def __enter__(self) -> RealtimeSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
