"""The diarization part of the `real` area (benchmarks/bench_real.py): the engine's diarizer on AMI
meeting excerpts (tests/fixtures/real_speech/ami, 30 s each), each figure beside its baseline.

The diarizer runs in this process (Silero VAD, Resemblyzer's encoder in numpy, clustering: what the
engine's diarized_json and /v1/audio/diarizations run, without Whisper or HTTP around it).
Per recording:
- DER, overlap-aware, with the standard one-to-one speaker mapping, without a collar and with the
  usual 0.25 s collar (nbaudio.speakers.diarization_error_rate, which agrees with pyannote.metrics:
  tests/engine/test_real_diarization.py);
- the baseline "all speech is one speaker": the reference's speech, one label, scored the same way;
- the overlapped share: reference speaker time during which someone else talks too, the least DER a
  system that gives one speaker at a time can reach;
- speakers found vs true.
Targets (issue 28): speakers within ±1 of the truth; DER (0.25 s collar) at most the overlapped share
+ 0.15 and never above the one-speaker baseline; on dev00, a clean 2-person conversation: 2 speakers,
DER ≤ 0.10.

Reported: dev00 and dev01 (never tuned on; both 2 speakers). The 3-4 speaker meetings are all in the
tuning part, so they are reported by two-fold cross-validation: the settings (nbaudio.server.
diarization.pipeline.Tuning) are chosen from grid() on trn05-09 and scored on trn00-04, and the other
way round. The shipped settings were chosen on all of trn00-09 (a wider search, by hand).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from benchmarks.harness import Result, Stat

COLLAR = 0.25
OVERLAP_MARGIN = 0.15
DEV00_DER_TARGET = 0.10
HALVES = (tuple(f"trn{i:02d}" for i in range(5)), tuple(f"trn{i:02d}" for i in range(5, 10)))


def grid() -> list[Any]:
    """The settings the cross-validation chooses from: the merge distance fixed at 0.30 or 0.35, or
    1.0 / 1.1 / 1.2 times the recording's median window distance (within 0.30-0.36), and one cluster's
    turns across pauses under 1 s joined or not (Silero's settings and the fold share as shipped: see Tuning)."""
    from nbaudio.server.diarization.pipeline import TUNED

    fixed = [replace(TUNED, cluster_distance=d, cluster_distance_ratio=0.0, cluster_distance_max=d)
             for d in (0.30, 0.35)]
    relative = [replace(TUNED, cluster_distance_ratio=r) for r in (1.0, 1.1, 1.2)]
    return [replace(t, same_speaker_gap_s=gap) for t in fixed + relative for gap in (0.0, 1.0)]


@dataclass(frozen=True)
class Score:
    name: str
    der: float
    der_collar: float
    baseline: float
    baseline_collar: float
    overlap: float
    found: int
    true: int
    seconds: float

    @property
    def count_ok(self) -> bool:
        return abs(self.found - self.true) <= 1

    @property
    def der_ok(self) -> bool:
        return self.der_collar <= self.overlap + OVERLAP_MARGIN and self.der_collar <= self.baseline_collar + 1e-9

    @property
    def met(self) -> bool:
        return self.count_ok and self.der_ok

    def line(self) -> str:
        return (f"{self.name}: DER {self.der:.3f} / {self.der_collar:.3f} (collar) beside one speaker "
                f"{self.baseline:.3f} / {self.baseline_collar:.3f}; overlapped {self.overlap:.3f}; speakers "
                f"{self.found} of {self.true}; {'met' if self.met else 'not met'}")


def score(diarizer: Any, name: str, tuning: Any) -> Score:
    from tests.support.real_speech import meeting

    return score_meeting(diarizer, meeting(name), tuning)


def score_meeting(diarizer: Any, m: Any, tuning: Any) -> Score:
    """One recording (a tests.support.real_speech.Meeting: samples, reference turns, annotated span)
    scored as every row of this area is."""
    from nbaudio.speakers import diarization_error_rate

    t0 = time.perf_counter()
    turns = diarizer.diarize(m.samples, tuning=tuning)
    seconds = time.perf_counter() - t0
    hyp = [(t.start, t.end, t.speaker) for t in turns]
    base = m.one_speaker()
    return Score(m.name, diarization_error_rate(m.turns, hyp).der,
                 diarization_error_rate(m.turns, hyp, collar=COLLAR).der,
                 diarization_error_rate(m.turns, base).der, diarization_error_rate(m.turns, base, collar=COLLAR).der,
                 m.overlapped_share(), len({t.speaker for t in turns}), len(m.speakers), seconds)


def _chosen(diarizer: Any, names: tuple[str, ...]) -> Any:
    """The grid's settings that meet the targets on most of `names`, then the lowest mean DER (collar)."""
    def rank(tuning: Any) -> tuple[int, float]:
        scores = [score(diarizer, n, tuning) for n in names]
        return sum(s.met for s in scores), -sum(s.der_collar for s in scores) / len(scores)

    return max(grid(), key=rank)


def _row(s: Score, target: str, met: bool, label: str) -> Result:
    return Result(f"diarization, AMI {label} (real meeting, {s.true} speakers): DER, 0.25 s collar",
                  f"{s.der_collar:.3f} (no collar {s.der:.3f})",
                  f"one speaker: {s.baseline_collar:.3f} ({s.baseline:.3f})",
                  s.der_collar / s.baseline_collar if s.baseline_collar > 0 else None, target, met,
                  note=f"{s.found} speakers found of {s.true}; overlapped share {s.overlap:.3f}; RTF "
                       f"{s.seconds / 30:.3f}")


def collect(quick: bool = False) -> list[Result]:
    from nbaudio.server.diarization.pipeline import TUNED, load_diarizer
    from nbaudio.server.settings import Settings

    diarizer = load_diarizer(Settings.from_env().cache_dir)
    dev00, dev01 = score(diarizer, "dev00", TUNED), score(diarizer, "dev01", TUNED)
    rows = [
        _row(dev00, f"2 speakers, ≤ {DEV00_DER_TARGET}", dev00.found == 2 and dev00.der_collar <= DEV00_DER_TARGET
             and dev00.der_ok, "dev00 (2-person conversation)"),
        _row(dev01, "±1 speaker, ≤ overlap + 0.15 and ≤ one speaker", dev01.met, "dev01"),
    ]
    rtf = Stat([s.seconds / 30 for s in (dev00, dev01)])
    rows.append(Result("diarization real-time factor on AMI (VAD + encoder + clustering, in process, 2 cores)",
                       rtf.fmt("×"), "—", rtf.median, "—", None))
    if quick:
        return rows
    for report, tune in (HALVES, HALVES[::-1]):
        tuning = _chosen(diarizer, tune)
        scores = [score(diarizer, n, tuning) for n in report]
        mean = sum(s.der_collar for s in scores) / len(scores)
        base = sum(s.baseline_collar for s in scores) / len(scores)
        rows.append(Result(
            f"diarization, AMI {report[0]}-{report[-1]} (1-4 speakers) tuned on {tune[0]}-{tune[-1]} only: "
            "mean DER, 0.25 s collar", f"{mean:.3f}", f"one speaker: {base:.3f}", mean / base if base else None,
            "each: ±1 speaker, ≤ overlap + 0.15 and ≤ one speaker",
            all(s.met for s in scores),
            note=f"{sum(s.met for s in scores)} of {len(scores)} met; count within ±1 on "
                 f"{sum(s.count_ok for s in scores)}; settings chosen: {tuning}",
            detail=[s.line() for s in scores]))
    return rows
