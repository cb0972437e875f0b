"""nbaudio's client through a real relay: LiteLLM proxy in front of the real engine (issue 14).

Users mostly reach the audio API through relays, so the whole client surface is exercised
through one: speech in every format and streamed, transcription in every response_format and
streamed, translation, chat with audio out, input_audio, a 3-turn conversation by audio ids and
a streamed spoken reply. One LiteLLM proxy runs per session, as a subprocess on a free loopback
port, offline (local model cost map, outbound HTTP sent to a dead proxy), with a master key and
no database; its config points at an engine that shares the session engine's models and has its
own key, which LiteLLM forwards. The assertions are what a user gets (the spoken words, clips
that decode to a plausible length), and neither key may appear in anything nbaudio shows.

What LiteLLM (1.106) does that nbaudio must cope with, measured: it wraps text/srt/vtt
transcriptions and streamed transcriptions in `200 application/json {"text": "<raw body>"}`;
it has no /audio/translations (404 `{"detail": "Not Found"}`); it ignores `stream_format` for
speech (raw audio instead of SSE); its errors come as `{"detail": {"error": "..."}}` or with the
strings "None" for type/param and a Python-repr dict as the message; it turns error codes into
"400" but keeps `param`.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
import yaml

import nbaudio
from nbaudio import local
from nbaudio.audio import AudioClip
from nbaudio.errors import APIStatusError, BadRequestError, NotFoundError
from nbaudio.relay import RelayNotice
from tests.support import needs
from tests.support.data import SENTENCES

# A real LiteLLM proxy (a subprocess) in front of the engine.
pytestmark = pytest.mark.relay

MASTER_KEY = "sk-litellm-master-" + secrets.token_hex(12)
ENGINE_KEY = "sk-engine-behind-relay-" + secrets.token_hex(12)
KEYS = (MASTER_KEY, ENGINE_KEY)
TEXT = "Please call me back when you get home tonight."  # SENTENCES[1]
FOX = SENTENCES[0]
SHORT = {"max_tokens": 30, "temperature": 0.2, "seed": 7}
MODELS = {  # LiteLLM model group -> its mode (None: chat, LiteLLM's default)
    "tts-1": "audio_speech", "gpt-4o-mini-tts": "audio_speech", "whisper-1": "audio_transcription",
    "gpt-4o-transcribe": "audio_transcription", "gpt-4o-audio-preview": None, "gpt-4o-mini": None,
}


@dataclass
class Relay:
    url: str
    log: Path
    process: subprocess.Popen

    def log_tail(self, chars: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _litellm_exe() -> str:
    import sys

    needs.require("relay")
    exe = Path(sys.executable).with_name("litellm")
    assert exe.exists(), "LiteLLM is needed for the relay tests: pip install -e '.[test]' (make test does it)"
    return str(exe)


@pytest.fixture(scope="session")
def keyed_engine(engine) -> Iterator[local.LocalServer]:
    """The session engine's models behind a key, so the relay has a key of its own to forward (and to leak)."""
    with local.start(models=engine.app.state.engine.models, api_key=ENGINE_KEY) as server:
        yield server


@pytest.fixture(scope="session")
def relay(keyed_engine, tmp_path_factory) -> Iterator[Relay]:
    home = tmp_path_factory.mktemp("litellm")
    config = {
        "model_list": [
            {"model_name": name,
             "litellm_params": {"model": f"openai/{name}", "api_base": keyed_engine.base_url, "api_key": ENGINE_KEY},
             **({"model_info": {"mode": mode}} if mode else {})}
            for name, mode in MODELS.items()],
        "general_settings": {"master_key": MASTER_KEY},
        "litellm_settings": {"telemetry": False, "num_retries": 0},
    }
    (home / "config.yaml").write_text(yaml.safe_dump(config))
    log = home / "litellm.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "NBAUDIO_", "LITELLM_", "DATABASE_"))}
    env.update({
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # else it downloads the model price list at import
        "LITELLM_TELEMETRY": "False",
        "HF_HUB_OFFLINE": "1",
        # Anything that would reach the internet goes to a closed local port instead; the engine is loopback.
        "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
        "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
        "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
        "HOME": str(home),
    })
    port = _free_port()
    with log.open("wb") as out:
        process = subprocess.Popen([_litellm_exe(), "--config", str(home / "config.yaml"), "--host", "127.0.0.1",
                                    "--port", str(port), "--num_workers", "1"],
                                   stdout=out, stderr=subprocess.STDOUT, env=env, cwd=home, start_new_session=True)
    server = Relay(f"http://127.0.0.1:{port}", log, process)
    try:
        deadline = time.monotonic() + 300  # a hang guard for start-up, not a speed check
        while True:
            assert process.poll() is None, f"LiteLLM exited with {process.returncode}:\n{server.log_tail()}"
            try:
                if requests.get(server.url + "/health/liveliness", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, f"LiteLLM did not answer its health route:\n{server.log_tail()}"
            time.sleep(0.5)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture(autouse=True)
def _show_relay_log_on_failure(request, relay) -> Iterator[None]:
    """A failing test here shows what LiteLLM logged (written to the terminal: the report is made by then)."""
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed > failed:
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"\n---- LiteLLM log ({relay.log}), last lines ----\n{relay.log_tail()}")


