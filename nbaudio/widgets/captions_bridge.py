"""The kernel's side of live captions: one Realtime transcription session (`intent=transcription`)
on a thread of its own, between the page (microphone audio as widget messages) and the server.

As for a live conversation (both are realtime_bridge.RealtimeBridge), the comm handler only posts
what the page sent into this thread's event loop, so captions keep coming whatever the kernel's
main thread does. What reaches the page are small messages made here: a turn's words so far
(provisional, as the server finds them stable) and its final line (the completed transcript or,
with `translate`, its English translation by the client's `/v1/audio/translations`, made on a
worker thread so the captions of the next turn are not held up). At the end the turns become one
`Transcript` of the whole recording: a segment per turn at its place in the recording, with the
server's word times when it gives them (the engine does; OpenAI's events have none, so its
segments are the turns alone).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._wire.realtime import BYTES_PER_MS
from ..client import Client
from ..errors import NbAudioError, RealtimeServerError
from ..realtime import AsyncRealtimeSession, RealtimeEvent, aconnect
from ..realtime.record import pcm_clip
from ..transcript import Transcript
from .realtime_bridge import EVENT_TIMEOUT_S, RealtimeBridge, Send

__all__ = ["CaptionsBridge", "CaptionsEnd", "captions_transcript"]

STOP_GRACE_S = 15.0  # after Stop, how long the last turns' transcripts (and translations) may take


@dataclass
class CaptionLine:
    """One turn: where its audio starts in the recording (s), its words so far, its final text."""

    item_id: str
    start: float = 0.0
    provisional: str = ""
    text: str | None = None  # the completed transcript
    english: str | None = None  # its translation, with translate
    words: list[dict[str, Any]] = field(default_factory=list)  # times from `start`
    seconds: float = 0.0


@dataclass
class CaptionsEnd:
    """How a captions session ended: why, the error if one ended it, and its transcript."""

    reason: str
    transcript: Transcript
    error: NbAudioError | None = None
    seconds: float = 0.0


def captions_transcript(lines: list[CaptionLine], pcm: bytes, *, language: str | None,
                        translate: bool) -> Transcript:
    """The finished turns as one Transcript of the recording `pcm` (24 kHz pcm16), which is its clip."""
    segments, words = [], []
    for line in lines:
        text = (line.english if translate else line.text) or ""
        if not text.strip():
            continue
        timed = [] if translate else [{"word": w["word"], "start": round(line.start + w["start"], 3),
                                       "end": round(line.start + w["end"], 3)} for w in line.words]
        end = timed[-1]["end"] if timed else line.start + line.seconds
        segments.append({"id": len(segments), "start": round(line.start, 3), "end": round(max(end, line.start), 3),
                         "text": " " + text.strip()})
        words += timed
    body = {"text": "".join(s["text"] for s in segments).strip(), "duration": len(pcm) / (1000 * BYTES_PER_MS),
            "language": "english" if translate else language, "segments": segments, "words": words}
    transcript = Transcript.from_dict(body, task="translate" if translate else "transcribe")
    transcript.audio = pcm_clip(pcm, name="captions")
    return transcript


class CaptionsBridge(RealtimeBridge):
    """Runs one transcription session for a Captions widget. Thread-safe entry points: `audio()`,
    `stop()`; `send(message, buffers)` goes to the page and `on_end(CaptionsEnd)` is called once,
    on the bridge's thread, when the session is over."""

    def __init__(self, *, client: Client, session: dict[str, Any], input_rate: int, max_seconds: float,
                 translate: bool, send: Send, on_end: Callable[[CaptionsEnd], None]) -> None:
        super().__init__(client=client, session=session, input_rate=input_rate, max_seconds=max_seconds,
                         send=send, thread_name="nbaudio-captions")
        self._translate, self._on_end = translate, on_end
        self._pcm = bytearray()  # everything sent, pcm16 at 24 kHz: the transcript's clip
        self._lines: dict[str, CaptionLine] = {}
        self._last_end = 0.0  # where the last turn ended (s): a turn cut by the server starts there
        self._translations: set[asyncio.Future] = set()
        self._audio_wait_ms = 0.0

    async def _connect(self) -> AsyncRealtimeSession:
        return await aconnect(client=self._client, session=self._session, timeout=EVENT_TIMEOUT_S,
                              intent="transcription")

    async def _begin(self, rt: AsyncRealtimeSession) -> None:
        self._send({"type": "ready", "text": f"connected to {rt.url.partition('?')[0]}: speak, the words "
                                             "appear as they are recognised"}, None)

    async def _wind_down(self, rt: AsyncRealtimeSession, reader: asyncio.Task) -> None:
        """Commit what was being said when Stop came, then give the last transcripts and translations
        STOP_GRACE_S to arrive."""
        try:
            await rt.commit()  # refused (an error event, dropped by _refused) when no speech is under way
        except NbAudioError:
            pass
        deadline = time.monotonic() + STOP_GRACE_S
        await asyncio.sleep(0.2)  # the commit's answer, if one is coming
        while time.monotonic() < deadline and not reader.done() and (
                any(line.text is None for line in self._lines.values()) or self._translations):
            await asyncio.sleep(0.05)

    def _finish(self, reason: str, error: NbAudioError | None) -> None:
        lines = sorted(self._lines.values(), key=lambda line: line.start)
        transcript = captions_transcript(lines, bytes(self._pcm), language=self._session_language(),
                                         translate=self._translate)
        self._on_end(CaptionsEnd(reason=reason, transcript=transcript, error=error,
                                 seconds=time.monotonic() - self._started))

    def _session_language(self) -> str | None:
        return ((self._session.get("audio") or {}).get("input") or {}).get("transcription", {}).get("language")

    async def _carry_out(self, rt: AsyncRealtimeSession, command: tuple[Any, ...]) -> None:
        _, page_pcm, sent_at = command  # the one command besides stop: audio
        pcm = self._resampler.pcm16(page_pcm)
        self._pcm += pcm
        try:
            await self._forward(rt, pcm)
        finally:
            if sent_at is not None:
                self._audio_wait_ms = time.time() * 1000 - sent_at

    def _hop(self) -> dict[str, float]:
        """Where a line stands on its way (the benchmark's breakdown of the caption lag): the kernel's
        clock (ms since the epoch), seconds of audio sent to the server, and ms the latest piece of
        audio took from the page sending it to the kernel sending it on."""
        return {"at": round(time.time() * 1000, 1), "sent": round(len(self._pcm) / (1000 * BYTES_PER_MS), 3),
                "wait": round(self._audio_wait_ms, 1)}

    def _refused(self, exc: RealtimeServerError) -> None:
        if exc.code != "input_audio_buffer_commit_empty":  # Stop's commit with nothing left: fine
            super()._refused(exc)

    def _line(self, item_id: str) -> CaptionLine:
        if item_id not in self._lines:
            self._lines[item_id] = CaptionLine(item_id, start=self._last_end)
        return self._lines[item_id]

    async def _on_event(self, rt: AsyncRealtimeSession, event: RealtimeEvent) -> None:
        kind, item_id = event.type, event.item_id or ""
        if kind == "input_audio_buffer.speech_started":
            self._line(item_id).start = (event.get("audio_start_ms") or 0) / 1000
        elif kind == "input_audio_buffer.speech_stopped":
            self._last_end = (event.get("audio_end_ms") or 0) / 1000
        elif kind == "input_audio_buffer.committed":
            self._line(item_id)
        elif kind == "conversation.item.input_audio_transcription.delta":
            line = self._line(item_id)
            line.provisional += event.delta or ""
            self._send({"type": "line", "item_id": item_id, "text": line.provisional, "final": False,
                        "hop": self._hop()}, None)
        elif kind == "conversation.item.input_audio_transcription.completed":
            self._completed(self._line(item_id), event)
        elif kind == "conversation.item.input_audio_transcription.failed":
            line = self._line(item_id)
            line.text = ""
            self._send({"type": "line", "item_id": item_id, "text": "(could not be transcribed)", "final": True}, None)

    def _completed(self, line: CaptionLine, event: RealtimeEvent) -> None:
        line.text = (event.transcript or "").strip()
        words = event.get("words")
        line.words = [w for w in words if isinstance(w, dict) and isinstance(w.get("word"), str)
                      and all(isinstance(w.get(k), (int, float)) for k in ("start", "end"))] \
            if isinstance(words, list) else []
        usage = event.get("usage") or {}
        line.seconds = float(usage.get("seconds") or 0.0) if isinstance(usage, dict) else 0.0
        if not self._translate:
            self._send({"type": "line", "item_id": line.item_id, "text": line.text, "final": True,
                        "hop": self._hop()}, None)
            return
        self._send({"type": "line", "item_id": line.item_id, "text": line.text, "final": False}, None)
        start = int(line.start * 1000) * BYTES_PER_MS
        pcm = bytes(self._pcm[start:start + int(line.seconds * 1000) * BYTES_PER_MS])
        future = asyncio.ensure_future(asyncio.to_thread(self._english, pcm))
        self._translations.add(future)
        future.add_done_callback(lambda f: self._translated(line, f))

    def _english(self, pcm: bytes) -> str:
        return self._client.translate(pcm_clip(pcm, name="turn")).text.strip()

    def _translated(self, line: CaptionLine, future: asyncio.Future) -> None:
        self._translations.discard(future)
        if future.cancelled():
            return
        error = future.exception()
        if error is not None and not isinstance(error, NbAudioError):
            raise error
        line.english = line.text if error is not None else future.result()
        if error is not None:
            self._send({"type": "error", "text": f"could not translate a line: {error}"}, None)
        self._send({"type": "line", "item_id": line.item_id, "text": line.english, "final": True}, None)
