"""gpt-4o-transcribe-diarize from the client: known speakers as data URLs, the 2-10 s rule, the fields
that model refuses, and labels kept consistent across the pieces of a long upload."""

from __future__ import annotations

import base64
import io
import json
import warnings

import pytest
import soundfile as sf
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import nbaudio
from nbaudio import AudioClip, Transcript
from nbaudio.errors import InvalidInputError
from nbaudio.longform import carried_speaker_label, speaker_references
from nbaudio.relay import RelayNotice
from nbaudio.transcript import Segment
from tests.support.signals import tone

DIARIZE = "gpt-4o-transcribe-diarize"
BODY = {"task": "transcribe", "duration": 3.0, "text": "Hi. Hello.", "segments": [
    {"type": "transcript.text.segment", "id": "seg_0", "start": 0.0, "end": 1.5, "text": "Hi.", "speaker": "Alice"},
    {"type": "transcript.text.segment", "id": "seg_1", "start": 1.5, "end": 3.0, "text": "Hello.", "speaker": "A"}]}


def clip(seconds: float, freq: float = 220.0) -> AudioClip:
    return AudioClip.from_array(tone(seconds, rate=8000, freq=freq, amp=0.3), 8000)  # small: werkzeug caps forms


@pytest.fixture
def client(httpserver: HTTPServer):
    with nbaudio.Client(httpserver.url_for("/"), api_key="sk-test-0123456789", max_retries=0, timeout=10) as c:
        yield c


@pytest.fixture
def seen(httpserver: HTTPServer):
    forms: list[dict] = []

    def handler(request: Request):
        forms.append(request.form.to_dict(flat=False))
        return Response(json.dumps(BODY), content_type="application/json")

    httpserver.expect_request("/v1/audio/transcriptions").respond_with_handler(handler)
    return forms


def data_url_clip(url: str) -> AudioClip:
    head, b64 = url.split(",", 1)
    assert head.startswith("data:audio/") and head.endswith(";base64")
    return AudioClip(base64.b64decode(b64))


def test_known_speakers_become_names_and_data_urls(client, seen, tmp_path):
    path = tmp_path / "bob.wav"
    sf.write(path, tone(3.0, rate=8000, freq=330, amp=0.3), 8000)
    t = client.transcribe(clip(3.0), model=DIARIZE, response_format="diarized_json",
                          known_speakers={"Alice": clip(2.5), " Bob ": path})
    form = seen[0]
    assert form["model"] == [DIARIZE] and form["response_format"] == ["diarized_json"]
    assert form["known_speaker_names[]"] == ["Alice", "Bob"]
    refs = [data_url_clip(u) for u in form["known_speaker_references[]"]]
    assert [round(r.duration, 2) for r in refs] == [2.5, 3.0]
    assert "chunking_strategy" not in form  # 3 s: not needed
    assert t.speakers == ["Alice", "A"] and t.segments_for("Alice")[0].text == "Hi."


def test_reference_over_ten_seconds_is_cut_with_a_note(client, seen):
    with pytest.warns(RelayNotice, match=r"'Alice' is 12.0 s, over the API's 10 s: sending its first 10 s"):
        client.transcribe(clip(3.0), model=DIARIZE, response_format="diarized_json",
                          known_speakers={"Alice": clip(12.0)})
    assert data_url_clip(seen[0]["known_speaker_references[]"][0]).duration == pytest.approx(10.0, abs=0.01)


def test_long_input_gets_chunking_strategy(client, seen):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RelayNotice)
        client.transcribe(clip(31.0), model=DIARIZE, response_format="diarized_json")
    assert seen[0]["chunking_strategy"] == ["auto"]


@pytest.mark.parametrize("kwargs, message", [
    ({"known_speakers": {"Alice": clip(1.2)}}, r"'Alice' is 1.2 s; the API takes 2-10 s"),
    ({"known_speakers": {f"s{i}": clip(2.5) for i in range(5)}}, "5 known speakers: the API takes at most 4"),
    ({"known_speakers": {"": clip(2.5)}}, "non-empty string"),
    ({"known_speakers": {"Al": clip(2.5), " Al": clip(2.5)}}, "'Al' is given twice"),
    ({"known_speakers": {"Al": clip(2.5)}, "known_speaker_names": ["Al"]}, "not both"),
    ({"known_speaker_names": ["a", "b"], "known_speaker_references": [clip(2.5)]}, "same length"),
    ({"known_speakers": [("Al", clip(2.5))]}, "must be a dict"),
    ({"prompt": "meeting notes"}, f"{DIARIZE} does not take prompt="),
    ({"include": ["logprobs"]}, "does not take include="),
    ({"timestamp_granularities": ["word"]}, "does not take timestamp_granularities="),
    ({"response_format": "verbose_json"}, "takes response_format json or text or diarized_json"),
])
def test_refused_before_sending(client, httpserver, kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        client.transcribe(clip(3.0), model=DIARIZE, **{"response_format": "diarized_json", **kwargs})
    assert len(httpserver.log) == 0


def test_other_models_send_references_as_they_are(client, seen):
    client.transcribe(clip(1.0), model="whisper-1", known_speakers={"agent": clip(0.5)})
    assert data_url_clip(seen[0]["known_speaker_references[]"][0]).duration == pytest.approx(0.5, abs=0.01)


# ---- labels across the pieces of a long upload ---------------------------------------------------

def test_carried_labels():
    given = ["Alice"]
    assert carried_speaker_label("Alice", given, "speaker ", set()) == "Alice"
    assert carried_speaker_label("speaker B", given, "speaker ", {"Alice", "B"}) == "B"  # matched by reference
    assert carried_speaker_label("A", given, "speaker ", {"Alice"}) == "A"  # first piece: kept
    assert carried_speaker_label("A", given, "speaker ", {"Alice", "A", "B"}) == "C"  # a new voice later on


def test_speaker_references_take_each_speakers_longest_stretch():
    piece = clip(20.0)
    t = Transcript(text="", segments=[
        Segment(0, 0.0, 1.0, "a", speaker="A"), Segment(1, 1.0, 4.0, "b", speaker="B"),
        Segment(2, 4.0, 16.0, "a", speaker="A"), Segment(3, 16.0, 17.5, "c", speaker="C")])
    refs = speaker_references(piece, t, exclude={"B"})
    assert list(refs) == ["A"]  # B is already known; C never talks 2 s
    assert refs["A"].duration == pytest.approx(10.0, abs=0.01)
    assert list(speaker_references(piece, t, limit=1)) == ["A"]
    assert sf.info(io.BytesIO(refs["A"].data)).format == "WAV"
