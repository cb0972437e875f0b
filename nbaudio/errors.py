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

`status_error_class` is the only place that maps status codes to classes, and
`parse_error_body` the only place that understands the error shapes servers send.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = [
    "NbAudioError",
    "InvalidInputError",
    "AudioDecodeError",
    "AudioTooLongError",
    "MissingDependencyError",
    "APIError",
    "APIStatusError",
    "BadRequestError",
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "RequestTooLargeError",
    "UnsupportedMediaTypeError",
    "UnprocessableEntityError",
    "RateLimitError",
    "InternalServerError",
    "APIResponseError",
    "APIConnectionError",
    "APITimeoutError",
    "StreamInterruptedError",
    "status_error_class",
    "parse_error_body",
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

_TAG_RE = re.compile(r"<[^>]+>")
_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_MAX_MESSAGE = 500


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _detail_message(detail: Any) -> tuple[str, str | None]:
    """FastAPI's `detail`: a string, or a list of {loc, msg, type} validation errors."""
    if isinstance(detail, str):
        return detail, None
    if isinstance(detail, list):
        msgs, param = [], None
        for item in detail:
            if isinstance(item, dict):
                loc = [str(p) for p in item.get("loc", []) if p not in ("body", "query", "path", "header")]
                if loc and param is None:
                    param = ".".join(loc)
                msg = str(item.get("msg", item))
                msgs.append(f"{'.'.join(loc)}: {msg}" if loc else msg)
            else:
                msgs.append(str(item))
        return "; ".join(msgs), param
    if isinstance(detail, dict):
        return str(detail.get("message") or detail.get("msg") or json.dumps(detail)), detail.get("param")
    return str(detail), None


def parse_error_body(status_code: int, body: bytes | str | None, content_type: str = "") -> dict[str, Any]:
    """Understand an error response in any of the shapes servers send.

    Returns {"message", "type", "param", "code", "body"}. Handles OpenAI's
    {"error": {...}}, {"error": "text"}, FastAPI's {"detail": str | list}, flat
    {"message", "code", "type"}, integer codes, HTML pages and empty bodies.
    """
    if isinstance(body, bytes):
        text = body.decode("utf-8", errors="replace")
    else:
        text = body or ""
    out: dict[str, Any] = {"message": "", "type": None, "param": None, "code": None, "body": text}
    parsed: Any = None
    if text.strip():
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    if isinstance(parsed, dict):
        out["body"] = parsed
        err = parsed.get("error", parsed)
        if isinstance(err, str):
            out["message"] = err
            err = parsed
        if isinstance(err, dict):
            if not out["message"]:
                msg = err.get("message") or err.get("msg") or err.get("error_description")
                if msg is None and "detail" in err:
                    msg, out["param"] = _detail_message(err["detail"])
                if msg is None and isinstance(err.get("error"), str):
                    msg = err["error"]
                out["message"] = msg if isinstance(msg, str) else (json.dumps(msg) if msg is not None else "")
            out["type"] = err.get("type") if isinstance(err.get("type"), str) else out["type"]
            out["param"] = err.get("param") if err.get("param") is not None else out["param"]
            code = err.get("code")
            out["code"] = code if isinstance(code, (str, int)) and not isinstance(code, bool) else None
    elif parsed is not None:
        out["message"] = str(parsed)
    elif "html" in content_type.lower() or text.lstrip()[:1] == "<":
        title = _TITLE_RE.search(text)
        out["message"] = title.group(1) if title else _TAG_RE.sub(" ", text)
    else:
        out["message"] = text
    out["message"] = _clip(out["message"]) or f"HTTP {status_code} with an empty body"
    return out


def make_status_error(
    status_code: int,
    body: bytes | str | None,
    *,
    content_type: str = "",
    request_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> APIStatusError:
    """Build the right APIStatusError subclass for a response."""
    info = parse_error_body(status_code, body, content_type)
    cls = status_error_class(status_code)
    return cls(
        info["message"],
        status_code=status_code,
        type=info["type"],
        param=info["param"],
        code=info["code"],
        request_id=request_id,
        body=info["body"],
        headers=headers,
    )


def error_payload(message: str, *, status_code: int = 400, param: str | None = None, code: str | None = None) -> dict:
    """OpenAI's error JSON, for servers (the embedded engine, test servers) to send."""
    return {
        "error": {
            "message": message,
            "type": ERROR_TYPES.get(status_code, "server_error" if status_code >= 500 else "invalid_request_error"),
            "param": param,
            "code": code,
        }
    }
