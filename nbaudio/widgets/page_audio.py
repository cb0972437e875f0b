"""What the microphone widgets' pages report about their audio, checked the same way for each."""

from __future__ import annotations

from typing import Any

__all__ = ["BROWSER_RATES", "MAX_PIECE_SECONDS", "audio_piece", "browser_rate"]

# Rates a browser's AudioContext can run at (the Web Audio spec's range).
BROWSER_RATES = (3000, 768000)
# The pages send 0.05-0.2 s at a time; far more is not from nbaudio's widget modules.
MAX_PIECE_SECONDS = 5.0


def browser_rate(value: Any) -> int | None:
    """The sample rate a page reported, as a whole number of Hz, or None when it is not one a
    browser can run at (JSON may carry 48000 as 48000.0)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not BROWSER_RATES[0] <= value <= BROWSER_RATES[1]:
        return None
    return value


def audio_piece(content: dict[str, Any], buffers: list[Any]) -> tuple[int, bytes] | None:
    """A page's audio message as (its sequence number, its PCM16 bytes), or None when it is not one:
    not exactly one buffer, a sequence number that is not an int, or more than MAX_PIECE_SECONDS of
    audio at the highest rate a browser runs at."""
    seq = content.get("seq")
    if len(buffers) != 1 or not isinstance(seq, int) or isinstance(seq, bool):
        return None
    data = bytes(buffers[0])
    return (seq, data) if len(data) <= 2 * BROWSER_RATES[1] * MAX_PIECE_SECONDS else None
