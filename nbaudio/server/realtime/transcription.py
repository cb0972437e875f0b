"""A transcription session (`wss://…/v1/realtime?intent=transcription`, `session.type:
"transcription"`): audio in, the words of each turn out as they are recognised; no conversation,
no responses.

Events, in the GA shapes the official `openai` SDK types:
- `session.update` with `{"type": "transcription", "audio": {"input": {"transcription": {model,
  language, prompt}, "turn_detection": server_vad | semantic_vad | null}}, "include":
  ["item.input_audio_transcription.logprobs"]}` (transcription_config.py);
- `input_audio_buffer.append` / `.commit` (manual turns: turn_detection null) / `.clear`;
- out: `input_audio_buffer.speech_started` / `.speech_stopped` (VAD), `.committed`,
  `conversation.item.added` / `.done`, then `conversation.item.input_audio_transcription.delta`
  and `.completed` (or `.failed`).

Deltas come while the turn is still spoken, for the item id its speech_started named (with manual
turns, the id the commit will have): the words two successive decodes of the growing audio agree
on (live_turn.py, stable_words.py): provisional words, fast. The completed transcript is one
decode of the whole turn when it ends, the final text: it may correct a word the deltas gave, as
the hosted models' completed event is the final one. With `include` logprobs, each delta and the
completed event carry one entry per word (Whisper's word probability, as a natural log). The
completed event also carries `words`, each with `start` and `end` in seconds from the start of the
item's audio (an nbaudio field: clients that do not know it ignore it), and `usage` in seconds of
audio.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from typing import Any

from ..._wire.realtime import BYTES_PER_MS, error_event, new_id
from ...errors import RealtimeEventError
from ..api_errors import EngineError
from ..engine import Engine
from .client_events import decode_event, event_type
from .limits import RealtimeLimits
from .live_turn import LiveTurn, logprobs_of, words_of
from .outbox import Outbox
from .stable_words import Word
from .transcription_config import TranscriptionConfig
from .vad import TurnDetector

__all__ = ["TranscriptionSession"]

log = logging.getLogger("nbaudio.server")
MIN_COMMIT_MS = 100  # as in conversation sessions (OpenAI refuses to commit less)
_FIELDS = {"session.update": {"session"}, "input_audio_buffer.append": {"audio"}, "input_audio_buffer.commit": set(),
           "input_audio_buffer.clear": set()}


def _event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "event_id": new_id("event"), **fields}


def _audio(event: dict[str, Any]) -> bytes:
    data = event.get("audio")
    try:
        pcm = base64.b64decode(data, validate=True) if isinstance(data, str) else None
    except (binascii.Error, ValueError):
        pcm = None
    if pcm is None or len(pcm) % 2:
        raise RealtimeEventError("Invalid value for 'audio': expected base64 pcm16 (24 kHz mono, an even number "
                                 "of bytes).", param="audio")
    return pcm


class TranscriptionSession:
    """A transcription session's state and event handlers (route.py feeds it, as a RealtimeSession)."""

    def __init__(self, engine: Engine, limits: RealtimeLimits, outbox: Outbox) -> None:
        self.engine, self.limits, self.emit = engine, limits, outbox.put
        self.id = new_id("sess")
        self.config = TranscriptionConfig()
        self._detector = TurnDetector(self.config.turn_detection) if self.config.turn_detection else None
        self._pending = bytearray()  # audio not yet committed
        self._pending_start = 0  # where it starts, in bytes of all audio appended this session
        self._turn: LiveTurn | None = None  # the turn being spoken
        self._previous_item: str | None = None
        self._tasks: set[asyncio.Task] = set()

    def created(self) -> None:
        self.emit(_event("session.created", session=self.config.to_dict(self.id)))

    async def handle(self, raw: str | bytes) -> None:
        """One client message; anything wrong with it becomes an error event."""
        event_id = None
        try:
            event, event_id = decode_event(raw)
            kind = event_type(event, _FIELDS, "is not an event of a transcription session; it takes "
                              "session.update and input_audio_buffer.append, .commit and .clear.")
            await getattr(self, "_on_" + kind.replace(".", "_"))(event)
        except RealtimeEventError as exc:
            self.emit(error_event(exc.message, code=exc.code, param=exc.param, event_id=event_id))

    async def _on_session_update(self, event: dict[str, Any]) -> None:
        config = self.config.updated(event.get("session"))
        if config.turn_detection != self.config.turn_detection:
            self._detector = TurnDetector(config.turn_detection) if config.turn_detection else None
            self._drop_turn()
        self.config = config
        self.emit(_event("session.updated", session=config.to_dict(self.id)))

    # ---- audio in -------------------------------------------------------------------------------
    @property
    def _appended(self) -> int:
        return self._pending_start + len(self._pending)

    async def _on_input_audio_buffer_append(self, event: dict[str, Any]) -> None:
        pcm = _audio(event)
        if len(self._pending) + len(pcm) > int(self.limits.max_buffer_seconds * 1000) * BYTES_PER_MS:
            raise RealtimeEventError(f"The input audio buffer is full ({self.limits.max_buffer_seconds:g} s of "
                                     "audio not committed); commit or clear it. This audio was dropped.",
                                     param="audio", code="input_audio_buffer_full")
        self._pending += pcm
        if self._detector is None:
            if self._turn is None:  # manual turns: a turn is what is appended until the commit
                self._turn = LiveTurn(new_id("item"), self._appended - len(pcm), self._send_words)
        else:
            turns = await asyncio.to_thread(self._detector.feed, pcm)
            for turn in turns:
                if turn.kind == "started":
                    self._speech_started(turn.ms * BYTES_PER_MS)
                elif turn.kind == "stopped":
                    self._speech_stopped(turn.ms * BYTES_PER_MS)
            if not self._detector.speaking:  # keep only what a turn starting now could reach back to
                keep = (self.config.turn_detection.prefix_padding_ms + 1000) * BYTES_PER_MS
                self._drop_before(self._appended - keep)
        if self._turn is not None:
            self._advance(self._turn)

    def _advance(self, turn: LiveTurn) -> None:
        """Decode the turn again if it has grown enough; cut it if it has gone on too long."""
        have = self._appended - turn.start
        cut = turn.cut_point(have) if self._detector is not None else None
        if cut is not None:
            at = turn.start + cut
            self.emit(_event("input_audio_buffer.speech_stopped", audio_end_ms=at // BYTES_PER_MS,
                             item_id=turn.item_id))
            self._commit_turn(turn, at, words=list(turn.agreement.stable))
            self._speech_started(at, padding=False)
        elif turn.wants_decode(have):
            pcm = self._span(turn.start, self._appended)
            t = self.config.transcription
            turn.decoding = self._track(asyncio.get_running_loop().create_task(
                self._quietly(turn, turn.decode(self.engine, pcm, t.language, t.prompt))))

    async def _quietly(self, turn: LiveTurn, decode: Any) -> None:
        """A decode while the turn is spoken: a failure costs only its deltas (the turn's final
        decode reports one). When it ends, the audio that came meanwhile is decoded at once, in one
        decode of all of it (not at the next append, nor one decode per step missed)."""
        try:
            await decode
        except EngineError as exc:
            log.warning("realtime transcription: a decode of a turn in progress failed: %s", exc.message)
        if self._turn is turn:
            self._advance(turn)

    def _span(self, start: int, end: int) -> bytes:
        first = max(0, start - self._pending_start)
        return bytes(self._pending[first:max(first, end - self._pending_start)])

    def _drop_before(self, position: int) -> None:
        cut = min(len(self._pending), position - self._pending_start)
        if cut > 0:
            cut -= cut % 2
            del self._pending[:cut]
            self._pending_start += cut

    def _speech_started(self, at: int, *, padding: bool = True) -> None:
        self._drop_before(at)
        self._turn = LiveTurn(new_id("item"), at, self._send_words)
        if padding:  # a cut turn's successor starts where it was cut: no new speech_started to say
            self.emit(_event("input_audio_buffer.speech_started", audio_start_ms=at // BYTES_PER_MS,
                             item_id=self._turn.item_id))

    def _speech_stopped(self, at: int) -> None:
        turn = self._turn
        if turn is None:
            return
        self.emit(_event("input_audio_buffer.speech_stopped", audio_end_ms=at // BYTES_PER_MS, item_id=turn.item_id))
        if at - turn.start < MIN_COMMIT_MS * BYTES_PER_MS:
            self._drop_turn()
            return
        self._commit_turn(turn, at)

    async def _on_input_audio_buffer_commit(self, event: dict[str, Any]) -> None:
        turn = self._turn
        have = 0 if turn is None else (self._appended - turn.start) // BYTES_PER_MS
        if turn is None or have < MIN_COMMIT_MS:
            raise RealtimeEventError(f"Error committing input audio buffer: buffer too small. Expected at least "
                                     f"{MIN_COMMIT_MS}ms of audio, but buffer only has {have}ms of audio.",
                                     code="input_audio_buffer_commit_empty")
        if self._detector is not None:
            self._detector.reset()
        self._commit_turn(turn, self._appended)

    async def _on_input_audio_buffer_clear(self, event: dict[str, Any]) -> None:
        self._drop_before(self._appended)
        if self._detector is not None:
            self._detector.reset()
        self._drop_turn()
        self.emit(_event("input_audio_buffer.cleared"))

    def _drop_turn(self) -> None:
        if self._turn is not None:
            self._turn.ended = True
            self._turn = None

    # ---- transcripts out ------------------------------------------------------------------------
    def _commit_turn(self, turn: LiveTurn, end: int, words: list[Word] | None = None) -> None:
        """The turn's audio up to `end` becomes an item; transcribe the rest of it (or, for a turn cut
        at its last stable `words`, take those)."""
        pcm = self._span(turn.start, end)
        self._drop_before(end)
        self._turn = None
        item = {"id": turn.item_id, "type": "message", "object": "realtime.item", "status": "completed",
                "role": "user", "content": [{"type": "input_audio", "transcript": None}]}
        self.emit(_event("input_audio_buffer.committed", item_id=turn.item_id, previous_item_id=self._previous_item))
        self.emit(_event("conversation.item.added", item=item, previous_item_id=self._previous_item))
        self.emit(_event("conversation.item.done", item=item, previous_item_id=self._previous_item))
        self._previous_item = turn.item_id
        self._track(asyncio.get_running_loop().create_task(self._complete(turn, pcm, words)))

    async def _complete(self, turn: LiveTurn, pcm: bytes, words: list[Word] | None) -> None:
        t = self.config.transcription
        if words is None:
            try:
                words = await turn.finish(self.engine, pcm, t.language, t.prompt)
            except EngineError as exc:
                self.emit(_event("conversation.item.input_audio_transcription.failed", item_id=turn.item_id,
                                 content_index=0, error={"type": "server_error", "code": exc.code,
                                                         "message": exc.message, "param": exc.param}))
                return
        else:
            turn.ended = True
        extra = {"logprobs": logprobs_of(words)} if self.config.logprobs else {}
        self.emit(_event("conversation.item.input_audio_transcription.completed", item_id=turn.item_id,
                         content_index=0, transcript="".join(w.text for w in words).strip(),
                         usage={"type": "duration", "seconds": round(len(pcm) / (1000 * BYTES_PER_MS), 3)},
                         words=words_of(words), **extra))

    def _send_words(self, turn: LiveTurn, words: list[Word]) -> None:
        text = "".join(w.text for w in words)
        if not turn.sent_any:
            text = text.lstrip()
        turn.sent_any = True
        extra = {"logprobs": logprobs_of(words)} if self.config.logprobs else {}
        self.emit(_event("conversation.item.input_audio_transcription.delta", item_id=turn.item_id,
                         content_index=0, delta=text, **extra))

    def _track(self, task: asyncio.Task) -> asyncio.Task:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        """Stop what is still running (the client left)."""
        self._drop_turn()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
