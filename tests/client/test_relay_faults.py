"""The client against scripted hostile relays (issue 14): shapes no real server produces on demand.

Keys echoed in stream events, 200 responses that are errors, bodies that trickle or streams of
keep-alives only, FastAPI-nested errors, bare 404s, new-api / one-api wrapped errors, typos in
keyword arguments, and the exact multipart fields of an upload.
"""

from __future__ import annotations

import base64
import json
import socket
import time
import warnings

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import nbaudio
from nbaudio import AudioClip
from nbaudio._wire.sse import format_sse
from nbaudio.errors import (
    APIResponseError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    ParameterNameWarning,
    RateLimitError,
    StreamInterruptedError,
)
from tests.support.faults import RawServer, chunk
from tests.support.signals import tone, tone_wav

KEY = "sk-relay-CANARY-0123456789abcdefXYZ"
SSE = "text/event-stream"


WAV = tone_wav(0.3, freq=300, amp=0.3)  # 24 kHz mono
PCM = AudioClip.from_array(tone(0.3, freq=300, amp=0.3), 24000).encode("pcm").data  # the same tone, as pcm


@pytest.fixture
def client(httpserver: HTTPServer):
    with nbaudio.Client(httpserver.url_for("/"), api_key=KEY, max_retries=2, timeout=10) as c:
        yield c


def shown(err: BaseException) -> str:
    """Everything of an error a notebook can show."""
    return " ".join((str(err), repr(err), repr(getattr(err, "body", "")), repr(getattr(err, "headers", ""))))


def assert_no_key(err: BaseException) -> None:
    text = shown(err)
    assert KEY not in text and KEY[:12] not in text, text


def speech_events(*extra: bytes) -> bytes:
    delta = format_sse({"type": "speech.audio.delta", "audio": base64.b64encode(PCM).decode()})
    return delta + b"".join(extra)


# ---- 1: server text reaches exceptions only redacted; stream errors get their class ----------------

@pytest.mark.parametrize("event,cls", [
    ({"error": {"message": f"rejected Bearer {KEY}", "type": "invalid_request_error", "code": "invalid_api_key"}},
     AuthenticationError),
    ({"type": "error", "error": {"message": f"slow down, {KEY}", "type": "rate_limit_error"}}, RateLimitError),
    ({"error": {"message": f"bad voice for {KEY}", "code": 400}}, BadRequestError),
    ({"error": {"message": f"key {KEY} over quota", "code": "insufficient_quota"}}, RateLimitError),
    ({"error": {"message": f"boom {KEY}"}}, InternalServerError),
])
def test_stream_error_event_is_redacted_and_has_its_class(client, httpserver, event, cls):
    httpserver.expect_request("/v1/audio/speech").respond_with_data(
        speech_events(format_sse(event)), content_type=SSE)
    with pytest.raises(cls) as info:
        client.speak("hi", stream=True, stream_format="sse", response_format="pcm").collect()
    assert_no_key(info.value)
    assert "***" in info.value.message


def test_non_json_stream_event_is_redacted_even_where_it_is_cut(client, httpserver):
    # The key straddles the 80th character, where the message cuts the event short.
    event = ("x" * 60 + f" {KEY}").encode()
    httpserver.expect_request("/v1/chat/completions").respond_with_data(
        b"data: " + event + b"\n\n", content_type=SSE)
    with pytest.raises(APIResponseError, match="not JSON") as info:
        client.chat("hi", stream=True).collect()
    assert_no_key(info.value)


def test_transcription_stream_error_event_is_redacted(client, httpserver):
    httpserver.expect_request("/v1/audio/transcriptions").respond_with_data(
        format_sse({"type": "transcript.text.delta", "delta": "hel"})
        + format_sse({"error": {"message": f"Incorrect API key provided: {KEY}", "code": "invalid_api_key"}}),
        content_type=SSE)
    with pytest.raises(AuthenticationError) as info:
        client.transcribe(WAV, stream=True, response_format="json").collect()
    assert_no_key(info.value)


def test_non_json_success_body_is_redacted_before_it_is_cut(client, httpserver):
    httpserver.expect_request("/v1/chat/completions").respond_with_data(
        "{" + "x" * 105 + KEY, content_type="application/json")
    with pytest.raises(APIResponseError, match="not JSON") as info:
        client.chat("hi")
    assert_no_key(info.value)


