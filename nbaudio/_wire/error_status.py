"""The HTTP status an error stands for: error names (`code`, `type`, `status`) -> status, and the
status a relay wrapped into a 500.

Relays: new-api answers its own errors as HTTP 500 with `type: "new_api_error"` and a `code`
that names the cause (`invalid_request`, `bad_request_body`, `access_denied`, ...) even when the
request was at fault, and appends " (request id: ...)" to every message. one-api (and its forks)
re-wrap an upstream error with type `upstream_error` / `one_api_error` / `request_error`, the
upstream status in `param` (code `bad_response_status_code`) or in the text, and the upstream's
fields as text: "type X, code Y, message Z". A mid-stream error event has no HTTP status at all.
`status_for` and `unwrap_relay_status` recover the status and the fields.

Here, below `nbaudio._wire.error_bodies` (which re-exports these), because it is pure name and text
work on the dict `error_bodies.parse_error_body` returns: no exceptions are built here.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["WRAPPER_TYPES", "split_request_id", "status_for", "unwrap_relay_status"]

# Error types under which relays report errors whatever their cause: the HTTP status beside
# them (usually 500) says nothing about what went wrong.
WRAPPER_TYPES = frozenset({"new_api_error", "one_api_error", "request_error", "upstream_error", "shell_api_error"})

# The status each error `code` / `type` / `status` name stands for: OpenAI's own names, the
# relays', and Google's canonical status names (which its APIs put in `status`). Codes are looked
# up before types (they are more specific).
_STATUS_BY_NAME: dict[str, int] = {
    # 400: the request is wrong; sending it again will not help
    "invalid_request_error": 400, "invalid_request": 400, "bad_request_body": 400, "bad_request": 400,
    "read_request_body_failed": 400, "convert_request_failed": 400, "invalid_value": 400,
    "unsupported_value": 400, "unsupported_parameter": 400, "sensitive_words_detected": 400,
    "prompt_blocked": 400, "content_policy_violation": 400, "context_length_exceeded": 400,
    "invalid_argument": 400, "failed_precondition": 400, "out_of_range": 400,
    # 401 / 403: the key
    "authentication_error": 401, "invalid_api_key": 401, "invalid_authentication": 401, "unauthorized": 401,
    "unauthenticated": 401,
    "permission_error": 403, "permission_denied": 403, "access_denied": 403, "forbidden": 403,
    # 404
    "not_found_error": 404, "model_not_found": 404, "audio_not_found": 404, "not_found": 404,
    # 429: too fast, or out of credit (OpenAI sends insufficient_quota as 429 too)
    "rate_limit_error": 429, "rate_limit_exceeded": 429, "insufficient_quota": 429,
    "insufficient_user_quota": 429, "pre_consume_token_quota_failed": 429, "resource_exhausted": 429,
    # 5xx
    "server_error": 500, "api_error": 500, "internal_error": 500, "internal": 500, "overloaded_error": 503,
    "unavailable": 503, "deadline_exceeded": 504,
}

_REQUEST_ID_RE = re.compile(r"\s*\(\s*request[ _-]?id\s*[:=]\s*([^\s()]+)\s*\)\s*$", re.IGNORECASE)
_STATUS_IN_TEXT = re.compile(r"\bstatus(?:[ _]?code)?\s*[:=]?\s*([45]\d\d)\b", re.IGNORECASE)
_FIELDS_IN_TEXT = re.compile(
    r"\btype\s*[:=]?\s*(?P<type>[\w.:-]+)\s*,\s*code\s*[:=]?\s*(?P<code>[\w.:-]+)\s*,\s*message\s*[:=]?\s*(?P<message>.+)",
    re.IGNORECASE | re.DOTALL)


def split_request_id(message: str) -> tuple[str, str | None]:
    """new-api's "text (request id: 2025...)" -> ("text", "2025...")."""
    m = _REQUEST_ID_RE.search(message)
    if not m:
        return message, None
    return message[: m.start()].rstrip(), m.group(1)


def _status_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and 400 <= value <= 599 else None


def status_for(type_: Any, code: Any) -> int | None:
    """The HTTP status an error's `code` or `type` stands for (a number in 400-599 counts), or None."""
    for name in (code, type_):
        number = _status_number(name)
        if number is not None:
            return number
        if isinstance(name, str) and name.lower() in _STATUS_BY_NAME:
            return _STATUS_BY_NAME[name.lower()]
    return None


def unwrap_relay_status(status_code: int, info: dict[str, Any]) -> int:
    """The status the error really has, with `info` (parse_error_body's dict) corrected in place.

    Only errors a relay wrapped are touched (a 5xx under one of WRAPPER_TYPES, or one whose text
    spells out "type X, code Y, message Z"): a server's own 500 stays a 500.
    """
    wrapped = info.get("type") in WRAPPER_TYPES
    fields = _FIELDS_IN_TEXT.search(info.get("message") or "")
    if status_code < 500 or not (wrapped or fields):
        return status_code
    recovered = None
    if fields:  # one-api: the upstream's own type, code and message, as text
        inner_type, inner_code = fields.group("type"), fields.group("code")
        info["message"] = fields.group("message").strip().strip(",").strip()
        info["type"] = None if inner_type.lower() in ("none", "null", "") else inner_type
        info["code"] = None if inner_code.lower() in ("none", "null", "") else inner_code
        recovered = status_for(info["type"], info["code"])
    if recovered is None and info.get("code") == "bad_response_status_code":
        recovered = _status_number(info.get("param"))  # one-api keeps the upstream status here
        if recovered is not None:
            info["param"] = None  # it was the status, not a parameter name
    if recovered is None:
        m = _STATUS_IN_TEXT.search(info.get("message") or "")
        recovered = int(m.group(1)) if m else None
    if recovered is None:
        recovered = status_for(None if wrapped else info.get("type"), info.get("code"))
    return recovered if recovered is not None else status_code
