"""The kernel's side of a live session: one Realtime session on a thread of its own, between the
page (widget messages) and the server (a WebSocket).

The thread, its event loop and the session's loop are realtime_bridge.RealtimeBridge's: the comm
handler only posts what the page sent (microphone audio, "the user cut this reply at N ms") into
that loop, so the reply keeps streaming to the page whatever the kernel's threads do, and
everything that touches the session runs there, one thing at a time: the session's record
(`nbaudio.realtime.record`) needs no lock.

What reaches the page are small messages made here from the server's events (the reply's audio as a
binary buffer, transcripts as text), never the events themselves, the URL's credentials or the key:
error texts come through the session's redaction.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..chat import Conversation
from ..client import Client
from ..errors import NbAudioError, RealtimeServerError
from ..realtime import AsyncRealtimeSession, RealtimeEvent, aconnect
from ..realtime.events import text_item
from ..tools import ToolBox, ToolRun
from .live_hops import HopStamps
from .realtime_bridge import ACK_INTERVAL, EVENT_TIMEOUT_S, RealtimeBridge, Send

__all__ = ["LiveBridge", "LiveEnd", "ACK_INTERVAL", "STOP_GRACE_S", "SEED_PREFIX"]

STOP_GRACE_S = 4.0  # after Stop, how long to wait for a transcript or a truncation still under way
SEED_PREFIX = "earlier_"  # ids of the items a session starts with (an earlier conversation's turns)

# The events of a function call the bridge acts on (with tools): the arguments, then the response's end.
_CALL_EVENTS = ("response.function_call_arguments.done", "response.done")


@dataclass
class LiveEnd:
    """How a live session ended: why, the error if one ended it, and its record."""

    reason: str  # "user", "limit", "closed", "error", "microphone"
    conversation: Conversation
    error: NbAudioError | None = None
    interrupted: int = 0
    seconds: float = 0.0
    tool_runs: list[ToolRun] = field(default_factory=list)  # the functions the model called, in order

    @property
    def turns(self) -> int:
        """The turns the record holds (the user's and the replies)."""
        return len(self.conversation)


class LiveBridge(RealtimeBridge):
    """Runs one Realtime session for a LiveSession widget. Thread-safe entry points: `audio()`,
    `interrupted()`, `talk()`, `send_turn()`, `stop()`; `send(message, buffers)` goes to the page and
    `on_end(LiveEnd)` is called once, on the bridge's thread, when the session is over."""

    def __init__(self, *, client: Client, model: str, session: dict[str, Any], seed: list[tuple[str, str]],
                 input_rate: int, max_seconds: float, manual: bool, send: Send,
                 on_end: Callable[[LiveEnd], None], tools: ToolBox | None = None) -> None:
        super().__init__(client=client, session=session, input_rate=input_rate, max_seconds=max_seconds,
                         send=send, thread_name="nbaudio-live")
        self._model, self._seed = model, seed
        self._tools = tools
        self._calls: list[tuple[str, str, str]] = []  # (name, arguments, call_id) of the response under way
        self.tool_runs: list[ToolRun] = []
        self._manual, self._on_end = manual, on_end
        self._hops = HopStamps()  # the benchmark's stamps of the way from mouth to ear
        self._responding = False
        self._awaiting: set[str] = set()  # truncations not yet confirmed
        self._user_text: dict[str, str] = {}  # user transcripts as their deltas arrive
        self._interrupted = 0

    # ---- from the kernel's main thread --------------------------------------------------------
    def audio(self, seq: int, pcm: bytes, sent_at: float | None = None) -> None:
        """A piece of microphone audio: pcm16 at the page's rate (stamped when the kernel took it)."""
        self.acked = seq
        self._post("audio", pcm, seq, self._hops.received())

    def interrupted(self, item_id: str, audio_end_ms: int) -> None:
        """The page stopped playing `item_id` after `audio_end_ms` (a barge-in)."""
        self._post("interrupted", item_id, audio_end_ms)

    def talk(self) -> None:
        """Manual turns: the user started a turn (what is buffered goes)."""
        self._post("talk")

    def send_turn(self) -> None:
        """Manual turns: the user finished a turn: commit it and ask for the reply."""
        self._post("send")

    # ---- on the bridge's thread ----------------------------------------------------------------
    async def _connect(self) -> AsyncRealtimeSession:
        return await aconnect(self._model, client=self._client, session=self._session, timeout=EVENT_TIMEOUT_S)

    async def _begin(self, rt: AsyncRealtimeSession) -> None:
        for item_id, (role, text) in enumerate(self._seed):
            await rt.send(text_item(text, role, item_id=f"{SEED_PREFIX}{item_id}"))
        self._send({"type": "ready", "text": f"connected to {rt.url.partition('?')[0]} ({self._model}); "
                    + ("press ● Talk to speak" if self._manual else "speak when you like")}, None)

    def _finish(self, reason: str, error: NbAudioError | None) -> None:
        self._on_end(LiveEnd(reason=reason, conversation=_record(self.rt), error=error,
                             interrupted=self._interrupted, seconds=time.monotonic() - self._started,
                             tool_runs=list(self.tool_runs)))

    async def _wind_down(self, rt: AsyncRealtimeSession, reader: asyncio.Task) -> None:
        """Before closing: a reply still under way is cancelled (the record keeps what was said),
        and transcripts and truncations under way get STOP_GRACE_S to arrive."""
        if self._responding:
            await rt.cancel()
        deadline = time.monotonic() + STOP_GRACE_S
        while time.monotonic() < deadline and not reader.done() and (self._awaiting or self._responding or any(
                t.role == "user" and t.audio and not t.text for t in rt.turns)):
            await asyncio.sleep(0.05)

    async def _carry_out(self, rt: AsyncRealtimeSession, command: tuple[Any, ...]) -> None:
        kind = command[0]
        if kind == "audio":
            await self._forward(rt, self._resampler.pcm16(command[1]))
            self._hops.sent(*command[2:])
        elif kind == "interrupted":
            _, item_id, end_ms = command
            self._interrupted += 1
            if self._responding:
                await rt.cancel()
                self._responding = False
            self._awaiting.add(item_id)
            await rt.truncate(item_id, end_ms)
        elif kind == "talk":
            await rt.clear_audio()
        elif kind == "send":
            await rt.commit()
            await rt.create_response()

    async def _on_event(self, rt: AsyncRealtimeSession, event: RealtimeEvent) -> None:
        if self._tools and event.type in _CALL_EVENTS:
            await self._on_call_event(rt, event)
        message = self._for_page(event)
        if message is not None:
            self._send(*message)

    def _refused(self, exc: RealtimeServerError) -> None:
        self._awaiting.clear()  # a refused truncation is not coming
        super()._refused(exc)

    async def _on_call_event(self, rt: AsyncRealtimeSession, event: RealtimeEvent) -> None:
        """A call's arguments are kept until its response is done; then each call runs here (in a
        thread, time-limited: nbaudio.tools), its output goes back, and a new response reads it."""
        if event.type == "response.function_call_arguments.done":
            self._calls.append((event.get("name"), event.get("arguments"), event.get("call_id")))
            return
        calls, self._calls = self._calls, []
        if not calls or (event.get("response") or {}).get("status") != "completed":
            return
        for name, arguments, call_id in calls:
            run = await asyncio.to_thread(self._tools.run, name, arguments,
                                          call_id if isinstance(call_id, str) else None)
            self.tool_runs.append(run)
            self._send({"type": "notice", "text": f"ran {run}"}, None)
            await rt.send({"type": "conversation.item.create", "item": {
                "type": "function_call_output", "call_id": run.call_id or "", "output": run.output}})
        await rt.create_response()

    def _for_page(self, event: RealtimeEvent) -> tuple[dict[str, Any], list[bytes] | None] | None:
        kind, item_id = event.type, event.item_id
        if kind == "response.output_audio.delta":
            hop = self._hops.first_audio(event.response_id)
            return {"type": "audio", "item_id": item_id, "response_id": event.response_id,
                    **({"hop": hop} if hop else {})}, [event.audio]
        if kind == "input_audio_buffer.speech_started":
            return {"type": "speech_started", "item_id": item_id}, None
        if kind == "input_audio_buffer.speech_stopped":
            return {"type": "speech_stopped", "item_id": item_id, "hop": self._hops.stopped()}, None
        if kind == "input_audio_buffer.committed" and self._manual:
            return {"type": "user_text", "item_id": item_id, "text": "", "final": False}, None
        if kind == "conversation.item.input_audio_transcription.delta":
            self._user_text[item_id] = self._user_text.get(item_id, "") + (event.delta or "")
            return {"type": "user_text", "item_id": item_id, "text": self._user_text[item_id], "final": False}, None
        if kind == "conversation.item.input_audio_transcription.completed":
            self._hops.mark("transcribed")
            self._user_text.pop(item_id, None)
            return {"type": "user_text", "item_id": item_id, "text": (event.transcript or "").strip(),
                    "final": True}, None
        if kind == "conversation.item.input_audio_transcription.failed":
            return {"type": "user_text", "item_id": item_id, "text": "(could not be transcribed)", "final": True}, None
        if kind == "response.created":
            self._responding = True
            return None
        if kind == "response.output_item.added":
            item = event.get("item") or {}
            return ({"type": "assistant_item", "item_id": item.get("id")}, None) if item.get("role") == "assistant" \
                else None
        if kind in ("response.output_audio_transcript.delta", "response.output_text.delta"):
            self._hops.mark("token")
            return {"type": "assistant_delta", "item_id": item_id, "delta": event.delta or ""}, None
        if kind in ("response.output_audio_transcript.done", "response.output_text.done"):
            return {"type": "assistant_text", "item_id": item_id,
                    "text": event.transcript or event.get("text") or ""}, None
        if kind == "conversation.item.truncated":
            self._awaiting.discard(item_id or "")
            return {"type": "truncated", "item_id": item_id, "audio_end_ms": event.get("audio_end_ms")}, None
        if kind == "response.done":
            self._responding = False
            response = event.get("response") or {}
            output = response.get("output") or [{}]
            return {"type": "response_done", "status": response.get("status"), "item_id": output[0].get("id")}, None
        return None


def _record(rt: AsyncRealtimeSession | None) -> Conversation:
    """The session's turns as a Conversation, without the turns it was started with."""
    if rt is None:
        return Conversation()
    return rt.conversation_of(t for t in rt.turns if not t.item_id.startswith(SEED_PREFIX))
