"""Reading what servers send (JSON bodies, stream events, Realtime events) with one rule for
every shape, so that odd but valid JSON is an APIResponseError naming the field, never an
AttributeError or TypeError deep in a parser:

- a field that carries the result (text, audio, transcripts, segments and their times, tool
  calls) must have the type the API promises, else the whole answer is refused: a reply with
  half its content silently missing is worse than an error;
- a field that only describes the result (token counts, ids, model, finish_reason, expiry,
  language, duration) is dropped (None, or a count of 0) when its type is wrong, and the result
  is kept; `.raw` still holds what was sent. A number written as a string ("12") is read as
  the number: some relays serialise them so.

Messages quote a server's string only when it is too short to hold a recognisable piece of an
API key: these parsers do not know the key, so they cannot redact it.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from typing import Any

from ..errors import APIResponseError

__all__ = ["JSONTooDeep", "Place", "describe", "parse_json", "object_field", "list_field", "objects_field",
           "text_field",
           "seconds_field", "base64_field", "meta_text", "meta_count", "meta_number", "MAX_SECONDS"]

# Strings up to this long are quoted in messages; a key's shortest recognisable piece is longer.
_QUOTED_CHARS = 8
# A time or duration beyond this (31 years) is no time in any audio, and as milliseconds it
# would overflow where times are formatted (SRT, VTT).
MAX_SECONDS = 1e9
_HINT = "check that base_url is an OpenAI-compatible API; a relay in between may be changing its answers"


def describe(value: Any) -> str:
    """A value for a message: its type, and the value itself when that cannot leak a key."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, (int, float)):
        text = str(value)
        return text if len(text) <= 24 else f"a number of {len(text)} digits"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) <= _QUOTED_CHARS else f"a string of {len(value)} characters"
    if isinstance(value, list):
        return "an empty list" if not value else f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


@dataclass(frozen=True, slots=True)
class Place:
    """Where a value is in a server's answer: the answer ("the chat reply") and the JSON path."""

    answer: str
    path: str = ""

    def at(self, key: str | int) -> Place:
        step = f"[{key}]" if isinstance(key, int) else (f".{key}" if self.path else key)
        return Place(self.answer, self.path + step)

    def wrong(self, value: Any, wanted: str, *, request_id: str | None = None) -> APIResponseError:
        """The error for `value` found here where the API promises `wanted`."""
        where = f"{self.path} of {self.answer}" if self.path else self.answer
        return APIResponseError(f"{where} is {describe(value)}, where the API promises {wanted}",
                                request_id=request_id).with_hint(_HINT)


class JSONTooDeep(ValueError):
    """JSON nested deeper than the decoder can go: bad JSON, told apart where it is worth saying so."""


def parse_json(text: str | bytes) -> Any:
    """`json.loads`, with JSON nested too deeply to parse a ValueError (JSONTooDeep) like any other
    bad JSON (the decoder's RecursionError is not one). The one place nbaudio reads JSON from outside."""
    try:
        return json.loads(text)
    except RecursionError:
        raise JSONTooDeep("the JSON is nested too deeply to read") from None


# ---- fields that carry the result: refused when wrong -------------------------------------------


def object_field(obj: dict[str, Any], key: str, place: Place) -> dict[str, Any]:
    """`obj[key]` as an object; {} when absent or null."""
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise place.at(key).wrong(value, "an object")
    return value


def list_field(obj: dict[str, Any], key: str, place: Place) -> list[Any]:
    """`obj[key]` as a list; [] when absent or null."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise place.at(key).wrong(value, "a list")
    return value


def objects_field(obj: dict[str, Any], key: str, place: Place) -> list[tuple[dict[str, Any], Place]]:
    """`obj[key]` as a list of objects, each with its place; [] when absent or null."""
    out = []
    for i, item in enumerate(list_field(obj, key, place)):
        item_place = place.at(key).at(i)
        if not isinstance(item, dict):
            raise item_place.wrong(item, "an object")
        out.append((item, item_place))
    return out


def text_field(obj: dict[str, Any], key: str, place: Place) -> str | None:
    """`obj[key]` as a string; None when absent or null."""
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise place.at(key).wrong(value, "a string")


def seconds_field(obj: dict[str, Any], key: str, place: Place, default: float = 0.0) -> float:
    """`obj[key]` as a time in seconds (a finite number, or a string of one); `default` when absent or null."""
    value = obj.get(key)
    if value is None:
        return default
    seconds = meta_number(value)
    if seconds is None or abs(seconds) > MAX_SECONDS:
        raise place.at(key).wrong(value, "a number of seconds")
    return seconds


def base64_field(obj: dict[str, Any], key: str, place: Place) -> bytes:
    """`obj[key]` as the bytes its base64 stands for; b"" when absent, null or empty."""
    value = obj.get(key)
    if value is None or value == "":
        return b""
    if not isinstance(value, str):
        raise place.at(key).wrong(value, "base64 audio")
    try:
        return base64.b64decode(value)
    except (binascii.Error, ValueError):  # bad padding; characters outside ASCII
        raise place.at(key).wrong(value, "base64 audio (this is not valid base64)") from None


# ---- fields that describe the result: dropped when wrong ----------------------------------------


def meta_text(value: Any) -> str | None:
    """A string, else None."""
    return value if isinstance(value, str) else None


def meta_number(value: Any) -> float | None:
    """A finite number (or a string of one), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        return None
    return number if math.isfinite(number) else None


def meta_count(value: Any) -> int | None:
    """A whole number of 0 or more (or a string or float of one), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    number = meta_number(value)
    if number is None or number < 0 or not number.is_integer():
        return None
    return int(number)
