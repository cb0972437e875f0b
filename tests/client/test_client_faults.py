"""The client against a fault-injecting server on loopback: retries, error shapes, streams
cut short, redirects, and the exact request bodies it sends."""

from __future__ import annotations

import base64
import email.utils
import json
import logging
import time

import numpy as np
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import nbaudio
from nbaudio import AudioClip, Conversation
from nbaudio._http.transport import INITIAL_RETRY_DELAY, MAX_RETRY_AFTER, normalize_base_url
from nbaudio._wire.sse import format_sse
from nbaudio.errors import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTooLargeError,
    StreamInterruptedError,
    UnprocessableEntityError,
    UnsupportedMediaTypeError,
)
from tests.support.faults import RawServer, chunk, reset
from tests.support.signals import tone, tone_pcm16, tone_wav

KEY = "sk-test-CANARY-0123456789abcdef"


WAV = tone_wav(0.3, freq=300, amp=0.3)  # 24 kHz mono


@pytest.fixture
def client(httpserver: HTTPServer):
    with nbaudio.Client(httpserver.url_for("/"), api_key=KEY, max_retries=2, timeout=5) as c:
        yield c


def err_json(message, status, **kw):
    return Response(json.dumps({"error": {"message": message, "type": "invalid_request_error",
                                          "param": kw.get("param"), "code": kw.get("code")}}),
                    status=status, content_type="application/json", headers=kw.get("headers"))


# ---- base URL handling -------------------------------------------------------------------

@pytest.mark.parametrize("given", ["http://h.example", "http://h.example/", "http://h.example/v1", "http://h.example/v1/"])
def test_base_url_with_or_without_v1(given):
    assert nbaudio.Client(given, api_key="k").base_url == "http://h.example/v1"


