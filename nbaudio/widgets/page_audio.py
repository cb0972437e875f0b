"""What the microphone widgets' pages report about their audio, checked the same way for each."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._wire.realtime import SAMPLE_RATE
from ..codec import whole_pcm16

__all__ = ["BROWSER_RATES", "MAX_PIECE_SECONDS", "PageResampler", "audio_piece", "browser_rate"]

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


class PageResampler:
    """A page's pcm16 pieces as pcm16 at the Realtime API's 24 kHz: as they are when the page runs at
    24 kHz, else through one soxr stream per session, so the pieces join without a seam (a piece of a
    few samples may give nothing yet: the stream holds it back)."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._stream: Any = None

    def pcm16(self, pcm: bytes) -> bytes:
        pcm = whole_pcm16(pcm)
        if self.rate == SAMPLE_RATE:
            return pcm
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        if self._stream is None:
            import soxr

            self._stream = soxr.ResampleStream(self.rate, SAMPLE_RATE, 1, dtype="float32")
        out = self._stream.resample_chunk(samples)
        return (np.clip(out, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
