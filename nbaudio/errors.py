"""One exception tree for everything nbaudio raises.

    NbAudioError
    ├── InvalidInputError (also ValueError)      bad arguments, caught before any request
    │   ├── AudioDecodeError                     bytes that are not (decodable) audio
    │   │   └── AudioTooLongError                decodes to more than the limit allows
    │   └── RealtimeEventError                   a Realtime event or session setting the protocol refuses
    ├── MissingDependencyError (also ImportError) an optional package is needed
    └── APIError                                 anything that went wrong talking to a server
        ├── APIStatusError                       the server answered with 4xx/5xx
        │   ├── BadRequestError 400, AuthenticationError 401, PermissionDeniedError 403,
        │   │   NotFoundError 404, ConflictError 409, RequestTooLargeError 413,
        │   │   UnsupportedMediaTypeError 415, UnprocessableEntityError 422,
        │   │   RateLimitError 429, InternalServerError 5xx
        ├── APIResponseError                     a 2xx whose body is not what the API promises
        │   └── ResponseTooLargeError            a body past its size cap (.max_bytes)
        ├── RealtimeServerError                  a Realtime session's `error` event
        └── APIConnectionError                   no answer (refused, reset, DNS, TLS)
            ├── APITimeoutError
            ├── StreamInterruptedError           a stream broke after data arrived (.partial)
            └── RealtimeClosedError              a Realtime WebSocket closed (.close_code, .meaning)

    ParameterNameWarning (a UserWarning)         an unknown argument that looks like a typo
    AudioHint (a UserWarning)                    the audio would be better sent another way (channels='split')

`status_error_class` is the only place that maps status codes to classes, and
`connection_reason` the only place that names why a connection failed. What servers send
as error bodies is read in `nbaudio._wire.error_bodies`.
"""

from __future__ import annotations

import linecache
import os
from typing import Any, Self

from ._redaction import redact, redact_value

__all__ = [
    "ERROR_TYPES",
    "APIConnectionError",
    "APIError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AudioDecodeError",
    "AudioHint",
    "AudioTooLongError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "InvalidInputError",
    "MissingDependencyError",
    "NbAudioError",
    "NotFoundError",
    "ParameterNameWarning",
    "PermissionDeniedError",
    "RateLimitError",
    "RealtimeClosedError",
    "RealtimeEventError",
    "RealtimeServerError",
    "RequestTooLargeError",
    "ResponseTooLargeError",
    "StreamInterruptedError",
    "UnprocessableEntityError",
    "UnsupportedMediaTypeError",
    "connection_reason",
    "malformed_answer",
    "short_traceback",
    "status_error_class",
]


class NbAudioError(Exception):
    """Base class of every error nbaudio raises.

    `hint`, when set, is the next step for a person ("check NBAUDIO_BASE_URL, or unset it to use the
    embedded engine"); it follows the message in `str(error)`. In IPython the error shows as that one
    line and the line of the user's code that raised it, not nbaudio's own frames (`_render_traceback_`);
    `%xmode Verbose` brings the full traceback back."""

    hint: str | None = None

    def __init__(self, *args: Any) -> None:
        # Every key this process holds is taken out of what an error says, here where it is made
        # (nbaudio._redaction): servers echo keys back in bodies, headers and close reasons.
        super().__init__(*(redact(a) if isinstance(a, str) else a for a in args))

    def with_hint(self, hint: str | None) -> Self:
        self.hint = redact(hint) if hint else hint
        return self

    def __str__(self) -> str:
        text = super().__str__()
        return redact(f"{text} — {self.hint}" if self.hint else text)

    def _render_traceback_(self) -> list[str]:
        return short_traceback(self)

    def __reduce__(self):  # pickling (Dask, multiprocessing) with keyword-only arguments
        return (_rebuild_error, (type(self), self.args, self.__dict__))


def _rebuild_error(cls, args, state):
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


