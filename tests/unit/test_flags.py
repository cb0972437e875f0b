"""Transcript.flags: each signal a response carries (no-speech probability, compression ratio,
log-probability, word probabilities, segment languages, a repeated segment, json's token
logprobs) and the two the audio gives (text over silence, sound with no text), on bodies shaped
like OpenAI's verbose_json (checked against its schema); their short form in the repr."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from nbaudio import AudioClip, Flag, Transcript
from nbaudio.audio.activity import frame_voicing, sounding_frames, voiced_frames
from tests.support.signals import voiced_speech

RATE = 16000


def segment(i: int, start: float, end: float, text: str, **numbers) -> dict:
    """A TranscriptionSegment as OpenAI sends it, with a sure decoder's numbers unless told."""
    return {"id": i, "seek": 0, "start": start, "end": end, "text": text, "tokens": [50364, 440],
            "temperature": 0.0, "avg_logprob": -0.2, "compression_ratio": 1.2, "no_speech_prob": 0.01, **numbers}


def body(*segments: dict, words: list[dict] | None = None, language: str = "english") -> dict:
    out = {"task": "transcribe", "language": language, "duration": max(s["end"] for s in segments),
           "text": " ".join(s["text"] for s in segments), "segments": list(segments)}
    if words is not None:
        out["words"] = words
    return out


@pytest.fixture
def verbose(validate):
    def make(*segments: dict, **kw) -> Transcript:
        b = body(*segments, **kw)
        validate(b, "CreateTranscriptionResponseVerboseJson")
        return Transcript.from_response(b, "verbose_json")
    return make


def kinds(t: Transcript) -> list[tuple[str, int | None]]:
    return [(f.kind, f.segment) for f in t.flags]


def test_a_sure_transcript_has_no_flags(verbose):
    t = verbose(segment(0, 0.0, 2.0, "Good morning, everyone."), segment(1, 2.0, 4.0, "Let us begin."))
    assert t.flags == [] and "flag" not in repr(t)


@pytest.mark.parametrize(("numbers", "kind", "value"), [
    ({"no_speech_prob": 0.85}, "no_speech", 0.85),
    ({"compression_ratio": 3.1}, "repetition", 3.1),
    ({"avg_logprob": -1.4}, "low_confidence", -1.4),
])
def test_decoder_numbers_past_whispers_thresholds(verbose, numbers, kind, value):
    t = verbose(segment(0, 0.0, 2.0, "Fine words."), segment(1, 2.0, 5.5, "Doubtful words.", **numbers))
    [flag] = t.flags
    assert (flag.kind, flag.segment, flag.start, flag.end, flag.value) == (kind, 1, 2.0, 5.5, value)
    assert f"{value:.2f}" in flag.reason


@pytest.mark.parametrize("numbers", [{"no_speech_prob": 0.6}, {"compression_ratio": 2.4}, {"avg_logprob": -1.0}])
def test_at_the_threshold_is_not_past_it(verbose, numbers):
    assert verbose(segment(0, 0.0, 2.0, "Borderline.", **numbers)).flags == []


def test_a_silent_segment_with_no_text_is_not_flagged_for_its_no_speech_probability(verbose):
    assert verbose(segment(0, 0.0, 2.0, " ", no_speech_prob=0.97)).flags == []


def test_unsure_words(verbose):
    words = [{"word": "the", "start": 0.0, "end": 0.2, "probability": 0.9},
             {"word": "quokka", "start": 0.2, "end": 0.8, "probability": 0.12},
             {"word": "sleeps", "start": 0.8, "end": 1.2, "probability": 0.95}]
    t = verbose(segment(0, 0.0, 1.2, "the quokka sleeps"), words=words)
    [flag] = t.flags
    assert flag.kind == "unsure_words" and flag.value == pytest.approx(0.12) and "'quokka' 0.12" in flag.reason
    # one unsure word in eight is under the share that flags a segment
    sure = [{"word": f"w{i}", "start": i * 0.1, "end": i * 0.1 + 0.1, "probability": 0.9} for i in range(7)]
    t = verbose(segment(0, 0.0, 0.8, "w0 w1 w2 w3 w4 w5 w6 quokka"),
                words=sure + [{"word": "quokka", "start": 0.7, "end": 0.8, "probability": 0.12}])
    assert t.flags == []


def test_a_segment_in_another_language_than_asked(verbose):
    other = segment(1, 2.0, 4.0, "Guten Morgen zusammen.")
    other["language"] = "german"  # the engine says each segment's language; OpenAI does not
    t = verbose(segment(0, 0.0, 2.0, "Good morning."), other)
    t.requested_language = "en"
    assert kinds(t) == [("language", 1)] and "german" in t.flags[0].reason
    t.requested_language = "de"
    assert kinds(t) == []
    # asked for nothing: compared with the transcript's own language (a name, "english")
    t.requested_language = None
    assert kinds(t) == [("language", 1)]


def test_a_segment_repeating_the_one_before(verbose):
    t = verbose(segment(0, 0.0, 2.0, "Thank you for watching."), segment(1, 2.0, 4.0, "Thank you for watching!"),
                segment(2, 4.0, 6.0, "thank you for watching"), segment(3, 6.0, 7.0, "Yes."),
                segment(4, 7.0, 8.0, "Yes."))
    assert kinds(t) == [("repeated", 1), ("repeated", 2)]  # "Yes. Yes." is a short reply, not a loop


