"""Reading response bodies as bytes arrive, under a deadline.

`requests`' timeouts bound each socket operation, not a whole response: a body that trickles a
few bytes at a time never trips them, and `iter_content` waits to fill each chunk. Here every
read returns what one socket read delivered (`read1`), so the caller sees each arrival, and
before each read the socket's timeout is cut to the time left, so a deadline ends the wait.
"""

from __future__ import annotations

import io
import time
from typing import Iterator

import requests
import urllib3.exceptions

__all__ = ["Deadline", "DeadlineExceeded", "iter_arrivals", "read_body"]

READ_BYTES = 65536  # at most this much per read; a read returns whatever one arrival brought
MIN_WAIT = 0.05  # seconds: a socket timeout of 0 would mean "non-blocking", not "none left"


class DeadlineExceeded(Exception):
    """The deadline passed while the body was still arriving (`received` bytes had come)."""

    def __init__(self, received: int) -> None:
        super().__init__(received)
        self.received = received


class Deadline:
    """A point in time `seconds` from now."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def expired(self) -> bool:
        return self.remaining() <= 0.0


def _limit_socket_wait(response: requests.Response, seconds: float) -> None:
    # urllib3 exposes the connection a response is read from; its socket's timeout is what one
    # read may wait. Without a connection (already released), there is nothing left to wait for.
    conn = getattr(response.raw, "connection", None)
    sock = getattr(conn, "sock", None)
    if sock is not None:
        sock.settimeout(max(MIN_WAIT, seconds))


def iter_arrivals(response: requests.Response, *, deadline: Deadline | None = None,
                  read_timeout: float | None = None) -> Iterator[bytes]:
    """The body's bytes, one piece per arrival, decoded (gzip...) and de-chunked.

    Raises what `iter_content` would (ChunkedEncodingError, ConnectionError, ReadTimeout, ...),
    and DeadlineExceeded when `deadline` passes first.
    """
    raw = response.raw
    received = 0
    while True:
        if deadline is not None:
            left = deadline.remaining()
            if left <= 0:
                raise DeadlineExceeded(received)
            _limit_socket_wait(response, min(left, read_timeout) if read_timeout else left)
        try:
            piece = raw.read1(READ_BYTES, decode_content=True)
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as exc:
            if deadline is not None and deadline.expired():
                raise DeadlineExceeded(received) from None
            raise requests.exceptions.ReadTimeout(exc) from None
        except urllib3.exceptions.SSLError as exc:
            raise requests.exceptions.SSLError(exc) from None
        except urllib3.exceptions.DecodeError as exc:
            raise requests.exceptions.ContentDecodingError(exc) from None
        except (urllib3.exceptions.ProtocolError, OSError) as exc:
            if getattr(raw, "chunked", False) and "IncompleteRead" in repr(exc):
                # http.client's words for a chunked body whose closing chunk never came: the
                # connection closed mid-response (what urllib3's own chunk reader says).
                exc = urllib3.exceptions.ProtocolError("Response ended prematurely")
            raise requests.exceptions.ChunkedEncodingError(exc) from None
        if not piece:
            return
        received += len(piece)
        yield piece


def read_body(response: requests.Response, deadline: Deadline, read_timeout: float | None = None) -> bytes:
    """Read the whole body before `deadline` (else DeadlineExceeded); `response.content` then has it."""
    try:
        body = b"".join(iter_arrivals(response, deadline=deadline, read_timeout=read_timeout))
    except BaseException:
        response.close()
        raise
    response.raw.release_conn()  # read to its end: the connection can serve the next request
    # requests reads `.content` / `.text` / `.json()` from `raw`; a buffer of what arrived
    # serves them (and iter_content, for SSE parsed from a whole body) as if it were the wire.
    response.raw = io.BytesIO(body)
    _ = response.content
    return body
