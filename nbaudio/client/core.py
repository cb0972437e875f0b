"""The client's core: its settings, its HTTP session, and the request loop (retries within one
deadline, error answers as the right exception). The endpoints build on it (speech.py,
transcriptions.py, chat_completions.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Self
from urllib.parse import urlsplit

import requests

from .. import relay
from .._http.transport import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    MIN_WAIT,
    Deadline,
    DeadlineExceeded,
    ca_bundle,
    environment_proxies,
    headers_before,
    max_response_bytes,
    new_session,
    normalize_base_url,
    read_body,
    retry_delay,
    should_retry,
)
from .._http.validation import (
    CallDefaults,
    NearMisses,
    check_api_key,
    check_default_headers,
    check_max_response_bytes,
    check_max_retries,
    check_timeout,
    json_ready,
)
from .._redaction import Secret, redact
from .._wire.error_bodies import make_status_error, ok_body_error
from .._wire.fields import parse_json
from .._wire.hosts import is_loopback_host
from .._wire.spec import ENGINE_HEADER
from ..backend import resolve_backend
from ..errors import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    InvalidInputError,
    NotFoundError,
    connection_reason,
    malformed_answer,
)
from ..pricing import Prices

__all__ = ["METHOD_PARAMS", "BaseClient", "check_ok_body", "resolve_timeout", "response_json"]

log = logging.getLogger("nbaudio")

# The arguments `defaults=` may set, per method.
METHOD_PARAMS: dict[str, frozenset[str]] = {
    "speak": frozenset({"voice", "model", "response_format", "speed", "instructions", "stream_format"}),
    "transcribe": frozenset({"model", "response_format", "timestamp_granularities", "language", "prompt",
                             "temperature", "include", "chunking_strategy", "channels"}),
    "translate": frozenset({"model", "response_format", "prompt", "temperature"}),
    "chat": frozenset({"model", "voice", "audio_format", "modalities"}),
}


def resolve_timeout(timeout: Any, default: tuple[float, float]) -> tuple[float, float]:
    """(connect, total) seconds for a call's `timeout=` (None: the client's `default`)."""
    return check_timeout(timeout) if timeout is not None else default


class BaseClient:
    """Settings, session and request loop of nbaudio.Client (see its docstring)."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        defaults: Mapping[str, Any] | None = None,
        max_response_bytes: int | None = None,
        prices: Prices | Mapping[str, Any] | None = None,
    ) -> None:
        self.timeout = check_timeout(timeout)
        # None: each endpoint's own cap (nbaudio._http.transport.MAX_RESPONSE_BYTES).
        self.max_response_bytes = check_max_response_bytes(max_response_bytes)
        self.max_retries = check_max_retries(max_retries)
        # What calls cost (nbaudio.pricing): None is OpenAI's published table, or free on the local engine.
        self.prices = Prices.of(prices)
        backend = resolve_backend(base_url, api_key)
        self._api_key = Secret(check_api_key(backend.api_key))
        # None means: the embedded engine, started on the first request (or open()).
        self._base_url: str | None = normalize_base_url(backend.base_url) if backend.base_url is not None else None
        self._url_source, self._key_source = backend.url_source, backend.key_source  # for the errors' next steps
        self.defaults = CallDefaults({} if defaults is None else defaults, METHOD_PARAMS)
        self.near_misses = NearMisses()  # unknown arguments that look like typos, each warned about once
        self.relay_state = relay.RelayState()  # what this client learnt about its server (nbaudio.relay)
        self._session = new_session(check_default_headers(default_headers))
        self._transport_ready = False
        self._closed = False
        self._lock = threading.Lock()
        self._embedded = False  # its URL (and key) came from the embedded engine it started

    # ---- what it talks to -----------------------------------------------------------------
    @property
    def api_key(self) -> Secret:
        """The key this client sends, as a Secret (its repr never shows it; `.get()` does)."""
        return self._api_key

    @property
    def base_url(self) -> str | None:
        """The API root requests go to. None while this client's embedded engine has not been
        started: that happens on the first request, or when you call open(). Reading it starts
        nothing."""
        return self._base_url

    @property
    def proxies(self) -> dict[str, str]:
        """The proxies requests go through, read from the environment once, by open() (which the
        first request calls); hosts on loopback (the engine, test servers) never use one."""
        return dict(self._session.proxies)

    def open(self) -> str:
        """Get ready to send and return the API root: start the embedded engine when this client
        uses it and it is not running, and read proxies and the CA bundle from the environment
        (once). Every request calls it; call it yourself to start the engine (its model loads)
        at a moment of your choosing."""
        if self._closed:
            raise InvalidInputError("this Client is closed; create a new one")
        if self._base_url is None:
            from .. import local  # the engine launcher loads only when no remote API is configured

            with self._lock:
                if self._base_url is None:
                    url, key = local.default_connection()
                    if key is not None:  # the shared engine's per-user key (redacted like any other)
                        self._api_key = Secret(key)
                    self._base_url = url
                    self._embedded = True
        if not self._transport_ready:
            self._session.proxies = environment_proxies(self._base_url)
            bundle = ca_bundle()
            if bundle:
                self._session.verify = bundle
            self._transport_ready = True
        return self._base_url

    def price_table(self, resp: requests.Response | None = None) -> Prices:
        """The prices of this client's calls: free on the local engine (this client started it, or
        `resp` came over loopback with the engine's header), else `prices`, else OpenAI's table."""
        if self._embedded or (resp is not None and resp.headers.get(ENGINE_HEADER)
                              and is_loopback_host(urlsplit(self._base_url or "").hostname or "")):
            return Prices.engine()
        return self.prices if self.prices is not None else Prices.openai()

    def response_cap(self, path: str) -> int:
        """Bytes an answer from `path` may decode to before reading stops (ResponseTooLargeError)."""
        return self.max_response_bytes or max_response_bytes(path)

    def redact(self, text: str) -> str:
        """`text` with the API key (and every key this process holds, and any long piece of one)
        replaced by ***."""
        return redact(text, self._api_key.get())

    def close(self) -> None:
        self._session.close()
        self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._embedded and self._base_url:
            # Started: its local address, and the key the engine made for this user (not one of yours).
            key = "engine's own" if self._api_key else "none"
            return f"<nbaudio.Client embedded engine at {self._base_url} api_key={key}>"
        where = self._base_url or "embedded engine (starts on first use)"
        return f"<nbaudio.Client {where} api_key={'set' if self._api_key else 'none'}>"

    # ---- the request loop -----------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        key = self._api_key.get()
        return {"Authorization": f"Bearer {key}"} if key else {}

    def post(self, path: str, *, json_body: dict | None = None, form: list | None = None,
             files: dict | None = None, stream: bool = False, timeout: Any = None) -> requests.Response:
        """POST `path` (below the API root) with retries, all within one deadline (see the
        Client docstring); an error answer raises the APIStatusError subclass its status names.

        Returns a response with status < 400: its body read when not `stream`, unread when `stream`."""
        connect, total = resolve_timeout(timeout, self.timeout)
        if json_body is not None:
            json_body = json_ready(json_body)  # numpy numbers as Python's; NaN refused: before anything is sent
        url = self.open() + path
        deadline = Deadline(total)
        last_error: Exception | None = None
        revived = False
        attempt = -1
        while attempt < self.max_retries:
            attempt += 1
            if attempt:
                headers = getattr(last_error, "headers", None)
                delay = retry_delay(attempt - 1, headers)
                if delay >= deadline.remaining():
                    log.info("not retrying %s: waiting %.2fs would pass the %gs timeout", path, delay, total)
                    break
                log.info("retrying %s in %.2fs (attempt %d of %d): %s", path, delay, attempt + 1,
                         self.max_retries + 1, last_error)
                time.sleep(delay)
            started = time.monotonic()
            left = max(MIN_WAIT, deadline.remaining())
            try:
                with headers_before(deadline):  # a server trickling its headers is cut off too
                    resp = self._session.post(url, json=json_body, data=form, files=files, headers=self._headers(),
                                              timeout=(min(connect, left), left), stream=True)
                if not stream or resp.status_code >= 400:
                    # Read now, as it arrives and before the deadline: a body cut short counts as a
                    # connection failure (retried), one still trickling in at the deadline as a timeout.
                    read_body(resp, deadline, max_bytes=self.response_cap(path))
            except DeadlineExceeded as exc:
                arriving = ("the status line and headers were still arriving" if exc.reading == "headers"
                            else f"the body was still arriving: {exc.received} bytes so far")
                raise APITimeoutError(f"POST {path}: no complete answer within the {total:g}s timeout ({arriving}); "
                                      "pass a larger timeout= if the server is slow") from None
            except requests.exceptions.Timeout as exc:
                last_error = APITimeoutError(
                    self.redact(f"request to {path} timed out after {total:g}s: {type(exc).__name__}"))
                if deadline.expired():
                    break
                continue
            except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                last_error, refused = self._connection_error(exc, path)
                if self._url_source == "none" and refused and not revived:
                    # The embedded engine stopped (a shared one stops when idle): start it again and
                    # send this request there, once, without spending a retry on it.
                    revived = True
                    self._base_url = None
                    url = self.open() + path
                    attempt -= 1
                continue
            except requests.exceptions.RequestException as exc:
                raise APIConnectionError(self.redact(f"request to {path} failed: {exc}")) from None
            log.debug("POST %s -> %d in %.3fs", path, resp.status_code, time.monotonic() - started)
            if resp.status_code < 400:
                return resp
            err = self._status_error(resp, path)
            if not should_retry(err, resp.headers):
                raise err
            last_error = err
        assert last_error is not None
        raise last_error

    def _connection_error(self, exc: Exception, path: str) -> tuple[APIConnectionError, bool]:
        """(the error for a request that got no answer, whether the connection was refused); an
        answer that is not HTTP raises at once (APIResponseError: sending it again gets the same)."""
        malformed = malformed_answer(exc)
        if malformed:
            raise APIResponseError(f"{self._where()} answered POST {path} with {malformed}").with_hint(
                "check that the base URL points at an OpenAI-compatible HTTP API") from None
        reason = connection_reason(exc)
        refused = reason.startswith("connection refused")
        text = f"nothing listens at {self._where()}" if refused else f"could not reach {self._where()}: {reason}"
        return APIConnectionError(text).with_hint(self._url_hint()), refused

    def _status_error(self, resp: requests.Response, path: str) -> APIStatusError:
        """The APIStatusError an error answer names, with the next step for a person where there is one."""
        err = make_status_error(
            resp.status_code, resp.text, content_type=resp.headers.get("content-type", ""),
            request_id=resp.headers.get("x-request-id"),
            # Names lowercased, so `retry-after` is found however the server spelled it (values are
            # redacted by the error: a server may echo the Authorization header back in any of them).
            headers={k.lower(): v for k, v in resp.headers.items()},
        )
        resp.close()
        if isinstance(err, AuthenticationError):
            err.with_hint(self._key_hint())
        if isinstance(err, NotFoundError):
            relay.explain_not_found(err, f"POST {path} at {self.redact(self._base_url or '')}", path)
        return err

    def _url_hint(self) -> str | None:
        """The next step when nothing answers: the setting that chose this address."""
        if self._url_source in ("NBAUDIO_BASE_URL", "OPENAI_BASE_URL"):
            return f"check {self._url_source}, or unset it to use the embedded engine"
        if self._url_source == "argument":
            return "check the base_url given to the Client"
        if self._url_source.startswith("default"):  # a key but no URL: api.openai.com
            return (f"{self._key_source} is set, so requests go to api.openai.com; unset it to use the "
                    "embedded engine")
        return None

    def _key_hint(self) -> str:
        """The next step when the server rejects the key (or wanted one)."""
        if self._key_source in ("NBAUDIO_API_KEY", "OPENAI_API_KEY"):
            return f"check {self._key_source}, or run `%voice login` in a notebook"
        if self._key_source == "argument":
            return "check the api_key given to the Client (in a notebook: `%voice login`)"
        return "this server needs a key: run `%voice login` in a notebook, or set NBAUDIO_API_KEY"

    def _where(self) -> str:
        parts = urlsplit(self._base_url or "")
        return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "the API"


# ---- reading 2xx bodies (used by every endpoint) ----------------------------------------------


def response_json(resp: requests.Response, redact_text: Callable[[str], str]) -> Any:
    """The JSON of a 2xx body; APIResponseError (with the start of the body, redacted) if it is not JSON."""
    try:
        return parse_json(resp.content)
    except ValueError:
        snippet = redact_text(resp.text)[:120]  # redact before cutting: a cut key is no longer found
        raise APIResponseError(
            f"the server answered {resp.status_code} but the body is not JSON: {snippet!r}",
            request_id=resp.headers.get("x-request-id"),
        ) from None


def check_ok_body(resp: requests.Response, expect: str, redact_text: Callable[[str], str]) -> None:
    """Relays answer 200 with errors (a JSON error, a login page, "upstream error: ..."): raise
    APIResponseError with the server's own message when the body is not what `expect`
    (see error_bodies.error_in_ok_body) asked for."""
    err = ok_body_error(resp.content, resp.headers.get("content-type", ""), expect, redact_text,
                        status=resp.status_code, request_id=resp.headers.get("x-request-id"))
    if err is not None:
        raise err