# ---- 2: 200 responses that are errors ------------------------------------------------------------

LOGIN_PAGE = "<!DOCTYPE html><html><head><title>Sign in to Relay</title></head><body><form>...</form></body></html>"
ERROR_200 = [
    (json.dumps({"code": 401, "msg": f"invalid token {KEY}"}), "application/json", "invalid token"),
    (LOGIN_PAGE, "text/html; charset=utf-8", "Sign in to Relay"),
    ("upstream error: quota exhausted", "text/plain", "upstream error: quota exhausted"),
]


@pytest.mark.parametrize("body,ctype,message", ERROR_200)
@pytest.mark.parametrize("fmt", ["wav", "mp3", "pcm"])
def test_speech_200_that_is_an_error_raises_with_its_message(client, httpserver, body, ctype, message, fmt):
    httpserver.expect_request("/v1/audio/speech").respond_with_data(body, content_type=ctype)
    with pytest.raises(APIResponseError, match=message) as info:
        client.speak("hi", response_format=fmt)
    assert "instead of audio" in str(info.value)
    assert_no_key(info.value)


def test_speech_200_with_bytes_that_are_no_audio_says_so(client, httpserver):
    httpserver.expect_request("/v1/audio/speech").respond_with_data(bytes(range(200, 256)) * 20,
                                                                   content_type="audio/wav")
    with pytest.raises(APIResponseError, match="not wav audio"):
        client.speak("hi", response_format="wav")


@pytest.mark.parametrize("body,ctype,message", ERROR_200)
@pytest.mark.parametrize("fmt", ["verbose_json", "json"])
def test_json_transcription_200_that_is_an_error_raises(client, httpserver, body, ctype, message, fmt):
    httpserver.expect_request("/v1/audio/transcriptions").respond_with_data(body, content_type=ctype)
    with pytest.raises(APIResponseError, match=message) as info:
        client.transcribe(WAV, response_format=fmt)
    assert_no_key(info.value)


@pytest.mark.parametrize("body,ctype,message", ERROR_200[:2])
@pytest.mark.parametrize("fmt", ["text", "srt", "vtt"])
def test_text_transcription_200_that_is_html_or_a_json_error_raises(client, httpserver, body, ctype, message, fmt):
    httpserver.expect_request("/v1/audio/transcriptions").respond_with_data(body, content_type=ctype)
    with pytest.raises(APIResponseError, match=message):
        client.transcribe(WAV, response_format=fmt)


def test_streamed_transcription_answered_with_an_error_page_raises(client, httpserver):
    httpserver.expect_request("/v1/audio/transcriptions").respond_with_data(LOGIN_PAGE, content_type="text/html")
    with pytest.raises(APIResponseError, match="Sign in to Relay"):
        client.transcribe(WAV, stream=True, response_format="json").collect()


@pytest.mark.parametrize("body,ctype,message", ERROR_200)
def test_chat_200_that_is_an_error_keeps_the_relays_message(client, httpserver, body, ctype, message):
    httpserver.expect_request("/v1/chat/completions").respond_with_data(body, content_type=ctype)
    with pytest.raises(APIResponseError, match=message) as info:
        client.chat("hi", audio_bridge=False)
    assert "no choices" not in str(info.value)
    assert_no_key(info.value)


# ---- 6: a deadline for every call ------------------------------------------------------------------

def trickle(head: bytes, every: float = 0.5, piece: bytes = b"RI"):
    def script(conn: socket.socket) -> None:
        conn.sendall(head)
        for _ in range(600):  # 300 s: past the test's own timeout, so a missed deadline fails it
            conn.sendall(piece)
            time.sleep(every)
    return script


@pytest.mark.timeout(90)
def test_trickling_body_ends_at_the_deadline():
    server = RawServer(trickle(b"HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: 100000\r\n\r\n"))
    try:
        with nbaudio.Client(server.base_url, api_key=KEY, max_retries=2) as c:
            with pytest.raises(APITimeoutError, match="2s timeout"):
                c.speak("hi", timeout=2)
        assert server.connections == 1  # a deadline that passed is not retried
    finally:
        server.close()


