"""Who spoke when, read off a transcript's segments: per-speaker talk time, turns and words,
renaming labels, and the segments of one speaker.

Works on anything shaped like `nbaudio.transcript.Segment` (start, end, text, speaker, words);
`Transcript.by_speaker()`, `rename_speakers()` and `segments_for()` call these.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._wire.text import format_clock
from .errors import InvalidInputError, MissingDependencyError

__all__ = ["SpeakerStats", "speaker_order", "speaker_stats", "check_speaker_names", "renamed_label",
           "DiarizationError", "diarization_error_rate", "speaker_turns"]

# Scoring resolution of diarization_error_rate (seconds per frame).
DER_STEP = 0.01
# Without scipy, the best one-to-one mapping is searched exhaustively, for at most this many labels a side.
_EXHAUSTIVE_LABELS = 8


@dataclass(frozen=True, slots=True)
class SpeakerStats:
    """One speaker's share of a transcript.

    `talk_time` is the sum of the speaker's segment durations (seconds); `turns` counts runs of
    consecutive segments by that speaker (A A B A is two turns of A); `words` counts word
    timestamps where the segment has them, else whitespace-separated words of its text.
    """

    speaker: str
    talk_time: float
    turns: int
    segments: int
    words: int
    share: float  # of all speakers' talk time, 0..1

    def to_dict(self) -> dict[str, Any]:
        return {"speaker": self.speaker, "talk_time": self.talk_time, "turns": self.turns,
                "segments": self.segments, "words": self.words, "share": self.share}

    def __repr__(self) -> str:
        return (f"<SpeakerStats {self.speaker!r} {format_clock(self.talk_time, decimals=1)} ({self.share:.0%}), "
                f"{self.turns} turns, {self.words} words>")


def speaker_order(segments: Sequence[Any]) -> list[str]:
    """Speaker labels in order of first appearance (segments without a speaker are skipped)."""
    seen: dict[str, None] = {}
    for s in segments:
        if s.speaker:
            seen.setdefault(s.speaker)
    return list(seen)


def _word_count(seg: Any) -> int:
    return len(seg.words) if seg.words else len(seg.text.split())


def speaker_stats(segments: Sequence[Any]) -> dict[str, SpeakerStats]:
    """{speaker: SpeakerStats}, in order of first appearance."""
    order = speaker_order(segments)
    time = dict.fromkeys(order, 0.0)
    turns = dict.fromkeys(order, 0)
    count = dict.fromkeys(order, 0)
    words = dict.fromkeys(order, 0)
    previous = None
    for s in segments:
        who = s.speaker
        if not who:
            previous = None  # an unlabelled segment between two of A's ends A's turn
            continue
        time[who] += max(0.0, s.end - s.start)
        count[who] += 1
        words[who] += _word_count(s)
        if who != previous:
            turns[who] += 1
        previous = who
    total = sum(time.values())
    return {who: SpeakerStats(who, round(time[who], 3), turns[who], count[who], words[who],
                              time[who] / total if total > 0 else 0.0) for who in order}


def check_speaker_names(mapping: Any, present: Sequence[str]) -> dict[str, str]:
    """`rename_speakers`' mapping, checked: labels that are in the transcript, to non-empty names."""
    if not isinstance(mapping, Mapping):
        raise InvalidInputError(f"rename_speakers needs a dict of old label -> new name, such as {{'A': 'Alice'}}, "
                                f"not {type(mapping).__name__}", param="mapping")
    out: dict[str, str] = {}
    listed = ", ".join(map(repr, present)) or "none"
    for old, new in mapping.items():
        if old not in present:
            raise InvalidInputError(f"rename_speakers: {old!r} is not a speaker of this transcript "
                                    f"(its speakers: {listed})", param="mapping")
        if not isinstance(new, str) or not new.strip():
            raise InvalidInputError(f"rename_speakers: the new name for {old!r} must be a non-empty string, "
                                    f"not {new!r}", param="mapping")
        out[old] = new.strip()
    return out


def renamed_label(label: str | None, mapping: Mapping[str, str]) -> str | None:
    """`label` under `mapping` (two labels given one name become one speaker)."""
    return mapping.get(label, label) if label is not None else None


# ---- scoring --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DiarizationError:
    """NIST's diarization error rate and its parts, in seconds of reference speech.

    `der = (missed + false_alarm + confusion) / total`; `mapping` is the hypothesis label each
    reference speaker was matched with (one to one, the mapping with the most overlap)."""

    der: float
    missed: float
    false_alarm: float
    confusion: float
    total: float
    mapping: dict[str, str]

    def __repr__(self) -> str:
        return (f"<DiarizationError {self.der:.1%}: missed {self.missed:.2f} s, false alarm {self.false_alarm:.2f} s, "
                f"confusion {self.confusion:.2f} s of {self.total:.2f} s>")


