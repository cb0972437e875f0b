"""The engine's server VAD (Silero through faster-whisper's ONNX model) on real speech: where a turn
starts, pauses and stops, whatever the size of the appends."""

from __future__ import annotations

import pytest

from nbaudio.server.realtime.config import ServerVad
from nbaudio.server.realtime.vad import TurnDetector
from tests.realtime.conftest import QUESTIONS
from tests.realtime.speech import RATE, silence


@pytest.mark.parametrize("chunk_ms", [20, 100, 1000])
def test_a_spoken_question_is_one_turn(spoken, chunk_ms):
    pcm = spoken[QUESTIONS[0]]  # 0.3 s of silence, the question, 0.9 s of silence
    detector = TurnDetector(ServerVad(prefix_padding_ms=0, silence_duration_ms=500))
    step = 2 * RATE * chunk_ms // 1000
    turns = [t for k in range(0, len(pcm), step) for t in detector.feed(pcm[k:k + step])]
    kinds = [t.kind for t in turns]
    # One turn; a gap between words may be a pause the speech resumes from (the guess is dropped).
    assert kinds[0] == "started" and kinds[-2:] == ["paused", "stopped"], kinds
    assert kinds[1:-2] == ["paused", "resumed"] * ((len(kinds) - 3) // 2), kinds
    started, paused, stopped = turns[0].ms, turns[-2].ms, turns[-1].ms
    speech_ms = len(pcm) * 1000 // (2 * RATE) - 300 - 900
    assert 200 <= started <= 450  # the speech starts 300 ms in (piper leaves a little silence of its own)
    assert stopped - paused == pytest.approx(500, abs=40)  # paused at the end of speech, stopped 500 ms later
    # piper's voice varies per call, and in some takes the last word trails off under the VAD's
    # threshold: paused 526 ms before the end of the padded speech in one of them.
    assert speech_ms - 600 <= paused - started <= speech_ms + 200


@pytest.mark.local  # faster-whisper's Silero VAD
def test_silence_is_no_turn():
    detector = TurnDetector(ServerVad())
    assert detector.feed(silence(2.0)) == [] and not detector.speaking
