"""The adaptive limiter of a batch: AIMD on the concurrency and on the pace of starts.

It lives in the process that hands the inputs out (the notebook's kernel), not in the workers:
an input is submitted to the executor only when the limiter has room, so one limiter governs
every thread and every worker process of any `concurrent.futures.Executor` (Dask's included)
with no shared state to keep in step. A worker that meets 429 / 503 makes no second attempt
of its own: it reports the wait the server asked for, and the limiter

- stops every start until then (`paused_until`, the server's Retry-After);
- halves the concurrency when it was full (each success adds 1 / limit back: one per round of
  successes);
- paces the starts: relays limit requests per second, which a concurrency limit cannot hold
  when answers are quick, so a throttled answer sets the pace to DECREASE_RATE of the rate
  that succeeded over the last RATE_WINDOW seconds, and each success speeds it up by
  RATE_GROWTH. That probes the limit every few inputs and keeps ~90% of it.

Only answers to inputs started after the last cut count as news: a burst of refusals to
requests that were already on their way cuts once.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

__all__ = ["DECREASE", "DECREASE_RATE", "INCREASE", "RATE_GROWTH", "RATE_WINDOW", "AdaptiveLimiter"]

DECREASE = 0.5  # the concurrency is multiplied by this on a throttled answer
INCREASE = 1.0  # ... and grows by INCREASE / limit on each success
# The pace after a throttled answer, as a share of the rate that succeeded, and its growth on each
# success (about 5 successes from 0.95 back to 1). Measured behind a relay allowing 5 requests/s
# (benchmarks/bench_batch.py): 0.8 / 1.02 kept 0.84-0.86 of the allowed rate, 0.95 / 1.01 kept
# 0.91 with as many refusals (most come in the first second, before any pace is known).
DECREASE_RATE = 0.95
RATE_GROWTH = 1.01
RATE_WINDOW = 2.0  # seconds of successes the succeeding rate is measured over
_MIN_MEASURED = 2  # successes needed in the window to measure a rate from them


class AdaptiveLimiter:
    """How many inputs may be in flight now, and from when the next may start.

    Not thread-safe on purpose: only the batch's driver loop (one thread) calls it.
    """

    def __init__(self, limit: int, *, minimum: int = 1, clock: Callable[[], float] = time.monotonic) -> None:
        self.maximum = max(minimum, int(limit))
        self.minimum = minimum
        self.limit = float(self.maximum)
        self.rate: float | None = None  # starts per second; None: not paced (no throttled answer yet)
        self.in_flight = 0
        self.paused_until = 0.0
        self.throttled = 0  # answers that said "slow down" (429, 503)
        self.lowest = self.maximum
        self._clock = clock
        self._last_cut = -math.inf
        self._last_start = -math.inf
        self._successes: deque[float] = deque()  # when recent successes came back

    @property
    def allowed(self) -> int:
        """Inputs that may be in flight at once now."""
        return max(self.minimum, int(self.limit))

    def wait(self) -> float:
        """Seconds until another input may start: 0 now, inf while the limit is reached."""
        if self.in_flight >= self.allowed:
            return math.inf
        paced = self._last_start + 1.0 / self.rate if self.rate else 0.0
        return max(0.0, max(self.paused_until, paced) - self._clock())

    def start(self) -> float:
        """Count one more input in flight; the returned ticket (its start time) goes back to done()."""
        self.in_flight += 1
        self._last_start = self._clock()
        return self._last_start

    def done(self, ticket: float, *, throttled: bool = False, retry_in: float | None = None) -> None:
        """One input came back: a success speeds up, a throttled answer slows down (see the module)."""
        # Whether the concurrency was what held inputs back (else the pace was): only then is it cut.
        full = self.in_flight >= self.allowed
        self.in_flight = max(0, self.in_flight - 1)
        now = self._clock()
        while self._successes and self._successes[0] < now - RATE_WINDOW:
            self._successes.popleft()
        if not throttled:
            self._successes.append(now)
            self.limit = min(float(self.maximum), self.limit + INCREASE / self.limit)
            if self.rate is not None:
                self.rate *= RATE_GROWTH
            return
        self.throttled += 1
        if retry_in is not None and retry_in > 0:
            self.paused_until = max(self.paused_until, now + retry_in)
        if ticket >= self._last_cut:
            if full or self.rate is None:
                self.limit = max(float(self.minimum), self.limit * DECREASE)
                self.lowest = min(self.lowest, self.allowed)
            measured = self._success_rate()
            if measured is not None:
                self.rate = DECREASE_RATE * measured
            self._last_cut = now

    def _success_rate(self) -> float | None:
        """Successes per second over the span they came back in (not counting time spent paused
        before the first of them); None with too few to tell."""
        if len(self._successes) < _MIN_MEASURED:
            return None
        span = self._successes[-1] - self._successes[0]
        return (len(self._successes) - 1) / span if span > 0 else None

    def __repr__(self) -> str:
        pace = f", {self.rate:.2f}/s" if self.rate else ""
        return f"<AdaptiveLimiter {self.in_flight}/{self.allowed} in flight (max {self.maximum}){pace}>"
