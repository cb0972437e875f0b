"""The transcription part of the `real` area (benchmarks/bench_real.py)."""

from __future__ import annotations

from benchmarks.harness import Result


def collect(quick: bool = False) -> list[Result]:
    return []
