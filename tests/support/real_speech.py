"""The recordings of people in tests/fixtures/real_speech (see its README for sources, licences and
the tuning/reporting split), read for tests and for `make bench`'s `real` area."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1] / "fixtures" / "real_speech"
AMI = ROOT / "ami"
# Tuned on (train.rttm) and reported (development.rttm): never tune on the second.
AMI_TUNING = tuple(f"trn{i:02d}" for i in range(10))
AMI_REPORTED = ("dev00", "dev01")


@dataclass(frozen=True)
class Meeting:
    """One AMI excerpt: its audio (16 kHz mono float32) and its reference turns (start, end, speaker)."""

    name: str
    samples: np.ndarray
    turns: list[tuple[float, float, str]]
    annotated: tuple[float, float]

    @property
    def speakers(self) -> list[str]:
        return sorted({s for *_, s in self.turns})

    @property
    def path(self) -> Path:
        return AMI / f"{self.name}.flac"

    def one_speaker(self) -> list[tuple[float, float, str]]:
        """The baseline "all speech is one speaker": the reference's speech, one label."""
        merged: list[list[float]] = []
        for start, end, _ in self.turns:
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        return [(s, e, "everyone") for s, e in merged]

    def overlapped_share(self, step: float = 0.001) -> float:
        """The part of reference speaker time where someone else speaks too: the least DER a
        system that gives one speaker at a time can reach."""
        n = int(round((self.annotated[1] - self.annotated[0]) / step))
        count = np.zeros(n)
        for start, end, _ in self.turns:
            a = max(0, int(round((start - self.annotated[0]) / step)))
            b = min(n, int(round((end - self.annotated[0]) / step)))
            count[a:b] += 1
        total = count.sum()
        return float(np.clip(count - 1, 0, None).sum() / total) if total else 0.0


def _rttm(path: Path) -> dict[str, list[tuple[float, float, str]]]:
    out: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER":
            start, dur = float(parts[3]), float(parts[4])
            out[parts[1]].append((start, start + dur, parts[7]))
    return out


def _uem(path: Path) -> dict[str, tuple[float, float]]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        uri, _, start, end = line.split()
        out[uri] = (float(start), float(end))
    return out


def meeting(name: str) -> Meeting:
    """An AMI excerpt by name (trn00-trn09 for tuning, dev00/dev01 reported)."""
    import soundfile as sf

    part = "development" if name.startswith("dev") else "train"
    samples, rate = sf.read(AMI / f"{name}.flac", dtype="float32")
    assert rate == 16000, rate
    return Meeting(name, samples, sorted(_rttm(AMI / f"{part}.rttm")[name]), _uem(AMI / f"{part}.uem")[name])