@pytest.fixture(scope="session")
def client(relay) -> nbaudio.Client:
    return nbaudio.Client(relay.url, api_key=MASTER_KEY, max_retries=0, timeout=300)


@pytest.fixture(scope="session")
def fox_wav(speech_clips) -> AudioClip:
    return AudioClip(speech_clips[FOX])


def no_key_in(*things: Any) -> None:
    """Neither key in the str/repr of anything nbaudio handed back or raised (exceptions with their chain)."""
    seen: list[str] = []
    for thing in things:
        while thing is not None:
            seen += [str(thing), repr(thing)]
            if isinstance(thing, BaseException):
                seen += [repr(a) for a in thing.args]
                thing = thing.__cause__ or thing.__context__
            else:
                thing = None
    for key in KEYS:
        assert not any(key in s for s in seen), "an API key appears in what nbaudio shows"


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def parse_srt(srt: str) -> list[tuple[float, float, str]]:
    """SRT cues as (start, end, text); a malformed block fails the test."""
    def seconds(stamp: str) -> float:
        h, m, rest = stamp.split(":")
        s, ms = rest.split(",")
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    cues = []
    for block in srt.strip().split("\n\n"):
        lines = block.strip().splitlines()
        assert len(lines) >= 3 and lines[0].strip().isdigit(), f"not an SRT cue: {block!r}"
        m = re.fullmatch(r"(\d\d:\d\d:\d\d,\d\d\d) --> (\d\d:\d\d:\d\d,\d\d\d)", lines[1].strip())
        assert m, f"not an SRT time line: {lines[1]!r}"
        cues.append((seconds(m.group(1)), seconds(m.group(2)), " ".join(lines[2:])))
    return cues


def assert_speech(clip: AudioClip, text: str = TEXT) -> None:
    """A clip that decodes to about as long as the text takes to say, and is not silence."""
    n = len(text.split())
    assert 0.15 * n < clip.duration < 1.2 * n, (clip.duration, n)
    assert float(np.abs(clip.samples).max()) > 0.05


def assert_fox(transcript_text: str) -> None:
    heard = " ".join(words(transcript_text))
    assert "quick brown fox" in heard and "lazy dog" in heard, transcript_text


# ---- /audio/speech ------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav", "pcm"])
def test_speech_every_format(client, fmt):
    clip = client.speak(TEXT, response_format=fmt)
    assert clip.format == fmt
    assert_speech(clip)
    no_key_in(clip, client)


def test_speech_round_trip_is_the_spoken_words(client):
    clip = client.speak(FOX, voice="coral", response_format="mp3")
    assert_fox(client.transcribe(clip).text)


def test_speech_streamed_raw(client):
    stream = client.speak(TEXT, stream=True, response_format="pcm")
    pieces = list(stream)
    assert pieces and all(isinstance(p, bytes) for p in pieces)
    clip = stream.result
    assert clip.format == "pcm" and len(b"".join(pieces)) == len(clip.data)
    assert_speech(clip)
    no_key_in(stream, clip)


