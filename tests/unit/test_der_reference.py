"""nbaudio.speakers.diarization_error_rate against the field's reference implementation, pyannote.metrics
(the `test` extra pins it), on the AMI excerpts' references and hypotheses made from them."""

from __future__ import annotations

import pytest

from nbaudio.speakers import diarization_error_rate
from tests.support.real_speech import AMI_REPORTED, AMI_TUNING, meeting

metrics = pytest.importorskip("pyannote.metrics.diarization")
core = pytest.importorskip("pyannote.core")

# Ours scores 10 ms frames, pyannote exact segment boundaries: they may differ by a few frames' worth
# (relatively more where there is little speech and the error is several times it, as trn01's).
FRAME_SLACK = 0.004
FRAME_SLACK_REL = 0.01


def annotation(turns):
    """The turns as pyannote's Annotation, each speaker's overlapping turns joined (a speaker talks or
    not, as NIST scores it: pyannote counts a label's overlapping segments as that many speakers)."""
    a = core.Annotation()
    for i, (start, end, who) in enumerate(turns):
        a[core.Segment(start, end), i] = who
    return a.support()


def theirs(reference, hypothesis, collar):
    # pyannote's collar is the whole width around each boundary; NIST's "0.25 s" is each side.
    der = metrics.DiarizationErrorRate(collar=2 * collar)
    return der(annotation(reference), annotation(hypothesis), uem=core.Timeline([core.Segment(0.0, 30.0)]))


def hypotheses(name):
    """Hypotheses that stress different parts of the score: one speaker for all speech (no overlap
    counted), the truth shifted and renamed (mapping), another meeting's turns (confusion and false
    alarm), each turn its own speaker (many labels)."""
    m = meeting(name)
    other = meeting(AMI_TUNING[(AMI_TUNING.index(name) + 3) % len(AMI_TUNING)] if name in AMI_TUNING else "trn06")
    yield "one speaker", [(s, e, "X") for s, e, _ in m.turns]
    yield "shifted", [(s + 0.3, min(30.0, e + 0.3), "h" + who[::-1]) for s, e, who in m.turns]
    yield "another meeting", other.turns
    yield "a label per turn", [(s, e, f"t{i}") for i, (s, e, _) in enumerate(m.turns)]


@pytest.mark.parametrize("name", [n for n in AMI_TUNING + AMI_REPORTED if len(meeting(n).turns) > 1])
@pytest.mark.parametrize("collar", [0.0, 0.25])
def test_der_agrees_with_pyannote_metrics(name, collar):
    m = meeting(name)
    for what, hyp in hypotheses(name):
        ours = diarization_error_rate(m.turns, hyp, collar=collar).der
        assert ours == pytest.approx(theirs(m.turns, hyp, collar), rel=FRAME_SLACK_REL, abs=FRAME_SLACK), (name, what)


def test_the_best_mapping_is_found_with_many_labels():
    """One reference speaker matched to a hypothesis label greedily (the largest overlap first) can
    leave the other with nothing: the one-to-one mapping must be the best in total, at any size."""
    ref = [(0.0, 10.0, "r1"), (10.0, 19.0, "r1"), (19.0, 28.0, "r2")]
    hyp = [(0.0, 10.0, "h1"), (19.0, 28.0, "h1"), (10.0, 19.0, "h2")]
    hyp += [(28.0 + 0.2 * i, 28.1 + 0.2 * i, f"x{i}") for i in range(8)]  # past 8 labels: no exhaustive search
    ours = diarization_error_rate(ref, hyp)
    assert ours.mapping == {"r1": "h2", "r2": "h1"}
    assert ours.der == pytest.approx(theirs(ref, hyp, 0.0), abs=FRAME_SLACK)
