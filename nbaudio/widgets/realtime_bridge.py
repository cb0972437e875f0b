"""What the kernel's sides of the live widgets share (live_bridge.py, captions_bridge.py): one
Realtime session on a thread of its own, between the page (widget messages) and the server.

Why a thread with its own event loop: the kernel hands widget messages over on its main thread
between cells (or, over kernel subshells, on a subshell's thread), and what the session sends back
must keep reaching the page whatever those threads do. So the comm handler only posts what the page
sent (microphone audio, Stop, …) into this loop, and everything that touches the session runs here,
one thing at a time: the session's state needs no lock.

The session's loop is the same for both: read the server's events, carry out the page's commands in
order, tell the page a few times a second which audio piece the kernel took last (so it pauses
rather than pile up audio while a cell runs), and end at Stop, the time limit, a dropped connection
or an error, winding down before the WebSocket closes. A subclass says what differs: how it
connects, what it says first, what its events and commands do, how it winds down and what it leaves.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from .._wire.realtime import SAMPLE_RATE
from ..client import Client
from ..errors import APIResponseError, NbAudioError, RealtimeClosedError, RealtimeServerError
from ..realtime import AsyncRealtimeSession, RealtimeEvent
from .page_audio import PageResampler

__all__ = ["RealtimeBridge", "Send", "ACK_INTERVAL", "EVENT_TIMEOUT_S"]

ACK_INTERVAL = 0.25  # how often the page hears which audio piece the kernel took last
# A live session is mostly silence; pings (every 20 s) find a dead connection, not this timeout.
EVENT_TIMEOUT_S = 24 * 3600.0
Send = Callable[[dict[str, Any], list[bytes] | None], None]


class RealtimeBridge:
    """One Realtime session for a widget. Thread-safe entry points: `start()`, `audio()`, `stop()`
    (a subclass adds its own, through `_post`); `send(message, buffers)` goes to the page."""

    def __init__(self, *, client: Client, session: dict[str, Any], input_rate: int, max_seconds: float,
                 send: Send, thread_name: str) -> None:
        self._client, self._session = client, session
        self._max_seconds = max_seconds
        self._send = send
        self._loop = asyncio.new_event_loop()
        self._commands: asyncio.Queue[tuple[Any, ...]] | None = None
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)
        self._resampler = PageResampler(int(input_rate))
        self.acked = -1  # the last audio piece the kernel took from the page (set on the main thread)
        self.rt: AsyncRealtimeSession | None = None
        self._started = time.monotonic()

    # ---- what a subclass says ------------------------------------------------------------------
    async def _connect(self) -> AsyncRealtimeSession:
        raise NotImplementedError

    async def _begin(self, rt: AsyncRealtimeSession) -> None:
        """Before the first event is read: what the session starts with, and the page's "ready"."""
        raise NotImplementedError

    async def _carry_out(self, rt: AsyncRealtimeSession, command: tuple[Any, ...]) -> None:
        """One of the page's commands other than stop ("audio", pcm, sent_at: a piece of microphone)."""
        raise NotImplementedError

    async def _on_event(self, rt: AsyncRealtimeSession, event: RealtimeEvent) -> None:
        raise NotImplementedError

    async def _wind_down(self, rt: AsyncRealtimeSession, reader: asyncio.Task) -> None:
        """After Stop or the time limit, before the WebSocket closes (`reader` reads on meanwhile)."""
        raise NotImplementedError

    def _finish(self, reason: str, error: NbAudioError | None) -> None:
        """Once, on the bridge's thread, when the session is over: `reason` is "user", "limit",
        "closed", "error" or the page's (e.g. "microphone")."""
        raise NotImplementedError

    def _refused(self, exc: RealtimeServerError) -> None:
        """The server answered with an error event: the page is told; the session goes on."""
        self._send({"type": "error", "text": f"the server said: {exc}"}, None)

    # ---- from the kernel's main thread --------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def _post(self, *command: Any) -> None:
        if self._loop.is_closed():
            return
        try:
            self._loop.call_soon_threadsafe(self._put, command)
        except RuntimeError:  # the loop closed in between: the session is over
            pass

    def _put(self, command: tuple[Any, ...]) -> None:
        if self._commands is not None:
            self._commands.put_nowait(command)

    def audio(self, seq: int, pcm: bytes, sent_at: float | None = None) -> None:
        """A piece of microphone audio: pcm16 at the page's rate (`sent_at`: the page's clock when it
        sent it, ms since the epoch, where the page says)."""
        self.acked = seq
        self._post("audio", pcm, sent_at)

    def stop(self, reason: str = "user") -> None:
        self._post("stop", reason)

    # ---- on the bridge's thread ----------------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._commands = asyncio.Queue()
        reason, error = "error", None
        try:
            self.rt = await self._connect()
            await self._begin(self.rt)
            reason, error = await self._session_loop(self.rt)
        except NbAudioError as exc:
            error = exc
        finally:
            if self.rt is not None:
                await self.rt.close()
            # Whatever ended it (a bug included), what the session made is kept and the page is told.
            self._finish(reason, error)

    async def _session_loop(self, rt: AsyncRealtimeSession) -> tuple[str, NbAudioError | None]:
        """The session from its first event to its end: (why it ended, the error that ended it)."""
        reader = asyncio.create_task(self._read(rt))
        commands = asyncio.create_task(self._obey(rt))
        acks = asyncio.create_task(self._acks())
        try:
            done, _ = await asyncio.wait({reader, commands}, timeout=self._max_seconds,
                                         return_when=asyncio.FIRST_COMPLETED)
            if not done:
                reason, error = "limit", None
            else:
                task = done.pop()
                error = task.exception()
                if error is None:
                    reason = task.result() if task is commands else "closed"
                elif isinstance(error, NbAudioError):
                    reason = "closed" if isinstance(error, RealtimeClosedError) else "error"
                else:
                    raise error
            commands.cancel()
            if error is None:
                await self._wind_down(rt, reader)
            return reason, error
        finally:
            for task in (reader, commands, acks):
                task.cancel()

    async def _acks(self) -> None:
        last = None
        while True:
            await asyncio.sleep(ACK_INTERVAL)
            if self.acked != last:
                last = self.acked
                self._send({"type": "ack", "seq": last}, None)

    async def _obey(self, rt: AsyncRealtimeSession) -> str:
        """Carry out what the page asked, in order; returns the reason when it asks to stop."""
        assert self._commands is not None
        while True:
            command = await self._commands.get()
            if command[0] == "stop":
                return command[1]
            try:
                await self._carry_out(rt, command)
            except NbAudioError as exc:
                if isinstance(exc, RealtimeClosedError):
                    raise
                self._send({"type": "error", "text": str(exc)}, None)

    async def _forward(self, rt: AsyncRealtimeSession, pcm: bytes) -> None:
        """Microphone audio, already pcm16 at 24 kHz (self._resampler), to the server."""
        if pcm:  # a streaming resampler may hold a short piece back whole
            await rt.send_audio(pcm, sample_rate=SAMPLE_RATE)

    async def _read(self, rt: AsyncRealtimeSession) -> None:
        while True:  # an error event, or a malformed one, is told to the page; the session goes on
            try:
                async for event in rt.events():
                    await self._on_event(rt, event)
            except RealtimeServerError as exc:
                self._refused(exc)
            except APIResponseError as exc:  # not recorded (nbaudio.realtime.server_events); read on
                self._send({"type": "error", "text": str(exc)}, None)