def speaker_turns(spans: Any) -> list[tuple[float, float, str]]:
    """(start, end, speaker) from a Transcript, its segments, or (start, end, speaker) tuples; unlabelled dropped."""
    items = getattr(spans, "segments", spans)
    out = []
    for x in items:
        start, end, who = (x[0], x[1], x[2]) if isinstance(x, (tuple, list)) else (x.start, x.end, x.speaker)
        if who is not None and end > start:
            out.append((float(start), float(end), str(who)))
    return out


def diarization_error_rate(reference: Any, hypothesis: Any, *, collar: float = 0.0,
                           step: float = DER_STEP) -> DiarizationError:
    """Score `hypothesis` against `reference` (each a Transcript, segments or (start, end, speaker) tuples).

    Frames of `step` seconds; in each, missed = max(0, n_ref - n_hyp), false alarm = max(0, n_hyp - n_ref),
    confusion = min(n_ref, n_hyp) - correct, as NIST md-eval and pyannote.metrics count them. Frames within
    `collar` seconds of a reference turn's edge are not scored (0.25 s is the usual forgiveness)."""
    import numpy as np

    ref, hyp = speaker_turns(reference), speaker_turns(hypothesis)
    if step <= 0 or collar < 0:
        raise InvalidInputError("step must be > 0 and collar >= 0")
    end = max([e for _, e, _ in ref + hyp], default=0.0)
    n = int(np.ceil(end / step)) + 1
    ref_labels, hyp_labels = _labels(ref), _labels(hyp)
    r = _activity(ref, ref_labels, n, step)
    h = _activity(hyp, hyp_labels, n, step)
    scored = np.ones(n, bool)
    if collar > 0:
        # Around each edge of a reference speaker's talk (their own overlapping turns joined: a turn
        # inside another of the same speaker's has no edge), `collar` seconds each side.
        width = int(round(collar / step))
        padded = np.pad(r, ((0, 0), (1, 1)))
        for edge in np.unique(np.nonzero(np.diff(padded.astype(np.int8), axis=1))[1]):
            scored[max(0, edge - width):edge + width] = False
    r, h = r[:, scored], h[:, scored]
    overlap = (r[:, None, :] & h[None, :, :]).sum(axis=2) * step  # (ref, hyp) seconds together
    pairs = _best_mapping(overlap)
    n_ref, n_hyp = r.sum(axis=0), h.sum(axis=0)
    correct = np.zeros(r.shape[1], np.int64)
    for i, j in pairs:
        correct += r[i] & h[j]
    missed = float(np.maximum(0, n_ref - n_hyp).sum() * step)
    false_alarm = float(np.maximum(0, n_hyp - n_ref).sum() * step)
    confusion = float((np.minimum(n_ref, n_hyp) - correct).sum() * step)
    total = float(n_ref.sum() * step)
    der = (missed + false_alarm + confusion) / total if total > 0 else 0.0
    return DiarizationError(der, missed, false_alarm, confusion, total,
                            {ref_labels[i]: hyp_labels[j] for i, j in pairs})


def _labels(turns: Iterable[tuple[float, float, str]]) -> list[str]:
    return list(dict.fromkeys(who for _, _, who in turns))


def _activity(turns: list[tuple[float, float, str]], labels: list[str], n: int, step: float) -> Any:
    import numpy as np

    out = np.zeros((len(labels), n), bool)
    index = {who: k for k, who in enumerate(labels)}
    for s, e, who in turns:
        out[index[who], int(round(s / step)):int(round(e / step))] = True
    return out


def _best_mapping(overlap: Any) -> list[tuple[int, int]]:
    """One-to-one (ref, hyp) pairs with the most total overlap (the standard mapping, as NIST md-eval
    and pyannote.metrics find it): scipy's Hungarian solver when scipy is installed, else every
    injective mapping, which is exact too but only affordable for a few labels."""
    n_ref, n_hyp = overlap.shape
    if n_ref == 0 or n_hyp == 0:
        return []
    try:
        from scipy.optimize import linear_sum_assignment
    except ImportError:
        if max(n_ref, n_hyp) > _EXHAUSTIVE_LABELS:
            raise MissingDependencyError(f"scoring {max(n_ref, n_hyp)} speakers needs scipy (over "
                                         f"{_EXHAUSTIVE_LABELS}, the best mapping is not searched by trying "
                                         "every one): pip install scipy") from None
        return _searched_mapping(overlap)
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    return [(int(i), int(j)) for i, j in zip(rows, cols, strict=True) if overlap[i, j] > 0]


def _searched_mapping(overlap: Any) -> list[tuple[int, int]]:
    n_ref, n_hyp = overlap.shape
    best, best_pairs = -1.0, []
    if n_ref <= n_hyp:
        for perm in itertools.permutations(range(n_hyp), n_ref):
            score = sum(overlap[i, j] for i, j in enumerate(perm))
            if score > best:
                best, best_pairs = score, list(enumerate(perm))
    else:
        for perm in itertools.permutations(range(n_ref), n_hyp):
            score = sum(overlap[i, j] for j, i in enumerate(perm))
            if score > best:
                best, best_pairs = score, [(i, j) for j, i in enumerate(perm)]
    return [(i, j) for i, j in best_pairs if overlap[i, j] > 0]
