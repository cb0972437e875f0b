"""The kernel's side of live captions: one Realtime transcription session (`intent=transcription`)
on a thread of its own, between the page (microphone audio as widget messages) and the server.

As for a live conversation (live_bridge.py), the comm handler only posts what the page sent into
this thread's event loop, so captions keep coming whatever the kernel's main thread does. What
reaches the page are small messages made here: a turn's words so far (provisional, as the server
finds them stable) and its final line (the completed transcript or, with `translate`, its English
translation by the client's `/v1/audio/translations`, made on a worker thread so the captions of
the next turn are not held up). At the end the turns become one `Transcript` of the whole
recording: a segment per turn at its place in the recording, with the server's word times when it
gives them (the engine does; OpenAI's events have none, so its segments are the turns alone).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._wire.realtime import BYTES_PER_MS, SAMPLE_RATE
from ..client import Client
from ..errors import APIResponseError, NbAudioError, RealtimeClosedError, RealtimeServerError
from ..realtime import AsyncRealtimeSession, RealtimeEvent, aconnect
from ..realtime.record import pcm_clip
from ..transcript import Transcript
from .page_audio import PageResampler

__all__ = ["CaptionsBridge", "CaptionsEnd", "captions_transcript"]

ACK_INTERVAL = 0.25
STOP_GRACE_S = 15.0  # after Stop, how long the last turns' transcripts (and translations) may take
EVENT_TIMEOUT_S = 24 * 3600.0
Send = Callable[[dict[str, Any], list[bytes] | None], None]


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


class CaptionsBridge:
    """Runs one transcription session for a Captions widget. Thread-safe entry points: `audio()`,
    `stop()`; `send(message, buffers)` goes to the page and `on_end(CaptionsEnd)` is called once,
    on the bridge's thread, when the session is over."""

    def __init__(self, *, client: Client, session: dict[str, Any], input_rate: int, max_seconds: float,
                 translate: bool, send: Send, on_end: Callable[[CaptionsEnd], None]) -> None:
        self._client, self._session = client, session
        self._max_seconds, self._translate = max_seconds, translate
        self._send, self._on_end = send, on_end
        self._loop = asyncio.new_event_loop()
        self._commands: asyncio.Queue[tuple[Any, ...]] | None = None
        self._thread = threading.Thread(target=self._run, name="nbaudio-captions", daemon=True)
        self._resampler = PageResampler(int(input_rate))
        self._pcm = bytearray()  # everything sent, pcm16 at 24 kHz: the transcript's clip
        self._lines: dict[str, CaptionLine] = {}
        self._last_end = 0.0  # where the last turn ended (s): a turn cut by the server starts there
        self._translations: set[asyncio.Future] = set()
        self._started = time.monotonic()
        self.acked = -1
        self._audio_wait_ms = 0.0

    # ---- from the kernel's main thread --------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def _post(self, *command: Any) -> None:
        if not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._put, command)
            except RuntimeError:  # the loop closed in between: the session is over
                pass

    def _put(self, command: tuple[Any, ...]) -> None:
        if self._commands is not None:
            self._commands.put_nowait(command)

    def audio(self, seq: int, pcm: bytes, sent_at: float | None = None) -> None:
        """A piece of microphone audio: pcm16 at the page's rate (`sent_at`: the page's clock when it
        sent it, ms since the epoch)."""
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
        rt = None
        reason, error = "error", None
        try:
            rt = await aconnect(client=self._client, session=self._session, timeout=EVENT_TIMEOUT_S,
                                intent="transcription")
            self._send({"type": "ready", "text": f"connected to {rt.url.partition('?')[0]}: speak, the words "
                                                 "appear as they are recognised"}, None)
            reason, error = await self._caption(rt)
        except NbAudioError as exc:
            error = exc
        finally:
            if rt is not None:
                await rt.close()
            self._finish(reason, error)

    async def _caption(self, rt: AsyncRealtimeSession) -> tuple[str, NbAudioError | None]:
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

    async def _wind_down(self, rt: AsyncRealtimeSession, reader: asyncio.Task) -> None:
        """Commit what was being said when Stop came, then give the last transcripts and translations
        STOP_GRACE_S to arrive."""
        try:
            await rt.commit()  # refused (an error event, dropped by _read) when no speech is under way
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

    async def _acks(self) -> None:
        last = None
        while True:
            await asyncio.sleep(ACK_INTERVAL)
            if self.acked != last:
                last = self.acked
                self._send({"type": "ack", "seq": last}, None)

    async def _obey(self, rt: AsyncRealtimeSession) -> str:
        assert self._commands is not None
        while True:
            command = await self._commands.get()
            if command[0] == "stop":
                return command[1]
            pcm = self._resampler.pcm16(command[1])
            self._pcm += pcm
            try:
                if pcm:  # a streaming resampler may hold a short piece back whole
                    await rt.send_audio(pcm, sample_rate=SAMPLE_RATE)
            except NbAudioError as exc:
                if isinstance(exc, RealtimeClosedError):
                    raise
                self._send({"type": "error", "text": str(exc)}, None)
            if command[2] is not None:
                self._audio_wait_ms = time.time() * 1000 - command[2]

    def _hop(self) -> dict[str, float]:
        """Where a line stands on its way (the benchmark's breakdown of the caption lag): the kernel's
        clock (ms since the epoch), seconds of audio sent to the server, and ms the latest piece of
        audio took from the page sending it to the kernel sending it on."""
        return {"at": round(time.time() * 1000, 1), "sent": round(len(self._pcm) / (1000 * BYTES_PER_MS), 3),
                "wait": round(self._audio_wait_ms, 1)}

    async def _read(self, rt: AsyncRealtimeSession) -> None:
        while True:  # an error event, or a malformed one, is told to the page; the session goes on
            try:
                async for event in rt.events():
                    self._take(event)
            except RealtimeServerError as exc:
                if exc.code != "input_audio_buffer_commit_empty":  # Stop's commit with nothing left: fine
                    self._send({"type": "error", "text": f"the server said: {exc}"}, None)
            except APIResponseError as exc:
                self._send({"type": "error", "text": str(exc)}, None)

    def _line(self, item_id: str) -> CaptionLine:
        if item_id not in self._lines:
            self._lines[item_id] = CaptionLine(item_id, start=self._last_end)
        return self._lines[item_id]

    def _take(self, event: RealtimeEvent) -> None:
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
