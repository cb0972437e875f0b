"""Bad input raises a clear NbAudioError subclass before any request is sent."""

from __future__ import annotations

import io

import numpy as np
import pytest
from pytest_httpserver import HTTPServer

import nbaudio
from nbaudio import AudioClip, Conversation
from nbaudio.errors import AudioDecodeError, InvalidInputError, NbAudioError

WAV = AudioClip.from_array(np.zeros(2400, dtype=np.float32) + 0.1, 24000).data


@pytest.fixture
def client(httpserver: HTTPServer):
    with nbaudio.Client(httpserver.url_for("/"), api_key="sk-x", max_retries=0) as c:
        yield c
    assert httpserver.log == [], "a request was sent for bad input"


@pytest.fixture
def files(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("meeting notes: buy milk\n" * 20)
    (tmp_path / "notes.wav").write_text("this is text with a .wav name\n" * 20)
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt \x10\x00\x00\x00" + b"\x00" * 6)
    (tmp_path / "random.bin").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "dir").mkdir()
    return tmp_path


SPEAK_CASES = [
    (dict(text=""), "empty"),
    (dict(text="   \n"), "empty"),
    (dict(text=None), "must be a string"),
    (dict(text=42), "must be a string"),
    (dict(text="hi", speed=5), "out of range"),
    (dict(text="hi", speed=0.1), "out of range"),
    (dict(text="hi", speed="fast"), "must be a number"),
    (dict(text="hi", speed=float("nan")), "must be a number"),
    (dict(text="hi", response_format="ogg"), "mp3, opus, aac, flac, wav, pcm"),
    (dict(text="hi", voice=""), "voice name"),
    (dict(text="hi", voice=3), "voice name"),
    (dict(text="hi", voice={"name": "x"}), "'id'"),
    (dict(text="hi", model=""), "model is empty"),
    (dict(text="hi", instructions="x" * 5000), "limit is 4096"),
    (dict(text="hi", stream_format="chunked"), "sse, audio"),
    (dict(text="hi", stream="yes"), "True or False"),
    (dict(text="x. " * 2000, stream=True), "stream=False"),
]


