"""Bad requests get the right status and OpenAI-shaped JSON (never a traceback); auth and Host checks."""

from __future__ import annotations

import base64

import openai
import pytest
import requests

from tests.support.data import SENTENCES

SPEECH = {"model": "tts-1", "voice": "alloy", "input": "Hi."}


def _post_json(engine, path, body):
    return requests.post(engine.base_url + path, json=body, timeout=60)


def _assert_error(r, status, validate, param=None):
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    validate(body, "ErrorResponse")
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert "Traceback" not in r.text and 'File "' not in r.text
    if param is not None:
        assert body["error"]["param"] == param, body
    return body["error"]


@pytest.mark.parametrize("body,param", [
    ({"model": "tts-1", "voice": "alloy"}, "input"),
    ({"model": "tts-1", "input": "Hi."}, "voice"),
    ({"voice": "alloy", "input": "Hi."}, "model"),
    ({**SPEECH, "input": ""}, "input"),
    ({**SPEECH, "input": "x" * 4097}, "input"),
    ({**SPEECH, "speed": 5}, "speed"),
    ({**SPEECH, "speed": "fast"}, "speed"),
    ({**SPEECH, "input": 42}, "input"),
    ({**SPEECH, "response_format": "ogg"}, "response_format"),
    ({**SPEECH, "stream_format": "chunks"}, "stream_format"),
    ({**SPEECH, "voice": "robot"}, "voice"),
    ({**SPEECH, "voice": {"name": "alloy"}}, "voice"),
])
def test_speech_bad_requests(engine, validate, body, param):
    err = _assert_error(_post_json(engine, "/audio/speech", body), 400, validate, param)
    if param == "voice" and body.get("voice") == "robot":
        assert "alloy" in err["message"] and "cedar" in err["message"]  # lists the valid voices


def test_speech_unknown_model_404(engine, validate):
    err = _assert_error(_post_json(engine, "/audio/speech", {**SPEECH, "model": "tts-9000"}), 404, validate, "model")
    assert err["code"] == "model_not_found"


def test_invalid_json_body(engine, validate):
    r = requests.post(engine.base_url + "/audio/speech", data=b"{not json",
                      headers={"content-type": "application/json"})
    _assert_error(r, 400, validate)


def test_openai_client_raises_typed_errors(oai):
    with pytest.raises(openai.BadRequestError) as info:
        oai.audio.speech.create(model="tts-1", voice="robot", input="Hi.")
    assert info.value.body["param"] == "voice"
    with pytest.raises(openai.NotFoundError):
        oai.chat.completions.create(model="llama-99", messages=[{"role": "user", "content": "hi"}])


def _upload(engine, data, name="a.wav", **fields):
    return requests.post(engine.base_url + "/audio/transcriptions",
                         files={"file": (name, data, "application/octet-stream")},
                         data={"model": "whisper-1", **fields}, timeout=120)


def test_upload_over_25_mb_is_413(engine, validate):
    big = b"RIFF" + b"\0" * (30 * 1024 * 1024)
    err = _assert_error(_upload(engine, big), 413, validate)
    assert "25 MB" in err["message"]


def test_corrupt_wav_is_400(engine, validate, speech_clips):
    wav = speech_clips[SENTENCES[0]]
    corrupt = wav[:44] + bytes(range(256)) * 4
    corrupt = corrupt[:8] + b"WAVEfmt \x10\x00\x00\x00\x09\x00" + corrupt[22:]  # unknown codec 9
    err = _assert_error(_upload(engine, corrupt), 400, validate, "file")
    assert "decode" in err["message"] or "Invalid file" in err["message"]


def test_text_file_is_415(engine, validate):
    err = _assert_error(_upload(engine, b"hello, this is a text file\n" * 20, name="notes.txt"), 415, validate, "file")
    assert "wav" in err["message"]


def test_empty_file_is_400(engine, validate):
    _assert_error(_upload(engine, b""), 400, validate, "file")


@pytest.mark.parametrize("fields,param", [
    ({"response_format": "docx"}, "response_format"),
    ({"temperature": "hot"}, "temperature"),
    ({"temperature": "3"}, "temperature"),
    ({"language": "klingon"}, "language"),
    ({"timestamp_granularities[]": "sentence"}, "timestamp_granularities[]"),
    ({"include[]": "everything"}, "include[]"),
    ({"stream": "maybe"}, "stream"),
])
def test_transcription_bad_fields(engine, validate, speech_clips, fields, param):
    _assert_error(_upload(engine, speech_clips[SENTENCES[0]], **fields), 400, validate, param)


