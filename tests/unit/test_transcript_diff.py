"""`Transcript.diff`: the words against a reference, each at its time, shown with the errors marked;
hostile words stay text; the counts are the alignment's (nbaudio.metrics) whatever the times."""

from __future__ import annotations

import re
from html import escape as html_escape

from hypothesis import given, settings
from hypothesis import strategies as st

from nbaudio import AudioClip, Transcript
from nbaudio.metrics import align
from nbaudio.transcript import Segment, Word
from tests.support.magic_fakes import wav_bytes
from tests.support.signals import tone_pcm16


def _timed(words: list[str], step: float = 0.5) -> Transcript:
    ws = [Word(w, i * step, i * step + 0.4) for i, w in enumerate(words)]
    return Transcript(text=" ".join(words), words=ws, language="english")


def test_each_word_keeps_its_time_and_missed_words_sit_between_their_neighbours():
    t = _timed(["The", "cat", "sat", "on", "mat", "today."])
    d = t.diff("The cat sat on the mat.")
    assert d.alignment.errors == align("The cat sat on the mat.", t.text).errors
    heard = [w for w in d.words if w.hyp is not None]
    assert [(w.start, w.end) for w in heard] == [(x.start, x.end) for x in t.words]
    t2 = _timed(["the", "cat", "on", "the", "mat"])
    missed = [w for w in t2.diff("the cat sat on the mat").words if w.op == "delete"]
    assert [(m.ref, m.start, m.end) for m in missed] == [("sat", 0.9, 1.0)]  # after "cat" ends, before "on"


def test_numbers_normalised_as_a_whole_still_get_times():
    # "twenty five" is "25" as a whole text but "20 5" word by word: the token still gets a time
    t = _timed(["it", "costs", "twenty", "five", "dollars"])
    d = t.diff("it costs $25")
    assert d.wer == 0.0 and all(w.start is not None for w in d.words)


def test_segment_times_when_there_are_no_word_times():
    segs = [Segment(0, 0.0, 2.0, "hello there"), Segment(1, 2.0, 4.0, "general kenobi")]
    d = Transcript(text="hello there general kenobi", segments=segs).diff("hello there general")
    assert [(w.op, w.start) for w in d.words] == [("equal", 0.0), ("equal", 0.0), ("equal", 2.0), ("insert", 2.0)]


def test_without_times_the_words_are_not_playable():
    d = Transcript(text="a b c").diff("a x c")
    html = d._repr_mimebundle_()["text/html"]
    assert "nbaudio-ts" not in html and "<s>x</s>→<u>b</u>" in html
    assert d._repr_mimebundle_()["text/plain"].splitlines()[-1] == "a [x→b] c"


def test_the_view_plays_from_each_word_and_escapes_everything():
    clip = AudioClip(wav_bytes(tone_pcm16(3.0, amp=0.3)), "wav")
    t = _timed(["<script>alert(1)</script>", "cat", "sat"])
    t.audio = clip
    d = t.diff('"><img src=x onerror=alert(1)> cat sat on')
    bundle = d._repr_mimebundle_()
    html = bundle["text/html"]
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "<audio" in html and len(re.findall(r'class="nbaudio-ts nbaudio-diff-\w+" data-t="', html)) == len(d.words)
    assert "WER" in html and html_escape("Whisper's English normaliser") in html
    assert bundle["text/plain"].startswith("transcript against reference: WER")


def test_two_transcripts_against_each_other():
    a, b = _timed(["red", "green", "blue"]), _timed(["red", "blue"], step=1.0)
    d = b.diff(a)
    assert d.reference_label == "the other transcript" and d.counts["deletions"] == 1
    assert [w.start for w in d.words if w.op == "delete"] == [0.5]  # where the other transcript heard it


TOKENS = st.lists(st.sampled_from(["a", "b", "c", "dog", "cat"]), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(TOKENS, TOKENS)
def test_heard_words_carry_their_times_in_order(hyp, ref):
    t = _timed(hyp)
    d = t.diff(" ".join(ref))
    heard = [w.start for w in d.words if w.hyp is not None]
    assert heard == [w.start for w in t.words]
    assert all(w.start is not None for w in d.words)
    assert [w.op for w in d.words] == [e.op for e in align(" ".join(ref), t.text).edits]