def test_speech_streamed_sse_that_the_relay_turns_into_raw_audio(client):
    """LiteLLM drops `stream_format` and answers with the audio itself: the user still gets the clip."""
    stream = client.speak(TEXT, model="gpt-4o-mini-tts", stream=True, stream_format="sse")
    list(stream)
    assert_speech(stream.result)


# ---- /audio/transcriptions ----------------------------------------------------------------------
def test_transcription_json(client, fox_wav):
    t = client.transcribe(fox_wav, response_format="json")
    assert_fox(t.text)
    assert t.text.strip().lower().startswith("the")  # the words, not a JSON body (Whisper may not capitalise)


def test_transcription_text(client, fox_wav):
    """LiteLLM wraps it: 200 application/json {"text": "<the text>"}; the user gets the text."""
    t = client.transcribe(fox_wav, response_format="text")
    assert_fox(t.text)
    assert "{" not in t.text and '"text"' not in t.text


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_transcription_srt_vtt_parse_to_segments(client, fox_wav, fmt):
    """LiteLLM wraps the SRT/VTT in {"text": ...}: the Transcript must still be segments with times,
    its text the words (no cue numbers, no timestamps), and to_srt() a valid SRT of the same cues."""
    t = client.transcribe(fox_wav, response_format=fmt)
    assert_fox(t.text)
    assert "-->" not in t.text and "WEBVTT" not in t.text
    assert t.segments, f"the {fmt} became no segments"
    assert_fox(" ".join(s.text for s in t.segments))
    assert 1.0 < t.segments[-1].end <= fox_wav.duration + 0.5
    cues = parse_srt(t.to_srt())
    assert len(cues) == len(t.segments)
    assert all(abs(c[1] - seg.end) < 0.01 for c, seg in zip(cues, t.segments, strict=True))
    assert all(0 <= start < end for start, end, _ in cues)
    assert_fox(" ".join(c[2] for c in cues))


def test_transcription_verbose_json_with_words(client, fox_wav):
    t = client.transcribe(fox_wav, response_format="verbose_json", timestamp_granularities=["word", "segment"])
    assert_fox(t.text)
    assert t.language in ("en", "english") and abs(t.duration - fox_wav.duration) < 0.1
    assert t.segments and [w.word.strip(" .,").lower() for w in t.words][:4] == ["the", "quick", "brown", "fox"]
    assert all(a.start <= b.start for a, b in itertools.pairwise(t.words))
    cues = parse_srt(t.to_srt())
    assert cues and cues[-1][1] <= fox_wav.duration + 0.5


def test_transcription_streamed(client, fox_wav):
    """LiteLLM buffers the SSE and wraps it as {"text": "data: {...}\\n\\n..."}: the user must get the words."""
    with pytest.warns(RelayNotice, match="returns only json"):  # the model's own limit, said once
        stream = client.transcribe(fox_wav, stream=True, model="gpt-4o-transcribe")
    list(stream)
    text = stream.result.text
    assert_fox(text)
    assert "data:" not in text and "transcript.text" not in text
    no_key_in(stream, stream.result)


def test_translation_is_not_offered_by_litellm_and_says_so(client, fox_wav):
    """LiteLLM has no /audio/translations route (404 {"detail": "Not Found"}): the error must name the
    endpoint and say the server may not offer it, not just "Not Found"."""
    with pytest.raises(NotFoundError) as info:
        client.translate(fox_wav)
    message = str(info.value)
    assert "/audio/translations" in message and relay_host(client) in message
    assert re.search(r"not (offer|support|provide)|may not|does not have", message, re.I), message
    no_key_in(info.value)


def relay_host(client: nbaudio.Client) -> str:
    return client.base_url.split("//", 1)[1].split("/", 1)[0]


# ---- /chat/completions --------------------------------------------------------------------------
def test_chat_with_audio_out(client):
    reply = client.chat("Is a golden retriever a good family dog?", voice="coral", **SHORT)
    assert reply.audio_id and reply.audio_id.startswith("audio_") and reply.expires_at > time.time()
    assert reply.transcript and reply.text == reply.transcript
    assert_speech(reply.audio, reply.transcript)
    # The audio says the transcript: most of its words come back from speech recognition.
    said, heard = words(reply.transcript), set(words(client.transcribe(reply.audio).text))
    assert sum(w in heard for w in said) >= 0.6 * len(said), (reply.transcript, heard)
    assert reply.usage.completion_audio_tokens > 0
    no_key_in(reply, client)


