"""Semantic turn detection: what the words of a turn so far say about its end (turn_end.py), and the
turn detector keeping a pause open or closing it once that is known, on real speech."""

from __future__ import annotations

import pytest

from nbaudio.server.realtime.config import SemanticVad
from nbaudio.server.realtime.turn_end import ending, silence_ms
from nbaudio.server.realtime.vad import TurnDetector
from tests.realtime.conftest import QUESTIONS
from tests.realtime.speech import RATE, silence, speech_then_quiet


@pytest.mark.parametrize("text, kind", [
    ("What is the capital of France?", "complete"),
    ("Thank you, that is enough for now.", "complete"),
    ("I'd like to hear about dragons!", "complete"),
    ("Tell me about the weather and", "incomplete"),
    ("Tell me about the weather, and...", "incomplete"),
    ("So I was thinking, um", "incomplete"),
    ("My favourite colour is…", "incomplete"),
    ("Paris, Berlin,", "incomplete"),
    ("I went to the", "incomplete"),
    ("I went to the shop", "unsure"),  # no full stop: Whisper usually writes one when a sentence ended
    ("", "unsure"),
])
def test_what_the_words_say_about_the_end(text, kind):
    assert ending(text) == kind


def test_waits_follow_eagerness():
    for kind in ("complete", "unsure", "incomplete"):
        assert silence_ms("high", kind) < silence_ms("medium", kind) < silence_ms("low", kind)
        assert silence_ms("auto", kind) == silence_ms("medium", kind)
    for eagerness in ("low", "medium", "high"):
        assert silence_ms(eagerness, "complete") < silence_ms(eagerness, "unsure") < silence_ms(eagerness,
                                                                                                 "incomplete")
    assert [silence_ms(e, "incomplete") for e in ("low", "medium", "high")] == [8000, 4000, 2000]  # OpenAI's


def _feed(detector, pcm, chunk_ms=100):
    step = 2 * RATE * chunk_ms // 1000
    return [t for k in range(0, len(pcm), step) for t in detector.feed(pcm[k:k + step])]


def test_a_finished_sentence_ends_the_turn_once_its_words_are_known(spoken):
    pcm = speech_then_quiet(spoken[QUESTIONS[0]], 0.9)
    detector = TurnDetector(SemanticVad(eagerness="low"))  # unsure: 1.5 s; complete: 0.6 s
    turns = _feed(detector, pcm)
    assert [t.kind for t in turns][-1] == "paused" and detector.speaking  # 0.9 s quiet
    stopped = detector.end_after(silence_ms("low", ending(QUESTIONS[0])))  # the words end a sentence
    assert stopped is not None and stopped.kind == "stopped" and not detector.speaking
    assert abs(stopped.ms - len(pcm) * 1000 // (2 * RATE)) <= 64  # now: where the audio has got to (resampler delay)


def test_a_trailing_and_keeps_the_turn_open(spoken):
    pcm = speech_then_quiet(spoken[QUESTIONS[0]], 0.3)
    detector = TurnDetector(SemanticVad(eagerness="high"))  # unsure: 0.5 s; incomplete: 2 s
    assert [t.kind for t in _feed(detector, pcm)][-1] == "paused"
    assert detector.end_after(silence_ms("high", ending("What is the capital of France and"))) is None
    assert _feed(detector, silence(1.2)) == [] and detector.speaking  # 1.5 s of silence: still the turn
    assert [t.kind for t in _feed(detector, silence(1.0))] == ["stopped"]  # past 2 s: over


def test_a_decision_about_an_earlier_pause_changes_nothing(spoken):
    detector = TurnDetector(SemanticVad(eagerness="high"))
    _feed(detector, spoken[QUESTIONS[1]][:2 * RATE * 1000 // 1000])  # speech under way, no pause yet
    assert detector.speaking
    assert detector.end_after(200) is None and detector.speaking
