"""The SSE parser against the event-stream format as the WHATWG HTML standard writes it (section
"Server-sent events", the parsing rules and the worked examples there), not against nbaudio's own
writer."""

from __future__ import annotations

import pytest

from nbaudio._wire.sse import SSEParser


def _events(stream: bytes, *, split: int | None = None) -> list[tuple[str, str | None, str | None]]:
    parser = SSEParser()
    pieces = [stream] if split is None else [stream[i:i + split] for i in range(0, len(stream), split)]
    return [(e.data, e.event, e.id) for piece in pieces for e in parser.feed(piece)]


@pytest.mark.parametrize("split", [None, 1, 3])
def test_the_standards_examples(split):
    # "data: YHOO / data: +2 / data: 10": one event, its data lines joined by newlines.
    assert _events(b"data: YHOO\ndata: +2\ndata: 10\n\n", split=split) == [("YHOO\n+2\n10", None, None)]
    # A comment, an id, "data:" without a space, an id field with no value, two spaces kept as one.
    stream = b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n"
    assert _events(stream + b"\n", split=split) == [("first event", None, "1"), ("second event", None, ""),
                                                    (" third event", None, "")]
    # "data" alone is a field with an empty value: an empty event; two of them, one newline; a last
    # block without its blank line is not an event (yet).
    assert _events(b"data\n\ndata\ndata\n\ndata:", split=split) == [("", None, None), ("\n", None, None)]
    # "data:test" and "data: test" are the same; the first space only is dropped.
    assert _events(b"data:test\n\ndata: test\n\n", split=split) == [("test", None, None), ("test", None, None)]


def test_line_ends_and_event_types():
    # CRLF, LF and CR all end a line; `event` names the next event only; a field name without a value.
    stream = b"event: add\r\ndata: 1\r\n\r\ndata: 2\r\rretry: 10\nunknown: x\ndata: 3\n\n"
    assert _events(stream) == [("1", "add", None), ("2", None, None), ("3", None, None)]


def test_a_blank_line_with_no_data_dispatches_nothing_and_clears_the_type():
    assert _events(b"event: ping\n\ndata: x\n\n") == [("x", None, None)]
