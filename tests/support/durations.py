"""How long each test file took, saved after a run and read before the next, so that `make test`
starts the longest files first.

With `--dist loadfile` a file's tests run on one xdist worker, and a worker takes the next file
when it is done with one. pytest-xdist orders the files by their number of tests (the default
`--loadscope-reorder`), which sends the slowest files (two or three tests that each run a
notebook, a load test or a meeting) last: one worker then runs them while the other waits. Longest
first (the Makefile passes `--no-loadscope-reorder`, so xdist keeps the order given here) leaves
only short files for the end, and the two workers finish together.

Before a run has saved its times (a new checkout), SEED gives the slowest files' times; a file
with no time at all counts as UNKNOWN_S (a typical file of engine tests) and keeps its place.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

__all__ = ["PATH", "SEED", "UNKNOWN_S", "load", "longest_first", "record", "save"]

PATH = Path(__file__).resolve().parents[2] / "build" / "test-durations.json"
UNKNOWN_S = 30.0
# Seconds on two quiet cores, estimated 2026-12-07 from single-file runs on a busy machine (scaled
# by the load) and the notebooks' runs in the canary test; only their order matters.
SEED = {
    "tests/engine/test_engine_diarize.py": 260.0,
    "tests/client/test_key_hygiene.py": 210.0,  # + notebook 07
    "tests/engine/test_engine_load.py": 95.0,
    "tests/engine/test_loops.py": 50.0,
    "tests/browser/test_browser.py": 65.0,
    "notebooks/04_classroom.ipynb": 45.0,
    "notebooks/07_voice_agents.ipynb": 45.0,
    "notebooks/06_compare.ipynb": 40.0,
    "notebooks/01_quickstart.ipynb": 30.0,
}
_seconds: defaultdict[str, float] = defaultdict(float)


def _file(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]  # how xdist's loadfile names a file's scope


def load(path: Path = PATH) -> dict[str, float]:
    """The saved times, or SEED when none were saved."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return dict(SEED)
    return {k: float(v) for k, v in data.items() if isinstance(v, int | float)} if isinstance(data, dict) else {}


def longest_first(items: list[Any], known: dict[str, float]) -> None:
    """Sort `items` file by file, longest time first (UNKNOWN_S for a file with none), keeping the
    order of the tests inside a file and of files with equal times."""
    first_seen: dict[str, int] = {}
    for i, item in enumerate(items):
        first_seen.setdefault(_file(item.nodeid), i)
    items.sort(key=lambda item: (-known.get(_file(item.nodeid), UNKNOWN_S), first_seen[_file(item.nodeid)]))


def record(report: Any) -> None:
    """Add a test phase's (setup, call, teardown) time to its file's total."""
    _seconds[_file(report.nodeid)] += float(getattr(report, "duration", 0.0) or 0.0)


def save(config: Any, path: Path = PATH) -> None:
    """Merge this run's file totals into the saved ones. Not from an xdist worker (the controller
    sees every worker's reports), nor after a run that left tests out by keyword or marker (its
    totals would be short)."""
    if hasattr(config, "workerinput") or not _seconds or config.option.keyword or config.option.markexpr:
        return
    merged = {**load(path), **{k: round(v, 2) for k, v in _seconds.items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(dict(sorted(merged.items(), key=lambda kv: -kv[1])), indent=1), encoding="utf-8")
    tmp.replace(path)
