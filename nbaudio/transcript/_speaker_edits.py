"""Speakers on a transcript's segments: put there from who-spoke-when turns (the engine's diarizer, or
a re-diarization of an existing transcript), and the edits a person makes afterwards (one segment
given to another speaker, two speakers made one). Each function returns new segments; the ones it
was given are left as they were.

Turns are (start, end, speaker) tuples or anything with those attributes (see speakers.speaker_turns).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..errors import InvalidInputError
from ..speakers import speaker_order, speaker_turns
from ._segments import Segment, Word

__all__ = ["speaker_at", "labelled_segments", "split_at_speakers", "reassigned_segments", "merged_speakers",
           "with_all_words"]

# The label the API gives a segment when no turn is near it (a transcript with speech but no voice found).
FALLBACK_SPEAKER = "A"


def speaker_at(turns: Any, start: float, end: float) -> str | None:
    """The speaker who talks most between `start` and `end` (the nearest turn's when none overlaps)."""
    spans = speaker_turns(turns)
    if not spans:
        return None
    talk: dict[str, float] = {}
    for s, e, who in spans:
        overlap = min(end, e) - max(start, s)
        if overlap > 0:
            talk[who] = talk.get(who, 0.0) + overlap
    if talk:
        return max(talk, key=talk.__getitem__)
    mid = (start + end) / 2
    return min(spans, key=lambda t: min(abs(mid - t[0]), abs(mid - t[1])))[2]


def labelled_segments(segments: Sequence[Segment], turns: Any) -> list[Segment]:
    """Copies of `segments`, each labelled with the speaker who talks most in it (times kept)."""
    spans = speaker_turns(turns)
    return [replace(s, speaker=speaker_at(spans, s.start, s.end) or FALLBACK_SPEAKER, words=list(s.words))
            for s in segments]


def with_all_words(segments: Sequence[Segment], words: Sequence[Word]) -> list[Segment]:
    """Copies of `segments` holding every one of `words`, each in the segment nearest its middle (Whisper's
    word times can run past their segment's), so cutting at speaker changes loses none."""
    out = [replace(s, words=[]) for s in segments]
    if not out:
        return out
    starts = [s.start for s in out]
    for w in words:
        mid = (w.start + w.end) / 2
        i = bisect.bisect_right(starts, mid) - 1  # the last segment starting before the word's middle
        nearest = min(out[max(0, i):i + 2], key=lambda s: max(s.start - mid, mid - s.end, 0.0))
        nearest.words.append(w)
    return out


def split_at_speakers(segments: Sequence[Segment], turns: Any) -> list[Segment]:
    """Segments cut where the speaker changes, by their word timestamps: each word goes to the speaker
    talking around its middle; a segment without words is labelled whole. Each piece's times are then
    moved inside its speaker's turns (Whisper's word times run into the pauses around speech)."""
    spans = speaker_turns(turns)
    out: list[Segment] = []
    for seg in segments:
        if not seg.words:
            out.append(replace(seg, id=len(out), speaker=speaker_at(spans, seg.start, seg.end) or FALLBACK_SPEAKER))
            continue
        run: list[Word] = []
        who = None
        for w in seg.words:
            mid = (w.start + w.end) / 2
            speaker = speaker_at(spans, mid - 0.01, mid + 0.01) or FALLBACK_SPEAKER
            if run and speaker != who:
                out.append(_joined(len(out), run, who))
                run = []
            run.append(w)
            who = speaker
        out.append(_joined(len(out), run, who))
    return [_tightened(seg, spans) for seg in out]


def _tightened(seg: Segment, spans: list[tuple[float, float, str]]) -> Segment:
    mine = [(s, e) for s, e, who in spans if who == seg.speaker and e > seg.start and s < seg.end]
    if mine:
        start, end = max(seg.start, min(s for s, _ in mine)), min(seg.end, max(e for _, e in mine))
        if end > start:
            seg.start, seg.end = round(start, 3), round(end, 3)
    return seg


def _joined(i: int, words: list[Word], speaker: str | None) -> Segment:
    text = " ".join(w.word.strip() for w in words)
    return Segment(id=i, start=words[0].start, end=words[-1].end, text=text, speaker=speaker, words=list(words))


def reassigned_segments(segments: Sequence[Segment], index: int, speaker: str) -> list[Segment]:
    """Copies of `segments` with segment number `index` (its position, as in `transcript.segments[index]`)
    said by `speaker`, a speaker already there or a new name."""
    if isinstance(index, bool) or not isinstance(index, int):
        raise InvalidInputError(f"reassign needs a segment's position (an int), not {type(index).__name__}",
                                param="segment")
    if not -len(segments) <= index < len(segments):
        raise InvalidInputError(f"reassign: there is no segment {index}; this transcript has {len(segments)} "
                                f"(0 to {len(segments) - 1})", param="segment")
    if not isinstance(speaker, str) or not speaker.strip():
        raise InvalidInputError(f"reassign: the speaker must be a non-empty string, not {speaker!r}",
                                param="speaker")
    out = [replace(s, words=list(s.words)) for s in segments]
    out[index].speaker = speaker.strip()
    return out


def merged_speakers(segments: Sequence[Segment], keep: str, *others: str) -> list[Segment]:
    """Copies of `segments` in which every segment of `others` is said by `keep` (all must be speakers
    of these segments)."""
    present = speaker_order(segments)
    listed = ", ".join(map(repr, present)) or "none: not a diarized transcript"
    if not others:
        raise InvalidInputError("merge_speakers needs the speaker to keep and at least one to merge into it, "
                                "such as merge_speakers('A', 'C')", param="speakers")
    for who in (keep, *others):
        if who not in present:
            raise InvalidInputError(f"merge_speakers: {who!r} is not a speaker of this transcript "
                                    f"(its speakers: {listed})", param="speakers")
    gone = set(others) - {keep}
    return [replace(s, speaker=keep if s.speaker in gone else s.speaker, words=list(s.words)) for s in segments]
