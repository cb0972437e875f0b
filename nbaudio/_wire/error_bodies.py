"""Reading errors out of what servers send: error bodies, mid-stream error events, 200s that are
errors, and the errors relays wrap; and the OpenAI error JSON servers send back.

`parse_error_body` is the only place that understands the error shapes servers send. The class
for a status still comes from `errors.status_error_class`, the one status -> class map; the
status an error's names stand for, and the one a relay wrapped, from `nbaudio._wire.error_status`.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from typing import Any

from ..errors import ERROR_TYPES, APIResponseError, APIStatusError, status_error_class
from .error_status import split_request_id, status_for, unwrap_relay_status
from .fields import parse_json
from .text import looks_like_text, one_line, shorten

__all__ = [
    "error_in_ok_body",
    "error_payload",
    "is_error_event",
    "make_status_error",
    "make_stream_error",
    "ok_body_error",
    "parse_error_body",
]

# ---- error bodies -----------------------------------------------------------------------------

_TAG_RE = re.compile(r"<[^>]+>")
_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_MAX_MESSAGE = 500
# Values that servers (LiteLLM, Python relays) put in `type` / `param` / `code` for "none".
_ABSENT = frozenset({"", "none", "null", "nil", "undefined"})
_NESTING_LIMIT = 4  # {"detail": {"error": {"error": ...}}}: how deep wrappers are followed
_MAX_INNER_BODY = 20_000  # a message that is itself an error body is parsed only up to this size


def _clip(text: str) -> str:
    return shorten(one_line(text), _MAX_MESSAGE)


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


def _present(value: Any) -> Any:
    """None for absent values, including the strings "None" / "null" some servers send."""
    if isinstance(value, str) and value.strip().lower() in _ABSENT:
        return None
    return value


def _error_object(parsed: dict[str, Any]) -> dict[str, Any]:
    """The innermost dict that holds the error: {"error": {...}}, FastAPI's {"detail": {"error": ...}}."""
    err = parsed
    for _ in range(_NESTING_LIMIT):
        if isinstance(err.get("error"), dict):
            err = err["error"]
        elif isinstance(err.get("detail"), dict) and not (err.get("message") or err.get("msg")):
            err = err["detail"]
        else:
            break
    return err


