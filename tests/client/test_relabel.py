"""The fix-it loop after diarization, from the client: speakers found again without transcribing
(Client.relabel over the engine's /v1/audio/diarizations, here a stand-in server), one segment
reassigned, two speakers merged, and the transcript's view drawn from the new segments."""

from __future__ import annotations

import json

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import nbaudio
from nbaudio import AudioClip, Transcript
from nbaudio.display import mimebundle
from nbaudio.errors import APIResponseError, InvalidInputError, NotFoundError
from nbaudio.transcript import Segment, Word
from tests.support.signals import tone

TURNS = {"duration": 6.0, "speakers": ["A", "B"], "segments": [
    {"start": 0.2, "end": 2.9, "speaker": "A"}, {"start": 3.1, "end": 5.8, "speaker": "B"}]}


def words(*spec):
    return [Word(w, s, e) for w, s, e in spec]


def transcript(audio: AudioClip | None = None) -> Transcript:
    """Whisper's view of two people: one segment running across the change of speaker, with word times."""
    seg0 = Segment(0, 0.0, 4.5, "Hello there. Hi Sam.", words=words(("Hello", 0.2, 0.8), ("there.", 0.9, 1.6),
                                                                       ("Hi", 3.2, 3.6), ("Sam.", 3.7, 4.4)))
    seg1 = Segment(1, 4.5, 6.0, "How are you?", words=words(("How", 4.6, 4.9), ("are", 5.0, 5.2), ("you?", 5.3, 5.7)))
    return Transcript("Hello there. Hi Sam. How are you?", duration=6.0, segments=[seg0, seg1], audio=audio)


@pytest.fixture
def client(httpserver: HTTPServer):
    with nbaudio.Client(httpserver.url_for("/"), api_key="sk-test-0123456789", max_retries=0, timeout=10) as c:
        yield c


@pytest.fixture
def seen(httpserver: HTTPServer):
    forms: list[dict] = []

    def handler(request: Request):
        forms.append(request.form.to_dict(flat=False) | {"files": list(request.files)})
        return Response(json.dumps(TURNS), content_type="application/json")

    httpserver.expect_request("/v1/audio/diarizations", method="POST").respond_with_handler(handler)
    return forms


def audio() -> AudioClip:
    return AudioClip.from_array(tone(6.0, rate=8000, freq=220, amp=0.3), 8000)


def test_relabel_cuts_segments_where_the_speaker_changes(client, seen):
    t = transcript(audio())
    again = client.relabel(t, num_speakers=2)
    assert seen[0]["num_speakers"] == ["2"] and seen[0]["files"] == ["file"]
    assert [(s.text, s.speaker) for s in again.segments] == [("Hello there.", "A"), ("Hi Sam.", "B"),
                                                            ("How are you?", "B")]
    assert again.text == t.text and again.audio is not None
    assert all(s.speaker is None for s in t.segments)  # the transcript it was given is left as it was


def test_relabel_without_word_times_labels_whole_segments(client, seen):
    t = transcript(audio())
    for s in t.segments:
        s.words = []
    again = client.relabel(t, known_speakers={"Sam": AudioClip.from_array(tone(3.0, rate=8000), 8000)})
    assert seen[0]["known_speaker_names[]"] == ["Sam"] and seen[0]["known_speaker_references[]"][0].startswith(
        "data:audio/")
    assert [s.speaker for s in again.segments] == ["A", "B"]


def test_relabel_needs_the_audio(client):
    with pytest.raises(InvalidInputError, match="has no audio"):
        client.relabel(transcript())


@pytest.mark.parametrize("count", [0, 2.5, "two", True])
def test_bad_speaker_count_is_refused_before_sending(client, count):
    with pytest.raises(InvalidInputError, match="num_speakers"):
        client.diarize(audio(), num_speakers=count)


def test_a_server_without_the_route_says_what_to_do(client, httpserver):
    httpserver.expect_request("/v1/audio/diarizations").respond_with_json(
        {"error": {"message": "Not found", "type": "invalid_request_error"}}, status=404)
    with pytest.raises(NotFoundError) as caught:
        client.relabel(transcript(audio()))
    assert "transcribe again" in caught.value.hint


def test_a_bad_answer_is_an_nbaudio_error(client, httpserver):
    httpserver.expect_request("/v1/audio/diarizations").respond_with_json({"segments": [{"start": 0, "end": 1}]})
    with pytest.raises(APIResponseError, match="speaker"):
        client.diarize(audio())


def labelled() -> Transcript:
    segs = [Segment(0, 0.0, 2.0, "Hi.", speaker="A"), Segment(1, 2.0, 4.0, "Hello.", speaker="B"),
            Segment(2, 4.0, 6.0, "Bye.", speaker="C")]
    return Transcript("Hi. Hello. Bye.", segments=segs)


def test_reassign_one_segment():
    t = labelled()
    fixed = t.reassign(2, "B")
    assert [s.speaker for s in fixed.segments] == ["A", "B", "B"] and fixed.speakers == ["A", "B"]
    assert [s.speaker for s in t.segments] == ["A", "B", "C"]
    assert t.reassign(-1, "Zoe").speakers == ["A", "B", "Zoe"]  # a new name is a new speaker


@pytest.mark.parametrize("index, speaker, message", [(3, "A", "no segment 3"), ("0", "A", "an int"),
                                                     (0, " ", "non-empty")])
def test_reassign_refuses_what_is_not_there(index, speaker, message):
    with pytest.raises(InvalidInputError, match=message):
        labelled().reassign(index, speaker)


def test_merge_speakers():
    t = labelled()
    merged = t.merge_speakers("A", "C")
    assert [s.speaker for s in merged.segments] == ["A", "B", "A"]
    assert merged.by_speaker()["A"].talk_time == 4.0
    with pytest.raises(InvalidInputError, match="'D' is not a speaker"):
        t.merge_speakers("A", "D")
    with pytest.raises(InvalidInputError, match="at least one"):
        t.merge_speakers("A")


def test_the_view_is_drawn_from_the_new_segments():
    t = labelled()
    assert "Zoe" not in mimebundle(t)["text/html"]
    assert "Zoe" in mimebundle(t.reassign(1, "Zoe"))["text/html"]
    assert ">C<" in mimebundle(t)["text/html"] and ">C<" not in mimebundle(t.merge_speakers("A", "C"))["text/html"]


def test_relabel_keeps_words_whisper_timed_outside_their_segment(client, seen):
    """Whisper's word times can run past their segment's; cut at speaker changes, none is lost."""
    t = transcript(audio())
    t.words = [w for s in t.segments for w in s.words] + [Word("again.", 5.75, 6.4)]  # past segment 1, cut to 5.7 s
    t.segments[1].end = 5.7
    again = client.relabel(t)
    assert [w.word for w in again.all_words()] == [w.word for w in t.words]
