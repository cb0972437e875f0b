"""Issue 26, hangs and bombs: `timeout=` is a total deadline even while the status line and headers
trickle in; a response is capped in size (gzip inflated included) and a stream in event size, with an
nbaudio error, in bounded memory; an answer that is not HTTP says so instead of "could not reach".

No wall-clock limits: each fault server outlasts the test's own timeout, so a call that does not end
by its deadline fails the test instead of passing late."""

from __future__ import annotations

import json
import resource
import socket
import time
import zlib

import pytest

import nbaudio
from nbaudio._wire.sse import SSEParser
from nbaudio.errors import APIResponseError, APITimeoutError, ResponseTooLargeError
from tests.hostile.canary import CANARY
from tests.support.faults import RawServer, chunk
from tests.support.signals import tone_wav

OUTLAST = 120  # seconds a fault server keeps going: longer than the test may run


def _trickle(head: bytes):
    def script(conn: socket.socket) -> None:
        conn.sendall(head)
        end = time.monotonic() + OUTLAST
        while time.monotonic() < end:
            conn.sendall(b"X")  # one byte of a header that never ends
            time.sleep(0.25)
    return script


@pytest.mark.timeout(60)
@pytest.mark.parametrize("stream", [False, True])
def test_headers_trickling_in_end_at_the_deadline(stream):
    """The audit: one header byte every 0.25 s held a timeout=3 call for 27-36 s, forever if it kept on."""
    server = RawServer(_trickle(b"HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nX-Slow: "))
    try:
        client = nbaudio.Client(server.base_url, api_key=CANARY, timeout=2, max_retries=2)
        with pytest.raises(APITimeoutError, match="status line and headers were still arriving"):
            client.speak("hi", stream=stream)
        assert server.connections == 1  # not retried: the deadline is spent
    finally:
        server.close()


def _gzip_bomb(inflated: int) -> bytes:
    """gzip members of 16 MiB of zeros each, one after another (a valid gzip stream)."""
    member = 16 << 20
    z = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip framing
    one = z.compress(b"\0" * member) + z.flush()
    return one * (inflated // member)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return _gzip_bomb(2 << 30)  # 2 GiB inflated, ~2 MB on the wire


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("path", ["speak", "transcribe", "chat", "speak-stream"])
def test_a_gzip_bomb_is_cut_off_at_the_cap(bomb, path):
    """8 MB on the wire (8 GiB inflated) ended in a raw MemoryError at 3.9 GB RSS; now reading stops
    at the endpoint's cap (lowered here so the test is quick) with ResponseTooLargeError."""
    kind = "text/event-stream" if path == "speak-stream" else "application/json"
    head = (f"HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Encoding: gzip\r\n"
            f"Content-Length: {len(bomb)}\r\n\r\n").encode()
    server = RawServer(lambda conn: conn.sendall(head + bomb))
    before = _max_rss_mb()
    try:
        client = nbaudio.Client(server.base_url, api_key=CANARY, max_response_bytes=8 << 20, max_retries=0)
        with pytest.raises(ResponseTooLargeError, match="once inflated") as err:
            if path == "speak":
                client.speak("hi")
            elif path == "speak-stream":
                client.speak("hi", stream=True, stream_format="sse").collect()
            elif path == "transcribe":
                client.transcribe(tone_wav(0.3), response_format="json")
            else:
                client.chat("hi", modalities=["text"])
        assert "max_response_bytes" in str(err.value)
    finally:
        server.close()
    assert _max_rss_mb() - before < 400  # the 2 GiB never came near the memory


def test_caps_are_per_endpoint_and_the_client_can_change_them():
    from nbaudio._http.transport import MAX_RESPONSE_BYTES

    client = nbaudio.Client("http://127.0.0.1:9/v1", api_key="k")
    assert client.response_cap("/audio/speech") == MAX_RESPONSE_BYTES["/audio/speech"]
    assert client.response_cap("/audio/transcriptions") < client.response_cap("/audio/speech")
    assert nbaudio.Client("http://127.0.0.1:9/v1", max_response_bytes=1000).response_cap("/audio/speech") == 1000
    with pytest.raises(nbaudio.errors.InvalidInputError, match="max_response_bytes"):
        nbaudio.Client("http://127.0.0.1:9/v1", max_response_bytes=0)


def test_a_stream_event_that_never_ends_is_bounded():
    """One 60 MB `data:` line without a newline: 22 s of CPU and unbounded memory before; now an
    APIResponseError once the line passes the event cap."""
    def script(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        conn.sendall(chunk(b'data: {"type": "speech.audio.delta", "audio": "'))
        piece = chunk(b"A" * 65536)
        for _ in range(60 * 16):
            conn.sendall(piece)

    server = RawServer(script)
    try:
        client = nbaudio.Client(server.base_url, api_key=CANARY, max_retries=0)
        stream = client.speak("hi", stream=True, stream_format="sse")
        with pytest.raises(APIResponseError, match="event over 16 MB"):
            stream.collect()
    finally:
        server.close()


def test_sse_parsing_is_linear():
    """Each byte is searched once: feeding a long line piece by piece costs what one pass costs
    (counted in searches, not seconds: the parser's scan position only moves forward)."""
    parser = SSEParser(max_event_bytes=1 << 30)
    for _ in range(1000):
        parser.feed(b"x" * 4096)
    assert parser._scanned == 4096 * 1000  # noqa: SLF001 - the scan position is what makes it linear
    assert parser.feed(b"\n\n") == []  # a line with no field name: no event
    parser = SSEParser()
    events = parser.feed(b"data: a\r\n\r\ndata: b\r\r")  # the last \r may still become \r\n
    assert [e.data for e in events + parser.close()] == ["a", "b"]


@pytest.mark.parametrize(("answer", "said"), [
    (b"garbage garbage\r\n\r\n", "status line that is not HTTP"),
    (b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(150)) + b"\r\n", "more than 100 headers"),
    (b"HTTP/1.1 200 OK\r\nX-Big: " + b"v" * 70000 + b"\r\n\r\n", "over 64 kB"),
])
def test_an_answer_that_is_not_http_says_so(answer, said):
    """It said "could not reach ..." though the server answered."""
    server = RawServer(lambda conn: conn.sendall(answer))
    try:
        client = nbaudio.Client(server.base_url, api_key=CANARY, max_retries=2)
        with pytest.raises(APIResponseError, match=said) as err:
            client.speak("hi")
        assert "could not reach" not in str(err.value)
        assert server.connections == 1  # sending again would get the same
    finally:
        server.close()


def test_json_of_a_capped_error_body():
    """An error body is capped too (a 4xx that never ends in size)."""
    body = json.dumps({"error": {"message": "x" * (2 << 20)}}).encode()
    head = f"HTTP/1.1 400 Bad\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    server = RawServer(lambda conn: conn.sendall(head + body))
    try:
        client = nbaudio.Client(server.base_url, api_key=CANARY, max_retries=0, max_response_bytes=1 << 20)
        with pytest.raises(ResponseTooLargeError):
            client.speak("hi")
    finally:
        server.close()
