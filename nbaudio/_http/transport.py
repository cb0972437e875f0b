"""How requests travel: the requests Session, the retry policy, and reading bodies under a
total deadline (the key and its redaction: nbaudio._redaction).

Deadlines: `requests`' timeouts bound each socket operation, not a whole response: a body that
trickles a few bytes at a time never trips them, and `iter_content` waits to fill each chunk.
Here every read returns what one socket read delivered (`read1`), so the caller sees each
arrival, and before each read the socket's timeout is cut to the time left, so a deadline ends
the wait.
"""

from __future__ import annotations

import contextlib
import contextvars
import email.utils
import functools
import heapq
import io
import itertools
import os
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
import requests.adapters
import urllib3
import urllib3.connection
import urllib3.exceptions

from .._wire.hosts import is_loopback_host
from ..errors import APIStatusError, InvalidInputError, ResponseTooLargeError
from ..version import __version__

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "INITIAL_RETRY_DELAY",
    "MAX_RETRY_AFTER",
    "MAX_RETRY_DELAY",
    "MIN_WAIT",
    "NOT_RETRIED_CODES",
    "RETRY_JITTER",
    "RETRY_STATUSES",
    "USER_AGENT",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "MAX_RESPONSE_BYTES",
    "Deadline",
    "DeadlineExceeded",
    "headers_before",
    "max_response_bytes",
        "ca_bundle",
    "environment_proxies",
    "iter_arrivals",
    "new_session",
    "normalize_base_url",
    "read_body",
    "retry_after",
    "retry_delay",
    "should_retry",
]

# Seconds a request may take in all (connect, send, wait, read the whole body, retries and the
# waits between them; for a stream: until it starts, then the longest silence): long
# transcriptions take a while. See nbaudio.Client's docstring.
DEFAULT_TIMEOUT = 600.0
DEFAULT_CONNECT_TIMEOUT = 10.0  # at most this for connecting, whatever the timeout
DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY = 0.5  # seconds, doubled each retry
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0  # a server's Retry-After above this is not waited for; our own backoff is used
RETRY_JITTER = 0.25  # up to 25% shorter, so clients that failed together do not retry together
RETRY_STATUSES = frozenset({408, 409, 429})  # plus every 5xx
# Out of credit: waiting does not bring it back, so these are never retried whatever the status.
NOT_RETRIED_CODES = frozenset({"insufficient_quota", "insufficient_user_quota", "pre_consume_token_quota_failed"})
USER_AGENT = f"nbaudio/{__version__}"
READ_BYTES = 65536  # at most this much per read; a read returns whatever one arrival brought
MIN_WAIT = 0.05  # seconds: a socket timeout of 0 would mean "non-blocking", not "none left"
_MIB = 1024 * 1024
# What a response may decode to (gzip inflated), per endpoint: far above what the API sends (4096
# characters spoken at speed 0.25 are ~18 min, 52 MB of 24 kHz WAV; a 25 MB upload's verbose_json with
# words a few MB; a chat reply's base64 audio tens of MB) and far below what would exhaust a notebook's
# memory (a gzip bomb inflates 1000:1). Client(max_response_bytes=) sets them all.
MAX_RESPONSE_BYTES = {"/audio/speech": 128 * _MIB, "/audio/transcriptions": 64 * _MIB,
                      "/audio/translations": 64 * _MIB, "/chat/completions": 128 * _MIB}
DEFAULT_MAX_RESPONSE_BYTES = 64 * _MIB  # any other path
_ENDPOINTS = ("/chat/completions", "/audio/speech", "/audio/transcriptions", "/audio/translations")


# ---- where requests go ------------------------------------------------------------------------


def normalize_base_url(url: str) -> str:
    """`https://host`, `https://host/`, `https://host/v1/` -> `https://host/v1`."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInputError("base_url must be a non-empty URL such as 'https://api.openai.com/v1'",
                                param="base_url")
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInputError(
            f"base_url {url!r} is not an http(s) URL; write it like 'https://api.example.com/v1'", param="base_url"
        )
    if parts.query or parts.fragment:
        raise InvalidInputError(f"base_url must not carry a query or fragment: {url!r}", param="base_url")
    path = parts.path.rstrip("/")
    for suffix in _ENDPOINTS:
        if path.endswith(suffix):
            raise InvalidInputError(
                f"base_url should be the API root, not an endpoint: use {url[: url.rfind(suffix)]!r}", param="base_url"
            )
    if not re.search(r"/v\d+$", path):
        path += "/v1"
    return f"{parts.scheme}://{parts.netloc}{path}"


def max_response_bytes(path: str) -> int:
    """The default cap on a response's decoded size for an endpoint path (below the API root)."""
    return MAX_RESPONSE_BYTES.get(path, DEFAULT_MAX_RESPONSE_BYTES)


