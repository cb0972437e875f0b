"""API keys: `Secret` holds one, and `redact` takes every key this process holds out of a text.

Every `Secret` made in this process (a client's key, the shared engine's per-user key, a
batch worker's copy) is remembered here, so every error nbaudio raises is redacted where it
is made (`nbaudio.errors` calls `redact` on each text it is given), whichever server echoed the
key back and however: whole, cut short by a message's length limit, with its first characters
cut off, or written with JSON `\\uXXXX` escapes (the errors see the decoded text). A key
is matched by any piece of it of `FRAGMENT` characters or more.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["FRAGMENT", "MIN_KEY_LENGTH", "MASK", "Secret", "redact", "redact_value"]

MASK = "***"
# A piece of a key this long is taken for the key: 10 random characters do not occur by chance.
FRAGMENT = 10
# Shorter "keys" (placeholders such as "x" or "sk-nope") are not remembered for every error: taking
# each "x" out of every message would make them unreadable. Passed to `redact` they still go.
MIN_KEY_LENGTH = 8
_known: set[str] = set()
_known_lock = threading.Lock()


class Secret:
    """Holds an API key; its repr never shows it (`.get()` does). Made once per key and remembered,
    so errors raised anywhere in this process have it taken out."""

    __slots__ = ("_value",)

    def __init__(self, value: str | None) -> None:
        self._value = value
        if value and len(value) >= MIN_KEY_LENGTH:
            with _known_lock:
                _known.add(value)

    def get(self) -> str | None:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "<Secret set>" if self._value else "<Secret none>"

    __str__ = __repr__

    def __reduce__(self):  # a batch worker's copy is remembered in its own process too
        return (Secret, (self._value,))


def _spans(text: str, key: str) -> list[tuple[int, int]]:
    """Where `key`, or a piece of it of FRAGMENT characters or more, is in `text`."""
    if len(key) <= FRAGMENT:
        pieces = [key]
    else:
        pieces = [key[i:i + FRAGMENT] for i in range(len(key) - FRAGMENT + 1)]
    spans = []
    for piece in pieces:
        at = text.find(piece)
        while at != -1:
            spans.append((at, at + len(piece)))
            at = text.find(piece, at + 1)
    return spans


def redact(text: str, key: str | None = None) -> str:
    """`text` with every key this process holds (and `key`) replaced by ***: whole keys and every
    piece of one at least FRAGMENT characters long."""
    if not text or not isinstance(text, str):
        return text
    with _known_lock:
        keys = set(_known)
    if key:
        keys.add(key)
    spans = [span for k in keys for span in _spans(text, k)]
    if not spans:
        return text
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:  # overlapping or touching pieces: one stretch of key
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, at = [], 0
    for start, end in merged:
        out += [text[at:start], MASK]
        at = end
    out.append(text[at:])
    return "".join(out)


def redact_value(value: Any, key: str | None = None, _depth: int = 0) -> Any:
    """`value` (a string, or JSON-like lists and dicts of them) with keys redacted in every string,
    dict keys included."""
    if isinstance(value, str):
        return redact(value, key)
    if _depth > 32:  # deeper than any error body worth showing: shown as its redacted repr
        return redact(repr(value), key)
    if isinstance(value, dict):
        return {redact_value(k, key, _depth + 1): redact_value(v, key, _depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v, key, _depth + 1) for v in value)
    return value
