"""Flags in the transcript view: a mark on each flagged row whose tooltip gives the reasons and whose
click plays from the segment's start (it is a `.nbaudio-ts`), a line counting them and listing the
sound no segment covers, all escaped; the plain-text output says them in short."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np

from nbaudio import AudioClip, Segment, Transcript, Word
from tests.support.signals import voiced_speech

RATE = 16000
EVIL = '"><img src=x onerror=alert(1)>'


class Marks(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__()
        self.marks: list[dict] = []
        self.flag_lines: list[str] = []
        self.in_line = 0
        self.tags: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "nbaudio-flag" in (a.get("class") or "").split():
            self.marks.append(a)
        if a.get("class") == "nbaudio-flags":
            self.in_line = 1
            self.flag_lines.append("")
        elif self.in_line:
            self.in_line += 1

    def handle_endtag(self, tag):
        if self.in_line:
            self.in_line -= 1

    def handle_data(self, data):
        if self.in_line:
            self.flag_lines[-1] += data


def flagged() -> Transcript:
    segs = [Segment(0, 0.0, 2.0, "Fine."),
            Segment(1, 2.0, 4.0, EVIL, no_speech_prob=0.9, avg_logprob=-1.5),
            Segment(2, 4.0, 6.0, "Also fine.", language="german", words=[Word(EVIL, 4.0, 4.5, 0.05)])]
    t = Transcript(text="x", segments=segs, language="english", duration=6.0)
    t.requested_language = "en"
    return t


def test_flagged_rows_carry_an_escaped_mark_that_plays_from_the_segment():
    t = flagged()
    page = t._repr_mimebundle_()["text/html"]
    m = Marks(page)
    assert [mark["data-t"] for mark in m.marks] == ["2.000", "4.000"]
    assert all("nbaudio-ts" in mark["class"].split() for mark in m.marks)  # the player script seeks on them
    first = m.marks[0]["title"]
    assert "no-speech probability 0.90" in first and "average log-probability -1.50" in first
    assert m.marks[0]["data-kinds"] == "no_speech low_confidence"
    assert EVIL[:20] in m.marks[1]["title"]  # the attribute holds the text as it is, escaped on the way in
    assert "<img" not in page and "img" not in m.tags
    assert "sounds like german, not en" in m.marks[1]["title"]
    assert "4 flags" in m.flag_lines[0] and "1 maybe made up over silence" in m.flag_lines[0]


def test_plain_text_says_the_flags_in_short():
    plain = flagged()._repr_mimebundle_()["text/plain"]
    assert "4 flags (0:02.0 no_speech, 0:02.0 low_confidence, 0:04.0 unsure_words, ...: see .flags)" in plain


def test_sound_with_no_text_is_listed_with_times_to_click():
    speech = voiced_speech(3.0, RATE, seed=8).astype(np.float32)
    quiet = np.zeros(2 * RATE, dtype=np.float32)
    clip = AudioClip.from_array(np.concatenate([speech, quiet, speech, quiet]), RATE)
    t = Transcript(text="hello", segments=[Segment(0, 0.0, 3.0, "hello")], audio=clip, duration=clip.duration)
    page = t._repr_mimebundle_()["text/html"]
    m = Marks(page)
    assert m.marks == [] and "sound with no text" in m.flag_lines[0] and "not transcribed: 0:05.0" in m.flag_lines[0]
    assert 'class="nbaudio-ts" data-t="5.0' in page


def test_no_flags_no_marks():
    t = Transcript(text="Fine.", segments=[Segment(0, 0.0, 2.0, "Fine.")])
    page = t._repr_mimebundle_()["text/html"]
    assert "nbaudio-flag" not in page and "⚑" not in page
