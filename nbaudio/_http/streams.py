"""Streaming results: iterators that yield as bytes arrive and end with the assembled result.

Each stream owns one HTTP response. Iterate it for deltas; when it is exhausted `.result`
holds the assembled object (also the generator's StopIteration value). `collect()` drains
it and returns the result. If the connection breaks, stalls past the read timeout, or the
events stop before the stream's own end marker (`[DONE]`, `speech.audio.done`,
`transcript.text.done`), a StreamInterruptedError carries the partial result (`.partial`:
the audio and text that arrived, playable); a stream is never retried.
SSE is parsed only when the response says `text/event-stream` (some servers ignore
`stream_format` and send raw audio). An error event mid-stream raises the APIStatusError its
status / type / code names (see nbaudio._wire.error_bodies.make_stream_error).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

import requests

from .._wire.error_bodies import is_error_event, make_stream_error, ok_body_error
from .._wire.fields import Place, base64_field, parse_json, text_field
from .._wire.sse import SSEParser
from ..audio import AudioClip
from ..chat import ChatReply, ChatStreamAssembler
from ..codec import sniff_format, whole_pcm16
from ..errors import APIResponseError, AudioDecodeError, StreamInterruptedError, connection_reason
from ..transcript import Transcript
from .transport import iter_arrivals

__all__ = ["ChatStream", "SpeechStream", "TranscriptionStream"]

log = logging.getLogger("nbaudio")
T = TypeVar("T")
# Bytes of a body (not SSE) that are shown of it in an error message.
_SNIPPET_CHARS = 80


class _Stream(Generic[T]):
    result: T | None
    kind = "response"  # named in error messages: "the chat stream ..."

    def __init__(self, response: requests.Response, redact: Callable[[str], str], *,
                 stall_after: float | None = None, max_bytes: int | None = None, body: bytes | None = None) -> None:
        self.response = response
        self._max_bytes = max_bytes  # the whole stream's cap (ResponseTooLargeError past it)
        self.request_id = response.headers.get("x-request-id")
        self.result = None
        self._redact = redact
        # Seconds without an event (comments and keep-alives do not count) after which the
        # stream is taken for stalled; None: only the socket's read timeout ends a wait.
        self._stall_after = stall_after
        self._iter: Iterator[Any] | None = None
        self._saw_done_marker = False  # `data: [DONE]`, the chat stream's last event
        # The whole body, when the call was not streamed and it was read already (the response's
        # reader then holds a plain buffer, not the wire): the events are parsed from it.
        self._body = body

    def _interrupted(self, why: str) -> StreamInterruptedError:
        """The error for a stream that stopped early, saying what arrived and where it is."""
        partial = self._partial()
        if partial is None:
            have = "nothing usable arrived before that"
        else:
            have = f"what arrived ({_describe_partial(partial)}) is in the error's .partial"
        return StreamInterruptedError(self._redact(f"the {self.kind} stream {why}; {have}"),
                                      partial=partial, request_id=self.request_id)

    @property
    def is_sse(self) -> bool:
        return "text/event-stream" in self.response.headers.get("content-type", "")

    def _raw_chunks(self) -> Iterator[bytes]:
        if self._body is not None:
            yield self._body
            return
        try:
            # Each piece as it arrives (iter_content would wait to fill a chunk: events late, and a
            # stream of keep-alives never seen to be one).
            yield from iter_arrivals(self.response, max_bytes=self._max_bytes)
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError,
                requests.exceptions.ReadTimeout) as exc:
            if isinstance(exc, requests.exceptions.ReadTimeout) or "timed out" in str(exc).lower():
                why = "stalled: no data arrived within the read timeout"
            else:
                why = f"broke off before it finished ({connection_reason(exc)})"
            raise self._interrupted(why) from None
        finally:
            self.response.close()

    def _events(self) -> Iterator[dict[str, Any]]:
        parser = SSEParser()

        def decode(events, at_end: bool = False):
            for ev in events:
                if ev.data.strip() == "[DONE]":
                    self._saw_done_marker = True
                    return
                try:
                    data = parse_json(ev.data)
                except ValueError:
                    if ev.event == "error":  # `event: error` with a plain-text message
                        raise make_stream_error(self._redact(ev.data), request_id=self.request_id) from None
                    if at_end:  # the connection closed in the middle of an event
                        raise self._interrupted("ended in the middle of an event") from None
                    # Redacted before it is cut short: a cut key would no longer be found.
                    shown = self._redact(ev.data)[:_SNIPPET_CHARS]
                    raise APIResponseError(f"stream event is not JSON: {shown!r}", request_id=self.request_id) from None
                if is_error_event(data, ev.event):
                    raise make_stream_error(self._redact(ev.data), request_id=self.request_id)
                if not isinstance(data, dict):
                    raise Place(f"the {self.kind} stream").at("event").wrong(data, "a JSON object",
                                                                            request_id=self.request_id)
                yield data

        last_event = time.monotonic()
        for chunk in self._raw_chunks():
            events = parser.feed(chunk)
            now = time.monotonic()
            if events:
                last_event = now
            elif self._stall_after is not None and now - last_event > self._stall_after:
                self.response.close()
                raise self._interrupted(f"stalled: no event for {now - last_event:.0f} s, only keep-alive "
                                        f"comments (the timeout is {self._stall_after:g} s)")
            yield from decode(events)
            if self._saw_done_marker:
                return
        # An event without its closing blank line still counts when it is whole (lax servers).
        yield from decode(parser.close(), at_end=True)

    def _partial(self) -> Any:
        return None

    def _check_body(self, body: bytes, expect: str) -> None:
        """A stream the server answered with one body: raise if that body is an error (a 200 error)."""
        err = ok_body_error(body, self.response.headers.get("content-type", ""), expect, self._redact,
                            status=self.response.status_code, request_id=self.request_id)
        if err is not None:
            raise err

    def _generate(self) -> Iterator[Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def __iter__(self):
        if self._iter is None:
            self._iter = self._generate()
        return self._iter

    def __next__(self):
        return next(iter(self))

    def collect(self) -> T:
        """Read the stream to its end and return the assembled result."""
        for _ in self:
            pass
        return self.result  # type: ignore[return-value]

    def close(self) -> None:
        self.response.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _format(self) -> str:
        return ""

    def __repr__(self) -> str:
        state = "done" if self.result is not None else "open"
        fmt = self._format()
        return f"<{type(self).__name__} {fmt + ' ' if fmt else ''}{state}>"


class SpeechStream(_Stream[AudioClip]):
    """Yields audio bytes as they arrive; `.result` is the whole AudioClip."""

    kind = "speech"

    def __init__(self, response, redact, response_format: str, *, stall_after: float | None = None,
                 max_bytes: int | None = None, body: bytes | None = None, cost: Any = None) -> None:
        super().__init__(response, redact, stall_after=stall_after, max_bytes=max_bytes, body=body)
        self.response_format = response_format
        self.usage: dict[str, Any] | None = None
        self.cost = cost  # the clip's (nbaudio.pricing.Cost): known from the model and the text before any byte
        self._buf = bytearray()

    def _partial(self) -> AudioClip | None:
        return self._clip() if self._buf else None

    def _format(self) -> str:
        return self.response_format

    def _clip(self) -> AudioClip:
        data = bytes(self._buf)
        fmt = sniff_format(data, strict=self.response_format == "pcm") or self.response_format
        if fmt == "pcm":
            data = whole_pcm16(data)
        return AudioClip(data, fmt)

    def _generate(self):
        if self.is_sse:
            done = False
            for ev in self._events():
                if ev.get("type") == "speech.audio.delta":
                    piece = base64_field(ev, "audio", Place("a speech.audio.delta event"))
                    self._buf.extend(piece)
                    yield piece
                elif ev.get("type") == "speech.audio.done":
                    self.usage = ev.get("usage") if isinstance(ev.get("usage"), dict) else None
                    done = True
            # Relays that re-frame the stream end it with chat's `data: [DONE]` instead.
            if not done and not self._saw_done_marker:
                raise self._interrupted("ended before speech.audio.done")
        elif _is_talk(self.response):  # a JSON error, a web page or text where audio was due
            body = b"".join(self._raw_chunks())
            if sniff_format(body, strict=self.response_format == "pcm") is None:
                self._check_body(body, "audio")
            self._buf.extend(body)
            yield body
        else:
            for chunk in self._raw_chunks():
                self._buf.extend(chunk)
                yield chunk
        if not self._buf:
            raise APIResponseError("the speech stream ended without audio")
        self.result = self._clip()
        self.result.cost = self.cost
        return self.result


class TranscriptionStream(_Stream[Transcript]):
    """Yields text deltas (str) as they arrive; `.result` is the Transcript. `.events` keeps every event."""

    kind = "transcription"

    def __init__(self, response, redact, response_format: str, audio: AudioClip | None, *,
                 stall_after: float | None = None, max_bytes: int | None = None,
                 on_done: Callable[[Transcript], None] | None = None) -> None:
        super().__init__(response, redact, stall_after=stall_after, max_bytes=max_bytes)
        self.response_format = response_format
        self.audio = audio
        self._on_done = on_done  # sees the whole Transcript (its usage arrives with the last event)
        self.events: list[dict[str, Any]] = []
        self._text: list[str] = []

    def _partial(self) -> Transcript | None:
        return Transcript(text="".join(self._text), audio=self.audio) if self._text else None

    def _format(self) -> str:
        return self.response_format

    def _generate(self):
        if not self.is_sse:  # server ignored stream=true: the whole body is the answer
            body = b"".join(self._raw_chunks())
            self._check_body(body, self.response_format)
            self.result = Transcript.from_response(body, self.response_format)
            self.result.audio = self.audio
            if self._on_done is not None:
                self._on_done(self.result)
            if self.result.text:
                yield self.result.text
            return self.result
        done: dict[str, Any] | None = None
        segments = []
        for ev in self._events():
            self.events.append(ev)
            kind = ev.get("type")
            if kind == "transcript.text.delta":
                delta = text_field(ev, "delta", Place("a transcript.text.delta event")) or ""
                self._text.append(delta)
                yield delta
            elif kind == "transcript.text.segment":
                segments.append(ev)
            elif kind == "transcript.text.done":
                done = ev
        if done is None:
            raise self._interrupted("ended before transcript.text.done")
        text = text_field(done, "text", Place("the transcript.text.done event"))
        body: dict[str, Any] = {"text": text if text is not None else "".join(self._text)}
        for key in ("logprobs", "usage", "language"):
            if done.get(key) is not None:
                body[key] = done[key]
        if segments:
            body["segments"] = segments
        self.result = Transcript.from_dict(body)
        self.result.audio = self.audio
        if self._on_done is not None:
            self._on_done(self.result)
        return self.result


class ChatStream(_Stream[ChatReply]):
    """Yields `{"text", "transcript", "audio"}` deltas (audio as pcm16 bytes); `.result` is the ChatReply."""

    kind = "chat"

    def __init__(self, response, redact, audio_format: str, on_done: Callable[[ChatReply], None] | None = None, *,
                 stall_after: float | None = None, max_bytes: int | None = None) -> None:
        super().__init__(response, redact, stall_after=stall_after, max_bytes=max_bytes)
        self._asm = ChatStreamAssembler(audio_format)
        self._on_done = on_done

    def _partial(self) -> ChatReply | None:
        return self._asm.reply() if self._asm.chunks else None

    def _format(self) -> str:
        return self._asm.audio_format

    def _generate(self):
        if not self.is_sse:
            body = b"".join(self._raw_chunks())
            self._check_body(body, "chat")
            try:
                data = parse_json(body)
            except ValueError:
                raise APIResponseError("chat stream: the server sent neither events nor JSON") from None
            self.result = ChatReply.from_response(data, audio_format=self._asm.audio_format)
            yield {"text": self.result.content or "", "transcript": self.result.transcript or "",
                   "audio": self.result.audio.data if self.result.audio else b""}
        else:
            for chunk in self._events():
                added = self._asm.feed(chunk)
                if added["text"] or added["transcript"] or added["audio"]:
                    yield added
            if self._asm.chunks == 0 and not self._saw_done_marker:
                raise self._interrupted("ended before its first chunk")
            if self._asm.chunks == 0:
                raise APIResponseError("the chat stream ended without any chunk")
            # Without `[DONE]` the reply counts as whole only if its finish_reason arrived (some
            # relays leave out [DONE]); otherwise the connection closed early.
            if not self._saw_done_marker and self._asm.finish_reason is None:
                raise self._interrupted("ended before [DONE]")
            self.result = self._asm.reply()
        if self._on_done is not None:
            self._on_done(self.result)
        return self.result


def _is_talk(response: requests.Response) -> bool:
    """The response says it is JSON or text (HTML, plain), not audio."""
    ctype = response.headers.get("content-type", "").lower()
    return ctype.startswith(("application/json", "text/")) or "html" in ctype


def _describe_audio(clip: AudioClip) -> str:
    try:
        return f"{clip.duration:.2f} s of audio"
    except AudioDecodeError:  # e.g. a WAV or MP3 cut mid-frame: still bytes the caller may want
        return f"{clip.nbytes} bytes of {clip.format} audio"


def _describe_partial(partial: Any) -> str:
    if isinstance(partial, AudioClip):
        return _describe_audio(partial)
    if isinstance(partial, Transcript):
        return f"{len(partial.text)} characters of text"
    bits = []
    if partial.audio is not None:
        bits.append(_describe_audio(partial.audio))
    if partial.text:
        bits.append(f"{len(partial.text)} characters of text")
    return ", ".join(bits) or "no audio or text yet"

