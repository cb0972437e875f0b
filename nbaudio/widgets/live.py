"""`LiveSession`: a spoken conversation with a Realtime model, live in the notebook (an anywidget;
its ES module is live.js after mic.js). `%voice live` shows one.

    from nbaudio.widgets import LiveSession
    live = LiveSession(voice="alloy", instructions="You are a patient tutor.")
    live                      # ▶ Start, speak; the reply plays while it streams; speak over it to cut it
    live.conversation         # after ■ Stop: the turns, with their audio, as an nbaudio Conversation

(A streamed `%%voice` reply has a view of its own: nbaudio.magic.streaming_reply.StreamingReply.)

The route is browser ↔ kernel ↔ server: the page sends the microphone to the kernel as widget
messages and plays what the kernel sends back; the kernel holds the one WebSocket to the Realtime
API (live_bridge.py). So the key never reaches the page, it works wherever the kernel can reach
the server (the embedded engine on the kernel's loopback, a relay, OpenAI) and from a remote
Jupyter, and relays need no ephemeral keys. Where widget messages wait for a running cell to end
(ipykernel 6, VS Code, JupyterLab with "comms over subshells" off), the session pauses while a cell
runs: the widget says so and drops that audio rather than deliver it late. JupyterLab 4.4 and
later with ipykernel 7 send widget messages to a kernel subshell, and the session goes on.

When the session stops (■ Stop, the time limit, or a fault), the widget's output is replaced by
the record: the conversation's turns with players, waveforms and transcripts, saved with the
notebook like any other nbaudio display. Nothing said is lost on a fault: the record keeps every
turn that reached the kernel, and the message says what happened.
Until then its saved view (nbaudio.widgets.saved_view) says, in a notebook reopened on a new
kernel, that the session had not started or was under way.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

import traitlets

from .._wire.text import format_clock, plural
from ..chat import Conversation
from ..client import Client
from ..errors import (
    APIConnectionError,
    AuthenticationError,
    InvalidInputError,
    PermissionDeniedError,
    RealtimeClosedError,
    RealtimeServerError,
)
from ..tools import ToolBox
from .esm import widget_module
from .live_bridge import LiveBridge, LiveEnd
from .realtime_bridge import RealtimeBridge
from .realtime_widget import DEFAULT_TRANSCRIBE_MODEL, ENDINGS, MAX_MINUTES_LIMIT, RealtimeWidget

__all__ = ["LiveSession", "LiveRecord", "DEFAULT_REALTIME_MODEL", "MAX_MINUTES_LIMIT", "VAD_MODES", "TURN_DETECTION"]

DEFAULT_REALTIME_MODEL = "gpt-realtime"
VAD_MODES = ("server", "manual")
# The server hears when a turn ends by what was said: soon after a finished sentence, later after
# "and…" (semantic_vad; "high": never later than server_vad's 500 ms of silence when the words say
# nothing either way). Most of the wait for a reply used to be a fixed half second of silence.
TURN_DETECTION = {"type": "semantic_vad", "eagerness": "high"}

class LiveRecord:
    """What a finished live session leaves in the notebook: a line saying how it went, then its
    conversation (turns with players, waveforms, transcripts, usage)."""

    def __init__(self, conversation: Conversation, summary: str, error: str = "") -> None:
        self.conversation, self.summary, self.error = conversation, summary, error

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from ..display import mimebundle

        # Each turn with its waveform, as every chat turn shows in the notebook.
        bundle = dict(mimebundle(self.conversation, include=include, exclude=exclude, waveforms=True))
        head = f"live session: {self.summary}" + (f"\n⚠ {self.error}" if self.error else "")
        bundle["text/plain"] = head + "\n" + bundle.get("text/plain", repr(self.conversation))
        if "text/html" in bundle:
            err = (f'<div style="color:#b00020">⚠ {html.escape(self.error)}</div>' if self.error else "")
            bundle["text/html"] = (f'<div class="nbaudio-live-record" style="color:#555;margin:2px 0">'
                                   f"live session: {html.escape(self.summary)}</div>{err}" + bundle["text/html"])
        return bundle

    def __repr__(self) -> str:
        return f"<LiveRecord {self.summary}>"


class LiveSession(RealtimeWidget):
    """A live spoken conversation with a Realtime model through `client` (nbaudio's default when
    None: with no remote API configured, the embedded engine).

    `model`: the Realtime model. `voice`, `instructions`: the session's. `vad`: "server" (the
    server hears when a turn ends; speaking over a reply cuts it) or "manual" (● Talk / ■ Send).
    `max_minutes`: the session ends by itself after this long. `transcribe_model`: what
    transcribes the user's speech into the transcript; `language` (ISO-639-1, e.g. "en") is the
    language you will speak: a server that knows it answers sooner (no language detection).
    `conversation`: an earlier Conversation to continue; its turns go to the model as text, and
    the session's turns are appended to it. `tools`: Python functions the model may call
    (nbaudio.tools says which signatures can be described); each call runs in the kernel, at most
    `tool_timeout` seconds, its result (or error) goes back to the model, which then answers;
    the widget's status line and the record show each call. None are called unless passed here.
    """

    _esm = widget_module("mic.js", "live_hops.js", "live.js")
    _page_prefix = "live"

    vad = traitlets.Unicode("server").tag(sync=True)

    def __init__(self, model: str = DEFAULT_REALTIME_MODEL, *, client: Client | None = None, voice: str | None = None,
                 instructions: str | None = None, vad: str = "server", max_minutes: float = 15.0,
                 transcribe_model: str | None = DEFAULT_TRANSCRIBE_MODEL, language: str | None = None,
                 conversation: Conversation | None = None, tools: Sequence[Callable[..., Any]] = (),
                 tool_timeout: float = 30.0, **kwargs: Any) -> None:
        if not isinstance(model, str) or not model.strip():
            raise InvalidInputError("model must name a Realtime model, e.g. 'gpt-realtime'", param="model")
        if vad not in VAD_MODES:
            raise InvalidInputError(f"vad must be 'server' (the server hears when you stop) or 'manual' (press to "
                                    f"talk), not {vad!r}", param="vad")
        self._check_max_minutes(max_minutes)
        for name, value in (("voice", voice), ("instructions", instructions), ("transcribe_model", transcribe_model),
                            ("language", language)):
            if value is not None and not isinstance(value, str):
                raise InvalidInputError(f"{name} must be a string, not {type(value).__name__}", param=name)
        self._check_client(client)
        if conversation is not None and not isinstance(conversation, Conversation):
            raise InvalidInputError(f"conversation= takes an nbaudio Conversation, not {type(conversation).__name__}",
                                    param="conversation")
        # Described now, so a function that cannot be a tool is refused in the cell that passed it.
        self.tools = ToolBox(tools, timeout=tool_timeout) if tools else None
        super().__init__(client=client, max_minutes=max_minutes, vad=vad, **kwargs)
        self.model = model.strip()
        self.voice, self.instructions, self.transcribe_model = voice, instructions, transcribe_model
        self.language = language
        self._continues = conversation
        self.record: LiveRecord | None = None
        self.result: LiveEnd | None = None

    # ---- what it holds -------------------------------------------------------------------------
    @property
    def conversation(self) -> Conversation:
        """After the session: the conversation (the one it continued, with these turns appended).
        InvalidInputError while it has not ended."""
        if self.result is None:
            raise InvalidInputError("the live session has not ended yet: press ■ Stop in the widget, then read "
                                    "live.conversation in the next cell (or use live.on_stop(callback))")
        return self._continues if self._continues is not None else self.result.conversation

    def on_stop(self, callback: Callable[[Conversation], Any], remove: bool = False) -> None:
        """Call `callback(conversation)` when the session ends (on a thread of nbaudio's; keep it short)."""
        self._stop_handlers.register_callback(callback, remove=remove)

    def wait(self, timeout: float | None = None) -> Conversation:
        """Wait until the session has ended (for threads and scripts, not a notebook cell) and return
        the conversation."""
        self._wait_for_end(timeout, "the live session")
        return self.conversation

    def session_config(self) -> dict[str, Any]:
        """The `session.update` fields the session starts with."""
        audio_in: dict[str, Any] = {"turn_detection": dict(TURN_DETECTION) if self.vad == "server" else None}
        if self.transcribe_model:
            audio_in["transcription"] = {"model": self.transcribe_model,
                                         **({"language": self.language} if self.language else {})}
        session: dict[str, Any] = {"audio": {"input": audio_in, **({"output": {"voice": self.voice}}
                                                                   if self.voice else {})}}
        instructions = self.instructions
        if instructions is None and self._continues is not None:
            messages = self._continues.messages
            if messages and messages[0]["role"] in ("system", "developer"):
                instructions = str(messages[0]["content"] or "")
        if instructions:
            session["instructions"] = instructions
        if self.tools:
            session["tools"], session["tool_choice"] = self.tools.realtime_specs(), "auto"
        return session

    def _seed(self) -> list[tuple[str, str]]:
        """The earlier conversation's turns, as (role, text) for the model."""
        conv = self._continues
        if conv is None:
            return []
        seed = []
        for i, message in enumerate(conv.messages):
            if message["role"] in ("user", "assistant"):
                text = conv.transcript_of(i).strip()
                if text:
                    seed.append((message["role"], text))
        return seed

    # ---- what differs from the other live widgets ----------------------------------------------
    def _saved_title_and_hint(self) -> tuple[str, str]:
        return (f"Live conversation with {self.model}",
                "it runs with its kernel: run the cell to start one; when it stops, its record stays")

    def _on_command(self, kind: str, content: dict[str, Any], bridge: RealtimeBridge) -> None:
        assert isinstance(bridge, LiveBridge)
        if kind == "interrupted":
            item_id, end_ms = content.get("item_id"), content.get("audio_end_ms")
            if isinstance(item_id, str) and isinstance(end_ms, (int, float)) and not isinstance(end_ms, bool) \
                    and end_ms >= 0:
                bridge.interrupted(item_id, int(end_ms))
        elif kind == "talk":
            bridge.talk()
        elif kind == "send":
            bridge.send_turn()

    def _new_bridge(self, rate: int) -> LiveBridge:
        return LiveBridge(client=self.client, model=self.model, session=self.session_config(),
                          seed=self._seed(), input_rate=rate, max_seconds=60 * self.max_minutes,
                          manual=self.vad == "manual", send=self._page, on_end=self._finish,
                          tools=self.tools)

    # ---- the end -------------------------------------------------------------------------------
    def _finish(self, end: LiveEnd) -> None:
        """On the bridge's thread, once: keep the record, tell the page, replace the widget with it."""
        self.result = end
        if self._continues is not None:
            self._continues.extend(end.conversation)
        error = _explain(end)
        replies = "reply" if end.interrupted == 1 else "replies"
        cut = f", {end.interrupted} {replies} cut short" if end.interrupted else ""
        summary = (f"{plural(end.turns, 'turn')}, {format_clock(end.seconds, decimals=0)}{cut}"
                   f" — {ENDINGS.get(end.reason, end.reason)}")
        if end.tool_runs:
            summary += "; " + plural(len(end.tool_runs), "tool call") + ": " + "; ".join(str(r) for r in end.tool_runs)
        self.record = LiveRecord(end.conversation, summary, error)
        kept = f"; the record below keeps {plural(end.turns, 'turn')}" if end.turns else ""
        self._show_end(self.record, summary + kept, error, self.conversation)

    def __repr__(self) -> str:
        if self.result is not None:
            return f"<LiveSession {self.model}: {self.record.summary if self.record else 'ended'}>"
        return f"<LiveSession {self.model}: {self.state} ({self.vad} turns, up to {self.max_minutes:g} min)>"


def _explain(end: LiveEnd) -> str:
    """The message for a session that ended by a fault ('' when it ended as asked)."""
    if end.error is None:
        return ""
    kept = (f" The {plural(end.turns, 'turn')} said before it are kept below." if end.turns
            else " Nothing had been said yet.")
    err = end.error
    if isinstance(err, AuthenticationError):
        return (f"The server rejected the API key: {err.message}. Check NBAUDIO_API_KEY (or run %voice login), "
                f"then start again.{kept}")
    if isinstance(err, PermissionDeniedError):
        return f"The server refused this key for Realtime: {err.message}.{kept}"
    if isinstance(err, RealtimeServerError) and err.code == "session_limit_reached":
        return f"The server's session limit was reached: {err}. Stop another live session, or try again later."
    if isinstance(err, RealtimeClosedError):
        if err.close_code == 1013 or err.reason in ("session_expired", "session_limit_reached"):
            return f"The server's session limit was reached ({err}).{kept}"
        if err.reason in ("idle_timeout", "session_idle_timeout"):
            return f"The server closed the session after a long silence ({err}).{kept}"
        return f"The connection dropped ({err}).{kept}"
    if isinstance(err, APIConnectionError):
        return f"The server could not be reached: {err}. Check NBAUDIO_BASE_URL and that it runs.{kept}"
    return f"{type(err).__name__}: {err}.{kept}"
