"""Where the engine hears speech in a long recording, scored a block at a time: the same regions as
faster-whisper's one-pass `get_speech_timestamps`, without its whole-recording copies (the engine's
peak memory transcribing 30 minutes rose by +220 MB per 10-minute piece from them:
benchmarks/bench_memory.py). Tuning recordings only."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from tests.support.real_speech import recordings

pytestmark = pytest.mark.local  # faster-whisper's Silero VAD


@pytest.fixture(scope="module")
def long_speech() -> np.ndarray:
    """Over two VAD blocks of people speaking, with pauses of several lengths between the clips."""
    parts = []
    for i, rec in enumerate(recordings(split="tuning")[:12]):
        parts += [rec.samples(), np.zeros(800 * (1 + i % 4), dtype=np.float32)]
    return np.concatenate(parts)


def test_block_scores_give_faster_whispers_regions(long_speech):
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    from nbaudio.server.models.stt_windows import MIN_PAUSE_MS, VAD_BLOCK_WINDOWS, speech_regions

    assert len(long_speech) > 2 * VAD_BLOCK_WINDOWS * 512
    opts = VadOptions(min_silence_duration_ms=MIN_PAUSE_MS, speech_pad_ms=0)
    for samples in (long_speech, long_speech[: len(long_speech) // 512 * 512]):  # a partial last window, and none
        theirs = [(c["start"] / 16000, c["end"] / 16000) for c in get_speech_timestamps(samples, opts)]
        assert len(theirs) > 10 and speech_regions(samples) == theirs


def test_the_vad_pass_does_not_copy_the_recording(long_speech):
    from nbaudio.server.models.stt_windows import speech_regions

    samples = np.tile(long_speech, 4)  # ~5 minutes
    speech_regions(samples[:16000])  # the model loaded outside the measurement
    tracemalloc.start()
    try:
        speech_regions(samples)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.25 * samples.nbytes, f"{peak / 1e6:.1f} MB of numpy and Python allocations for a " \
                                         f"{samples.nbytes / 1e6:.1f} MB recording"