def test_chat_input_audio(client, fox_wav):
    reply = client.chat("Repeat what I said.", audio=fox_wav, modalities=["text"], **SHORT)
    assert reply.text.strip() and reply.audio is None
    assert reply.usage.prompt_audio_tokens > 0  # the engine heard the audio through the relay


def test_three_turn_conversation_by_audio_ids(client):
    conv = nbaudio.Conversation()
    replies = []
    for question in ("My dog is called Biscuit.", "What is my dog called?", "Say his name once more."):
        conv.add_user(question)
        replies.append(client.chat(conv, voice="alloy", **SHORT))
    ids = [r.audio_id for r in replies]
    assert all(ids) and len(set(ids)) == 3
    # The relay passed the ids through and the engine accepted them: none fell back to a transcript.
    assert conv.audio_ids() == ids and not conv.rejected_ids
    sent = conv.to_messages()
    assert [m["audio"]["id"] for m in sent if m["role"] == "assistant"] == ids
    # The earlier turns reached the model as their transcripts: the prompt grew with them.
    assert replies[2].usage.prompt_tokens > replies[0].usage.prompt_tokens + 10
    for r in replies:
        assert_speech(r.audio, r.transcript)


def test_streamed_chat_with_audio(client):
    stream = client.chat("Tell me two facts about cats.", voice="alloy", stream=True, **SHORT)
    pieces = list(stream)
    reply = stream.result
    assert pieces and reply.audio_id and reply.transcript and reply.finish_reason in ("stop", "length")
    assert reply.audio.format == "pcm" and reply.audio.sample_rate == 24000
    assert_speech(reply.audio, reply.transcript)
    no_key_in(stream, reply)


# ---- errors through the relay -------------------------------------------------------------------
def test_engine_error_keeps_its_param_through_the_relay(client):
    with pytest.raises(BadRequestError) as info:
        client.speak("Hello.", voice="no-such-voice")
    err = info.value
    assert err.param == "voice" and "no-such-voice" in err.message
    no_key_in(err)


def test_an_unknown_audio_id_is_rejected_by_param_and_the_conversation_falls_back(client):
    """LiteLLM rewrites the engine's code `audio_not_found` to "400" but keeps param
    `messages[1].audio.id`: the conversation resends that turn as its transcript, once."""
    gone = "audio_" + "0" * 32  # an earlier reply whose audio the server no longer has
    conv = nbaudio.Conversation([{"role": "user", "content": "My dog is called Biscuit."}])
    conv.add_reply(nbaudio.ChatReply(transcript="Biscuit is a lovely name for a dog.", audio_id=gone))
    conv.add_user("What is my dog called?")
    reply = client.chat(conv, **SHORT)
    assert reply.transcript and reply.audio is not None
    assert conv.rejected_ids == {gone}
    assert "Biscuit is a lovely name for a dog." in str(conv.to_messages())


def test_fastapi_style_nested_error_reads_as_its_message(client):
    """An unknown speech model: LiteLLM answers 400 {"detail": {"error": "/audio/speech: Invalid model name ..."}}."""
    with pytest.raises(BadRequestError) as info:
        client.speak("Hello.", model="no-such-tts-model")
    err = info.value
    assert "Invalid model name" in err.message and "no-such-tts-model" in err.message
    assert "detail" not in err.message and not err.message.lstrip().startswith("{")
    no_key_in(err)


def test_repr_dict_error_with_none_strings_reads_as_absent(client, fox_wav):
    """An unknown transcription model: LiteLLM answers {"error": {"message": "{'error': '...'}",
    "type": "None", "param": "None"}}: the strings "None" are absent, the message is the inner text."""
    with pytest.raises(BadRequestError) as info:
        client.transcribe(fox_wav, model="no-such-stt-model")
    err = info.value
    assert err.type is None and err.param is None
    assert "Invalid model name" in err.message and not err.message.lstrip().startswith("{")
    no_key_in(err)


