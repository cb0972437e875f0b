"""One Realtime session: the client events it takes, its input audio buffer and turn detection,
its conversation and its one response at a time.

Events are handled one after another on the event loop, in the order they arrive; model work
(transcription, the reply) runs in tasks whose heavy calls go to worker threads, so a session keeps
reading while it answers (that is how speech during a reply can cancel it). A bad event gets an
`error` event naming what was wrong and the session goes on.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Any

from ..._wire.realtime import BYTES_PER_MS, error_event, new_id
from ...errors import RealtimeEventError
from ..api_errors import EngineError
from ..engine import Admission, Engine
from ..voices import plan_voice
from .client_events import decode_event, event_type
from .config import SemanticVad, SessionConfig, parse_item, parse_response_options
from .conversation import Conversation, Item
from .limits import RealtimeLimits
from .outbox import Outbox
from .preflight import Preflight, begin_reply
from .responder import Response, transcribe_pcm
from .tools import call_item
from .turn_end import ending, silence_ms
from .vad import TurnDetector

__all__ = ["RealtimeSession"]

MIN_COMMIT_MS = 100  # OpenAI refuses to commit less


# The fields each client event may have besides `type` and `event_id`.
_FIELDS: dict[str, frozenset[str]] = {
    "session.update": frozenset({"session"}),
    "input_audio_buffer.append": frozenset({"audio"}),
    "input_audio_buffer.commit": frozenset(),
    "input_audio_buffer.clear": frozenset(),
    "conversation.item.create": frozenset({"item", "previous_item_id"}),
    "conversation.item.delete": frozenset({"item_id"}),
    "conversation.item.truncate": frozenset({"item_id", "content_index", "audio_end_ms"}),
    "conversation.item.retrieve": frozenset({"item_id"}),
    "response.create": frozenset({"response"}),
    "response.cancel": frozenset({"response_id"}),
    "output_audio_buffer.clear": frozenset(),
}


def _event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "event_id": new_id("event"), **fields}


def _pcm(data: Any, param: str) -> bytes:
    if not isinstance(data, str):
        raise RealtimeEventError(f"Missing required parameter: '{param}' (base64 pcm16, 24 kHz mono).", param=param)
    try:
        pcm = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise RealtimeEventError(f"Invalid value for '{param}': not valid base64.", param=param) from None
    if len(pcm) % 2:
        raise RealtimeEventError(f"Invalid value for '{param}': pcm16 audio has an even number of bytes.",
                                 param=param)
    return pcm


class RealtimeSession:
    """A session's state and its event handlers; `emit` sends a server event."""

    def __init__(self, engine: Engine, admission: Admission, limits: RealtimeLimits, model: str,
                 outbox: Outbox) -> None:
        self.engine = engine
        self.admission = admission
        self.limits = limits
        self.outbox = outbox
        self.emit = outbox.put
        self.id = new_id("sess")
        self.config = SessionConfig(model=model)
        self.conversation = Conversation()
        self.response: Response | None = None
        self._pending = bytearray()  # input audio not yet committed
        self._pending_start = 0  # where it starts, in bytes of all audio appended this session
        self._appended = 0
        self._detector = TurnDetector(self.config.turn_detection) if self.config.turn_detection else None
        self._speech_item: str | None = None
        self._guess: asyncio.Task | None = None  # transcribing the turn so far, from its last pause
        self._preflight: Preflight | None = None  # the reply to those words, begun while the pause lasts
        self._feeding = asyncio.Lock()  # the turn detector is used by one call at a time
        self._unanswered: list[Item] = []  # user audio committed since the last response
        self._tasks: set[asyncio.Task] = set()

    def created(self) -> None:
        self.emit(_event("session.created", session=self.config.to_dict(self.id)))

    @property
    def responding(self) -> bool:
        return self.response is not None and self.response.status == "in_progress"

    async def handle(self, raw: str | bytes) -> None:
        """One client message; anything wrong with it becomes an error event."""
        event_id = None
        try:
            event, event_id = decode_event(raw)
            kind = event_type(event, _FIELDS, "is not a client event of the Realtime API.")
            await getattr(self, "_on_" + kind.replace(".", "_"))(event)
        except RealtimeEventError as exc:
            self.emit(error_event(exc.message, code=exc.code, param=exc.param, event_id=event_id))
        except EngineError as exc:
            kind = "server_error" if exc.status_code >= 500 else "invalid_request_error"
            self.emit(error_event(exc.message, type=kind, code=exc.code, param=exc.param, event_id=event_id))

    # ---- session ------------------------------------------------------------------------------

    async def _on_session_update(self, event: dict[str, Any]) -> None:
        config = self.config.updated(event.get("session"))
        if config.voice != self.config.voice:  # an unknown voice is an error now, not at the first reply
            try:
                await asyncio.to_thread(plan_voice, self.engine, config.voice, "Hello.", 1.0,
                                        param="session.audio.output.voice")
            except EngineError as exc:
                raise RealtimeEventError(exc.message, param="session.audio.output.voice") from None
        if config.turn_detection != self.config.turn_detection:
            self._detector = TurnDetector(config.turn_detection) if config.turn_detection else None
            self._speech_item = None
            self._forget_guess()
        self.config = config
        self.emit(_event("session.updated", session=config.to_dict(self.id)))

    # ---- input audio --------------------------------------------------------------------------

    async def _on_input_audio_buffer_append(self, event: dict[str, Any]) -> None:
        pcm = _pcm(event.get("audio"), "audio")
        limit = int(self.limits.max_buffer_seconds * 1000) * BYTES_PER_MS
        if len(self._pending) + len(pcm) > limit:
            raise RealtimeEventError(f"The input audio buffer is full ({self.limits.max_buffer_seconds:g} s of "
                                     "audio not committed); commit or clear it. This audio was dropped.",
                                     param="audio", code="input_audio_buffer_full")
        self._pending += pcm
        self._appended += len(pcm)
        if self._detector is None:
            return
        async with self._feeding:
            turns = await asyncio.to_thread(self._detector.feed, pcm)
        for turn in turns:
            if turn.kind == "started":
                await self._speech_started(turn.ms)
            elif turn.kind == "stopped":
                await self._speech_stopped(turn.ms)
            elif turn.kind == "paused":
                self._guess_transcript(turn.ms)
            else:
                self._forget_guess()  # the user goes on: that guess is of no use
        if self._detector is not None and not self._detector.speaking:
            # keep only what a turn starting now could reach back to
            keep = (self.config.turn_detection.prefix_padding_ms + 1000) * BYTES_PER_MS
            self._drop_before(self._appended - keep)

    def _drop_before(self, position: int) -> None:
        cut = min(len(self._pending), position - self._pending_start)
        if cut > 0:
            cut -= cut % 2
            del self._pending[:cut]
            self._pending_start += cut

    async def _speech_started(self, ms: int) -> None:
        self._drop_before(ms * BYTES_PER_MS)
        self._speech_item = new_id("item")
        self.emit(_event("input_audio_buffer.speech_started", audio_start_ms=ms, item_id=self._speech_item))
        self._forget_guess()
        if self.responding and self.config.turn_detection.interrupt_response:
            self.outbox.drop_audio(self.response.id)  # what is still queued would only play over the user
            await self.response.cancel("turn_detected")

    def _guess_transcript(self, ms: int) -> None:
        """Start transcribing the turn so far (speech until `ms`, and the pause since) when the
        speaker pauses: if the pause turns out to end the turn (speech_stopped comes
        silence_duration_ms later), its transcript is ready that much sooner, and so is the reply,
        begun as soon as the words are known (`_after_guess`)."""
        pcm = bytes(self._pending)
        self._forget_guess()
        if ms * BYTES_PER_MS - self._pending_start >= MIN_COMMIT_MS * BYTES_PER_MS:
            self._guess = self._track(asyncio.get_running_loop().create_task(self._guessed(pcm)))

    async def _guessed(self, pcm: bytes) -> tuple[str, float]:
        result = await self._stt(pcm)
        if asyncio.current_task() is self._guess:  # the speaker is still in that pause
            await self._after_guess(result[0])
        return result

    async def _after_guess(self, text: str) -> None:
        """The words of the turn so far are known: begin the reply to them, and with semantic_vad
        decide how long this pause must last to end the turn (perhaps it already has)."""
        td = self.config.turn_detection
        if td.create_response and not self.responding and text.strip():
            self._preflight = begin_reply(self.engine, self.admission, self.config, self.conversation, text)
        if isinstance(td, SemanticVad) and self._detector is not None:
            async with self._feeding:
                turn = self._detector.end_after(silence_ms(td.eagerness, ending(text)))
            if turn is not None:
                await self._speech_stopped(turn.ms)

    def _forget_guess(self) -> None:
        """The turn so far is not the turn: its transcript and reply are of no use."""
        self._guess = None
        if self._preflight is not None:
            self._preflight.drop()
            self._preflight = None

    async def _stt(self, pcm: bytes) -> tuple[str, float]:
        t = self.config.transcription
        return await asyncio.to_thread(transcribe_pcm, self.engine, pcm, t.language if t else None,
                                       t.prompt if t else None)

    async def _speech_stopped(self, ms: int) -> None:
        item_id = self._speech_item or new_id("item")
        self._speech_item = None
        self.emit(_event("input_audio_buffer.speech_stopped", audio_end_ms=ms, item_id=item_id))
        end = ms * BYTES_PER_MS - self._pending_start
        end -= end % 2
        pcm = bytes(self._pending[:end])
        del self._pending[:end]
        self._pending_start += end
        guess, self._guess = self._guess, None
        if len(pcm) < MIN_COMMIT_MS * BYTES_PER_MS:
            self._forget_guess()
            return
        self._commit(pcm, item_id, guess)
        if self.config.turn_detection.create_response and not self.responding:
            self._respond(parse_response_options(None))
        self._forget_guess()  # a reply begun early and not taken by that response

    async def _on_input_audio_buffer_commit(self, event: dict[str, Any]) -> None:
        have = len(self._pending) // BYTES_PER_MS
        if have < MIN_COMMIT_MS:
            raise RealtimeEventError(f"Error committing input audio buffer: buffer too small. Expected at least "
                                     f"{MIN_COMMIT_MS}ms of audio, but buffer only has {have}ms of audio.",
                                     code="input_audio_buffer_commit_empty")
        pcm = bytes(self._pending)
        self._pending_start += len(self._pending)
        self._pending.clear()
        if self._detector is not None:
            self._detector.reset()
        self._commit(pcm, self._speech_item or new_id("item"))
        self._speech_item = None
        self._forget_guess()

    async def _on_input_audio_buffer_clear(self, event: dict[str, Any]) -> None:
        self._pending_start += len(self._pending)
        self._pending.clear()
        if self._detector is not None:
            self._detector.reset()
        self._speech_item = None
        self._forget_guess()
        self.emit(_event("input_audio_buffer.cleared"))

    def _commit(self, pcm: bytes, item_id: str, guess: asyncio.Task | None = None) -> None:
        item = Item(role="user", id=item_id, content=[{"type": "input_audio", "transcript": None}], pcm=pcm)
        previous = self.conversation.add(item)
        self.emit(_event("input_audio_buffer.committed", item_id=item.id, previous_item_id=previous))
        self._added(item, previous)
        self._transcribe(item, guess)
        self._unanswered.append(item)

    def _added(self, item: Item, previous: str | None) -> None:
        self.emit(_event("conversation.item.added", item=item.to_dict(), previous_item_id=previous))
        self.emit(_event("conversation.item.done", item=item.to_dict(), previous_item_id=previous))

    def _transcribe(self, item: Item, guess: asyncio.Task | None = None) -> None:
        """Transcribe a user audio item in the background (or take the `guess` started at the pause
        that ended its turn: the same speech, less trailing silence); the text model reads the
        transcript, and with `audio.input.transcription` set the client gets it as events."""
        async def work() -> float:
            t = self.config.transcription
            try:
                text, seconds = await (guess if guess is not None else self._stt(item.pcm))
            except EngineError as exc:
                if t is not None:
                    self.emit(_event("conversation.item.input_audio_transcription.failed", item_id=item.id,
                                     content_index=0, error={"type": "server_error", "code": exc.code,
                                                             "message": exc.message, "param": exc.param}))
                return 0.0
            item.content[0]["transcript"] = text
            if t is not None:
                self.emit(_event("conversation.item.input_audio_transcription.delta", item_id=item.id,
                                 content_index=0, delta=text))
                self.emit(_event("conversation.item.input_audio_transcription.completed", item_id=item.id,
                                 content_index=0, transcript=text, usage={"type": "duration", "seconds": seconds}))
            return seconds

        item.transcribing = self._track(asyncio.get_running_loop().create_task(work()))

    def _track(self, task: asyncio.Task) -> asyncio.Task:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ---- conversation -------------------------------------------------------------------------

    async def _on_conversation_item_create(self, event: dict[str, Any]) -> None:
        item = self._item(parse_item(event.get("item")), "item")
        previous = event.get("previous_item_id")
        if previous is not None and not isinstance(previous, str):
            raise RealtimeEventError("Invalid type for 'previous_item_id': expected a string.",
                                     param="previous_item_id")
        self._added(item, self.conversation.add(item, previous))
        if item.pcm and item.transcribing is None:
            self._transcribe(item)
        if item.pcm:
            self._unanswered.append(item)

    def _item(self, spec: dict[str, Any], where: str) -> Item:
        """An Item from a checked item: input audio decoded (one audio part per message)."""
        if spec["type"] != "message":
            return call_item(spec)
        content, pcm = [], b""
        for j, part in enumerate(spec["content"]):
            if part["type"] == "input_audio":
                if pcm:
                    raise RealtimeEventError(f"Unsupported value for '{where}.content[{j}]': one input_audio part "
                                             "per message.", param=f"{where}.content[{j}]", code="unsupported_value")
                pcm = _pcm(part["audio"], f"{where}.content[{j}].audio")
                if not pcm:
                    raise RealtimeEventError(f"Invalid value for '{where}.content[{j}].audio': no audio.",
                                             param=f"{where}.content[{j}].audio")
                part = {"type": "input_audio", "transcript": part.get("transcript")}
            content.append(part)
        item = Item(role=spec["role"], content=content, pcm=pcm, **({"id": spec["id"]} if "id" in spec else {}))
        if pcm and item.content[[p["type"] for p in content].index("input_audio")].get("transcript") is not None:
            item.transcribing = None  # the client gave its transcript: nothing to transcribe
            item.pcm = b""
        return item

    async def _on_conversation_item_delete(self, event: dict[str, Any]) -> None:
        item = self.conversation.get(event.get("item_id"))
        if self.responding and self.response.item is item:
            await self.response.cancel("client_cancelled")
        self.conversation.delete(item.id)
        self.emit(_event("conversation.item.deleted", item_id=item.id))

    async def _on_conversation_item_truncate(self, event: dict[str, Any]) -> None:
        item = self.conversation.get(event.get("item_id"))
        index, end = event.get("content_index"), event.get("audio_end_ms")
        for name, value in (("content_index", index), ("audio_end_ms", end)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise RealtimeEventError(f"Invalid value for '{name}': expected a whole number >= 0.", param=name)
        if self.responding and self.response.item is item:
            await self.response.cancel("client_cancelled")
        item.truncate(index, end)
        self.emit(_event("conversation.item.truncated", item_id=item.id, content_index=index, audio_end_ms=end))

    async def _on_conversation_item_retrieve(self, event: dict[str, Any]) -> None:
        item = self.conversation.get(event.get("item_id"))
        self.emit(_event("conversation.item.retrieved", item=item.to_dict()))

    # ---- responses ----------------------------------------------------------------------------

    async def _on_response_create(self, event: dict[str, Any]) -> None:
        if self.responding:
            raise RealtimeEventError(f"Conversation already has an active response in progress: "
                                     f"{self.response.id}. Wait until the response is finished before creating "
                                     "a new one.", code="conversation_already_has_active_response")
        self._respond(parse_response_options(event.get("response")))

    def _respond(self, options: Any) -> None:
        extra = [self._item(spec, f"response.input[{i}]") for i, spec in enumerate(options.input)]
        for item in extra:
            if item.pcm:
                self._transcribe(item)
        self.response = Response(self.engine, self.admission, self.config, options, self.conversation, self.emit,
                                 preflight=self._preflight)
        self._preflight = None
        waiting = self._unanswered if options.use_conversation else []
        self._unanswered = [] if options.use_conversation else self._unanswered
        self.response.start(waiting, extra)
        self._track(self.response.task)

    async def _on_response_cancel(self, event: dict[str, Any]) -> None:
        wanted = event.get("response_id")
        if not self.responding or (wanted is not None and wanted != self.response.id):
            raise RealtimeEventError("Cancellation failed: no active response found.",
                                     code="response_cancel_not_active")
        await self.response.cancel("client_cancelled")

    async def _on_output_audio_buffer_clear(self, event: dict[str, Any]) -> None:
        raise RealtimeEventError("output_audio_buffer.clear is for WebRTC and SIP sessions; on a WebSocket, "
                                 "send response.cancel and conversation.item.truncate.", param="type",
                                 code="unsupported_event")

    async def close(self) -> None:
        """Stop what is still running (the client left)."""
        self._forget_guess()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
