"""JSON from outside the engine (a client's message or form field, an upstream's reply), read in
one place (`loads`), so what is wrong with it is said the same way.

`json.loads` raises RecursionError for arrays or objects nested deeper than the interpreter's
stack allows (a Realtime message of 100 000 `[`), and what parses a little below that depth can
still overflow the stack of code that walks it later. So nesting is also bounded explicitly:
no OpenAI request nests anywhere near `MAX_DEPTH` levels.
"""

from __future__ import annotations

from typing import Any

from .._wire.fields import JSONTooDeep, parse_json

__all__ = ["UntrustedJSONError", "MAX_DEPTH", "NOT_JSON", "TOO_DEEP", "loads"]

MAX_DEPTH = 100
TOO_DEEP = "is nested too deeply"
NOT_JSON = "is not valid JSON"
_TOO_DEEP_HERE = f"{TOO_DEEP} (more than {MAX_DEPTH} levels of arrays and objects inside each other)"


class UntrustedJSONError(ValueError):
    """What is wrong with a JSON from outside: `str(exc)` is NOT_JSON or starts with TOO_DEEP, to
    follow a name ("The message is not valid JSON")."""


def loads(raw: str | bytes) -> Any:
    """The value of `raw`, or UntrustedJSONError."""
    try:
        value = parse_json(raw)
    except JSONTooDeep:
        raise UntrustedJSONError(_TOO_DEEP_HERE) from None
    except ValueError:  # JSONDecodeError, and UnicodeDecodeError for bytes that are not UTF-8
        raise UntrustedJSONError(NOT_JSON) from None
    if _deeper_than(value, MAX_DEPTH):
        raise UntrustedJSONError(_TOO_DEEP_HERE)
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest in `value` more than `limit` levels (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False