def _as_error_dict(text: str) -> dict[str, Any] | None:
    """A message that is itself an error body, as JSON or as a Python dict's repr (LiteLLM)."""
    text = text.strip()
    if not text.startswith("{") or len(text) > _MAX_INNER_BODY:
        return None
    for load in (json.loads, ast.literal_eval):
        try:
            value = load(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        return value if isinstance(value, dict) else None
    return None


def _dict_message(err: dict[str, Any], depth: int = 0) -> tuple[str, str | None]:
    """(message, param) of an error dict, looking through the fields servers use for it."""
    param = None
    msg: Any = err.get("error") if isinstance(err.get("error"), str) else None
    msg = msg or err.get("message") or err.get("msg") or err.get("error_description") or err.get("error_msg")
    if not msg and "detail" in err:
        msg, param = _detail_message(err["detail"])
    if isinstance(msg, dict):
        msg = _dict_message(_error_object(msg), depth + 1)[0] if depth < _NESTING_LIMIT else json.dumps(msg)
    elif msg is not None and not isinstance(msg, str):
        msg = json.dumps(msg)
    if isinstance(msg, str) and depth < _NESTING_LIMIT:
        inner = _as_error_dict(msg)
        if inner is not None:
            inner_msg = _dict_message(_error_object(inner), depth + 1)[0]
            msg = inner_msg or msg
    return (msg or ""), param


def parse_error_body(status_code: int, body: bytes | str | None, content_type: str = "") -> dict[str, Any]:
    """Understand an error response in any of the shapes servers send.

    Returns {"message", "type", "param", "code", "body", "request_id"}. Handles OpenAI's
    {"error": {...}}, {"error": "text"}, FastAPI's {"detail": str | list | {"error": ...}},
    flat {"message", "code", "type"}, integer codes, "None"/"null" strings for absent
    fields, a message that is itself an error body (JSON or a Python repr), new-api's
    " (request id: ...)" suffix, HTML pages and empty bodies.
    """
    if isinstance(body, bytes):
        text = body.decode("utf-8", errors="replace")
    else:
        text = body or ""
    out: dict[str, Any] = {"message": "", "type": None, "param": None, "code": None, "body": text,
                           "request_id": None}
    parsed: Any = None
    if text.strip():
        try:
            parsed = parse_json(text)
        except ValueError:
            parsed = None
    if isinstance(parsed, dict):
        out["body"] = parsed
        err = _error_object(parsed)
        out["message"], out["param"] = _dict_message(err)
        out["type"] = _present(err.get("type")) if isinstance(err.get("type"), str) else None
        if _present(err.get("param")) is not None:
            out["param"] = _present(err["param"])
        code = _present(err.get("code"))
        out["code"] = code if isinstance(code, (str, int)) and not isinstance(code, bool) else None
    elif parsed is not None:
        out["message"] = str(parsed)
    elif "html" in content_type.lower() or text.lstrip()[:1] == "<":
        title = _TITLE_RE.search(text)
        out["message"] = title.group(1) if title else _TAG_RE.sub(" ", text)
    else:
        out["message"] = text
    out["message"], out["request_id"] = split_request_id(_clip(out["message"]))
    out["message"] = out["message"] or f"HTTP {status_code} with an empty body"
    return out


def make_status_error(
    status_code: int,
    body: bytes | str | None,
    *,
    content_type: str = "",
    request_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> APIStatusError:
    """Build the right APIStatusError subclass for a response.

    An error a relay wrapped into a 500 (new-api, one-api: see `unwrap_relay_status`) gets the
    class and fields of what it wraps, and its message says what the relay sent."""
    info = parse_error_body(status_code, body, content_type)
    status = unwrap_relay_status(status_code, info)
    if status != status_code:
        info["message"] += f" (the relay sent it as HTTP {status_code})"
    return _status_error(status, info, request_id or info["request_id"], headers)


# ---- mid-stream error events ------------------------------------------------------------------


def is_error_event(data: Any, event: str | None = None) -> bool:
    """True when an SSE event is the server reporting an error instead of the stream's data.

    The shapes servers send: `event: error`; `{"type": "error", ...}` with the error nested
    (Realtime, Anthropic) or flat (`{"type": "error", "code", "message", "param"}`, the Responses
    API); and any event with an `error` object or text: `{"error": {...}}`, and chunks that carry
    one beside their usual fields (OpenRouter ends a broken stream with a chunk whose `error` says
    why and whose finish_reason is "error").
    """
    if not isinstance(data, dict):
        return False
    if event == "error" or data.get("type") == "error":
        return True
    error = data.get("error")
    return bool(error) and isinstance(error, (dict, str))


def make_stream_error(data: str, *, request_id: str | None = None) -> APIStatusError:
    """The error an SSE error event carries, as the class its status / type / code names.

    An event has no HTTP status of its own: it comes from `status` / `status_code` beside the
    error, a numeric `code`, or the `code` / `type` / `status` names (`invalid_api_key` -> 401,
    `rate_limit_exceeded` -> 429, `RESOURCE_EXHAUSTED` -> 429, ...); 500 when none of them says."""
    info = parse_error_body(500, data, "application/json")
    if info["message"] == "HTTP 500 with an empty body":
        info["message"] = "the stream sent an error event without a message"
    body = info["body"] if isinstance(info["body"], dict) else {}
    err = _error_object(body)
    if err is body and info["type"] == "error":
        info["type"] = None  # a flat {"type": "error", "code", "message"}: the event's type, not the error's
    status = None
    for holder in (err, body):
        for key in ("status", "status_code", "http_status"):
            status = status or status_for(None, holder.get(key))
    status = status or status_for(info["type"], info["code"]) or 500
    return _status_error(unwrap_relay_status(status, info), info, request_id or info["request_id"], None)


def _status_error(status: int, info: dict[str, Any], request_id: str | None,
                  headers: dict[str, str] | None) -> APIStatusError:
    return status_error_class(status)(
        info["message"],
        status_code=status,
        type=info["type"],
        param=info["param"],
        code=info["code"],
        request_id=request_id,
        body=info["body"],
        headers=headers,
    )


# ---- 2xx bodies that are errors ---------------------------------------------------------------

_JSON_TRANSCRIPTS = {"json": "json", "verbose_json": "json", "diarized_json": "json",
                     "text": "text", "srt": "text", "vtt": "text"}
_HTML_START = re.compile(r"<(?:!doctype|html|head|body|title)\b", re.IGNORECASE)


def error_in_ok_body(body: bytes, content_type: str, expect: str,
                     redact: Callable[[str], str] | None = None) -> str | None:
    """The server's own message when a 2xx body is an error instead of what was asked for, else None.

    `expect` is what the request asked for: a transcription `response_format` (json,
    verbose_json, diarized_json: JSON with `text`; text, srt, vtt: any text that is not an
    HTML page or a JSON error), "chat" (a completion, which has `choices`) or "audio" (for bytes
    that are no known audio format: JSON, a web page or text there is the server talking, e.g.
    "upstream error: quota exhausted").

    `redact` is applied to the body before anything is cut from it (a key cut in two is no
    longer found).
    """
    expect = _JSON_TRANSCRIPTS.get(expect, expect)
    text = body.decode("utf-8", errors="replace")
    if redact is not None:
        text = redact(text)
    stripped = text.lstrip("\ufeff \r\n\t")
    if "html" in content_type.lower() or _HTML_START.match(stripped):
        return parse_error_body(200, text, "text/html")["message"]
    parsed: Any = None
    if stripped[:1] in ("{", "["):
        try:
            parsed = parse_json(stripped)
        except ValueError:
            parsed = None
    if isinstance(parsed, dict):
        if expect == "chat" and isinstance(parsed.get("choices"), list) and parsed["choices"]:
            return None
        if expect in ("json", "text") and isinstance(parsed.get("text"), str):
            return None  # a transcription (LiteLLM wraps text/srt/vtt as {"text": ...} too)
        message = parse_error_body(200, stripped, "application/json")["message"]
        if message != "HTTP 200 with an empty body":
            return message
        if expect == "chat":
            return None  # nothing to report beyond what ChatReply says about a reply without choices
        return f"JSON with no 'text' (keys: {', '.join(map(str, parsed)) or 'none'})"
    if expect in ("json", "chat"):
        if parsed is None and (stripped[:1] in ("{", "[") or "json" in content_type.lower()):
            return f"a body that is not JSON: {_clip(stripped)[:512]!r}"
        return _clip(stripped) or "an empty body"
    if expect == "audio" and looks_like_text(body):
        return _clip(stripped)
    return None


def ok_body_error(body: bytes, content_type: str, expect: str, redact: Callable[[str], str], *,
                  status: int, request_id: str | None) -> APIResponseError | None:
    """The APIResponseError for a 2xx body that is the server's error instead of what `expect`
    (see error_in_ok_body) asked for, with the server's own message; None when the body is fine."""
    message = error_in_ok_body(body, content_type, expect, redact)
    if message is None:
        return None
    what = {"audio": "audio", "chat": "a chat completion"}.get(expect, "a transcription")
    return APIResponseError(redact(f"the server answered {status} with an error instead of {what}: {message}"),
                            request_id=request_id)


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
