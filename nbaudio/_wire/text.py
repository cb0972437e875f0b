"""Small text helpers shared by the value types, the display, the magics and the engine.

Layer 1: imports nothing from nbaudio, so anything may use it.
"""

from __future__ import annotations

import re

__all__ = ["looks_like_text", "shorten", "format_timestamp", "parse_timestamp", "format_clock", "plural", "human_bytes",
           "one_line"]

_TIME_RE = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})")


def shorten(text: str, width: int = 60) -> str:
    """`text` stripped and cut to `width` characters with an ellipsis (for reprs)."""
    text = text.strip()
    return text if len(text) <= width else text[: width - 1] + "…"


_TEXT_SNIFF_BYTES = 512
_TEXT_MIN_PRINTABLE = 0.95  # share of printable characters above which bytes are taken for text


def looks_like_text(data: bytes) -> bool:
    """True when the first bytes are printable UTF-8: a text file passed where audio belongs, or a
    server's words ("upstream error: ...") where audio was asked for. A character cut in two at the
    sniffed length still counts as text."""
    sample = bytes(data[:_TEXT_SNIFF_BYTES]).decode("utf-8", errors="replace")
    if len(data) > _TEXT_SNIFF_BYTES:
        sample = sample.rstrip("\ufffd")  # the last character may be cut by the sniffed length
    if not sample:
        return False
    printable = sum((ch.isprintable() and ch != "\ufffd") or ch in "\r\n\t" for ch in sample)
    return printable / len(sample) > _TEXT_MIN_PRINTABLE


def one_line(text: str) -> str:
    """`text` with every run of whitespace (newlines included) folded into one space."""
    return " ".join(str(text).split())


def plural(n: int, noun: str) -> str:
    """'1 word', '2 words'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def human_bytes(n: int | float) -> str:
    """'512 B', '1.5 kB', '3.2 MB' (decimal units)."""
    for unit in ("B", "kB", "MB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def format_timestamp(seconds: float, *, sep: str = ",", always_hours: bool = True) -> str:
    """01:02:03,450 (SRT) or 01:02:03.450 (VTT)."""
    ms_total = max(0, int(round(seconds * 1000)))
    h, rem = divmod(ms_total, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    if h or always_hours:
        return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"
    return f"{m:02d}:{s:02d}{sep}{ms:03d}"


def parse_timestamp(text: str) -> float:
    """Seconds from an SRT/VTT timestamp ('01:02:03,450', '02:03.4'); ValueError if it is not one."""
    m = _TIME_RE.fullmatch(text.strip())
    if not m:
        raise ValueError(f"not a timestamp: {text!r}")
    h, mi, s, frac = m.groups()
    return int(h or 0) * 3600 + int(mi) * 60 + int(s) + int(frac.ljust(3, "0")) / 1000


def format_clock(seconds: float, *, decimals: int = 2, hours: bool | None = None) -> str:
    """m:ss.ss (or h:mm:ss.s when `hours`, which defaults to seconds >= 1 h)."""
    seconds = max(0.0, float(seconds))
    if hours is None:
        hours = seconds >= 3600
    scale = 10 ** decimals
    total = round(seconds * scale)
    whole, frac = divmod(total, scale)
    h, rem = divmod(whole, 3600)
    m, s = divmod(rem, 60)
    tail = f".{frac:0{decimals}d}" if decimals else ""
    if hours:
        return f"{h}:{m:02d}:{s:02d}{tail}"
    return f"{h * 60 + m}:{s:02d}{tail}"