def test_a_wrong_key_never_shows(relay):
    wrong = "sk-wrong-" + secrets.token_hex(12)
    bad = nbaudio.Client(relay.url, api_key=wrong, max_retries=0)
    with pytest.raises(APIStatusError) as info:
        bad.speak("Hello.")
    # LiteLLM without a database answers any key but the master key with 400 "No connected db.".
    assert info.value.status_code in (400, 401)
    for shown in (str(info.value), repr(info.value), repr(bad)):
        assert wrong not in shown and MASTER_KEY not in shown and ENGINE_KEY not in shown


def test_the_relay_is_what_answers(client, relay):
    """The fixture's own check: requests go through LiteLLM (its access log has them), not to the engine."""
    client.speak("Hi.", response_format="wav")
    assert "POST /v1/audio/speech" in relay.log_tail(200_000)
    assert client.base_url.startswith(relay.url)


# ---- issue 31: the same recording on the engine and through the relay, side by side, with costs ----


def test_compare_transcripts_engine_and_relay(client, keyed_engine):
    """One grid, two clients ("the engine vs my relay"): both scored against the same reference. The
    engine is free; the relay (which drops the engine's stamp) is priced by OpenAI's table, here
    with a group multiplier of 0.5."""
    from tests.support.real_speech import recording

    rec = recording("fleurs-en-006.ogg")  # reported part
    relayed = nbaudio.Client(client.base_url, api_key=MASTER_KEY, max_retries=0, timeout=300,
                             prices=nbaudio.Prices.openai(multiplier=0.5))
    direct = nbaudio.Client(keyed_engine.base_url, api_key=ENGINE_KEY, max_retries=0, timeout=300)
    cmp = nbaudio.compare_transcripts(str(rec.path), models=["whisper-1"], clients={"engine": direct, "relay": relayed},
                                      reference=rec.reference)
    rows = {r["system"]: r for r in cmp.rows()}
    assert list(rows) == ["engine: whisper-1", "relay: whisper-1"] and not any(r["error"] for r in rows.values())
    assert rows["engine: whisper-1"]["cost"] == "free (local)"
    relay_cost = cmp.transcripts["relay: whisper-1"].cost
    # OpenAI's $0.006 a minute of the duration the relay passed on (verbose_json), at the group's half
    assert relay_cost.usd == pytest.approx(cmp.transcripts["relay: whisper-1"].duration / 60 * 0.006 * 0.5)
    assert "0.5 (relay)" in relay_cost.basis
    assert rows["engine: whisper-1"]["wer"] == pytest.approx(rows["relay: whisper-1"]["wer"])  # the same model behind
    text = cmp._repr_mimebundle_()["text/plain"]
    assert not any(k in text for k in KEYS)


def test_compare_speech_engine_and_relay_in_one_grid(client, keyed_engine):
    """"The engine vs my relay" for speech: the same voices through both, each clip heard back by the
    client that made it. The relay streams the engine's audio through; its clips are priced by
    OpenAI's table (per character of text), the engine's are free."""
    direct = nbaudio.Client(keyed_engine.base_url, api_key=ENGINE_KEY, max_retries=0, timeout=300)
    grid = nbaudio.compare_speech(TEXT, voices=["alloy", "echo"], models=["tts-1"],
                                  clients={"engine": direct, "relay": client}, live=False)
    df = grid.to_dataframe()
    assert list(df["cell"]) == ["engine: tts-1 · alloy", "engine: tts-1 · echo", "relay: tts-1 · alloy",
                                "relay: tts-1 · echo"]
    assert df["error"].isna().all(), df["error"]
    assert (df["ttfb"] <= df["seconds"]).all() and df["duration"].gt(1.0).all()
    assert list(df["cost"][:2]) == ["free (local)"] * 2
    price = nbaudio.pricing.speech_cost(nbaudio.Prices.openai(), "tts-1", len(TEXT))
    assert (df["cost_usd"][2:] == price.usd).all() and price.usd > 0
    assert df["wer"].le(0.25).all(), df[["cell", "heard"]]  # the engine's voice and Whisper, either way
    bundle = grid._repr_mimebundle_()
    assert bundle["text/html"].count("<audio") == 4
    no_key_in(grid, *grid.clips.values())
    assert not any(k in bundle["text/html"] + bundle["text/plain"] for k in KEYS)