def new_session(headers: Mapping[str, str]) -> requests.Session:
    """A Session that sends `headers` (already checked) and does not read the environment itself:
    proxies and the CA bundle are read once, by the client (`environment_proxies`, `ca_bundle`),
    which is faster and keeps a ~/.netrc entry from replacing our Bearer header with Basic auth.
    Its connections honour `headers_before` (a deadline for the status line and headers)."""
    session = requests.Session()
    session.trust_env = False
    for scheme in ("http://", "https://"):
        session.mount(scheme, _DeadlineAdapter())
    session.headers["User-Agent"] = USER_AGENT
    session.headers.update(headers)
    return session


def environment_proxies(base_url: str) -> dict[str, str]:
    """The proxies requests would use for `base_url`; none for loopback (the engine, test servers)."""
    if is_loopback_host(urlsplit(base_url).hostname or ""):
        return {}
    return requests.utils.get_environ_proxies(base_url)


def ca_bundle() -> str | None:
    """The CA bundle the environment names (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE), as requests reads it."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None


# ---- a deadline for the status line and headers -----------------------------------------------
# requests' read timeout bounds each socket read: a server sending its headers one byte at a time
# never trips it. Here a timer cuts the socket off when the deadline passes while the status line
# and headers are still arriving; the caller sees a connection error with its deadline expired.

_HEADERS_DEADLINE: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("nbaudio_headers_deadline",
                                                                                     default=None)


@contextlib.contextmanager
def headers_before(deadline: Deadline) -> Iterator[None]:
    """Within this block, a response's status line and headers must all arrive before `deadline`."""
    token = _HEADERS_DEADLINE.set(deadline)
    try:
        yield
    finally:
        _HEADERS_DEADLINE.reset(token)


