"""Hostile and careless user input (issue 26, item 9): every public entry point's numbers and paths.

The answer is an InvalidInputError saying what to do, raised before anything is sent; or, where a
user would expect it to work (NumPy numbers, an AudioClip in a message), the request as the API
takes it. Never a raw TypeError / ValueError / OSError / OverflowError, never a hang, never NaN
on the wire. What is sent is seen by a real HTTP server (pytest-httpserver) and a scripted
WebSocket server, both on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

import nbaudio
import nbaudio.realtime
from nbaudio import AudioClip
from nbaudio.errors import InvalidInputError
from tests.hostile.canary import outcomes_within
from tests.support.faults import ScriptedWebSocket

pytestmark = pytest.mark.timeout(120)
MAX_TIMEOUT = 7 * 24 * 3600.0  # the longest timeout taken (nbaudio._http.validation.MAX_TIMEOUT): a week
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

RATE = 16000
CLIP = AudioClip.from_array(0.3 * np.sin(np.arange(RATE // 2) / 7.0), RATE)  # 0.5 s
WAV = CLIP.data
REPLY = {"id": "chatcmpl-1", "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                                          "finish_reason": "stop"}]}
NUMPY_TYPES = (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64,
               np.float16, np.float32, np.float64, np.longdouble)


@pytest.fixture(scope="module")
def server():
    """One loopback HTTP server for the module: chat, speech and transcription answers."""
    srv = HTTPServer(host="127.0.0.1")
    srv.start()
    srv.expect_request("/v1/chat/completions").respond_with_json(REPLY)
    srv.expect_request("/v1/audio/speech").respond_with_data(WAV, content_type="audio/wav")
    srv.expect_request("/v1/audio/transcriptions").respond_with_json({"text": "hello"})
    srv.expect_request("/v1/audio/translations").respond_with_json({"text": "hello"})
    yield srv
    srv.clear()
    srv.stop()


@pytest.fixture(scope="module")
def client(server):
    with nbaudio.Client(server.url_for("/v1"), api_key="sk-hostile-inputs", max_retries=0, timeout=30) as c:
        yield c


class Sent:
    """The requests the server received while the block ran."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server

    def __enter__(self) -> Sent:
        self.start = len(self.server.log)
        return self

    def __exit__(self, *exc: object) -> None:
        self.requests = [req for req, _ in self.server.log[self.start:]]

    def json(self) -> dict:
        (request,) = self.requests
        return json.loads(request.get_data(), parse_constant=_no_constants)

    def form(self) -> dict[str, str]:
        (request,) = self.requests
        return dict(request.form)


def _no_constants(name: str) -> None:
    raise AssertionError(f"{name} was sent: it is not JSON")


def refused(server: HTTPServer, call, match: str | None = None) -> InvalidInputError:
    """`call()` raises InvalidInputError (its message matching `match`) and sends nothing."""
    with Sent(server) as sent, pytest.raises(InvalidInputError, match=match) as err:
        call()
    assert sent.requests == [], "a request was sent for refused input"
    return err.value


