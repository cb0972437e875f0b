"""The driver loop of a batch: hands inputs to an executor as the limiter allows, re-sends what
the workers say is worth re-sending, appends each finished row to the results file, draws the
progress bar, and stops cleanly on KeyboardInterrupt (Kernel -> Interrupt) with what is done.

It runs in the caller's thread; the work runs in the executor (threads, Dask, processes).
"""

from __future__ import annotations

import concurrent.futures as cf
import heapq
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._wire.text import format_clock
from ..progress import progress
from .journal import Journal
from .limiter import AdaptiveLimiter
from .sources import Job
from .worker import Attempt

__all__ = ["THROTTLED_ATTEMPTS", "RunStats", "run_jobs"]

log = logging.getLogger("nbaudio")

# Attempts an input gets while the server says "too many requests" (429 / 503): those answers
# set the pace rather than report a failure, so they get more tries than the client's max_retries.
THROTTLED_ATTEMPTS = 12
_POLL_S = 0.5  # the longest the loop waits without looking at the clock (and at Ctrl-C)


@dataclass
class RunStats:
    """How a run went (shown in the results' summary)."""

    inputs: int
    resumed: int = 0  # rows taken from the results file, not redone
    requests: int = 0  # attempts handed to the executor
    retries: int = 0
    throttled: int = 0  # answers that said "slow down" (429 / 503)
    interrupted: bool = False
    wall: float = 0.0
    concurrency: int = 0
    lowest_concurrency: int = 0
    audio_seconds: float = 0.0  # of the inputs done in this run (not those resumed)


class _Bar:
    """One progress bar (nbaudio.progress) whose label carries the throughput and the time left."""

    def __init__(self, total: int, desc: str) -> None:
        self._bar = progress(total, desc)
        self._desc, self._total, self._n = desc, total, 0
        self._started = time.monotonic()

    def update(self) -> None:
        self._n += 1
        elapsed = time.monotonic() - self._started
        rate = self._n / elapsed if elapsed > 0 else 0.0
        left = (self._total - self._n) / rate if rate else 0.0
        if not hasattr(self._bar, "set_postfix_str"):  # tqdm shows rate and time left by itself
            self._bar.desc = f"{self._desc} {rate:.2f}/s, {format_clock(left, decimals=0)} left"
        self._bar.update(1)

    def close(self) -> None:
        self._bar.desc = self._desc
        self._bar.close()


Task = Callable[[Any, Job, dict[str, Any], int], Attempt]


def run_jobs(jobs: list[Job], task: Task, target: Any, kwargs: dict[str, Any], *, executor: cf.Executor,
             limiter: AdaptiveLimiter, journal: Journal | None, desc: str, max_retries: int,
             finish: Callable[[Job, dict[str, Any]], dict[str, Any]] = lambda job, row: row,
             stats: RunStats) -> dict[int, dict[str, Any]]:
    """Run `task` over `jobs`; {job.index: row} for every job that finished (all of them unless
    interrupted). `finish(job, row)` turns a worker's row into the row kept and journaled."""
    rows: dict[int, dict[str, Any]] = {}
    waiting: list[tuple[float, int, int]] = [(0.0, j.index, 0) for j in jobs]  # (not before, index, attempt)
    heapq.heapify(waiting)
    by_index = {j.index: j for j in jobs}
    running: dict[cf.Future, tuple[Job, int, float]] = {}
    bar = _Bar(len(jobs), desc)
    started = time.monotonic()
    try:
        while waiting or running:
            now = time.monotonic()
            while waiting and waiting[0][0] <= now and limiter.wait() == 0.0:
                _, index, attempt = heapq.heappop(waiting)
                job = by_index[index]
                running[executor.submit(task, target, job, kwargs, attempt)] = (job, attempt, limiter.start())
                stats.requests += 1
                if attempt:
                    stats.retries += 1
            wake = min(limiter.wait(), (waiting[0][0] - now) if waiting else _POLL_S, _POLL_S)
            if not running:
                time.sleep(max(0.01, wake))
                continue
            done, _ = cf.wait(running, timeout=max(0.01, wake), return_when=cf.FIRST_COMPLETED)
            for fut in done:
                job, attempt, ticket = running.pop(fut)
                outcome = _outcome(fut, job, attempt)
                limiter.done(ticket, throttled=outcome.throttled, retry_in=outcome.retry_in)
                budget = THROTTLED_ATTEMPTS if outcome.throttled else max_retries + 1
                if outcome.retry_in is not None and attempt + 1 < budget:
                    heapq.heappush(waiting, (time.monotonic() + outcome.retry_in, job.index, attempt + 1))
                    continue
                row = finish(job, outcome.row)
                rows[job.index] = row
                if not row.get("error"):
                    stats.audio_seconds += row.get("duration") or 0.0
                if journal is not None:
                    journal.append(job.key, row)
                bar.update()
    except KeyboardInterrupt:
        stats.interrupted = True
        for fut in running:
            fut.cancel()  # those not started yet; the ones under way finish unseen
        log.info("interrupted: %d of %d inputs done", len(rows), len(jobs))
    finally:
        bar.close()
        if journal is not None:
            journal.close()
        stats.wall += time.monotonic() - started
        stats.throttled += limiter.throttled
        stats.concurrency = limiter.maximum
        stats.lowest_concurrency = limiter.lowest
    return rows


def _outcome(fut: cf.Future, job: Job, attempt: int) -> Attempt:
    """The task's Attempt; a task that raised becomes an error row. The worker already turns every
    nbaudio error into a row; what arrives here is the executor's own failure (a Dask worker that
    died, arguments that did not pickle) or a bug, and it must not lose the other inputs' rows."""
    try:
        return fut.result()
    except Exception as exc:  # deliberate boundary: one input's failure is its row, the batch goes on
        return Attempt({"source": job.source, "elapsed": None, "attempts": attempt + 1,
                        "error": f"{type(exc).__name__}: {exc}"})