def test_json_token_logprobs_judge_the_whole_text():
    sure = Transcript.from_response({"text": "hello", "logprobs": [{"token": "hello", "logprob": -0.1, "bytes": []}]})
    assert sure.flags == []
    unsure = Transcript.from_response({"text": "h m", "logprobs": [{"token": "h", "logprob": -2.5},
                                                                   {"token": " m", "logprob": -1.1}]})
    [flag] = unsure.flags
    assert flag.kind == "low_confidence" and flag.segment is None and flag.value == pytest.approx(-1.8)


def test_flags_keep_time_order_and_show_in_the_repr(verbose):
    t = verbose(segment(0, 0.0, 2.0, "One.", compression_ratio=2.9),
                segment(1, 2.0, 4.0, "Two.", avg_logprob=-2.0, no_speech_prob=0.9))
    assert [f.start for f in t.flags] == sorted(f.start for f in t.flags) and len(t.flags) == 3
    assert "3 flags (0:00.0 repetition, 0:02.0 no_speech, 0:02.0 low_confidence: see .flags)" in repr(t)
    assert all(isinstance(f, Flag) for f in t.flags)


def test_flags_follow_the_segments_when_shifted_or_renamed(verbose):
    t = verbose(segment(0, 0.0, 2.0, "One.", avg_logprob=-2.0))
    assert [(f.start, f.end) for f in t.shifted(10.0).flags] == [(10.0, 12.0)]
    changed = copy.copy(t)
    changed.segments = []
    assert changed.flags == []


# ---- the audio -------------------------------------------------------------------------------


def quiet(seconds: float, seed: int = 1) -> np.ndarray:
    return (np.random.default_rng(seed).normal(0, 1e-3, int(seconds * RATE))).astype(np.float32)


def test_voiced_frames_find_speech_not_noise_or_hiss():
    speech = voiced_speech(3.0, RATE, seed=2).astype(np.float32)
    noise = (np.random.default_rng(3).normal(0, 0.2, 3 * RATE)).astype(np.float32)  # loud, but no pitch
    samples = np.concatenate([quiet(3.0), speech, noise])
    from nbaudio.audio.activity import frame_levels

    sounding, voiced = sounding_frames(frame_levels(samples, RATE)), voiced_frames(samples, RATE)
    thirds = np.array_split(np.arange(len(voiced)), 3)
    assert sounding[thirds[1]].mean() > 0.5 and sounding[thirds[2]].mean() > 0.9 and sounding[thirds[0]].mean() < 0.05
    assert voiced[thirds[1]].mean() > 0.3 and voiced[thirds[2]].mean() < 0.05 and voiced[thirds[0]].mean() == 0
    assert frame_voicing(np.zeros(100, dtype=np.float32), RATE).shape == (0,)


def clip_of(*parts: np.ndarray) -> AudioClip:
    return AudioClip.from_array(np.concatenate(parts), RATE)


def test_text_over_silence(verbose):
    t = verbose(segment(0, 0.0, 3.0, "Welcome to the meeting."), segment(1, 3.0, 6.0, "Thanks for watching."))
    t.audio = clip_of(voiced_speech(3.0, RATE, seed=4).astype(np.float32), quiet(3.0))
    [flag] = t.flags
    assert (flag.kind, flag.segment) == ("silent", 1) and flag.value < 0.1


def test_a_short_segment_is_not_judged_against_the_audio(verbose):
    """Segment times are loose: a 0.4 s "Right." can sit in the pause beside the word."""
    t = verbose(segment(0, 0.0, 3.0, "Welcome to the meeting."), segment(1, 3.0, 3.4, "Right."))
    t.audio = clip_of(voiced_speech(3.0, RATE, seed=4).astype(np.float32), quiet(3.0))
    assert t.flags == []


def test_speech_that_came_back_empty(verbose):
    t = verbose(segment(0, 0.0, 3.0, "Welcome to the meeting."))
    # seed 8: a sentence without a pause of 0.3 s, from 0.05 s to 2.87 s
    t.audio = clip_of(voiced_speech(3.0, RATE, seed=5).astype(np.float32), quiet(2.0),
                      voiced_speech(3.0, RATE, seed=8).astype(np.float32), quiet(1.0))
    [flag] = t.flags
    assert flag.kind == "missed_speech" and flag.segment is None
    assert 4.9 <= flag.start <= 5.2 and 7.7 <= flag.end <= 8.0
    # noise with no voice in it, uncovered, is not speech that came back empty
    t.audio = clip_of(voiced_speech(3.0, RATE, seed=5).astype(np.float32), quiet(2.0),
                      np.random.default_rng(7).normal(0, 0.2, 3 * RATE).astype(np.float32), quiet(1.0))
    assert t.flags == []


def test_audio_that_cannot_be_decoded_gives_no_audio_flags(verbose):
    t = verbose(segment(0, 0.0, 3.0, "Hello."))
    t.audio = AudioClip(b"\x00\x00\x00\x1cftypM4A " + b"\x00" * 64, "aac")  # nothing decodes this
    assert t.flags == []