def numpy_number(dtype, value):
    """`value` as a `dtype` number (a float beyond the type's range becomes inf, as NumPy casts it)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return dtype(value)


def numpy_numbers() -> st.SearchStrategy:
    """Numbers of every NumPy type: integers over the whole range of theirs, floats with NaN and inf."""
    def of(dtype):
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            return st.integers(int(info.min), int(info.max)).map(dtype)
        return st.floats(allow_nan=True, allow_infinity=True).map(lambda v: numpy_number(dtype, v))
    return st.sampled_from(NUMPY_TYPES).flatmap(of)


# ---- NumPy numbers are taken where numbers are ---------------------------------------------


def test_chat_takes_numpy_numbers_and_sends_them_as_typed(server, client):
    with Sent(server) as sent:
        client.chat("hi", modalities=["text"], temperature=np.float32(0.7), max_tokens=np.int64(100),
                    top_p=np.float64(0.9), n=np.uint8(1), logit_bias={np.int64(50256): np.int16(-100)},
                    stop=np.array(["a", "b"]), seed=np.int32(7))
    body = sent.json()
    assert body["temperature"] == 0.7 and type(body["temperature"]) is float
    assert body["max_tokens"] == 100 and body["top_p"] == 0.9 and body["n"] == 1 and body["seed"] == 7
    assert body["logit_bias"] == {"50256": -100} and body["stop"] == ["a", "b"]


def test_speak_transcribe_translate_take_numpy_numbers(server, client):
    with Sent(server) as sent:
        client.speak("hi", speed=np.float32(1.25))
    assert sent.json()["speed"] == 1.25
    with Sent(server) as sent:
        client.transcribe(CLIP, temperature=np.float32(0.2), response_format="json")
    assert sent.form()["temperature"] == "0.2"
    with Sent(server) as sent:
        client.translate(CLIP, temperature=np.float16(0.5), response_format="json")
    assert sent.form()["temperature"] == "0.5"
    assert nbaudio.Client(server.url_for("/v1"), max_retries=np.int64(3), timeout=np.float32(5)).max_retries == 3


def test_clips_take_numpy_sample_rates_and_times():
    clip = AudioClip.from_array(np.zeros(RATE, np.float32) + 0.1, np.int64(RATE))
    assert clip.sample_rate == RATE and type(clip.sample_rate) is int
    assert clip.slice(np.float32(0.25), np.float64(0.75)).duration == pytest.approx(0.5)
    assert clip.resample(np.int32(8000)).sample_rate == 8000
    pcm = AudioClip(b"\0\0" * 100, "pcm", sample_rate=np.int64(8000), channels=np.int8(1))
    assert pcm.sample_rate == 8000 and pcm.duration == pytest.approx(100 / 8000)


@FAST
@given(number=numpy_numbers(),
       field=st.sampled_from(["temperature", "max_tokens", "top_p", "presence_penalty", "seed"]))
def test_chat_numbers_of_every_numpy_type(server, client, number, field):
    if not math.isfinite(float(number)):
        refused(server, lambda: client.chat("hi", modalities=["text"], **{field: number}), "JSON has no NaN")
        return
    with Sent(server) as sent:
        client.chat("hi", modalities=["text"], **{field: number})
    sent_value = sent.json()[field]
    if isinstance(number, np.integer):
        assert type(sent_value) is int and sent_value == int(number)
    else:  # as typed: the shortest text that is this number at the type's precision
        assert type(sent_value) is float and numpy_number(type(number), sent_value) == number


@FAST
@given(st.one_of(numpy_numbers(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10)))
def test_speed_and_temperature_of_every_type(server, client, number):
    for call, low, high in ((lambda: client.speak("hi", speed=number), 0.25, 4.0),
                            (lambda: client.transcribe(CLIP, temperature=number, response_format="json"), 0.0, 1.0)):
        if math.isfinite(float(number)) and low <= float(number) <= high:
            with Sent(server) as sent:
                call()
            assert len(sent.requests) == 1
        else:
            refused(server, call, "out of range|must be a number")


def test_numbers_beyond_a_float(server, client):
    refused(server, lambda: client.chat("hi", modalities=["text"], temperature=np.longdouble("1e4000")), "NaN")
    refused(server, lambda: client.speak("hi", speed=10**400), "out of range")
    refused(server, lambda: client.chat("hi", modalities=["text"], timeout=10**400), "longer than a week")
    with Sent(server) as sent:  # JSON takes integers of any size; what the server makes of it is its business
        client.chat("hi", modalities=["text"], seed=10**400)
    assert sent.json()["seed"] == 10**400


# ---- numbers that cannot be sent ------------------------------------------------------------


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, np.float32("nan"), np.float64("-inf")])
def test_nan_and_infinity_are_refused_naming_the_field(server, client, value):
    err = refused(server, lambda: client.chat("hi", modalities=["text"], temperature=value), "temperature")
    assert "NaN" in str(err) and err.param == "temperature"
    err = refused(server, lambda: client.chat("hi", modalities=["text"], response_format={"schema": {"x": [1, value]}}))
    assert err.param == "response_format.schema.x[1]"
    refused(server, lambda: client.speak("hi", extra_field=value), "extra_field")
    refused(server, lambda: client.transcribe(CLIP, some_option=value), "some_option")


@pytest.mark.parametrize("value", [object(), b"bytes", {1.5: "x"}, 3 + 4j, np.datetime64("2024-01-01")])
def test_values_json_cannot_carry_are_refused(server, client, value):
    refused(server, lambda: client.chat("hi", modalities=["text"], metadata=value), "metadata")


@pytest.mark.parametrize("timeout", [1e10, MAX_TIMEOUT * 1.01, math.nan, math.inf, -1, 0, "10", (1, 1e10),
                                     (math.nan, 5), (1, 2, 3), True])
def test_bad_timeouts_are_refused_before_sending(server, client, timeout):
    err = refused(server, lambda: client.chat("hi", modalities=["text"], timeout=timeout), "timeout")
    assert err.param == "timeout"
    with pytest.raises(InvalidInputError, match="timeout"):
        nbaudio.Client(server.url_for("/v1"), timeout=timeout)


@FAST
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**1100), 2**1100), numpy_numbers()))
def test_any_timeout_is_taken_or_refused(server, timeout):
    plain = int(timeout) if isinstance(timeout, (int, np.integer)) else float(timeout)  # compared as Python's
    takes = 0 < plain <= MAX_TIMEOUT
    try:
        c = nbaudio.Client(server.url_for("/v1"), timeout=timeout)
    except InvalidInputError as err:
        assert not takes and "timeout" in str(err)
    else:
        # A float16 is read through its shortest text (nbaudio._http.validation.plain_number): near zero
        # (subnormal) it keeps few digits, so the absolute tolerance.
        assert takes and c.timeout[1] == pytest.approx(float(timeout), rel=1e-3, abs=1e-7)
        assert type(c.timeout[1]) is float


# ---- paths ----------------------------------------------------------------------------------


def test_a_file_name_too_long_says_so(server, client, tmp_path):
    err = refused(server, lambda: client.transcribe("x" * 300 + ".wav"), "could not be opened")
    assert "too long" in str(err)
    refused(server, lambda: client.transcribe(str(tmp_path / ("y" * 5000))), "could not be opened")
    with pytest.raises(InvalidInputError, match="could not write"):
        CLIP.save(tmp_path / ("z" * 300 + ".wav"))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_a_device_or_a_folder_is_refused_not_read(server, client, tmp_path):
    fifo = tmp_path / "talk.wav"
    os.mkfifo(fifo)
    outcome = outcomes_within(20, lambda: AudioClip.from_file(fifo))  # a blocked read fails the test
    assert isinstance(outcome[0], InvalidInputError) and "pipe (FIFO)" in str(outcome[0])
    refused(server, lambda: client.transcribe(fifo), "FIFO")
    if os.path.exists("/dev/zero"):
        refused(server, lambda: client.transcribe("/dev/zero"), "device")
    refused(server, lambda: client.transcribe(tmp_path), "folder")


@FAST
@given(st.one_of(st.text(max_size=400), st.binary(max_size=300),
                 st.sampled_from(["", " ", "\n", "\0", "a\0b.wav", "..", "/", "~", "~nobody-here/x.wav",
                                  "x" * 255 + ".wav", "x" * 4097, "../" * 50, "C:\\x.wav", "\ud800.wav"])))
def test_any_path_is_refused_clearly(server, client, tmp_path_factory, path):
    with contextlib.chdir(tmp_path_factory.mktemp("empty")):
        refused(server, lambda: client.transcribe(path))
        with pytest.raises(InvalidInputError):
            AudioClip.from_file(path)


# ---- clips ----------------------------------------------------------------------------------


@FAST
@given(st.one_of(st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True), numpy_numbers(),
                 st.sampled_from([None, "16000", True, np.bool_(True), 10**12, np.uint64(2**63)])))
def test_any_sample_rate_is_taken_or_refused(rate):
    samples = np.zeros(64, np.float32)
    try:
        clip = AudioClip.from_array(samples, rate)
    except InvalidInputError as err:
        assert "sample_rate" in str(err)
        return
    assert 0 < clip.sample_rate <= 768_000 and clip.sample_rate == rate
    assert clip.data[:4] == b"RIFF"


@pytest.mark.parametrize("kwargs", [{"sample_rate": 0}, {"sample_rate": -8000}, {"sample_rate": math.nan},
                                    {"sample_rate": 10**12}, {"channels": 0}, {"channels": 1.5}, {"channels": 10**6}])
def test_encoded_audio_takes_sane_rates_and_channels(kwargs):
    with pytest.raises(InvalidInputError, match=next(iter(kwargs))):
        AudioClip(b"\0\0" * 100, "pcm", **kwargs)


@FAST
@given(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**1100), 2**1100),
                 st.sampled_from(["1", True, np.float32("nan"), np.int64(0)]), numpy_numbers()),
       st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-(2**1100), 2**1100),
                 numpy_numbers()))
def test_any_slice_is_a_clip_or_refused(start, end):
    try:
        part = CLIP.slice(start, end) if start is not None else CLIP.slice(end=end)
    except InvalidInputError as err:
        assert err.param in ("start", "end")
        return
    assert 0 < part.duration <= CLIP.duration


def test_concatenate_takes_clips_only():
    for bad, match in (([CLIP, "x"], r"clips\[1\] is a str"), ([CLIP, None], "NoneType"), (5, "list of AudioClips"),
                       ([], "at least one")):
        with pytest.raises(InvalidInputError, match=match):
            AudioClip.concatenate(bad)
    assert AudioClip.concatenate(iter([CLIP, CLIP])).duration == pytest.approx(2 * CLIP.duration)


@pytest.mark.parametrize("defaults", ["x", ["voice"], 5, b"voice"])
def test_client_defaults_must_be_a_dict(server, defaults):
    with pytest.raises(InvalidInputError, match="defaults must be a dict"):
        nbaudio.Client(server.url_for("/v1"), defaults=defaults)


# ---- an AudioClip where a message's base64 goes ---------------------------------------------


def test_a_clip_in_a_message_is_sent_as_the_api_wants(server, client):
    flac = CLIP.encode("flac")
    message = {"role": "user", "content": [{"type": "text", "text": "what is this?"},
                                           {"type": "input_audio", "input_audio": {"data": flac}}]}
    with Sent(server) as sent:
        client.chat([message], modalities=["text"])
    part = sent.json()["messages"][0]["content"][1]["input_audio"]
    assert part["format"] == "wav"  # the API takes wav or mp3: converted, as chat(audio=clip) does
    assert AudioClip.from_base64(part["data"]).duration == pytest.approx(CLIP.duration, abs=0.01)
    assert message["content"][1]["input_audio"]["data"] is flac  # the caller's message is left as it was
    conv = nbaudio.Conversation([message])
    assert conv.messages[0]["content"][1]["input_audio"]["format"] == "wav"


# ---- Realtime -------------------------------------------------------------------------------


class Recorder:
    """A scripted Realtime server that says session.created and keeps every client event."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.server = ScriptedWebSocket(self._script)

    def _script(self, ws) -> None:
        ws.send(json.dumps({"type": "session.created", "event_id": "event_1", "session": {"type": "realtime"}}))
        with contextlib.suppress(Exception):  # the client goes: the connection closes
            for message in ws:
                self.events.append(json.loads(message, parse_constant=_no_constants))

    def client(self) -> nbaudio.Client:
        return nbaudio.Client(self.server.base_url, api_key="sk-realtime-inputs")