class InvalidInputError(NbAudioError, ValueError):
    """An argument is wrong; raised before anything is sent. The message says how to fix it."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = redact(message)
        self.param = param


class AudioDecodeError(InvalidInputError):
    """Bytes that should be audio could not be decoded."""


class AudioTooLongError(AudioDecodeError):
    """Audio that would decode to more samples than allowed (a very long file, or a decompression bomb)."""


class MissingDependencyError(NbAudioError, ImportError):
    """An optional package is needed for this; the message names the install command."""


class APIError(NbAudioError):
    """Something went wrong talking to the API."""

    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        super().__init__(message)
        self.message = redact(message)
        # A relay may echo the request's Authorization header as its request id.
        self.request_id = redact(request_id) if isinstance(request_id, str) else request_id


class APIStatusError(APIError):
    """The server answered with an error status."""

    status_code: int = 0

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        type: str | None = None,
        param: str | None = None,
        code: str | int | None = None,
        request_id: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id)
        self.status_code = status_code
        self.type = redact_value(type)
        self.param = redact_value(param)
        self.code = redact_value(code)
        self.body = redact_value(body)
        self.headers = {name: redact(value) for name, value in (headers or {}).items()}

    def __str__(self) -> str:
        parts = [f"{self.status_code}: {self.message}"]  # each part redacted when the error was made
        extra = [f"{k}={v}" for k, v in (("type", self.type), ("param", self.param), ("code", self.code)) if v]
        if self.request_id:
            extra.append(f"request_id={self.request_id}")
        if extra:
            parts.append(f"({', '.join(extra)})")
        if self.hint:
            parts.append(f"— {self.hint}")
        return redact(" ".join(parts))  # and again: fields may have been set since

class BadRequestError(APIStatusError):
    status_code = 400


class AuthenticationError(APIStatusError):
    status_code = 401


class PermissionDeniedError(APIStatusError):
    status_code = 403


class NotFoundError(APIStatusError):
    status_code = 404


class ConflictError(APIStatusError):
    status_code = 409


class RequestTooLargeError(APIStatusError):
    status_code = 413


class UnsupportedMediaTypeError(APIStatusError):
    status_code = 415


class UnprocessableEntityError(APIStatusError):
    status_code = 422


class RateLimitError(APIStatusError):
    status_code = 429


class InternalServerError(APIStatusError):
    status_code = 500


class APIResponseError(APIError):
    """A success status whose body is not what the API promises (invalid JSON, truncated, ...)."""


class ResponseTooLargeError(APIResponseError):
    """A response whose decoded body passed its cap (`max_bytes`): reading stopped there."""

    def __init__(self, message: str, *, max_bytes: int, request_id: str | None = None) -> None:
        super().__init__(message, request_id=request_id)
        self.max_bytes = max_bytes


class APIConnectionError(APIError):
    """The request did not get an answer."""


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class StreamInterruptedError(APIConnectionError):
    """A stream broke after some data had arrived. `partial` holds what was assembled so far."""

    def __init__(self, message: str, *, partial: Any = None, request_id: str | None = None) -> None:
        super().__init__(message, request_id=request_id)
        self.partial = partial


class RealtimeEventError(InvalidInputError):
    """A Realtime client event or session setting the protocol (or this server) does not take.
    `code` is the error event's code (e.g. `unknown_parameter`), `param` the field it names."""

    def __init__(self, message: str, *, param: str | None = None, code: str = "invalid_value") -> None:
        super().__init__(message, param=param)
        self.code = code


class RealtimeServerError(APIError):
    """The Realtime server sent an `error` event (`type`, `code`, `param`, `event_id` of the
    client event it answers)."""

    def __init__(self, message: str, *, type: str | None = None, code: str | None = None,
                 param: str | None = None, event_id: str | None = None) -> None:
        super().__init__(message)
        self.type = redact_value(type)
        self.code = redact_value(code)
        self.param = redact_value(param)
        self.event_id = redact_value(event_id)


class RealtimeClosedError(APIConnectionError):
    """A Realtime WebSocket closed before the session was done. `close_code` is the WebSocket
    close code (None when the connection dropped without one), `meaning` what it stands for."""

    def __init__(self, message: str, *, close_code: int | None = None, reason: str = "",
                 meaning: str = "") -> None:
        super().__init__(message)
        self.close_code = close_code
        self.reason = redact(reason)
        self.meaning = meaning


class AudioHint(UserWarning):
    """What nbaudio noticed about the audio you sent that another option would serve better (a stereo
    call with one speaker per channel, sent downmixed: channels='split'). Said once per client."""


