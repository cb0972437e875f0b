"""The engine on recordings of people (tests/fixtures/real_speech: sources, licences and the
tuning/reporting split in its README), each figure beside its baseline measured in the same run.

    python -m benchmarks.bench_real [--quick]

Diarization (benchmarks/real_diarization.py) and transcription (benchmarks/real_transcription.py)
are reported only on the recordings nothing was tuned on.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import Result, script_main  # noqa: E402


def collect(quick: bool = False) -> list[Result]:
    from benchmarks import real_diarization, real_transcription

    return real_transcription.collect(quick) + real_diarization.collect(quick)


if __name__ == "__main__":
    raise SystemExit(script_main("real speech", collect, __doc__))