@pytest.fixture
def realtime():
    rec = Recorder()
    with rec.server:
        yield rec


def test_realtime_refuses_bad_numbers_before_sending(realtime):
    arr = np.zeros(2400, np.float32)
    with nbaudio.realtime.connect(client=realtime.client()) as rt:
        for call, match in ((lambda: rt.send_audio(arr, sample_rate=0), "sample_rate"),
                            (lambda: rt.send_audio(arr, sample_rate=math.nan), "sample_rate"),
                            (lambda: rt.send_audio(arr, sample_rate=10**12), "sample_rate"),
                            (lambda: rt.send_audio(np.array([math.nan]), sample_rate=RATE), "NaN"),
                            (lambda: rt.send_audio(arr, sample_rate=RATE, chunk_ms=math.nan), "chunk_ms"),
                            (lambda: rt.truncate("item_1", math.nan), "audio_end_ms"),
                            (lambda: rt.truncate("item_1", math.inf), "audio_end_ms"),
                            (lambda: rt.truncate("item_1", 100, content_index=math.nan), "content_index"),
                            (lambda: rt.create_response(temperature=math.nan), "response.temperature"),
                            (lambda: rt.update_session(audio={"output": {"speed": math.inf}}),
                             r"session.audio.output.speed"),
                            (lambda: rt.send({"type": "response.create", "response": {"metadata": object()}}),
                             "response.metadata"),
                            (lambda: next(rt.events(timeout=math.nan)), "timeout"),
                            (lambda: rt.wait_for("x", timeout=1e10), "timeout")):
            with pytest.raises(InvalidInputError, match=match):
                call()
        rt.create_response(temperature=np.float32(0.8), max_output_tokens=np.int64(50))
        rt.truncate("item_1", np.float32(1500.7), content_index=np.int64(0))
        rt.send_audio(arr, sample_rate=np.int64(RATE))
    assert _wait_for(lambda: len(realtime.events) >= 3)
    types = [e["type"] for e in realtime.events]
    assert types[:2] == ["response.create", "conversation.item.truncate"] and "input_audio_buffer.append" in types
    assert realtime.events[0]["response"] == {"temperature": 0.8, "max_output_tokens": 50}
    assert realtime.events[1]["audio_end_ms"] == 1500 and realtime.events[1]["content_index"] == 0


def test_async_realtime_refuses_nan_before_sending(realtime):
    async def run() -> None:
        async with nbaudio.realtime.aconnect(client=realtime.client()) as rt:
            with pytest.raises(InvalidInputError, match="response.temperature"):
                await rt.create_response(temperature=math.nan)
            with pytest.raises(InvalidInputError, match="sample_rate"):
                await rt.send_audio(np.zeros(100, np.float32), sample_rate=0)
            with pytest.raises(InvalidInputError, match="audio_end_ms"):
                await rt.truncate("item_1", math.nan)
            await rt.create_response(temperature=np.float64(0.6))

    asyncio.run(run())
    assert _wait_for(lambda: len(realtime.events) >= 1)
    assert [e["type"] for e in realtime.events] == ["response.create"]
    assert realtime.events[0]["response"] == {"temperature": 0.6}


@pytest.mark.parametrize("value", [math.nan, -1, 0, 1e10, "5", True])
def test_realtime_connect_timeouts_are_checked(value):
    for name in ("timeout", "first_event_timeout"):
        with pytest.raises(InvalidInputError, match=name):
            nbaudio.realtime.connect(client=nbaudio.Client("http://127.0.0.1:9/v1"), **{name: value})


def _wait_for(condition, seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()
