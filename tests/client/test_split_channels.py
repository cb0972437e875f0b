"""transcribe(..., channels="split") against a plain OpenAI-shaped server (no engine extensions):
one request per channel, each mono, asked with timings whatever format was asked, merged in
time order under the channels' names; json-only models; what is refused before sending; and the
once-per-client hint when a stereo call is sent downmixed."""

from __future__ import annotations

import io
import json
import warnings

import numpy as np
import pytest
import soundfile as sf
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import nbaudio
from nbaudio import AudioClip, AudioHint
from nbaudio.audio.activity import sounding_spans
from nbaudio.errors import InvalidInputError
from nbaudio.relay import RelayNotice
from tests.support.signals import tone

RATE = 8000  # small uploads: werkzeug caps forms


def stereo(*bursts: tuple[int, float, float, float]) -> AudioClip:
    """Tones (channel, start, end, Hz) on a 6 s stereo clip."""
    samples = np.zeros((6 * RATE, 2), dtype=np.float32)
    for channel, start, end, freq in bursts:
        part = tone(end - start, rate=RATE, freq=freq, amp=0.3)
        samples[int(start * RATE):int(start * RATE) + len(part), channel] += part
    return AudioClip.from_array(samples, RATE)


CALL = ((0, 0.5, 1.5, 220.0), (1, 2.0, 3.5, 330.0), (0, 4.0, 5.0, 220.0))


@pytest.fixture
def client(httpserver: HTTPServer):
    with nbaudio.Client(httpserver.url_for("/"), api_key="sk-test-0123456789", max_retries=0, timeout=10) as c:
        yield c


@pytest.fixture
def server(httpserver: HTTPServer):
    """A server that 'hears' each stretch of sound in the upload as a segment naming its pitch."""
    seen: list[dict] = []

    def handler(request: Request):
        form = request.form.to_dict(flat=False)
        samples, rate = sf.read(io.BytesIO(request.files["file"].read()), dtype="float32")
        seen.append({**form, "_channels": samples.ndim, "_filename": request.files["file"].filename})
        if samples.ndim == 2:
            samples = samples.mean(axis=1)  # what the API does with stereo
        segments = []
        for i, (start, end) in enumerate(sounding_spans(samples, rate)):
            part = samples[int(start * rate):int(end * rate)]
            hz = round(np.argmax(np.abs(np.fft.rfft(part))) * rate / len(part), -1)
            segments.append({"id": i, "seek": 0, "start": start, "end": end, "text": f" tone {hz:.0f}",
                             "tokens": [1], "temperature": 0.0, "avg_logprob": -0.1, "compression_ratio": 1.0,
                             "no_speech_prob": 0.0})
        text = "".join(s["text"] for s in segments).strip()
        fmt = form["response_format"][0]
        out = {"text": text} if fmt == "json" else {"task": "transcribe", "language": "english",
                                                    "duration": len(samples) / rate, "text": text,
                                                    "segments": segments}
        return Response(json.dumps(out), content_type="application/json")

    httpserver.expect_request("/v1/audio/transcriptions").respond_with_handler(handler)
    return seen


def test_each_channel_is_a_speaker_in_time_order(client, server):
    t = client.transcribe(stereo(*CALL), channels="split", response_format="text", language="en")
    assert len(server) == 2 and all(f["_channels"] == 1 and f["_filename"] == "audio.flac" for f in server)
    assert all(f["response_format"] == ["verbose_json"] and f["language"] == ["en"] for f in server)
    assert [(s.speaker, s.text.strip()) for s in t.segments] == [
        ("left", "tone 220"), ("right", "tone 330"), ("left", "tone 220")]
    assert [round(s.start, 1) for s in t.segments] == [0.5, 2.0, 4.0]
    assert t.speakers == ["left", "right"] and t.text == "tone 220 tone 330 tone 220"
    assert t.audio.channels == 2 and t.duration == pytest.approx(6.0) and t.requested_language == "en"


@pytest.mark.parametrize("known", [["Agent", "Caller"], {"left": "Agent", "right": "Caller"},
                                   {0: "Agent", 1: "Caller"}])