class ParameterNameWarning(UserWarning):
    """An unknown keyword argument that looks like a misspelt known one (`voise=` for `voice=`).

    It is still sent (unknown arguments go into the request body, so new API fields work)."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: RequestTooLargeError,
    415: UnsupportedMediaTypeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status_code: int) -> type[APIStatusError]:
    """The exception class for an HTTP error status (the one place that decides it)."""
    if status_code >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status_code, APIStatusError)


# Error `type` OpenAI uses for each status, so the local engine answers like OpenAI.
ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    503: "server_error",
}


# What requests/urllib3 say when a connection fails, and how to say it to a person.
_CONNECTION_REASONS = (
    ("Connection refused", "connection refused (is the server running?)"),
    ("Name or service not known", "unknown host name"),
    ("nodename nor servname", "unknown host name"),
    ("Connection reset", "connection reset by the server"),
    ("RemoteDisconnected", "the server closed the connection without answering"),
    ("IncompleteRead", "the response was cut short"),
    # urllib3: the connection closed where the next chunk of a chunked body was due
    ("Response ended prematurely", "the server closed the connection mid-response"),
    ("InvalidChunkLength", "the server closed the connection mid-response"),
    # The HTTP client and the Realtime client both read REQUESTS_CA_BUNDLE (nbaudio serve --tls-cert: README, TLS).
    ("CERTIFICATE_VERIFY_FAILED", "TLS certificate check failed (a certificate from your own CA or self-signed: "
                                  "set REQUESTS_CA_BUNDLE to that CA's PEM file)"),
)


def connection_reason(exc: BaseException) -> str:
    """Why a connection failed, in a few words ("connection refused (is the server running?)");
    the exception's class name when its text says nothing we know."""
    text = str(exc)
    for marker, reason in _CONNECTION_REASONS:
        if marker in text:
            return reason
    return type(exc).__name__


# What http.client says when an answer is not HTTP, and how to say it to a person.
_MALFORMED_ANSWERS = (
    ("BadStatusLine", "a status line that is not HTTP"),
    ("got more than 100 headers", "more than 100 headers"),
    ("LineTooLong", "a header or status line over 64 kB"),
    ("got more than 65536 bytes", "a header or status line over 64 kB"),
    ("HeaderParsingError", "headers that cannot be parsed"),
    ("UnknownProtocol", "a protocol version that is not HTTP/1.x"),
)


def malformed_answer(exc: BaseException) -> str | None:
    """What was wrong with an answer that came but was not HTTP ("a status line that is not HTTP"),
    or None when the connection failed without one."""
    text = repr(exc)
    for marker, what in _MALFORMED_ANSWERS:
        if marker in text:
            return what
    return None


# ---- how an error shows in IPython -------------------------------------------------------------

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_RED, _RESET = "\x1b[31m", "\x1b[0m"


def short_traceback(error: BaseException) -> list[str]:
    """What IPython shows for an nbaudio error: the message (with its next step) and the user's own
    line that led to it — nbaudio's frames say nothing a person can act on. Under `%xmode Verbose`
    the full traceback, as IPython would print it."""
    try:
        from IPython import get_ipython
    except ImportError:  # called by hand outside IPython
        get_ipython = None  # type: ignore[assignment]
    shell = get_ipython() if get_ipython else None
    if shell is not None and getattr(shell.InteractiveTB, "mode", "") == "Verbose":
        return shell.InteractiveTB.structured_traceback(type(error), error, error.__traceback__)
    lines = [f"{_RED}{type(error).__name__}{_RESET}: {error}"]
    caller = _users_line(error)
    if caller:
        lines.append(f"  raised by: {caller}")
    lines.append("  (the full traceback: %xmode Verbose, then run the cell again)")
    return lines


def _users_line(error: BaseException) -> str | None:
    """The source of the innermost frame outside the nbaudio package (the user's cell line)."""
    found = None
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if not os.path.abspath(code.co_filename).startswith(_PACKAGE_DIR + os.sep):
            found = linecache.getline(code.co_filename, tb.tb_lineno).strip() or None
        tb = tb.tb_next
    return found
