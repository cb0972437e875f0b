"""What the microphone widgets' pages report about their audio, checked the same way for each."""

from __future__ import annotations

from typing import Any

__all__ = ["BROWSER_RATES", "browser_rate"]

# Rates a browser's AudioContext can run at (the Web Audio spec's range).
BROWSER_RATES = (3000, 768000)


def browser_rate(value: Any) -> int | None:
    """The sample rate a page reported, as a whole number of Hz, or None when it is not one a
    browser can run at (JSON may carry 48000 as 48000.0)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not BROWSER_RATES[0] <= value <= BROWSER_RATES[1]:
        return None
    return value