@pytest.mark.timeout(90)
def test_trickling_chunked_body_ends_at_the_deadline():
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    server = RawServer(trickle(head, piece=chunk(b"{ ")))
    try:
        with nbaudio.Client(server.base_url, api_key=KEY) as c:
            with pytest.raises(APITimeoutError):
                c.transcribe(WAV, timeout=2)
    finally:
        server.close()


@pytest.mark.timeout(90)
def test_retries_count_against_the_deadline(httpserver):
    httpserver.expect_request("/v1/audio/speech").respond_with_response(
        Response("busy", status=503, headers={"Retry-After": "30"}))
    with nbaudio.Client(httpserver.url_for("/"), api_key=KEY, max_retries=2) as c:
        with pytest.raises(InternalServerError):
            c.speak("hi", timeout=2)  # waiting 30 s to retry would pass the deadline: not waited, not retried
    assert len(httpserver.log) == 1


def ping_stream(first: bytes = b""):
    def script(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        if first:
            conn.sendall(chunk(first))
        for _ in range(1000):  # 300 s: past the test's own timeout, so a missed stall fails it
            conn.sendall(chunk(b": ping\n\n"))
            time.sleep(0.3)
    return script


@pytest.mark.timeout(90)
@pytest.mark.parametrize("first", [b"", speech_events()])
def test_stream_of_only_keepalives_is_stalled(first):
    server = RawServer(ping_stream(first))
    try:
        with nbaudio.Client(server.base_url, api_key=KEY) as c:
            stream = c.speak("hi", stream=True, stream_format="sse", response_format="pcm", timeout=2)
            with pytest.raises(StreamInterruptedError, match="stalled") as info:
                stream.collect()
        if first:  # what arrived before the keep-alives is kept, playable
            assert info.value.partial is not None and info.value.partial.data == PCM
        else:
            assert info.value.partial is None
    finally:
        server.close()


# ---- 8: speech SSE ending in [DONE] -----------------------------------------------------------------

def test_speech_sse_ending_in_done_marker_is_whole(client, httpserver):
    httpserver.expect_request("/v1/audio/speech").respond_with_data(speech_events(b"data: [DONE]\n\n"),
                                                                   content_type=SSE)
    clip = client.speak("hi", stream=True, stream_format="sse", response_format="pcm").collect()
    assert clip.data == PCM and clip.format == "pcm"


# ---- 10: FastAPI-nested errors, "None" strings --------------------------------------------------------

@pytest.mark.parametrize("body,message,type_,param,code", [
    ({"detail": {"error": {"message": "Invalid voice 'x'", "type": "invalid_request_error", "param": "voice",
                           "code": "bad_voice"}}}, "Invalid voice 'x'", "invalid_request_error", "voice", "bad_voice"),
    ({"detail": {"error": "/audio/speech: Invalid model name passed in model=nope"}},
     "/audio/speech: Invalid model name passed in model=nope", None, None, None),
    ({"error": {"message": "bad input", "type": "None", "param": "None", "code": "null"}},
     "bad input", None, None, None),
    ({"error": {"message": "{'error': '/audio/transcriptions: Invalid model name'}", "type": "None", "param": "None",
                "code": "400"}}, "/audio/transcriptions: Invalid model name", None, None, "400"),
])
def test_nested_and_none_string_error_shapes(client, httpserver, body, message, type_, param, code):
    httpserver.expect_request("/v1/audio/speech").respond_with_json(body, status=400)
    with pytest.raises(BadRequestError) as info:
        client.speak("hi")
    err = info.value
    assert (err.message, err.type, err.param, err.code) == (message, type_, param, code)


# ---- 12: 404 names the request ------------------------------------------------------------------------

@pytest.mark.parametrize("body", [{"detail": "Not Found"}, "404 page not found", ""])
def test_bare_404_names_method_path_and_base_url(client, httpserver, body):
    resp = (Response(json.dumps(body), status=404, content_type="application/json") if isinstance(body, dict)
            else Response(body, status=404, content_type="text/plain"))
    httpserver.expect_request("/v1/audio/translations").respond_with_response(resp)
    with pytest.raises(NotFoundError) as info:
        client.translate(WAV)
    message = str(info.value)
    assert "POST /audio/translations" in message and client.base_url in message
    assert "may not offer /audio/translations" in message
    assert len(httpserver.log) == 1


def test_specific_404_keeps_its_message_and_adds_where(client, httpserver):
    httpserver.expect_request("/v1/audio/speech").respond_with_json(
        {"error": {"message": "The model 'tts-9' does not exist", "type": "invalid_request_error",
                   "code": "model_not_found"}}, status=404)
    with pytest.raises(NotFoundError) as info:
        client.speak("hi", model="tts-9")
    assert info.value.message.startswith("The model 'tts-9' does not exist")
    assert "POST /audio/speech at " + client.base_url in info.value.message
    assert "may not offer" not in info.value.message


# ---- relays that wrap errors (new-api, one-api) -------------------------------------------------------

@pytest.mark.parametrize("error,cls,retried", [
    # new-api: its own errors are 500 new_api_error whatever the cause, with a request id suffix
    ({"message": "Invalid request: field voice is required (request id: 20260101123456abcdef)",
      "type": "new_api_error", "param": "", "code": "invalid_request"}, BadRequestError, False),
    ({"message": "access denied (request id: 20260101123456abcdef)", "type": "new_api_error",
      "code": "access_denied"}, nbaudio.errors.PermissionDeniedError, False),
    ({"message": "user quota is not enough (request id: 20260101123456abcdef)", "type": "new_api_error",
      "code": "insufficient_user_quota"}, RateLimitError, False),
    ({"message": "do request failed: EOF (request id: 20260101123456abcdef)", "type": "new_api_error",
      "code": "do_request_failed"}, InternalServerError, True),
    # one-api: an upstream error re-wrapped, its fields as text or its status in param
    ({"message": "status code 400, type invalid_request_error, code invalid_value, message Invalid file format.",
      "type": "request_error", "code": None}, BadRequestError, False),
    ({"message": "type authentication_error, code invalid_api_key, message Incorrect API key provided",
      "type": "one_api_error", "code": None}, AuthenticationError, False),
    ({"message": "Unsupported audio format", "type": "upstream_error", "param": "400",
      "code": "bad_response_status_code"}, BadRequestError, False),
])
def test_relay_wrapped_500_gets_the_real_class(client, httpserver, error, cls, retried):
    httpserver.expect_request("/v1/audio/transcriptions").respond_with_json({"error": error}, status=500)
    with pytest.raises(cls) as info:
        client.transcribe(WAV)
    err = info.value
    assert len(httpserver.log) == (3 if retried else 1)
    assert "request id" not in err.message and "type " not in err.message.split(" (the relay")[0][:5]
    if "request id" in error["message"]:
        assert err.request_id == "20260101123456abcdef"
    if error["type"] == "request_error":
        assert (err.message.split(" (the relay")[0], err.type, err.code) == (
            "Invalid file format.", "invalid_request_error", "invalid_value")


def test_a_servers_own_500_stays_a_500(client, httpserver):
    httpserver.expect_request("/v1/audio/speech").respond_with_json(
        {"error": {"message": "model crashed", "type": "invalid_request_error"}}, status=500)
    with pytest.raises(InternalServerError):
        client.speak("hi")
    assert len(httpserver.log) == 3


# ---- uploads: the name and content type relays bill by ------------------------------------------------

def upload_cases(tmp_path):
    clip = AudioClip.from_array(tone(0.3, freq=300, amp=0.3), 24000)
    (tmp_path / "Talk.WAV").write_bytes(clip.data)
    (tmp_path / "noext").write_bytes(clip.data)
    (tmp_path / "wrong.mp3").write_bytes(clip.data)  # a WAV named .mp3
    flac = clip.encode("flac").data
    (tmp_path / "Song.FLAC").write_bytes(flac)
    return [
        (tmp_path / "Talk.WAV", "audio.wav", "audio/wav"),
        (str(tmp_path / "noext"), "audio.wav", "audio/wav"),
        (tmp_path / "wrong.mp3", "audio.wav", "audio/wav"),
        (clip.data, "audio.wav", "audio/wav"),
        (clip, "audio.wav", "audio/wav"),
        ((tone(0.3, freq=300, amp=0.3), 24000), "audio.wav", "audio/wav"),
        (AudioClip(clip.data, "wav", name="Meeting.Wav"), "audio.wav", "audio/wav"),
        (tmp_path / "Song.FLAC", "audio.flac", "audio/flac"),
        (flac, "audio.flac", "audio/flac"),
        (PCM, "audio.wav", "audio/wav"),  # raw PCM is converted: the API takes no headerless audio
    ]


def test_upload_filename_and_content_type_come_from_the_bytes(client, httpserver, tmp_path):
    seen = []

    def handler(request: Request):
        f = request.files["file"]
        seen.append((f.filename, f.mimetype, f.read()[:4]))
        return Response(json.dumps({"text": "ok"}), content_type="application/json")

    httpserver.expect_request("/v1/audio/transcriptions").respond_with_handler(handler)
    cases = upload_cases(tmp_path)
    for audio, _, _ in cases:
        if isinstance(audio, bytes) and audio is PCM:
            audio = AudioClip(PCM, "pcm")
        client.transcribe(audio, response_format="json")
    assert [(name, mime) for name, mime, _ in seen] == [(n, m) for _, n, m in cases]
    assert all(head in (b"RIFF", b"fLaC") for _, _, head in seen)


# ---- 14: typos warn, once; stray whitespace in enum values ---------------------------------------------

def test_near_miss_argument_warns_once_and_is_still_sent(client, httpserver):
    bodies = []

    def handler(request: Request):
        bodies.append(json.loads(request.data))
        return Response(WAV, content_type="audio/wav")

    httpserver.expect_request("/v1/audio/speech").respond_with_handler(handler)
    with pytest.warns(ParameterNameWarning, match=r"voise=.*did you mean voice=") as caught:
        client.speak("hi", voise="coral")
    assert len(caught) == 1 and caught[0].filename == __file__  # points at the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.speak("hi", voise="coral")  # once per client: no second warning
        client.speak("hi", brand_new_field=1)  # a new API field, nothing like a known one: no warning
    assert bodies[0]["voise"] == "coral" and bodies[0]["voice"] == "alloy"
    assert bodies[2]["brand_new_field"] == 1


@pytest.mark.parametrize("method,kwargs,known", [
    ("transcribe", {"langauge": "en"}, "language"),
    ("transcribe", {"temprature": 0.2}, "temperature"),
    ("translate", {"promt": "names"}, "prompt"),
    ("chat", {"max_token": 30}, "max_tokens"),
    ("speak", {"instruction": "calm"}, "instructions"),
])
def test_near_misses_of_each_endpoint(client, httpserver, method, kwargs, known):
    httpserver.expect_request("/v1/audio/speech").respond_with_data(WAV, content_type="audio/wav")
    httpserver.expect_request("/v1/audio/transcriptions").respond_with_json({"text": "ok"})
    httpserver.expect_request("/v1/audio/translations").respond_with_json({"text": "ok"})
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]})
    arg = "hi" if method in ("speak", "chat") else WAV
    extra = {"modalities": ["text"]} if method == "chat" else {}
    with pytest.warns(ParameterNameWarning, match=f"did you mean {known}="):
        getattr(client, method)(arg, **kwargs, **extra)


def test_stray_whitespace_in_enum_values_is_dropped(client, httpserver):
    bodies = []

    def speech(request: Request):
        bodies.append(json.loads(request.data))
        return Response(WAV, content_type="audio/wav")

    def stt(request: Request):
        bodies.append(dict(request.form.lists()))
        return Response(json.dumps({"text": "ok", "segments": []}), content_type="application/json")

    httpserver.expect_request("/v1/audio/speech").respond_with_handler(speech)
    httpserver.expect_request("/v1/audio/transcriptions").respond_with_handler(stt)
    client.speak("hi", voice="alloy ", response_format=" wav", stream_format="audio ")
    client.transcribe(WAV, response_format="verbose_json ", timestamp_granularities=[" word"])
    assert (bodies[0]["voice"], bodies[0]["response_format"], bodies[0]["stream_format"]) == ("alloy", "wav", "audio")
    assert bodies[1]["response_format"] == ["verbose_json"] and bodies[1]["timestamp_granularities[]"] == ["word"]
