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
# Seconds per file of a clean-clone `make test` (2026-12-07, 2 cores, load 3-9), the files over 30 s;
# only their order matters. test_browser_live.py's 237 s split into the scenario and the pause tests
# as they shared it in a run at load 10-20 (198 s and 86 s); test_key_hygiene.py runs one notebook
# where it ran seven (34 s at load 5-11). test_browser.py, _recorder and _listening: after they
# shared a lab per worker (tests/support/browser.py SharedLabs), in a run of the seven files that
# share one (-n 2 --dist loadfile, load 13-22); _display then took 23 s, _voice_cells 10 s.
SEED = {
    "tests/browser/test_browser_live.py": 165.0,
    "tests/engine/test_engine_diarize.py": 128.0,
    "tests/batch/test_batch_dask.py": 111.0,
    "tests/hostile/test_engine_hostile.py": 83.0,
    "tests/browser/test_browser_reopen.py": 79.0,
    "tests/batch/test_batch_relay.py": 76.0,
    "tests/browser/test_browser_live_pause.py": 72.0,
    "tests/browser/test_browser.py": 71.0,
    "tests/engine/test_shared_engine.py": 67.0,
    "tests/engine/test_engine_fuzz.py": 65.0,
    "tests/engine/test_engine_transcribe.py": 65.0,
    "tests/engine/test_engine_real_speech.py": 65.0,
    "tests/engine/test_engine_load.py": 64.0,
    "tests/browser/test_browser_recorder.py": 64.0,
    "tests/browser/test_browser_captions.py": 57.0,
    "tests/engine/test_loops.py": 54.0,
    "tests/client/test_litellm_relay.py": 48.0,
    "notebooks/04_classroom.ipynb": 45.0,
    "tests/batch/test_batch_engine.py": 38.0,
    "tests/browser/test_browser_listening.py": 38.0,
    "notebooks/07_voice_agents.ipynb": 36.0,
    "tests/client/test_key_hygiene.py": 35.0,
    "tests/realtime/test_sdk_engine.py": 34.0,
    "tests/engine/test_chat_determinism.py": 33.0,
    "tests/realtime/test_sdk_transcription.py": 30.0,
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
