"""Server-sent events: an incremental parser (any byte boundaries) and the matching writer."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["SSEEvent", "SSEParser", "iter_sse", "format_sse"]


@dataclass(slots=True)
class SSEEvent:
    data: str
    event: str | None = None
    id: str | None = None

    def json(self) -> Any:
        return json.loads(self.data)


class SSEParser:
    """Feed bytes in any split; get complete events out (WHATWG event-stream rules)."""

    def __init__(self) -> None:
        self._buf = b""
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        self._buf += chunk
        events = []
        while True:
            # a line ends at \n, \r\n or \r; a lone trailing \r may still become \r\n
            idx_n = self._buf.find(b"\n")
            idx_r = self._buf.find(b"\r")
            if idx_r != -1 and (idx_n == -1 or idx_r < idx_n):
                if idx_r == len(self._buf) - 1:
                    break
                end, skip = idx_r, 2 if self._buf[idx_r + 1 : idx_r + 2] == b"\n" else 1
            elif idx_n != -1:
                end, skip = idx_n, 1
            else:
                break
            line = self._buf[:end].decode("utf-8", errors="replace")
            self._buf = self._buf[end + skip :]
            ev = self._line(line)
            if ev is not None:
                events.append(ev)
        return events

    def close(self) -> list[SSEEvent]:
        """Flush at end of stream (a final event without its blank line still counts)."""
        events = []
        if self._buf:
            ev = self._line(self._buf.decode("utf-8", errors="replace"))
            self._buf = b""
            if ev is not None:
                events.append(ev)
        ev = self._line("")
        if ev is not None:
            events.append(ev)
        return events

    def _line(self, line: str) -> SSEEvent | None:
        if line == "":
            if not self._data:
                self._event = None
                return None
            ev = SSEEvent(data="\n".join(self._data), event=self._event, id=self._id)
            self._data, self._event = [], None
            return ev
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
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