def test_settings_resolve_from_env(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://openai.example")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("NBAUDIO_BASE_URL", "http://nb.example/v1/")
    c = nbaudio.Client()
    # The variables go in pairs: the OpenAI key is never sent to the relay NBAUDIO_BASE_URL names.
    assert c.base_url == "http://nb.example/v1" and c.api_key.get() is None
    monkeypatch.setenv("NBAUDIO_API_KEY", "sk-nb")
    assert nbaudio.Client().api_key.get() == "sk-nb"
    assert nbaudio.Client("http://arg.example", api_key="sk-arg").api_key.get() == "sk-arg"
    monkeypatch.delenv("NBAUDIO_BASE_URL")
    # NBAUDIO_API_KEY alone: OpenAI itself, not the OPENAI_BASE_URL of the other pair
    assert nbaudio.Client().base_url == "https://api.openai.com/v1"
    monkeypatch.delenv("NBAUDIO_API_KEY")
    c = nbaudio.Client()
    assert c.base_url == "http://openai.example/v1" and c.api_key.get() == "sk-openai"
    monkeypatch.delenv("OPENAI_BASE_URL")
    assert nbaudio.Client().base_url == "https://api.openai.com/v1"


def test_base_url_and_repr_start_no_engine_the_first_request_does(monkeypatch, httpserver):
    for name in ("NBAUDIO_BASE_URL", "NBAUDIO_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    started = []

    def start_engine():
        started.append(1)
        return httpserver.url_for("/v1"), None

    monkeypatch.setattr("nbaudio.local.default_connection", start_engine)
    httpserver.expect_request("/v1/audio/speech").respond_with_data(WAV, content_type="audio/wav")
    with nbaudio.Client() as c:
        assert c.base_url is None and "embedded engine" in repr(c)
        assert started == []  # reading the property (or the repr) starts nothing
        assert c.speak("hi").format == "wav" and started == [1]
        assert c.base_url == httpserver.url_for("/v1") and c.open() == c.base_url and started == [1]


@pytest.mark.parametrize("env, url_source, key_source", [
    ({}, "none", None),
    ({"OPENAI_API_KEY": "sk-o"}, "default (a key is set)", "OPENAI_API_KEY"),
    ({"OPENAI_API_KEY": "sk-o", "OPENAI_BASE_URL": "http://r.example/v1"}, "OPENAI_BASE_URL", "OPENAI_API_KEY"),
    ({"NBAUDIO_BASE_URL": "http://n.example", "OPENAI_API_KEY": "sk-o"}, "NBAUDIO_BASE_URL", None),
])
def test_doctor_reports_the_backend_the_client_uses(monkeypatch, capsys, env, url_source, key_source):
    from nbaudio import cli
    from nbaudio.backend import resolve_backend

    for name in ("NBAUDIO_BASE_URL", "NBAUDIO_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    backend = resolve_backend()
    assert (backend.url_source, backend.key_source) == (url_source, key_source)
    client = nbaudio.Client()
    assert client.base_url == (normalize_base_url(backend.base_url) if backend.base_url else None)
    cli.print_backend()
    out = capsys.readouterr().out
    assert backend.describe() in out
    assert "sk-o" not in out


# ---- request bodies ----------------------------------------------------------------------

def test_speech_request_body_and_audio(client, httpserver):
    httpserver.expect_oneshot_request("/v1/audio/speech", method="POST").respond_with_data(
        WAV, content_type="audio/wav")
    clip = client.speak("Hello there", voice={"id": "voice_1234"}, speed=1.5, instructions="calm",
                        response_format="wav", stream_format="audio", seed=7)
    req, _ = httpserver.log[0]
    assert req.headers["Authorization"] == f"Bearer {KEY}"
    assert json.loads(req.data) == {"model": "tts-1", "voice": {"id": "voice_1234"}, "response_format": "wav",
                                    "speed": 1.5, "instructions": "calm", "stream_format": "audio",
                                    "input": "Hello there", "seed": 7}
    assert clip.format == "wav" and clip.duration == pytest.approx(0.3, abs=1e-3)


def test_speech_trusts_bytes_over_requested_format(client, httpserver):
    mp3 = AudioClip.from_array(tone(0.3, freq=300, amp=0.3), 24000).encode("mp3").data
    httpserver.expect_oneshot_request("/v1/audio/speech").respond_with_data(mp3, content_type="audio/mpeg")
    assert client.speak("hi", response_format="wav").format == "mp3"


def test_transcription_multipart_field_names(client, httpserver):
    seen = {}

    def handler(request: Request):
        seen["form"] = request.form.to_dict(flat=False)
        f = request.files["file"]
        seen["file"] = (f.filename, f.mimetype, len(f.read()))
        return Response(json.dumps({"text": "hi", "language": "english", "duration": 0.3, "segments": []}),
                        content_type="application/json")

    httpserver.expect_oneshot_request("/v1/audio/transcriptions").respond_with_handler(handler)
    clip = AudioClip.from_array(tone(0.3, freq=300, amp=0.3), 24000)
    t = client.transcribe(clip, timestamp_granularities=["word", "segment"], language="en", prompt="p",
                          temperature=0.2, chunking_strategy={"type": "server_vad", "threshold": 0.5},
                          known_speaker_names=["agent"], known_speaker_references=[clip], keywords=["nbaudio", "relay"])
    form = seen["form"]
    assert form["model"] == ["whisper-1"] and form["response_format"] == ["verbose_json"]
    assert form["timestamp_granularities[]"] == ["word", "segment"]
    assert form["language"] == ["en"] and form["prompt"] == ["p"] and form["temperature"] == ["0.2"]
    assert json.loads(form["chunking_strategy"][0]) == {"type": "server_vad", "threshold": 0.5}
    assert form["known_speaker_names[]"] == ["agent"]
    assert form["known_speaker_references[]"][0].startswith("data:audio/wav;base64,UklGR")
    assert form["keywords[]"] == ["nbaudio", "relay"]
    assert seen["file"] == ("audio.wav", "audio/wav", len(clip.data))
    assert t.text == "hi" and t.audio is clip


def test_transcription_include_logprobs_and_stream_fields(client, httpserver):
    seen = {}

    def handler(request):
        seen.update(request.form.to_dict(flat=False))
        return Response(json.dumps({"text": "x", "logprobs": [{"token": "x", "logprob": -0.5, "bytes": [120]}]}),
                        content_type="application/json")

    httpserver.expect_oneshot_request("/v1/audio/transcriptions").respond_with_handler(handler)
    t = client.transcribe(WAV, model="gpt-4o-transcribe", response_format="json", include=["logprobs"])
    assert seen["include[]"] == ["logprobs"] and "timestamp_granularities[]" not in seen
    assert t.logprobs[0]["logprob"] == -0.5


@pytest.mark.parametrize("fmt,body,ctype", [
    ("text", "hello world\n", "text/plain"),
    ("srt", "1\n00:00:00,000 --> 00:00:01,500\nhello world\n", "text/plain"),
    ("vtt", "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nhello world\n", "text/vtt"),
    ("json", '{"text": "hello world"}', "application/json"),
])
def test_transcription_every_text_format(client, httpserver, fmt, body, ctype):
    httpserver.expect_oneshot_request("/v1/audio/transcriptions").respond_with_data(body, content_type=ctype)
    t = client.transcribe(WAV, response_format=fmt)
    assert t.text == "hello world"
    if fmt in ("srt", "vtt"):
        assert t.segments[0].end == 1.5


def test_translation(client, httpserver):
    httpserver.expect_oneshot_request("/v1/audio/translations").respond_with_json(
        {"task": "translate", "language": "english", "duration": 0.3, "text": "Good morning", "segments": []})
    t = client.translate(WAV)
    assert t.text == "Good morning" and t.task == "translate"


def test_chat_body_input_audio_and_reply(client, httpserver):
    wav_b64 = base64.b64encode(WAV).decode()

    def handler(request):
        body = json.loads(request.data)
        assert body["modalities"] == ["text", "audio"] and body["audio"] == {"voice": "coral", "format": "wav"}
        assert body["tools"] == [{"type": "function", "function": {"name": "f"}}]
        part = body["messages"][-1]["content"][-1]
        assert part["type"] == "input_audio" and part["input_audio"]["format"] == "wav"
        message = {"role": "assistant", "content": None, "refusal": None,
                   "audio": {"id": "audio_1", "data": wav_b64, "expires_at": int(time.time()) + 3600,
                             "transcript": "Hi!"}}
        return Response(json.dumps({"id": "c", "model": "m",
                                    "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
                                    "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}}),
                        content_type="application/json")

    httpserver.expect_oneshot_request("/v1/chat/completions").respond_with_handler(handler)
    reply = client.chat("what do you hear?", voice="coral", audio=WAV,
                        tools=[{"type": "function", "function": {"name": "f"}}])
    assert reply.text == "Hi!" and reply.audio.duration == pytest.approx(0.3, abs=1e-3)


# ---- retries -----------------------------------------------------------------------------

def test_429_retry_after_seconds_then_ok(client, httpserver):
    httpserver.expect_ordered_request("/v1/audio/speech").respond_with_response(
        err_json("slow down", 429, headers={"Retry-After": "0"}))
    httpserver.expect_ordered_request("/v1/audio/speech").respond_with_data(WAV, content_type="audio/wav")
    assert client.speak("hi").format == "wav"
    assert len(httpserver.log) == 2


NOW = 1_800_000_000.0  # the frozen clock an HTTP-date Retry-After is read against


def http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(NOW + seconds_from_now, usegmt=True)


@pytest.mark.parametrize("header, expected", [
    ({"Retry-After": http_date(20)}, 20.0),  # an HTTP date 20 s ahead: wait 20 s
    ({"retry-after-ms": "1500"}, 1.5),
    ({"Retry-After": "3"}, 3.0),
    ({"Retry-After": "soon"}, None),  # neither seconds nor a date: our own backoff, no crash
    ({"Retry-After": "3600"}, None),  # too long to wait (over MAX_RETRY_AFTER): our own backoff, no hanging
    ({"Retry-After": http_date(MAX_RETRY_AFTER + 1)}, None),  # the same cap for a date
    ({"Retry-After": http_date(-20)}, None),  # a date already past
], ids=["date+20s", "ms", "seconds", "garbage", "seconds-over-cap", "date-over-cap", "date-past"])
def test_retry_after_http_date_seconds_and_ms_are_honoured(httpserver, monkeypatch, header, expected):
    clock, waits = [NOW], []

    def sleep(seconds):  # no real waiting: the frozen clock moves on instead
        waits.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr("nbaudio._http.transport.time.time", lambda: clock[0])
    monkeypatch.setattr("nbaudio.client.core.time.sleep", sleep)
    httpserver.expect_ordered_request("/v1/audio/speech").respond_with_response(err_json("busy", 503, headers=header))
    httpserver.expect_ordered_request("/v1/audio/speech").respond_with_data(WAV, content_type="audio/wav")
    with nbaudio.Client(httpserver.url_for("/"), max_retries=1, timeout=90) as c:
        assert c.speak("hi").format == "wav"
    assert len(waits) == 1 and len(httpserver.log) == 2
    if expected is None:
        assert 0 < waits[0] <= INITIAL_RETRY_DELAY
    else:
        assert waits[0] == pytest.approx(expected, abs=1e-6)


def test_500_then_200(client, httpserver):
    httpserver.expect_ordered_request("/v1/audio/speech").respond_with_data("oops", status=500)
    httpserver.expect_ordered_request("/v1/audio/speech").respond_with_data(WAV, content_type="audio/wav")
    assert client.speak("hi").duration == pytest.approx(0.3, abs=1e-3)


def test_503_exhausts_retries(client, httpserver):
    for _ in range(3):
        httpserver.expect_ordered_request("/v1/audio/speech").respond_with_response(
            err_json("overloaded", 503, headers={"retry-after-ms": "10"}))
    with pytest.raises(InternalServerError) as e:
        client.speak("hi")
    assert e.value.status_code == 503 and len(httpserver.log) == 3


def test_400_is_not_retried(client, httpserver):
    httpserver.expect_request("/v1/audio/speech").respond_with_response(
        err_json("bad voice", 400, param="voice", code="invalid_value", headers={"x-request-id": "req_1"}))
    with pytest.raises(BadRequestError) as e:
        client.speak("hi")
    err = e.value
    assert (err.status_code, err.message, err.param, err.code, err.request_id) == (
        400, "bad voice", "voice", "invalid_value", "req_1")
    assert len(httpserver.log) == 1
    assert "400: bad voice" in str(err) and "req_1" in str(err)


def test_connection_reset_is_retried_then_reported():
    server = RawServer(reset)
    try:
        with nbaudio.Client(server.base_url, api_key=KEY, max_retries=1) as c:
            with pytest.raises(APIConnectionError, match="reset|closed") as e:
                c.speak("hi")
        assert server.connections == 2
        assert KEY not in str(e.value)
    finally:
        server.close()


def test_read_timeout_raises_timeout_error():
    def slow(conn):
        time.sleep(1.5)

    server = RawServer(slow)
    try:
        with nbaudio.Client(server.base_url, max_retries=0, timeout=0.3) as c:
            with pytest.raises(APITimeoutError):
                c.speak("hi")
    finally:
        server.close()


def test_truncated_body_is_retried_then_connection_error():
    def truncated(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: 5000\r\n\r\n" + WAV[:100])

    server = RawServer(truncated)
    try:
        with nbaudio.Client(server.base_url, max_retries=1) as c:
            with pytest.raises(APIConnectionError, match="cut short|ChunkedEncoding|Incomplete|closed"):
                c.speak("hi")
        assert server.connections == 2
    finally:
        server.close()


def test_invalid_json_success_body(client, httpserver):
    httpserver.expect_request("/v1/chat/completions").respond_with_data("{not json", content_type="application/json")
    with pytest.raises(APIResponseError, match="not JSON"):
        client.chat("hi")


def test_200_with_error_body_is_an_error(client, httpserver):
    httpserver.expect_request("/v1/audio/transcriptions").respond_with_json({"error": {"message": "quota exhausted"}})
    with pytest.raises(APIResponseError, match="quota exhausted"):
        client.transcribe(WAV)


# ---- error shapes ------------------------------------------------------------------------

@pytest.mark.parametrize("status,cls", [
    (400, BadRequestError), (401, AuthenticationError), (403, PermissionDeniedError), (404, NotFoundError),
    (409, ConflictError), (413, RequestTooLargeError), (415, UnsupportedMediaTypeError),
    (422, UnprocessableEntityError), (429, RateLimitError), (500, InternalServerError), (502, InternalServerError),
])
def test_status_classes(httpserver, status, cls):
    httpserver.expect_request("/v1/audio/speech").respond_with_response(
        err_json(f"status {status}", status, headers={"x-should-retry": "false"}))
    with nbaudio.Client(httpserver.url_for("/"), max_retries=0) as c:
        with pytest.raises(cls) as e:
            c.speak("hi")
    assert e.value.status_code == status and e.value.message.startswith(f"status {status}")
    if status == 404:  # a 404 says where it was asked (#12)
        assert "POST /audio/speech at http://" in e.value.message
    else:
        assert e.value.message == f"status {status}"
    assert isinstance(e.value, APIStatusError) and isinstance(e.value, nbaudio.NbAudioError)


@pytest.mark.parametrize("body,ctype,message,param,code", [
    ('{"detail": "Not authenticated"}', "application/json", "Not authenticated", None, None),
    ('{"detail": [{"loc": ["body", "voice"], "msg": "field required", "type": "missing"}]}', "application/json",
     "voice: field required", "voice", None),
    ('{"message": "model not found", "code": 20012, "type": "not_found"}', "application/json",
     "model not found", None, 20012),
    ('{"error": "upstream quota"}', "application/json", "upstream quota", None, None),
    ('{"error": {"message": "bad", "code": 1003}}', "application/json", "bad", None, 1003),
    ("<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>", "text/html",
     "502 Bad Gateway", None, None),
    ("", "text/plain", "HTTP 418 with an empty body", None, None),
])
def test_non_openai_error_shapes(httpserver, body, ctype, message, param, code):
    httpserver.expect_request("/v1/audio/speech").respond_with_data(body, status=418, content_type=ctype)
    with nbaudio.Client(httpserver.url_for("/"), max_retries=0) as c:
        with pytest.raises(APIStatusError) as e:
            c.speak("hi")
    assert e.value.message == message and e.value.param == param and e.value.code == code
    assert e.value.status_code == 418


# ---- key hygiene -------------------------------------------------------------------------

def test_redirect_to_another_host_drops_authorization(httpserver):
    other = HTTPServer(host="localhost", port=0)
    other.start()
    try:
        other.expect_request("/v1/audio/speech").respond_with_data(WAV, content_type="audio/wav")
        httpserver.expect_request("/v1/audio/speech").respond_with_data(
            "", status=307, headers={"Location": other.url_for("/v1/audio/speech")})
        with nbaudio.Client(httpserver.url_for("/"), api_key=KEY) as c:
            assert c.speak("hi").format == "wav"
        assert httpserver.log[0][0].headers["Authorization"] == f"Bearer {KEY}"
        assert "Authorization" not in other.log[0][0].headers
    finally:
        other.clear()
        other.stop()


def test_key_never_in_repr_errors_or_logs(httpserver, caplog):
    httpserver.expect_request("/v1/audio/speech").respond_with_response(
        err_json(f"Incorrect API key provided: {KEY}", 401))
    caplog.set_level(logging.DEBUG, logger="nbaudio")
    c = nbaudio.Client(httpserver.url_for("/"), api_key=KEY, max_retries=0)
    assert KEY not in repr(c) and KEY not in repr(c.__dict__) and KEY not in str(vars(c))
    with pytest.raises(AuthenticationError) as e:
        c.speak("hi")
    assert KEY not in str(e.value) and KEY not in repr(e.value) and KEY not in json.dumps(e.value.body)
    assert "***" in e.value.message
    assert KEY not in caplog.text


# ---- streams -----------------------------------------------------------------------------

def test_speech_sse_stream(client, httpserver):
    pcm = tone_pcm16(0.3, freq=300, amp=0.3)
    events = [{"type": "speech.audio.delta", "audio": base64.b64encode(pcm[i:i + 3001]).decode()}
              for i in range(0, len(pcm), 3001)]
    events.append({"type": "speech.audio.done", "usage": {"input_tokens": 2, "output_tokens": 9, "total_tokens": 11}})
    httpserver.expect_request("/v1/audio/speech").respond_with_data(
        b"".join(format_sse(e) for e in events), content_type="text/event-stream")
    stream = client.speak("hi", response_format="pcm", stream=True, stream_format="sse")
    got = b"".join(stream)
    assert got == pcm and stream.result.duration == pytest.approx(0.3) and stream.usage["total_tokens"] == 11


def test_speech_stream_format_ignored_by_server_is_raw_audio(client, httpserver):
    httpserver.expect_request("/v1/audio/speech").respond_with_data(WAV, content_type="audio/wav")
    stream = client.speak("hi", stream=True, stream_format="sse")
    assert stream.collect().format == "wav"


def test_transcription_sse_stream(client, httpserver):
    evs = [{"type": "transcript.text.delta", "delta": "Hello"}, {"type": "transcript.text.delta", "delta": " world"},
           {"type": "transcript.text.done", "text": "Hello world", "usage": {"type": "tokens", "input_tokens": 1,
                                                                             "output_tokens": 2, "total_tokens": 3}}]
    httpserver.expect_request("/v1/audio/transcriptions").respond_with_data(
        b"".join(format_sse(e) for e in evs), content_type="text/event-stream")
    stream = client.transcribe(WAV, response_format="json", stream=True)
    assert list(stream) == ["Hello", " world"]
    assert stream.result.text == "Hello world" and stream.result.usage["total_tokens"] == 3
    req = httpserver.log[0][0]
    assert req.form["stream"] == "true"


def chat_chunks(pcm: bytes, transcript: str):
    yield {"id": "c1", "object": "chat.completion.chunk", "choices": [
        {"index": 0, "delta": {"role": "assistant", "audio": {"id": "audio_s", "transcript": ""}}}]}
    words = transcript.split(" ")
    step = len(pcm) // len(words) // 2 * 2
    for i, w in enumerate(words):
        piece = pcm[i * step:(i + 1) * step] if i < len(words) - 1 else pcm[i * step:]
        yield {"id": "c1", "choices": [{"index": 0, "delta": {"audio": {
            "transcript": (" " if i else "") + w, "data": base64.b64encode(piece).decode()}}}]}
    yield {"id": "c1",
           "choices": [{"index": 0, "delta": {"audio": {"expires_at": 1999999999}}, "finish_reason": "stop"}]}


def test_chat_stream_assembles(client, httpserver):
    pcm = tone_pcm16(0.4, freq=300, amp=0.3)
    body = b"".join(format_sse(c) for c in chat_chunks(pcm, "one two three")) + b"data: [DONE]\n\n"
    httpserver.expect_request("/v1/chat/completions").respond_with_data(body, content_type="text/event-stream")
    conv = Conversation()
    conv.add_user("count")
    stream = client.chat(conv, stream=True)
    deltas = list(stream)
    assert "".join(d["transcript"] for d in deltas) == "one two three"
    assert b"".join(d["audio"] for d in deltas) == pcm
    assert stream.result.audio.duration == pytest.approx(0.4) and stream.result.expires_at == 1999999999
    body = json.loads(httpserver.log[0][0].data)
    assert body["audio"]["format"] == "pcm16" and body["stream"] is True
    assert conv.last_reply is stream.result and conv.audio_ids() == ["audio_s"]


def test_chat_stream_dropped_midway_gives_partial_and_records_nothing():
    pcm = tone_pcm16(0.4, freq=300, amp=0.3)
    chunks = list(chat_chunks(pcm, "one two three"))

    def drop(conn):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        for c in chunks[:3]:
            conn.sendall(chunk(format_sse(c)))
        reset(conn)

    server = RawServer(drop)
    try:
        conv = Conversation()
        conv.add_user("count")
        with nbaudio.Client(server.base_url) as c:
            stream = c.chat(conv, stream=True)
            got = []
            with pytest.raises(StreamInterruptedError) as e:
                for d in stream:
                    got.append(d)
        partial = e.value.partial
        assert partial.transcript == "one two" and partial.audio.duration > 0
        assert len(got) == 2
        assert conv.last_reply is None and len(conv) == 1  # the failed turn is not recorded
        assert server.connections == 1  # never retried once data was delivered
    finally:
        server.close()


# Error events mid-stream in the shapes servers send them, each with the class its status / type /
# code names (none of these is an `{"error": ...}` alone, which was all that used to be recognised).
MID_STREAM_ERRORS = [
    # the Responses API's flat error event: type "error" is the event's, the code says 400
    (format_sse({"type": "error", "code": "invalid_value", "message": "Invalid voice 'x'", "param": "voice"}),
     BadRequestError, "Invalid voice 'x'", "voice"),
    # `event: error` with the status beside the message
    (format_sse({"message": "slow down", "status": 429}, event="error"), RateLimitError, "slow down", None),
    # `event: error` whose data is plain text
    (format_sse("upstream timed out", event="error"), InternalServerError, "upstream timed out", None),
    # an error beside other fields (an event id, its HTTP status)
    (format_sse({"id": "evt_1", "status": 403, "error": {"message": "model not allowed for this key"}}),
     PermissionDeniedError, "model not allowed for this key", None),
    # Google's canonical status name in `status`
    (format_sse({"error": {"message": "quota exceeded", "status": "RESOURCE_EXHAUSTED"}}), RateLimitError,
     "quota exceeded", None),
]


@pytest.mark.parametrize("event, cls, message, param", MID_STREAM_ERRORS,
                         ids=["flat-type-error", "event-error-status", "event-error-text", "beside-fields",
                              "google-status"])
def test_mid_stream_error_event_has_the_class_it_names(client, httpserver, event, cls, message, param):
    delta = format_sse({"type": "speech.audio.delta", "audio": base64.b64encode(b"\0\0" * 240).decode()})
    httpserver.expect_request("/v1/audio/speech").respond_with_data(delta + event, content_type="text/event-stream")
    with pytest.raises(cls) as info:
        client.speak("hi", stream=True, stream_format="sse", response_format="pcm").collect()
    assert info.value.message == message and info.value.param == param
    assert info.value.type is None  # not the event's own type ("error")


def test_chat_chunk_carrying_an_error_is_that_error(client, httpserver):
    # OpenRouter ends a stream the provider broke off with a chunk whose `error` says why (and whose
    # finish_reason is "error"): it is not a finished reply.
    first = {"id": "c1", "object": "chat.completion.chunk", "choices": [
        {"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]}
    broken = {"id": "c1", "object": "chat.completion.chunk", "error": {"code": 400, "message": "Provider rejected it"},
              "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}]}
    body = format_sse(first) + format_sse(broken) + b"data: [DONE]\n\n"
    httpserver.expect_request("/v1/chat/completions").respond_with_data(body, content_type="text/event-stream")
    with pytest.raises(BadRequestError, match="Provider rejected it"):
        client.chat("hi", stream=True, modalities=["text"]).collect()


def test_conversation_falls_back_to_transcripts_when_audio_id_rejected(client, httpserver):
    seen = []
    wav_b64 = base64.b64encode(WAV).decode()

    def handler(request):
        body = json.loads(request.data)
        seen.append(body["messages"])
        if any(m.get("audio") for m in body["messages"]):
            return err_json("Audio with id audio_old has expired or does not exist.", 400, param="messages")
        return Response(json.dumps({"choices": [{"index": 0, "finish_reason": "stop", "message": {
            "role": "assistant", "content": None, "audio": {"id": "audio_new", "data": wav_b64,
                                                            "expires_at": 1999999999, "transcript": "Sure."}}}]}),
            content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(handler)
    conv = Conversation()
    conv.add_user("first")
    conv.add_reply(nbaudio.ChatReply(transcript="Earlier answer.", audio_id="audio_old", expires_at=1999999999))
    conv.add_user("second")
    reply = client.chat(conv)
    assert reply.audio_id == "audio_new"
    assert seen[0][1] == {"role": "assistant", "audio": {"id": "audio_old"}}
    assert seen[1][1] == {"role": "assistant", "content": "Earlier answer."}
    assert conv.audio_ids() == ["audio_old", "audio_new"] and "audio_old" in conv.rejected_ids


# ---- long inputs -------------------------------------------------------------------------

def test_long_text_split_at_sentences_and_joined(client, httpserver):
    inputs = []

    def handler(request):
        inputs.append(json.loads(request.data)["input"])
        return Response(WAV, content_type="audio/wav")

    httpserver.expect_request("/v1/audio/speech").respond_with_handler(handler)
    sentence = "This sentence is exactly long enough to count. "
    text = sentence * 200  # ~9400 characters
    clip = client.speak(text)
    assert len(inputs) == 3 and all(len(i) <= 4096 for i in inputs)
    assert all(i.endswith("count.") for i in inputs)
    assert " ".join(inputs) == text.strip()
    assert clip.duration == pytest.approx(0.9, abs=0.01)


def test_long_upload_split_and_times_shifted(client, httpserver, monkeypatch):
    monkeypatch.setattr("nbaudio.longform.MAX_PIECE_SECONDS", 60.0)
    uploads = []

    def handler(request):
        data = request.files["file"].read()
        uploads.append(len(data))
        clip = AudioClip(data)
        text = f"piece{len(uploads)}"
        segment = {"id": 0, "seek": 0, "start": 1.0, "end": 2.0, "text": text, "tokens": [], "temperature": 0,
                   "avg_logprob": 0, "compression_ratio": 1, "no_speech_prob": 0}
        return Response(json.dumps({"text": text, "language": "english", "duration": clip.duration,
                                    "segments": [segment], "words": [{"word": "w", "start": 1.0, "end": 1.5}]}),
                        content_type="application/json")

    httpserver.expect_request("/v1/audio/transcriptions").respond_with_handler(handler)
    rate = 48000
    seconds = 150  # 150 s stereo 48 kHz int16 WAV = 28.8 MB > 25 MB
    rng = np.random.default_rng(0)
    speech = (rng.standard_normal((seconds * rate, 2)) * 0.1).astype(np.float32)
    speech[int(50 * rate):int(51 * rate)] = 0  # a silence to cut at
    big = AudioClip.from_array(speech, rate)
    assert big.nbytes > 25 * 1024 * 1024
    t = client.transcribe(big)
    assert len(uploads) == 3 and all(u < 25 * 1024 * 1024 for u in uploads)
    assert t.text == "piece1 piece2 piece3"
    # the first cut falls in the silence (50-51 s), and times are shifted onto the whole file
    assert 50.0 <= t.segments[1].start - 1.0 <= 51.0
    assert t.words[1].start == pytest.approx(t.segments[1].start)
    assert t.audio is big and t.duration == pytest.approx(150)


def test_proxy_environment_read_once_and_loopback_bypasses_it(monkeypatch, httpserver):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    remote = nbaudio.Client("https://relay.example/v1", api_key="k")
    assert remote.open() and remote.proxies.get("https") == "http://proxy.example:3128"
    # the engine and test servers on loopback are never sent through a proxy
    httpserver.expect_request("/v1/audio/speech").respond_with_data(WAV, content_type="audio/wav")
    with nbaudio.Client(httpserver.url_for("/")) as local:
        assert local.speak("hi").format == "wav"
        assert local.proxies == {}


def test_pcm_that_looks_like_an_mp3_frame_stays_pcm(client, httpserver):
    # first sample 0xE3FF little-endian: bytes FF E3, an MPEG frame sync by chance
    pcm = np.array([-7169] + [0] * 2399, dtype="<i2").tobytes()
    assert pcm[:2] == b"\xff\xe3"
    httpserver.expect_request("/v1/audio/speech").respond_with_data(pcm, content_type="audio/pcm")
    clip = client.speak("hi", response_format="pcm")
    assert clip.format == "pcm" and clip.sample_rate == 24000 and clip.frames == 2400
    stream = client.speak("hi", response_format="pcm", stream=True)
    assert stream.collect().format == "pcm"


def test_retry_after_is_honoured_whatever_its_capitalisation(httpserver, monkeypatch):
    waits = []
    monkeypatch.setattr("nbaudio.client.core.time.sleep", waits.append)
    for name in ("Retry-After", "RETRY-AFTER-MS"):
        httpserver.expect_ordered_request("/v1/audio/speech").respond_with_response(
            err_json("busy", 503, headers={name: "3" if name == "Retry-After" else "1500"}))
    httpserver.expect_ordered_request("/v1/audio/speech").respond_with_data(WAV, content_type="audio/wav")
    with nbaudio.Client(httpserver.url_for("/"), max_retries=2) as c:
        assert c.speak("hi").format == "wav"
    assert waits == [3.0, 1.5]
