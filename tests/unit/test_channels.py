"""Channels as speakers, without a server: merging per-channel transcripts (time order, labels; property
tests), naming the channels (known_speakers as a list or a mapping, refused clearly otherwise), and
the rule that tells a call recorded one side per channel from a mono file stored as stereo or a room
recording (nbaudio.audio.activity.channel_activity)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbaudio import AudioClip, Segment, Transcript, Word
from nbaudio.audio.activity import channel_activity
from nbaudio.client.channels import channel_names, merge_channels, speaker_names
from nbaudio.errors import InvalidInputError
from tests.support.signals import voiced_speech

RATE = 16000

# ---- merging ---------------------------------------------------------------------------------

times = st.floats(min_value=0.0, max_value=600.0, allow_nan=False, allow_infinity=False)


@st.composite
def channel_transcript(draw) -> Transcript:
    starts = sorted(draw(st.lists(times, max_size=8)))
    segments, words = [], []
    for i, start in enumerate(starts):
        end = start + draw(st.floats(min_value=0.0, max_value=5.0))
        word = Word(f"w{i}", start, end, draw(st.none() | st.floats(0.0, 1.0)))
        segments.append(Segment(i, start, end, draw(st.sampled_from(["Hello.", "Yes", "", "  right  "])),
                                speaker=draw(st.none() | st.just("A")), words=[word]))
        words.append(word)
    return Transcript(text=" ".join(s.text for s in segments), segments=segments, words=words,
                      language=draw(st.sampled_from([None, "english"])))


@settings(max_examples=150, deadline=None)
@given(st.lists(channel_transcript(), min_size=2, max_size=4))
def test_merge_keeps_every_segment_and_word_labelled_and_in_time_order(parts):
    names = channel_names(len(parts))
    merged = merge_channels(list(zip(names, parts, strict=True)), None)
    assert len(merged.segments) == sum(len(t.segments) for t in parts)
    assert [s.start for s in merged.segments] == sorted(s.start for t in parts for s in t.segments)
    assert [s.id for s in merged.segments] == list(range(len(merged.segments)))
    assert [w.start for w in merged.words] == sorted(w.start for t in parts for w in t.words)
    # every segment and word is under its own channel's name, in that channel's own order
    for name, t in zip(names, parts, strict=True):
        mine = [s for s in merged.segments if s.speaker == name]
        assert [(s.start, s.end, s.text) for s in mine] == [(s.start, s.end, s.text) for s in t.segments]
        assert [w.word for s in mine for w in s.words] == [w.word for w in t.words]
    assert set(merged.speakers) <= set(names)
    assert merged.text == " ".join(s.text.strip() for s in merged.segments if s.text.strip())
    # the inputs are not changed
    assert all(s.speaker in (None, "A") for t in parts for s in t.segments)


def test_ties_go_in_channel_order():
    left = Transcript("a", segments=[Segment(0, 1.0, 2.0, "left first")])
    right = Transcript("b", segments=[Segment(0, 1.0, 2.0, "right second"), Segment(1, 0.5, 0.9, "right early")])
    merged = merge_channels([("left", left), ("right", right)], None)
    assert [(s.speaker, s.text) for s in merged.segments] == [
        ("right", "right early"), ("left", "left first"), ("right", "right second")]


def test_merged_transcript_keeps_the_stereo_clip_and_adds_up_usage():
    clip = AudioClip.from_array(np.zeros((RATE, 2), dtype=np.float32), RATE)
    parts = [(n, Transcript("x", usage={"type": "duration", "seconds": 1}, language="english")) for n in ("l", "r")]
    merged = merge_channels(parts, clip)
    assert merged.audio is clip and merged.duration == 1.0 and merged.usage == {"type": "duration", "seconds": 2}
    assert merged.language == "english"


# ---- naming the channels -----------------------------------------------------------------------


def test_channel_names():
    assert channel_names(2) == ["left", "right"]
    assert channel_names(4) == ["ch1", "ch2", "ch3", "ch4"]


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 6), st.data())
def test_known_speakers_name_the_channels(count, data):
    names = data.draw(st.lists(st.text(min_size=1, max_size=12).filter(str.strip), min_size=count, max_size=count,
                               unique_by=str.strip))
    assert speaker_names(names, count) == [n.strip() for n in names]
    index = data.draw(st.integers(0, count - 1))
    mapped = speaker_names({channel_names(count)[index]: names[0]}, count)
    assert mapped[index] == names[0].strip()
    assert [n for i, n in enumerate(mapped) if i != index] == [c for i, c in enumerate(channel_names(count))
                                                              if i != index]
    assert speaker_names({index: names[0]}, count) == mapped


@pytest.mark.parametrize(("known", "count", "says"), [
    (["Alice"], 2, "1 names for 2 channels"),
    ({"centre": "Alice"}, 2, "channel 'centre' this clip does not have"),
    ({"left": "alice.wav", "right": b"RIFF"}, 2, "reference audio"),
    ({"left": "  "}, 2, "an empty name"),
    (["Alice", "Alice"], 2, "two channels are named 'Alice'"),
    ({"right": "left"}, 2, "two channels are named 'left'"),
    ("Alice", 2, "not str"),
    (["Alice"], 1, "needs audio with two or more channels"),
])
def test_known_speakers_refused_with_what_to_do(known, count, says):
    with pytest.raises(InvalidInputError, match="channels") as err:
        speaker_names(known, count)
    assert says in str(err.value) and err.value.param in ("known_speakers", "channels")


# ---- telling a call from a stereo file ----------------------------------------------------------


def speech(seconds: float, seed: int) -> np.ndarray:
    return voiced_speech(seconds, RATE, seed=seed).astype(np.float32) * 0.5


def call(bleed_db: float | None = None) -> np.ndarray:
    """Left talks, then right answers, then left again; the far side bleeding in `bleed_db` down."""
    silence = np.zeros(int(1.5 * RATE), dtype=np.float32)
    a, b, c = speech(3.0, 1), speech(3.0, 2), speech(2.0, 3)
    left = np.concatenate([a, silence, np.zeros_like(b), c])
    right = np.concatenate([np.zeros_like(a), silence, b, np.zeros_like(c)])
    if bleed_db is not None:
        gain = 10 ** (-bleed_db / 20)
        left, right = left + gain * right, right + gain * left
    return np.stack([left, right], axis=1)


@pytest.mark.parametrize("bleed_db", [None, 25.0])
def test_a_call_has_distinct_speech_per_channel(bleed_db):
    assert channel_activity(call(bleed_db), RATE).distinct_speech


def test_stereo_that_is_not_a_call():
    mono = np.concatenate([speech(3.0, 1), speech(3.0, 2)])
    duplicated = np.stack([mono, mono], axis=1)
    assert not channel_activity(duplicated, RATE).distinct_speech
    # a room: the same voices at two microphones, 4 ms and 3 dB apart, each with its own hiss
    rng = np.random.default_rng(0)
    delay = int(0.004 * RATE)
    room = np.stack([mono + rng.normal(0, 1e-3, len(mono)),
                     np.concatenate([np.zeros(delay), mono[:-delay]]) * 0.7 + rng.normal(0, 1e-3, len(mono))], axis=1)
    assert not channel_activity(room.astype(np.float32), RATE).distinct_speech
    # two people in a room, each nearer one microphone: every voice in both, 6 dB apart (splitting
    # would transcribe each person twice)
    near, far = call(), call()
    two_mics = near * 1.0 + far[:, ::-1] * 10 ** (-6 / 20)
    assert not channel_activity(two_mics, RATE).distinct_speech
    # music panned left and right, both sides playing at once
    t = np.arange(6 * RATE) / RATE
    music = np.stack([0.3 * np.sin(2 * np.pi * 220 * t), 0.3 * np.sin(2 * np.pi * 330 * t) * (t % 1 < 0.5)], axis=1)
    assert not channel_activity(music.astype(np.float32), RATE).distinct_speech


def test_one_side_only_is_not_two_speakers():
    """A call where only one side was recorded (the other channel silent) is not worth splitting."""
    samples = call()
    samples[:, 1] = 0.0
    assert not channel_activity(samples, RATE).distinct_speech
