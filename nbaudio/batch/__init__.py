"""A corpus in a cell: `transcribe_many` (a folder, a glob, a list or a DataFrame column of
audio -> one row per input) and `speak_many` (texts -> clips), from a laptop's threads to a
Dask cluster.

    df = nbaudio.transcribe_many("interviews/*.wav", results="runs/interviews.jsonl")
    df                      # the rows, under a summary: inputs, hours, errors, languages, throughput

Parts: sources.py (inputs -> jobs), worker.py (one attempt at one input, on any executor),
limiter.py (AIMD concurrency, Retry-After for all workers), runner.py (the driver loop, progress,
Ctrl-C), journal.py (the resumable JSONL results file), summary.py / frame.py (the display).
pandas is optional (`nbaudio[batch]`): without it the result is a list of dict rows.
"""

from __future__ import annotations

from .api import DEFAULT_CONCURRENCY, speak_many, transcribe_many
from .limiter import AdaptiveLimiter
from .summary import Summary
from .worker import WorkerSettings

__all__ = ["DEFAULT_CONCURRENCY", "AdaptiveLimiter", "Summary", "WorkerSettings", "speak_many", "transcribe_many"]
