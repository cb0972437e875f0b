"""The recordings of people in tests/fixtures/real_speech (see its README for sources, licences and
the tuning/reporting split), read for tests and for `make bench`'s `real` area."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Word error rates have one home, nbaudio.metrics (Whisper's normaliser: English's for English, the
# basic one otherwise; jiwer's counts; Chinese, Japanese, Thai, Cantonese by characters, as AISHELL
# is): re-exported here for the tests and benchmarks that read them from this module.
from nbaudio.metrics import CHARACTER_LANGUAGES as CHARACTER_LANGUAGES
from nbaudio.metrics import error_counts as error_counts
from nbaudio.metrics import normalize as normalize

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


# ---- recordings of people for transcription (speech/, manifest.json) -------------------------------
SPEECH = ROOT / "speech"
# The pause put between the recordings a language-switch file is made of: between two of one
# language, and where the language changes (a speaker taking over, as in a meeting).
JOIN_PAUSE_SECONDS = 0.5
SWITCH_PAUSE_SECONDS = 1.0


@dataclass(frozen=True)
class Recording:
    """One recording with its reference (written by the corpus, not by us) and where it came from."""

    name: str
    language: str  # Whisper's code
    reference: str
    split: str  # "tuning" or "reported"
    source: str
    licence: str

    @property
    def path(self) -> Path:
        return SPEECH / self.name

    def samples(self) -> np.ndarray:
        """16 kHz mono float32."""
        from nbaudio.audio import AudioClip, decode_mono

        return decode_mono(AudioClip.from_file(self.path), 16000, max_seconds=600)


def recordings(split: str | None = None, language: str | None = None) -> list[Recording]:
    """The recordings in manifest order, those of one split and/or language when asked."""
    import json

    entries = json.loads((SPEECH / "manifest.json").read_text(encoding="utf-8"))
    out = [Recording(e["file"], e["language"], e["reference"], e["split"], e["source"], e["licence"])
           for e in entries]
    return [r for r in out if (split is None or r.split == split) and (language is None or r.language == language)]


def recording(name: str) -> Recording:
    return next(r for r in recordings() if r.name == name)


@dataclass(frozen=True)
class Switch:
    """Recordings of one language, then of another, joined with pauses: each half's reference and span."""

    samples: np.ndarray
    halves: list[tuple[str, str, float, float]]  # (language, reference, start s, end s)


# English then German: reported recordings only, about 22 s each, so that the change is ~22 s in.
EN_DE = (("fleurs-en-005.ogg", "fleurs-en-006.ogg"), ("fleurs-de-005.ogg", "fleurs-de-006.ogg"))


def language_switch(parts: tuple[tuple[str, ...], ...] = EN_DE) -> Switch:
    """One file made of the recordings in `parts` (a tuple of names per language, in order); the
    recordings of one language are joined by JOIN_PAUSE_SECONDS of silence, the languages by
    SWITCH_PAUSE_SECONDS (tools/make_language_switch.py writes it to a file to listen to)."""
    rate = 16000
    pieces: list[np.ndarray] = []
    halves = []
    t = 0.0
    for i, names in enumerate(parts):
        if i:
            pieces.append(np.zeros(int(SWITCH_PAUSE_SECONDS * rate), dtype=np.float32))
            t += SWITCH_PAUSE_SECONDS
        start, texts = t, []
        for j, name in enumerate(names):
            if j:
                pieces.append(np.zeros(int(JOIN_PAUSE_SECONDS * rate), dtype=np.float32))
                t += JOIN_PAUSE_SECONDS
            rec = recording(name)
            x = rec.samples()
            pieces.append(x)
            t += len(x) / rate
            texts.append(rec.reference)
        halves.append((recording(names[0]).language, " ".join(texts), round(start, 3), round(t, 3)))
    return Switch(np.concatenate(pieces), halves)