@pytest.mark.parametrize("kwargs,message", SPEAK_CASES)
def test_speak_bad_input(client, kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        client.speak(**kwargs)


def test_transcribe_bad_files(client, files):
    cases = [
        (files / "missing.wav", "not found"),
        (files / "empty.wav", "empty"),
        (files / "notes.txt", "is text, not audio"),
        (files / "notes.wav", "is text, not audio"),
        (files / "random.bin", "cannot tell the audio format"),
        (files / "corrupt.wav", "corrupt"),
        (files / "dir", "folder"),
        (b"", "empty"),
        ("", "empty path"),
        (io.StringIO("text"), "text-mode"),
        (12345, "must be a path"),
        ((np.array([]), 16000), "non-empty"),
        ((np.zeros(100), -5), "positive"),
        ((np.array([np.nan, 0.0]), 16000), "NaN"),
        ((np.array(["a", "b"]), 16000), "numeric"),
    ]
    for audio, message in cases:
        with pytest.raises(InvalidInputError, match=message):
            client.transcribe(audio)


def test_corrupt_wav_is_rejected_before_upload_when_converted(client, files):
    # a corrupt WAV is sent as-is only if it is not touched; converting it (e.g. to pcm for chat)
    # must fail with a decode error, not a server round trip
    with pytest.raises(AudioDecodeError, match="corrupt"):
        client.chat("what is this?", audio=AudioClip.from_file(files / "corrupt.wav").encode("mp3"))


TRANSCRIBE_CASES = [
    (dict(response_format="docx"), "json, text, srt, verbose_json, vtt, diarized_json"),
    (dict(timestamp_granularities=["sentence"]), "word, segment"),
    (dict(timestamp_granularities=["word"], response_format="json"), "verbose_json"),
    (dict(language="English"), "ISO-639-1"),
    (dict(language=""), "ISO-639-1"),
    (dict(temperature=1.5), "out of range"),
    (dict(temperature=-0.1), "out of range"),
    (dict(include=["tokens"]), "logprobs"),
    (dict(include=["logprobs"], response_format="verbose_json"), "only with response_format='json'"),
    (dict(chunking_strategy="manual"), "'auto'"),
    (dict(known_speaker_names=["a", "b"], known_speaker_references=[WAV]), "same length"),
    (dict(known_speaker_names=list("abcde"), known_speaker_references=[WAV] * 5), "at most 4"),
    (dict(prompt=3), "must be a string"),
    (dict(stream=1), "True or False"),
]


@pytest.mark.parametrize("kwargs,message", TRANSCRIBE_CASES)
def test_transcribe_bad_options(client, kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        client.transcribe(WAV, **kwargs)


def test_translate_bad_options(client):
    with pytest.raises(InvalidInputError, match="json, text, srt, verbose_json, vtt"):
        client.translate(WAV, response_format="diarized_json")
    with pytest.raises(InvalidInputError, match="out of range"):
        client.translate(WAV, temperature=2)


CHAT_CASES = [
    (dict(messages=""), "empty"),
    (dict(messages=[]), "empty"),
    (dict(messages=None), "needs messages"),
    (dict(messages=42), "must be a string"),
    (dict(messages=[{"role": "robot", "content": "x"}]), "role"),
    (dict(messages=[{"role": "user"}]), "no content"),
    (dict(messages=["hello"]), "must be a dict"),
    (dict(messages=[{"role": "assistant", "audio": {"id": ""}}]), "audio must be"),
    (dict(messages="hi", audio_format="ogg"), "wav, aac, mp3, flac, opus, pcm16"),
    (dict(messages="hi", modalities=["video"]), "text, audio"),
    (dict(messages="hi", modalities=[]), "modalities is empty"),
    (dict(messages="hi", stream=True, audio_format="mp3"), "pcm16"),
    (dict(messages="hi", voice=None), "voice name"),
    (dict(messages=Conversation()), "no new user message"),
]


@pytest.mark.parametrize("kwargs,message", CHAT_CASES)
def test_chat_bad_input(client, kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        client.chat(**kwargs)


@pytest.mark.parametrize("kwargs,message", [
    (dict(timeout=-1), "positive"),
    (dict(timeout=0), "positive"),
    (dict(timeout="10"), "positive"),
    (dict(timeout=(1, 2, 3)), r"\(connect_seconds, seconds\)"),
    (dict(max_retries=-1), "max_retries"),
    (dict(max_retries=1.5), "max_retries"),
    (dict(base_url="api.openai.com"), "not an http"),
    (dict(base_url="ftp://x.example"), "not an http"),
    (dict(base_url="https://x.example/v1/chat/completions"), "API root"),
    (dict(base_url="http://x.example", api_key="sk-1 sk-2"), "spaces"),
    (dict(base_url="http://x.example", api_key="   "), "empty"),
    (dict(base_url="http://x.example", default_headers={"Authorization": "Bearer x"}), "api_key="),
    (dict(base_url="http://x.example", defaults={"volume": 3}), "unknown key"),
    (dict(base_url="http://x.example", defaults={"speak": {"language": "en"}}), "unknown argument"),
])
def test_client_bad_settings(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        nbaudio.Client(**kwargs)


def test_every_bad_input_error_is_an_nbaudio_error_and_a_value_error():
    assert issubclass(InvalidInputError, NbAudioError) and issubclass(InvalidInputError, ValueError)


def test_defaults_change_out_of_the_box_values(httpserver):
    httpserver.expect_request("/v1/audio/speech").respond_with_data(WAV, content_type="audio/wav")
    with nbaudio.Client(httpserver.url_for("/"), defaults={"voice": "coral", "speak": {"model": "tts-1-hd"}}) as c:
        c.speak("hi")
    import json

    body = json.loads(httpserver.log[0][0].data)
    assert body["voice"] == "coral" and body["model"] == "tts-1-hd"


@pytest.mark.parametrize("stream", [False, True])
def test_modalities_may_be_any_iterable_even_a_generator(httpserver, stream):
    """Read once: a generator is not consumed by a first look and found empty by a second."""
    import json

    httpserver.expect_request("/v1/chat/completions").respond_with_data("data: [DONE]\n\n",
                                                                       content_type="text/event-stream")
    with nbaudio.Client(httpserver.url_for("/"), max_retries=0) as c, pytest.raises(NbAudioError):
        reply = c.chat("hi", modalities=(m for m in ["text", "audio"]), stream=stream)
        if stream:
            reply.collect()
    assert json.loads(httpserver.log[0][0].data)["modalities"] == ["text", "audio"]


def test_closed_client_says_so(httpserver):
    c = nbaudio.Client(httpserver.url_for("/"))
    c.close()
    with pytest.raises(InvalidInputError, match="closed"):
        c.speak("hi")


# ---- raw Python exceptions turned into clear errors (issue 14, #13) ------------------------------

def test_text_mode_file_of_audio_says_open_it_binary(client, tmp_path):
    path = tmp_path / "speech.wav"
    path.write_bytes(WAV)
    with open(path) as f:  # text mode: reading would decode the WAV's bytes as UTF-8
        with pytest.raises(InvalidInputError, match=r"text-mode file.*open\(path, 'rb'\)"):
            client.transcribe(f)


@pytest.mark.parametrize("url", ["https://example.com/a.wav", "http://host/x.mp3", "s3://bucket/a.flac"])
def test_url_as_audio_says_urls_are_not_fetched(client, url):
    from pathlib import Path

    for given in (url, Path(url)):  # through Path the URL becomes 'https:/example.com/a.wav'
        with pytest.raises(InvalidInputError, match=r"URL.*does not fetch URLs.*[Dd]ownload it first"):
            client.transcribe(given)


@pytest.mark.parametrize("key", ["sk-abc\u200bdef0123456789", "sk-abc\u00a0def0123456789", "sk-abc\tdef0123456789",
                                 "sk-clé-0123456789", "\u200bsk-abcdef0123456789"])
def test_key_with_invisible_or_non_ascii_characters_is_refused_without_showing_it(key):
    with pytest.raises(InvalidInputError, match=r"api_key has .* at character \d+ of \d+.*[Cc]opy the key again") as e:
        nbaudio.Client("http://x.example", api_key=key)
    assert "def0123456789" not in str(e.value) and "abcdef" not in str(e.value) and "clé" not in str(e.value)


def test_header_value_that_http_cannot_carry_is_refused():
    with pytest.raises(InvalidInputError, match="latin-1"):
        nbaudio.Client("http://x.example", default_headers={"X-Team": "café\u200b"})


@pytest.mark.parametrize("rate,message", [
    (0, "positive"), (-16000, "positive"), (float("nan"), "whole number"), (True, "whole number"),
    (16000.5, "whole number"), ("16000", "whole number"), (10**9, "at most"),
])
def test_resample_to_a_bad_rate_is_an_invalid_input(rate, message):
    clip = AudioClip(WAV)
    with pytest.raises(InvalidInputError, match=message):
        clip.resample(rate)
    with pytest.raises(InvalidInputError, match=message):
        clip.encode("wav", sample_rate=rate) if rate else clip.resample(rate)


def test_bool_or_nan_where_a_number_is_due(client):
    for kwargs in (dict(speed=True), dict(speed=float("inf"))):
        with pytest.raises(InvalidInputError, match="must be a number"):
            client.speak("hi", **kwargs)
    with pytest.raises(InvalidInputError, match="sample rate must be a whole number"):
        client.transcribe((np.zeros(1000, dtype=np.float32), True))
    with pytest.raises(InvalidInputError, match="positive"):
        nbaudio.Client("http://x.example", timeout=True)
