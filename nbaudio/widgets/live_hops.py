"""The kernel's stamps on a live session's way from mouth to ear, for the benchmark's breakdown of
the latency by hop (benchmarks/bench_live.py): when each microphone piece reached the kernel and
left for the server, when the server's end of the turn came, and when the reply's first audio came.

The stamps are wall-clock milliseconds since the epoch (`time.time()`): the page stamps with
`Date.now()`, the same clock on the same machine, so the page can subtract the two sides' stamps.
"""

from __future__ import annotations

import collections
import time
from typing import Any

__all__ = ["HopStamps", "now_ms"]

# Microphone pieces whose stamps the end of a turn carries: 5 s of 50 ms pieces, longer than an
# end-of-turn wait under load (the page looks up the piece that held the last of the speech).
PIECES_KEPT = 100


def now_ms() -> float:
    return round(time.time() * 1000, 1)


class HopStamps:
    """Stamps of one live session. `received()` on the kernel's thread that takes the page's
    messages; the rest on the bridge's thread, in the order the events come."""

    def __init__(self) -> None:
        self._pieces: collections.deque[tuple[int, float, float]] = collections.deque(maxlen=PIECES_KEPT)
        self._marks: dict[str, float] = {}  # since the last speech_stopped: when each step of the reply came
        self._heard: set[str] = set()  # responses whose first audio went to the page

    @staticmethod
    def received() -> float:
        return now_ms()

    def sent(self, seq: int, received: float) -> None:
        """Microphone piece `seq`, which reached the kernel at `received`, went to the server now."""
        self._pieces.append((seq, received, now_ms()))

    def stopped(self) -> dict[str, Any]:
        """The server's speech_stopped came now: what the page's message carries (the recent pieces
        as [seq, reached the kernel, sent to the server])."""
        at = now_ms()
        self._marks = {"stopped": at}
        return {"at": at, "pieces": [list(p) for p in self._pieces]}

    def mark(self, name: str) -> None:
        """The first event of a kind since the end of the turn ("transcribed", "token")."""
        self._marks.setdefault(name, now_ms())

    def first_audio(self, response_id: str | None) -> dict[str, float] | None:
        """Audio of `response_id` came now: the stamps of its turn when it is the response's first."""
        if response_id is None or response_id in self._heard:
            return None
        self._heard.add(response_id)
        return {**self._marks, "audio": now_ms()}
