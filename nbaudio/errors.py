"""One exception tree for everything nbaudio raises.

    NbAudioError
    ├── InvalidInputError (also ValueError)      bad arguments, caught before any request
    │   └── AudioDecodeError                     bytes that are not (decodable) audio
    │       └── AudioTooLongError                decodes to more than the limit allows
    ├── MissingDependencyError (also ImportError) an optional package is needed
    └── APIError                                 anything that went wrong talking to a server
        ├── APIStatusError                       the server answered with 4xx/5xx
        │   ├── BadRequestError 400, AuthenticationError 401, PermissionDeniedError 403,
        │   │   NotFoundError 404, ConflictError 409, RequestTooLargeError 413,
        │   │   UnsupportedMediaTypeError 415, UnprocessableEntityError 422,
        │   │   RateLimitError 429, InternalServerError 5xx
        ├── APIResponseError                     a 2xx whose body is not what the API promises
        └── APIConnectionError                   no answer (refused, reset, DNS, TLS)
            ├── APITimeoutError
            └── StreamInterruptedError           a stream broke after data arrived (.partial)

    ParameterNameWarning (a UserWarning)         an unknown argument that looks like a typo

`status_error_class` is the only place that maps status codes to classes, and
`connection_reason` the only place that names why a connection failed. What servers send
as error bodies is read in `nbaudio.error_bodies`.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ERROR_TYPES",
    "APIConnectionError",
    "APIError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AudioDecodeError",
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
    "RequestTooLargeError",
    "StreamInterruptedError",
    "UnprocessableEntityError",
    "UnsupportedMediaTypeError",
    "connection_reason",
    "status_error_class",
]


class NbAudioError(Exception):
    """Base class of every error nbaudio raises."""


class InvalidInputError(NbAudioError, ValueError):
    """An argument is wrong; raised before anything is sent. The message says how to fix it."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
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
        self.message = message
        self.request_id = request_id


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
        self.type = type
        self.param = param
        self.code = code
        self.body = body
        self.headers = dict(headers or {})

    def __str__(self) -> str:
        parts = [f"{self.status_code}: {self.message}"]
        extra = [f"{k}={v}" for k, v in (("type", self.type), ("param", self.param), ("code", self.code)) if v]
        if self.request_id:
            extra.append(f"request_id={self.request_id}")
        if extra:
            parts.append(f"({', '.join(extra)})")
        return " ".join(parts)

    def __reduce__(self):  # keep pickling (multiprocessing, IPython) working with keyword-only args
        return (_rebuild_status_error, (type(self), self.message, self.__dict__))


def _rebuild_status_error(cls, message, state):
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


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


class APIConnectionError(APIError):
    """The request did not get an answer."""


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class StreamInterruptedError(APIConnectionError):
    """A stream broke after some data had arrived. `partial` holds what was assembled so far."""

    def __init__(self, message: str, *, partial: Any = None, request_id: str | None = None) -> None:
        super().__init__(message, request_id=request_id)
        self.partial = partial


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
    ("CERTIFICATE_VERIFY_FAILED", "TLS certificate check failed"),
)


def connection_reason(exc: BaseException) -> str:
    """Why a connection failed, in a few words ("connection refused (is the server running?)");
    the exception's class name when its text says nothing we know."""
    text = str(exc)
    for marker, reason in _CONNECTION_REASONS:
        if marker in text:
            return reason
    return type(exc).__name__