def test_known_speakers_name_the_channels(client, server, known):
    t = client.transcribe(stereo(*CALL), channels="split", known_speakers=known)
    assert [s.speaker for s in t.segments] == ["Agent", "Caller", "Agent"]
    assert all("known_speaker_names[]" not in f for f in server)


def test_more_channels_are_ch1_to_chn(client, server):
    samples = np.zeros((3 * RATE, 3), dtype=np.float32)
    for ch in range(3):
        samples[ch * RATE:ch * RATE + RATE // 2, ch] = tone(0.5, rate=RATE, freq=200.0 + 100 * ch, amp=0.3)
    t = client.transcribe(AudioClip.from_array(samples, RATE), channels="split")
    assert [s.speaker for s in t.segments] == ["ch1", "ch2", "ch3"] and len(server) == 3


@pytest.mark.filterwarnings("ignore:.*returns only json")
def test_a_json_only_model_gives_one_segment_per_channel_with_a_note(client, server):
    with pytest.warns(RelayNotice, match="no timings"):
        t = client.transcribe(stereo((1, 0.5, 1.5, 330.0), (0, 2.0, 3.0, 220.0)), model="gpt-4o-transcribe",
                              channels="split")
    assert all(f["response_format"] == ["json"] for f in server)
    assert [(s.speaker, s.text) for s in t.segments] == [("right", "tone 330"), ("left", "tone 220")]
    assert t.segments[0].start == pytest.approx(0.5, abs=0.05) and t.segments[1].end == pytest.approx(3.0, abs=0.05)


def test_channels_can_be_a_client_default(httpserver, server):
    with nbaudio.Client(httpserver.url_for("/"), api_key="sk-test-0123456789", max_retries=0,
                        defaults={"transcribe": {"channels": "split"}}) as c:
        assert c.transcribe(stereo(*CALL)).speakers == ["left", "right"]


@pytest.mark.parametrize(("kwargs", "says"), [
    ({"channels": "stereo"}, "channels='stereo' is not supported; use one of: downmix, split"),
    ({"channels": "split", "stream": True}, "cannot stream"),
    ({"channels": "split", "known_speaker_names": ["a"], "known_speaker_references": [b"x"]}, "no references"),
    ({"channels": "split", "known_speakers": ["Agent"]}, "1 names for 2 channels"),
    ({"channels": "split", "known_speakers": {"Agent": "agent.wav"}}, "channel 'Agent' this clip does not have"),
])
def test_refused_before_sending(client, httpserver, kwargs, says):
    with pytest.raises(InvalidInputError, match=says):
        client.transcribe(stereo(*CALL), **kwargs)
    assert len(httpserver.log) == 0


def test_mono_is_refused_before_sending(client, httpserver):
    with pytest.raises(InvalidInputError, match="two or more channels; this clip has one"):
        client.transcribe(AudioClip.from_array(tone(1.0, rate=RATE), RATE), channels="split")
    assert len(httpserver.log) == 0


# ---- the hint ---------------------------------------------------------------------------------


def test_a_call_sent_downmixed_says_once_that_split_exists(client, server):
    with pytest.warns(AudioHint, match=r"channels='split'") as caught:
        t = client.transcribe(stereo(*CALL))
    assert len(caught) == 1 and "left alone 2 s, right alone 2 s" in str(caught[0].message)
    assert caught[0].filename == __file__  # it points at the caller's line
    assert server[0]["_channels"] == 2 and t.speakers == []  # sent as it was: the API's downmix
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.transcribe(stereo(*CALL))  # once per client


@pytest.mark.parametrize("clip", [
    AudioClip.from_array(np.repeat(tone(3.0, rate=RATE, amp=0.3)[:, None], 2, axis=1), RATE),  # mono as stereo
    stereo((0, 0.5, 3.0, 220.0), (1, 0.5, 3.0, 330.0)),  # both sides at once (music, a room)
    stereo((0, 0.5, 3.0, 220.0)),  # one side only
    AudioClip.from_array(tone(3.0, rate=RATE, amp=0.3), RATE),
])
def test_no_hint_for_other_audio(client, server, clip):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.transcribe(clip)
