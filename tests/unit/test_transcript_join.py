"""`Transcript.join`: pieces whose timings run past their audio must not overlap once joined."""

from __future__ import annotations

from nbaudio import Transcript
from nbaudio.transcript import Segment, Word


def _piece(duration: float | None, spans: list[tuple[float, float]]) -> Transcript:
    segments = [Segment(id=i, start=a, end=b, text=f" s{i}", words=[Word(f"s{i}", a, b)])
                for i, (a, b) in enumerate(spans)]
    return Transcript(text=" ".join(s.text for s in segments), duration=duration, segments=segments,
                      words=[w for s in segments for w in s.words])


def _no_overlaps(items: list) -> bool:
    return all(a.start <= a.end <= b.start <= b.end for a, b in zip(items, items[1:], strict=False))


def test_join_clamps_each_piece_to_its_duration():
    # What notebook 02 saw: an 8.18 s piece whose last segment ends at 10.0 s.
    pieces = [(0.0, _piece(8.18, [(0.0, 4.0), (4.0, 10.0)])), (8.18, _piece(6.5, [(0.0, 3.0), (3.0, 7.9)]))]
    whole = Transcript.join(pieces)
    assert _no_overlaps(whole.segments) and _no_overlaps(whole.words), whole.segments
    assert whole.segments[1].end == 8.18 and whole.segments[2].start == 8.18
    assert whole.duration == 8.18 + 6.5 and whole.segments[-1].end <= whole.duration
    assert all(w.end <= whole.duration for s in whole.segments for w in s.words)


def test_join_without_durations_stops_at_the_next_piece():
    pieces = [(0.0, _piece(None, [(0.0, 12.0)])), (10.0, _piece(None, [(-0.5, 4.0)]))]
    whole = Transcript.join(pieces)
    assert [(s.start, s.end) for s in whole.segments] == [(0.0, 10.0), (10.0, 14.0)]
    assert [(w.start, w.end) for w in whole.words] == [(0.0, 10.0), (10.0, 14.0)]