def test_transcription_missing_file_and_model(engine, validate):
    r = requests.post(engine.base_url + "/audio/transcriptions", files={"x": ("a", b"1")}, data={"model": "whisper-1"})
    _assert_error(r, 400, validate, "file")
    r = requests.post(engine.base_url + "/audio/transcriptions", files={"file": ("a.wav", b"RIFF")})
    _assert_error(r, 400, validate, "model")
    r = requests.post(engine.base_url + "/audio/transcriptions", json={"model": "whisper-1"})
    _assert_error(r, 400, validate)


def test_transcription_unknown_model_404(engine, validate, speech_clips):
    r = requests.post(engine.base_url + "/audio/transcriptions",
                      files={"file": ("a.wav", speech_clips[SENTENCES[0]])}, data={"model": "whisper-99"})
    _assert_error(r, 404, validate, "model")


@pytest.mark.parametrize("body,param", [
    ({"model": "gpt-4o-audio-preview"}, "messages"),
    ({"model": "gpt-4o-audio-preview", "messages": []}, "messages"),
    ({"model": "gpt-4o-audio-preview", "messages": "hi"}, "messages"),
    ({"model": "gpt-4o-audio-preview", "messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role"),
    ({"model": "gpt-4o-audio-preview", "modalities": ["text", "audio"],
      "messages": [{"role": "user", "content": "hi"}]}, "audio"),
    ({"model": "gpt-4o-audio-preview", "modalities": ["text", "audio"], "audio": {"voice": "robot", "format": "wav"},
      "messages": [{"role": "user", "content": "hi"}]}, "audio.voice"),
    ({"model": "gpt-4o-audio-preview", "modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": "ogg"},
      "messages": [{"role": "user", "content": "hi"}]}, "audio.format"),
    ({"model": "gpt-4o-audio-preview", "temperature": 9, "messages": [{"role": "user", "content": "hi"}]},
     "temperature"),
    ({"model": "gpt-4o-audio-preview", "messages": [{"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": "!!notbase64!!", "format": "wav"}}]}]},
     "messages[0].content[0].input_audio.data"),
    ({"model": "gpt-4o-audio-preview", "messages": [{"role": "user", "content": [
        {"type": "input_audio",
         "input_audio": {"data": base64.b64encode(b"garbage" * 50).decode(), "format": "wav"}}]}]},
     "messages[0].content[0].input_audio.data"),
    ({"model": "gpt-4o-audio-preview", "messages": [{"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "flac"}}]}]},
     "messages[0].content[0].input_audio.format"),
    ({"model": "gpt-4o-audio-preview", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "http://x/y.png"}}]}]}, "messages[0].content[0].type"),
])
def test_chat_bad_requests(engine, validate, body, param):
    _assert_error(_post_json(engine, "/chat/completions", body), 400, validate, param)


def test_unknown_route_and_method(engine, validate):
    _assert_error(requests.get(engine.base_url + "/audio/nothing"), 404, validate)
    _assert_error(requests.get(engine.base_url + "/audio/speech"), 405, validate)


def test_auth_and_key_never_echoed(engine, validate):
    from nbaudio import local

    key = "sk-test-very-secret-4711"
    with local.start(models=engine.app.state.engine.models, api_key=key) as guarded:
        url = guarded.base_url + "/models"
        e1 = _assert_error(requests.get(url), 401, validate)
        e2 = _assert_error(requests.get(url, headers={"Authorization": "Bearer sk-wrong"}), 401, validate)
        assert e2["code"] == "invalid_api_key" and key not in str(e1) + str(e2)
        assert requests.get(url, headers={"Authorization": f"Bearer {key}"}).status_code == 200
        assert requests.get(guarded.url + "/health").status_code == 200  # liveness needs no key
        client = openai.OpenAI(base_url=guarded.base_url, api_key=key, max_retries=0)
        assert client.models.list().data
        with pytest.raises(openai.AuthenticationError) as info:
            openai.OpenAI(base_url=guarded.base_url, api_key="sk-nope", max_retries=0).models.list()
        assert key not in str(info.value)


@pytest.mark.parametrize("host", ["evil.example.com", "127.evil.example", "127.0.0.1.nip.io:8000"])
def test_foreign_host_header_refused(engine, validate, host):
    """A DNS-rebinding page sends its own name; names that merely start like a loopback address count too."""
    r = requests.get(engine.base_url + "/models", headers={"Host": host})
    _assert_error(r, 403, validate)
    assert requests.get(engine.base_url + "/models", headers={"Host": "localhost:1234"}).status_code == 200


def test_models_and_health(engine, oai, validate):
    r = requests.get(engine.base_url + "/models")
    validate(r.json(), "ListModelsResponse")
    ids = {m.id for m in oai.models.list().data}
    assert {"tts-1", "whisper-1", "gpt-4o-transcribe", "gpt-4o-audio-preview"} <= ids
    assert "instructions" in str(r.json())  # says what is ignored
    h = requests.get(engine.url + "/health").json()
    assert h["status"] == "ok"
