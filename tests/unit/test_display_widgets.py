"""`nbaudio.widgets.Player` built, driven and updated without a browser."""

from __future__ import annotations

import pytest

import nbaudio.widgets as widgets
from nbaudio import AudioClip, Segment, Transcript
from nbaudio.errors import InvalidInputError
from tests.support.signals import tone, voiced_speech

RATE = 24000


@pytest.fixture
def clip() -> AudioClip:
    return AudioClip.from_array(voiced_speech(6.0, RATE), RATE, name="talk.wav")


@pytest.fixture
def transcript(clip) -> Transcript:
    return Transcript(text="one two three", audio=clip, segments=[
        Segment(0, 0.0, 2.0, " one", speaker="A"), Segment(1, 2.0, 4.0, " two", speaker="B"),
        Segment(2, 4.0, 6.0, " three"),
    ])


def test_player_builds_with_compact_audio_and_waveform(clip, transcript):
    p = widgets.Player(clip, transcript)
    el = p.element
    assert el.mime == "audio/ogg" and AudioClip(el.audio).format == "opus"
    assert len(el.audio) < 0.2 * len(clip.to_wav())
    assert el.waveform[:4] == b"\x89PNG"
    assert el.duration == pytest.approx(6.0)
    assert 0.0 <= el.x0 < el.x1 <= 1.0
    assert [label for label, _ in p.segment_list.options] == ["0:00.0  A: one", "0:02.0  B: two", "0:04.0  three"]
    assert p.time_label.value == "0:00.0 / 0:06.0"
    assert p.segment_list.value == 0  # the first segment is under the cursor
    # Three segments, three rows (no empty box under them), and no width past the output area.
    assert p.segment_list.rows == 3 and p.segment_list.layout.width == "auto"
    bundle = p._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "text/plain" in bundle


def test_browser_position_moves_the_highlight_and_label(transcript):
    p = widgets.Player(transcript)  # the transcript brings its clip
    p.element.position = 4.5  # as the browser reports during playback
    assert p.current_segment is transcript.segments[2]
    assert p.segment_list.value == 2
    assert p.time_label.value == "0:04.5 / 0:06.0"
    p.element.position = 5.99
    assert p.segment_list.value == 2


def test_choosing_a_segment_seeks(transcript):
    p = widgets.Player(transcript)
    sent = []
    p.element.send = sent.append  # what would go to the browser
    p.segment_list.value = 1
    assert p.position == 2.0
    assert sent == [{"type": "seek", "time": 2.0}]
    assert p.current_segment.text == " two"


def test_seek_clamps_and_updates(transcript):
    p = widgets.Player(transcript)
    p.seek(100.0)
    assert p.position == pytest.approx(6.0)
    p.position = -3
    assert p.position == 0.0 and p.segment_list.value == 0


def test_play_pause_and_speed_stay_in_step(clip):
    p = widgets.Player(clip)
    p.play()
    assert p.play_button.value is True and p.play_button.description == "Pause"
    p.play_button.value = False  # the user clicks
    assert p.playing is False and p.play_button.icon == "play"
    p.element.playing = True  # the browser started playback itself
    assert p.play_button.value is True
    p.speed.value = 1.5
    assert p.rate == 1.5 and p.element.rate == 1.5
    p.rate = 0.8
    assert p.speed.value == 0.8 and p.element.rate == 0.8
    with pytest.raises(InvalidInputError):
        p.rate = 10


def test_update_swaps_clip_and_segments(clip, transcript):
    p = widgets.Player(clip, transcript)
    old_audio = p.element.audio
    p.play()
    short = AudioClip.from_array(tone(1.5, RATE), RATE)
    p.update(short)
    assert p.element.audio != old_audio
    assert p.element.duration == pytest.approx(1.5) and p.playing is False and p.position == 0.0
    assert p.segment_list.options == () and p.segment_list.layout.display == "none"
    assert p.current_segment is None
    p.update(transcript=transcript)
    assert len(p.segment_list.options) == 3 and p.element.duration == pytest.approx(6.0)
    assert p.clip is clip


def test_player_needs_audio():
    with pytest.raises(InvalidInputError):
        widgets.Player(Transcript(text="no audio"))
    with pytest.raises(InvalidInputError):
        widgets.Player(AudioClip.from_array(tone(0.1), RATE), speeds=(9.0,))
