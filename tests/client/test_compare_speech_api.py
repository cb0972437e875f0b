"""compare_speech against an OpenAI-like server that streams its speech slowly: the time to first
audio is the first audio bytes' (not the headers'), every combination is one cell (NumPy speeds sent
as plain numbers), a refused model or a failed transcription is that cell's error, costs are
OpenAI's prices, hostile names stay text, and in IPython the grid fills in under one display id."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pytest
from werkzeug import Request, Response

import nbaudio
from nbaudio import Client
from nbaudio.errors import InvalidInputError
from nbaudio.pricing import Prices, speech_cost
from tests.support.magic_fakes import shell  # noqa: F401  (the fixture: IPython with its displays recorded)
from tests.support.signals import tone_wav

TEXT = "The cat sat on the mat."
HOSTILE = "<img src=x onerror=alert(1)>"
FIRST_AFTER, REST_AFTER = 0.3, 0.4  # seconds the server waits before the first audio bytes, and before the rest
WAV = tone_wav(1.0, amp=0.3)


class Server:
    """Streams WAV audio for /audio/speech (headers at once, the bytes later) and answers
    /audio/transcriptions with the text; the model "refused" is not there. Keeps what it was sent."""

    def __init__(self, heard: str = TEXT) -> None:
        self.speech: list[dict[str, Any]] = []
        self.transcriptions: list[str] = []
        self.heard = heard

    def speak(self, request: Request) -> Response:
        body = json.loads(request.data)
        self.speech.append(body)
        if body["model"] == "refused":
            error = {"error": {"message": "The model 'refused' does not exist", "type": "invalid_request_error",
                               "code": "model_not_found", "param": "model"}}
            return Response(json.dumps(error), status=404, content_type="application/json")

        def audio():
            yield b""  # the status and headers go out now (werkzeug sends them with the first write)
            time.sleep(FIRST_AFTER)
            yield WAV[:4000]
            time.sleep(REST_AFTER)
            yield WAV[4000:]
        return Response(audio(), content_type="audio/wav", direct_passthrough=True)

    def transcribe(self, request: Request) -> Response:
        model = request.form["model"]
        self.transcriptions.append(model)
        if model == "deaf":
            error = {"error": {"message": "The model 'deaf' does not exist", "type": "invalid_request_error",
                               "code": "model_not_found", "param": "model"}}
            return Response(json.dumps(error), status=404, content_type="application/json")
        return Response(json.dumps({"text": self.heard}), content_type="application/json")


@pytest.fixture
def api(httpserver):
    server = Server()
    httpserver.expect_request("/v1/audio/speech").respond_with_handler(server.speak)
    httpserver.expect_request("/v1/audio/transcriptions").respond_with_handler(server.transcribe)
    with Client(httpserver.url_for("/v1"), max_retries=0) as client:
        server.client = client
        yield server


def test_time_to_first_audio_is_the_first_audio_bytes_not_the_headers(api):
    grid = nbaudio.compare_speech(TEXT, clients={"api": api.client}, concurrency=1, live=False)
    (row,) = grid.rows()
    assert row["error"] is None and row["bytes"] == len(WAV) and row["duration"] == pytest.approx(1.0)
    # the headers came at once: a clock stopped at them would read well under FIRST_AFTER
    assert row["ttfb"] >= FIRST_AFTER and row["seconds"] - row["ttfb"] >= REST_AFTER * 0.9
    assert api.speech[0]["input"] == TEXT and "speed" not in api.speech[0] and "voice" in api.speech[0]


def test_every_combination_a_cell_numpy_speeds_sent_as_numbers_errors_kept(api):
    speeds = np.array([0.75, 1.25], dtype=np.float32)  # float32 is not a Python float: it must not reach json
    grid = nbaudio.compare_speech(TEXT, voices=np.array(["alloy", HOSTILE]), speeds=speeds, models=["tts-1", "refused"],
                                  clients={"api": api.client}, concurrency=2, live=False)
    assert grid.labels[:4] == ["tts-1 · alloy · 0.75×", f"tts-1 · {HOSTILE} · 0.75×", "tts-1 · alloy · 1.25×",
                               f"tts-1 · {HOSTILE} · 1.25×"] and len(grid.labels) == 8
    assert sorted((b["voice"], b["speed"], b["model"]) for b in api.speech) == sorted(
        (v, s, m) for v in ("alloy", HOSTILE) for s in (0.75, 1.25) for m in ("tts-1", "refused"))
    df = grid.to_dataframe()
    ok, refused = df[df["model"] == "tts-1"], df[df["model"] == "refused"]
    assert refused["error"].str.startswith("NotFoundError").all() and refused["duration"].isna().all()
    assert ok["error"].isna().all() and (ok["wer"] == 0.0).all() and (ok["heard"] == TEXT).all()
    assert set(ok["speed"]) == {0.75, 1.25} and all(type(s) is float for s in ok["speed"])
    price = speech_cost(Prices.openai(), "tts-1", len(TEXT))
    assert price.known and (ok["cost_usd"] == price.usd).all() and (ok["cost"] == str(price)).all()
    assert api.transcriptions == ["whisper-1"] * 4  # only the clips that were made, by the client's default model
    assert set(grid.clips_by("voice")) == {"alloy", HOSTILE}
    assert set(grid.clips_by("voice")["alloy"]) == {"tts-1 · 0.75×", "tts-1 · 1.25×"}
    bundle = grid._repr_mimebundle_()
    html, text = bundle["text/html"], bundle["text/plain"]
    assert HOSTILE not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count("<audio") == 4 and html.count('class="nbaudio-unit"') == 4  # each cell seeks its own player
    assert html.count("NotFoundError") == 4 and "waiting" not in html
    assert text.count("NotFoundError") == 4 and f"tts-1 · {HOSTILE} · 1.25×: 1.00 s of audio" in text


def test_the_round_trip_by_another_model_none_or_a_failure(api, httpserver):
    grid = nbaudio.compare_speech(TEXT, voices=["alloy"], clients={"api": api.client}, transcribe_with="my-whisper",
                                  live=False)
    assert api.transcriptions == ["my-whisper"] and grid.rows()[0]["wer"] == 0.0
    assert "heard by my-whisper on each clip's own client" in str(grid)
    grid = nbaudio.compare_speech(TEXT, clients={"api": api.client}, transcribe_with=None, live=False)
    assert len(api.transcriptions) == 1 and grid.rows()[0]["wer"] is None and grid.rows()[0]["heard"] is None
    with Client(httpserver.url_for("/v1"), max_retries=0) as other:
        grid = nbaudio.compare_speech(TEXT, clients={"api": api.client}, transcribe_with=(other, "deaf"), live=False)
    row = grid.rows()[0]
    assert row["duration"] == pytest.approx(1.0) and row["error"].startswith("NotFoundError")  # the clip stays
    assert "not transcribed: NotFoundError" in grid._repr_mimebundle_()["text/html"]
    api.heard = "The cat sat on a mat today."
    grid = nbaudio.compare_speech(TEXT, clients={"api": api.client}, live=False)
    assert grid.rows()[0]["wer"] == pytest.approx(2 / 6)  # one substituted, one added, of six words


@pytest.mark.parametrize(("kwargs", "param"), [
    ({"voice": "alloy"}, "voice"), ({"speed": 1.5}, "speed"), ({"model": "tts-1"}, "model"),
    ({"stream": True}, "stream"),
    ({"speeds": [5.0]}, "speeds"), ({"speeds": [True]}, "speeds"), ({"speeds": [1.0, 1.0]}, "speeds"),
    ({"speeds": []}, "speeds"), ({"voices": ["a", "a"]}, "voices"), ({"voices": [3]}, "voices"),
    ({"transcribe_with": 5}, "transcribe_with"), ({"live": "yes"}, "live"),
])
def test_bad_arguments_say_what_to_give(api, kwargs, param):
    with pytest.raises(InvalidInputError) as e:
        nbaudio.compare_speech(TEXT, clients={"api": api.client}, **kwargs)
    assert e.value.param == param and not api.speech


def test_text_over_the_streaming_limit_is_refused_before_any_call(api):
    with pytest.raises(InvalidInputError, match="at most 4096"):
        nbaudio.compare_speech("word " * 1000, clients={"api": api.client})
    assert not api.speech


def test_the_grid_fills_in_under_one_display_id_and_shows_once(api, shell):  # noqa: F811
    grid = nbaudio.compare_speech(TEXT, voices=["alloy", "echo", "nova"], clients={"api": api.client}, concurrency=1,
                                  live=True)
    outs = shell.display_pub.outputs
    first, *updates = outs
    display_id = first["transient"]["display_id"]
    assert not first["update"] and first["data"]["text/html"].count("waiting…") == 3
    assert [o["update"] for o in updates] == [True] * 4 and {o["transient"]["display_id"] for o in updates} == {
        display_id}
    # a cell more each time a clip arrives (one at a time here), then the final state once more; while
    # other calls run an arrived cell has its figures and what was heard, its player and waveform (an
    # encode that takes CPU from the calls) are made once only the last call runs
    html = [o["data"]["text/html"] for o in updates]
    assert [h.count("<audio") for h in html] == [0, 2, 3, 3] and [h.count("<img") for h in html] == [0, 2, 3, 3]
    assert html[0].count("player and waveform when the last clips are in") == 1 and "player and" not in html[1]
    assert html[0].count("s of audio") == 1 and "heard: The cat sat on the mat." in html[0]
    assert "(1 of 3 done" in updates[0]["data"]["text/plain"]
    assert updates[-1]["data"] == grid._repr_mimebundle_()
    # the grid as the cell's value: the live output above is it, so nothing is shown twice ...
    assert shell.display_formatter.format(grid) == ({}, {}) and len(outs) == 5
    # ... but shown again on purpose, it is
    shell.display_formatter.format(grid)
    assert len(outs) == 6 and outs[-1]["data"]["text/html"].count("<audio") == 3


def test_hostile_text_and_transcripts_stay_text(api):
    said = "<script>alert('said')</script> & done"
    api.heard = "<b onmouseover=alert('heard')>bold</b>"
    grid = nbaudio.compare_speech(said, voices=["alloy"], clients={"<i>api</i>": api.client}, live=False)
    html = grid._repr_mimebundle_()["text/html"]
    assert api.speech[0]["input"] == said
    for raw in (said, api.heard, "<i>api</i>"):
        assert raw not in html
    assert "&lt;script&gt;alert(&#x27;said&#x27;)&lt;/script&gt; &amp; done" in html
    assert "&lt;b onmouseover=alert(&#x27;heard&#x27;)&gt;bold&lt;/b&gt;" in html
    assert html.count("<script>") == 1  # the player's own script, nothing from the text