class _Watchdog:
    """One thread for every request's header deadline (a thread per request cost ~0.2 ms a call): at
    a deadline it runs the cut registered for it, unless the request got its headers and cancelled
    it first. The thread starts with the first request."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[list[Any]] = []  # [when, seq, cut or None (cancelled)]
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._cancelled = 0  # cancelled entries still in the heap

    def watch(self, seconds: float, cut: Callable[[], None]) -> list[Any]:
        entry = [time.monotonic() + seconds, next(self._seq), cut]
        with self._cond:
            heapq.heappush(self._heap, entry)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="nbaudio-header-deadlines", daemon=True)
                self._thread.start()
            if self._heap[0] is entry:
                self._cond.notify()
        return entry

    def cancel(self, entry: list[Any]) -> None:
        entry[2] = None  # dropped from the heap when it reaches the top
        self._cancelled += 1
        if self._cancelled > 1024 and 2 * self._cancelled > len(self._heap):  # a long batch: keep the heap small
            with self._cond:
                self._heap = [e for e in self._heap if e[2] is not None]
                heapq.heapify(self._heap)
                self._cancelled = 0

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][2] is None:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(min(wait, 1.0))  # wakes to drop cancelled entries from the top
                    continue
                cut = heapq.heappop(self._heap)[2]
                if cut is not None:
                    cut()


_WATCHDOG = _Watchdog()


class _HeadersDeadline:
    """For urllib3 connections: `getresponse` (which reads the status line and headers) is cut off
    at the deadline `headers_before` set in this thread."""

    sock: socket.socket | None

    def getresponse(self, *args, **kwargs):
        deadline = _HEADERS_DEADLINE.get()
        if deadline is None:
            return super().getresponse(*args, **kwargs)
        cut_off = threading.Event()
        entry = _WATCHDOG.watch(deadline.remaining(), functools.partial(self._cut_off, cut_off))
        try:
            response = super().getresponse(*args, **kwargs)
        except Exception:
            if cut_off.is_set():
                raise DeadlineExceeded(0, reading="headers") from None
            raise
        finally:
            _WATCHDOG.cancel(entry)
        if cut_off.is_set():  # what came before the cut parsed as a (short) head: not an answer
            response.close()
            raise DeadlineExceeded(0, reading="headers")
        return response

    def _cut_off(self, cut_off: threading.Event) -> None:
        cut_off.set()
        sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # the blocked read returns: the server "closed"


class _Connection(_HeadersDeadline, urllib3.connection.HTTPConnection):
    pass


class _TLSConnection(_HeadersDeadline, urllib3.connection.HTTPSConnection):
    pass


class _Pool(urllib3.HTTPConnectionPool):
    ConnectionCls = _Connection


class _TLSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _TLSConnection


_POOLS = {"http": _Pool, "https": _TLSPool}


class _DeadlineAdapter(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy, **kwargs):
        manager = super().proxy_manager_for(proxy, **kwargs)
        if type(manager) is urllib3.ProxyManager:  # an HTTP(S) proxy; SOCKS keeps its own pools
            manager.pool_classes_by_scheme = _POOLS
        return manager


# ---- retries ----------------------------------------------------------------------------------


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked us to wait (retry-after-ms, Retry-After seconds or HTTP date)."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    ra = headers.get("retry-after")
    if not ra:
        return None
    try:
        return float(ra)
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(ra).timestamp() - time.time()
    except (TypeError, ValueError):
        return None  # neither seconds nor an HTTP date: fall back to our own backoff


def retry_delay(attempt: int, headers: Mapping[str, str] | None) -> float:
    """Seconds to wait before retry number `attempt + 1`: what the server asked (up to
    MAX_RETRY_AFTER), else exponential backoff with jitter."""
    asked = retry_after(headers) if headers is not None else None
    if asked is not None and 0 <= asked <= MAX_RETRY_AFTER:
        return asked
    delay = min(INITIAL_RETRY_DELAY * (2**attempt), MAX_RETRY_DELAY)
    return delay * (1 - RETRY_JITTER * random.random())


def should_retry(err: APIStatusError, headers: Mapping[str, str]) -> bool:
    """Whether an error answer is worth sending again (the server's x-should-retry decides first)."""
    flag = headers.get("x-should-retry")
    if flag in ("true", "false"):
        return flag == "true"
    if err.code in NOT_RETRIED_CODES:  # out of credit: waiting does not help
        return False
    # err.status_code, not the HTTP status: a relay's 500 that wraps a 400 is not worth resending.
    return err.status_code in RETRY_STATUSES or err.status_code >= 500


# ---- the total deadline -----------------------------------------------------------------------


class DeadlineExceeded(Exception):
    """The deadline passed while the answer was still arriving: its "headers" (status line and
    headers) or its "body" (`received` bytes of it had come)."""

    def __init__(self, received: int, reading: str = "body") -> None:
        super().__init__(received, reading)
        self.received = received
        self.reading = reading


class Deadline:
    """A point in time `seconds` from now."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def __repr__(self) -> str:
        return f"<Deadline {self.remaining():.1f} s left of {self.seconds:g} s>"


def _limit_socket_wait(response: requests.Response, seconds: float) -> None:
    # urllib3 exposes the connection a response is read from; its socket's timeout is what one
    # read may wait. Without a connection (already released), there is nothing left to wait for.
    conn = getattr(response.raw, "connection", None)
    sock = getattr(conn, "sock", None)
    if sock is not None:
        sock.settimeout(max(MIN_WAIT, seconds))


def iter_arrivals(response: requests.Response, *, deadline: Deadline | None = None,
                  read_timeout: float | None = None, max_bytes: int | None = None) -> Iterator[bytes]:
    """The body's bytes, one piece per arrival, decoded (gzip...) and de-chunked.

    Raises what `iter_content` would (ChunkedEncodingError, ConnectionError, ReadTimeout, ...),
    DeadlineExceeded when `deadline` passes first, and ResponseTooLargeError (the connection
    closed) once the decoded body passes `max_bytes`. urllib3 (>= 2.6) inflates at most the
    amount asked for per read, so a gzip bomb is cut off with at most READ_BYTES more held.
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
        if max_bytes is not None and received > max_bytes:
            response.close()
            raise _too_large(response, max_bytes)
        yield piece


def _too_large(response: requests.Response, max_bytes: int) -> ResponseTooLargeError:
    where = urlsplit(response.url or "").path or "the server"
    inflated = " once inflated" if response.headers.get("content-encoding") else ""
    return ResponseTooLargeError(
        f"the answer from {where} passed {max_bytes / _MIB:g} MB{inflated} and was cut off there; nbaudio "
        "stops reading so a broken or hostile server cannot fill the memory", max_bytes=max_bytes,
    ).with_hint("if answers this large are expected, pass Client(max_response_bytes=...) a larger size")


def read_body(response: requests.Response, deadline: Deadline, read_timeout: float | None = None,
              max_bytes: int | None = None) -> bytes:
    """Read the whole body before `deadline` (else DeadlineExceeded) and within `max_bytes` (else
    ResponseTooLargeError); `response.content` then has it."""
    try:
        body = b"".join(iter_arrivals(response, deadline=deadline, read_timeout=read_timeout, max_bytes=max_bytes))
    except BaseException:
        response.close()
        raise
    response.raw.release_conn()  # read to its end: the connection can serve the next request
    # requests reads `.content` / `.text` / `.json()` from `raw`; a buffer of what arrived
    # serves them (and iter_content, for SSE parsed from a whole body) as if it were the wire.
    response.raw = io.BytesIO(body)
    _ = response.content
    return body
