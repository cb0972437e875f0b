"""Server-sent events: an incremental parser (any byte boundaries) and the matching writer."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import APIResponseError

__all__ = ["MAX_EVENT_BYTES", "SSEEvent", "SSEParser", "iter_sse", "format_sse"]

# The largest event (all its lines) a stream may send: far above the API's own (a speech event
# carries ~0.1 s of base64 audio, a transcript's done event its whole text) and small enough that
# a server sending one endless line cannot fill the memory.
MAX_EVENT_BYTES = 16 * 1024 * 1024
_LINE_END = re.compile(rb"\r\n|\r|\n")


@dataclass(slots=True)
class SSEEvent:
    data: str
    event: str | None = None
    id: str | None = None

    def json(self) -> Any:
        return json.loads(self.data)


class SSEParser:
    """Feed bytes in any split; get complete events out (WHATWG event-stream rules).

    Linear in what is fed: each byte is searched for a line end once. An event (or a line still
    waiting for its end) over `max_event_bytes` raises APIResponseError."""

    def __init__(self, max_event_bytes: int = MAX_EVENT_BYTES) -> None:
        self._buf = bytearray()
        self._scanned = 0  # bytes of _buf already searched for a line end
        self._data: list[str] = []
        self._data_bytes = 0
        self._event: str | None = None
        self._id: str | None = None
        self._max = max_event_bytes

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        self._buf += chunk
        events = []
        start = 0
        while True:
            match = _LINE_END.search(self._buf, self._scanned)
            if match is None:
                self._scanned = len(self._buf)
                break
            if match.group() == b"\r" and match.end() == len(self._buf):
                self._scanned = match.start()  # a lone trailing \r may still become \r\n
                break
            line = self._buf[start:match.start()].decode("utf-8", errors="replace")
            start = self._scanned = match.end()
            ev = self._line(line)
            if ev is not None:
                events.append(ev)
        if start:
            del self._buf[:start]
            self._scanned -= start
        if len(self._buf) + self._data_bytes > self._max:
            self._too_large()
        return events

    def close(self) -> list[SSEEvent]:
        """Flush at end of stream (a final event without its blank line still counts)."""
        events = []
        if self._buf:
            ev = self._line(self._buf.decode("utf-8", errors="replace"))
            self._buf.clear()
            self._scanned = 0
            if ev is not None:
                events.append(ev)
        ev = self._line("")
        if ev is not None:
            events.append(ev)
        return events

    def _too_large(self) -> None:
        raise APIResponseError(f"the stream sent an event over {self._max // (1024 * 1024)} MB (or a line that "
                               "does not end); nbaudio stops reading it so it cannot fill the memory")

    def _line(self, line: str) -> SSEEvent | None:
        if line == "":
            if not self._data:
                self._event = None
                return None
            ev = SSEEvent(data="\n".join(self._data), event=self._event, id=self._id)
            self._data, self._data_bytes, self._event = [], 0, None
            return ev
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._data_bytes += len(value) + 1
            if self._data_bytes > self._max:
                self._too_large()
        elif name == "event":
            self._event = value
        elif name == "id":
            self._id = value
        return None


def iter_sse(chunks: Iterable[bytes]) -> Iterator[SSEEvent]:
    parser = SSEParser()
    for chunk in chunks:
        yield from parser.feed(chunk)
    yield from parser.close()


def format_sse(data: Any, event: str | None = None) -> bytes:
    """One event; dicts are sent as compact JSON."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    head = f"event: {event}\n" if event else ""
    return (head + "".join(f"data: {line}\n" for line in text.split("\n")) + "\n").encode("utf-8")
