"""Channels as speakers on the real engine: a stereo call built from two engine voices, one per
channel (left, right, left), transcribed with channels="split"; the hint when the same call is sent
downmixed, and none for its mono mix stored as stereo."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import requests

import nbaudio
from nbaudio import AudioClip, AudioHint
from nbaudio.metrics import normalize_words, word_error_rate
from tests.support.data import SENTENCES

RATE = 24000
GAP = 0.6  # seconds between turns
TURNS = ((0, "alloy", SENTENCES[0]), (1, "onyx", SENTENCES[1]), (0, "alloy", SENTENCES[3]))


def spoken(base_url: str, voice: str, text: str) -> np.ndarray:
    r = requests.post(base_url + "/audio/speech", json={"model": "tts-1", "voice": voice, "input": text,
                                                        "response_format": "wav"}, timeout=120)
    r.raise_for_status()
    clip = AudioClip(r.content)
    return clip.resample(RATE).mono().samples


@pytest.fixture(scope="module")
def call(engine) -> tuple[AudioClip, list[float]]:
    """(the stereo call, each turn's start in seconds)."""
    parts, starts, at = [], [], 0.0
    for channel, voice, text in TURNS:
        samples = spoken(engine.base_url, voice, text)
        frame = np.zeros((len(samples) + int(GAP * RATE), 2), dtype=np.float32)
        frame[:len(samples), channel] = samples
        parts.append(frame)
        starts.append(at)
        at += len(frame) / RATE
    return AudioClip.from_array(np.concatenate(parts), RATE), starts


@pytest.fixture
def client(engine):
    with nbaudio.Client(engine.base_url, max_retries=0) as c:
        yield c


def test_each_channel_comes_back_under_its_name_in_time_order(client, call):
    clip, starts = call
    t = client.transcribe(clip, channels="split", known_speakers={"right": "Bob"},
                          timestamp_granularities=["word", "segment"])
    assert t.speakers == ["left", "Bob"] and t.audio is clip
    assert [s.start for s in t.segments] == sorted(s.start for s in t.segments)
    # turns in order: left's first sentence, then Bob's, then left's second
    turns = []  # (speaker, start) of each run of segments by one speaker
    for seg in t.segments:
        if not turns or turns[-1][0] != seg.speaker:
            turns.append((seg.speaker, seg.start))
    assert [who for who, _ in turns] == ["left", "Bob", "left"], turns
    assert all(abs(at - start) < 0.6 for (_, at), start in zip(turns, starts, strict=True)), (turns, starts)
    left = " ".join(s.text for s in t.segments_for("left"))
    bob = " ".join(s.text for s in t.segments_for("Bob"))
    assert word_error_rate(f"{SENTENCES[0]} {SENTENCES[3]}", left) <= 0.2, left
    assert word_error_rate(SENTENCES[1], bob) <= 0.2, bob
    assert not set(normalize_words(bob)) & {"fox", "library"}  # nothing of left's leaked into right
    words = t.all_words()
    assert words and [w.start for w in words] == sorted(w.start for w in words)


def test_the_call_sent_downmixed_says_split_exists(client, call):
    with pytest.warns(AudioHint, match="channels='split'"):
        t = client.transcribe(call[0])
    assert t.speakers == []


def test_its_mono_mix_stored_as_stereo_says_nothing(client, call):
    mono = call[0].samples.sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", AudioHint)
        t = client.transcribe(AudioClip.from_array(np.stack([mono, mono], axis=1), RATE))
    assert word_error_rate(" ".join(text for *_, text in TURNS), t.text) <= 0.2, t.text
