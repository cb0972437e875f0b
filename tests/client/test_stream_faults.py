"""Streams under faults: real streams captured from the engine, served again cut short.

The engine's own SSE bytes (a streamed chat audio reply, speech as SSE and as raw audio, a
transcription) are recorded once, then a raw socket server sends them truncated mid-event,
between events, after some audio, before the end marker, or stalls or resets. The caller gets
the part that arrived as a playable partial and a clear StreamInterruptedError; a conversation
is never changed by a broken turn, and `%%voice` records no half turn and carries on.
"""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

import pytest
import requests

import nbaudio
from nbaudio import AudioClip, ChatReply, Conversation, Transcript
from nbaudio.errors import StreamInterruptedError
from nbaudio.magic import VoiceMagics
from tests.support.faults import FaultProxy, RawServer, event_ends, replay

pytestmark = pytest.mark.timeout(300)

CHAT_BODY = {"model": "gpt-4o-audio-preview", "modalities": ["text", "audio"],
             "audio": {"voice": "alloy", "format": "pcm16"}, "max_tokens": 16, "stream": True,
             "stream_options": {"include_usage": True},
             "messages": [{"role": "user", "content": "Say hello and tell me one fact about dogs."}]}
SPEECH_TEXT = "Hello there. How are you today?"


@pytest.fixture(scope="module")
def captured(engine, speech_clips) -> dict[str, bytes]:
    """Response bodies exactly as the engine streamed them."""
    def post(path: str, **kw: Any) -> bytes:
        r = requests.post(engine.base_url + path, stream=True, timeout=300, **kw)
        r.raise_for_status()
        return b"".join(r.iter_content(None))

    speech = {"model": "tts-1", "voice": "alloy", "input": SPEECH_TEXT, "response_format": "pcm"}
    # several sentences, so the transcription streams several deltas (one per segment)
    wav = AudioClip.concatenate([AudioClip(c) for c in speech_clips.values()]).encode("wav").data
    return {
        "chat": post("/chat/completions", json=CHAT_BODY),
        "speech_sse": post("/audio/speech", json={**speech, "stream_format": "sse"}),
        "speech_raw": post("/audio/speech", json={**speech, "stream_format": "audio"}),
        "transcription": post("/audio/transcriptions", files={"file": ("a.wav", wav, "audio/wav")},
                              data={"model": "whisper-1", "response_format": "json", "stream": "true"}),
    }


def events(body: bytes) -> list[Any]:
    """The data of each complete event in a captured body ('[DONE]' as the string)."""
    out, at = [], 0
    for end in event_ends(body):
        data = body[at:end].decode().strip().removeprefix("data: ")
        out.append(data if data == "[DONE]" else json.loads(data))
        at = end
    return out


def chat_parts(evs: list[Any]) -> tuple[bytes, str]:
    """The pcm16 audio and the transcript these chat chunks carry (our own reading of them)."""
    pcm, words = b"", ""
    for ev in evs:
        if ev == "[DONE]":
            continue
        for choice in ev["choices"]:
            audio = choice["delta"].get("audio") or {}
            pcm += base64.b64decode(audio.get("data", ""))
            words += audio.get("transcript", "")
    return pcm, words


def audio_event_indexes(evs: list[Any]) -> list[int]:
    return [i for i, ev in enumerate(evs) if ev != "[DONE]" and any(
        (c["delta"].get("audio") or {}).get("data") for c in ev["choices"])]


def cut_points(body: bytes) -> dict[str, int]:
    """Where to cut a captured chat stream: offsets into the body."""
    ends = event_ends(body)
    evs = events(body)
    audio = audio_event_indexes(evs)
    assert len(audio) >= 3, "the captured reply is too short to cut after some audio"
    second_audio_start = ends[audio[1] - 1]
    return {
        "between_events_before_audio": ends[2],
        "mid_event_in_audio": second_audio_start + (ends[audio[1]] - second_audio_start) // 2,
        "after_two_audio_events": ends[audio[1]],
        "before_done": body.index(b"data: [DONE]"),
    }


def serve(script) -> RawServer:
    return RawServer(script)


def delivered(body: bytes, cut: int) -> tuple[bytes, str]:
    """Audio and transcript of the events wholly inside body[:cut]."""
    return chat_parts(events(body[:cut]))


def assert_playable(clip: AudioClip, pcm: bytes) -> None:
    assert clip.format == "pcm" and clip.sample_rate == 24000
    assert clip.frames == len(pcm) // 2 and clip.duration == pytest.approx(len(pcm) / 2 / 24000)
    assert clip.data == pcm[: len(pcm) // 2 * 2]
    wav = clip.encode("wav")  # what the player embeds
    assert AudioClip(wav.data).frames == clip.frames
    assert "<audio" in clip._repr_mimebundle_()["text/html"]


# ---- chat audio -----------------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["between_events_before_audio", "mid_event_in_audio", "after_two_audio_events",
                                   "before_done"])
@pytest.mark.parametrize("end", ["close", "reset"])
def test_chat_stream_cut_gives_partial_audio_and_keeps_the_conversation(captured, where, end):
    body = captured["chat"]
    cut = cut_points(body)[where]
    pcm, words = delivered(body, cut)
    if where != "between_events_before_audio":
        assert pcm and words  # these cuts come after audio and words were sent
    # A reset may drop bytes still in flight, and a test that accepts "whatever arrived" passes
    # when nothing did: so the server resets only once the caller has seen every delta it sent.
    seen_all = threading.Event()
    server = serve(replay(body, cut=cut, end=end, hold=seen_all if end == "reset" else None))
    try:
        conv = Conversation(system="Be brief.")
        conv.add_user("Say hello and tell me one fact about dogs.")
        before = json.dumps(conv.messages)
        got: list[dict] = []

        def took_in_everything_sent() -> bool:
            return (b"".join(d["audio"] for d in got), "".join(d["transcript"] for d in got)) == (pcm, words)

        with nbaudio.Client(server.base_url, max_retries=3) as c:
            stream = c.chat(conv, stream=True)
            with pytest.raises(StreamInterruptedError) as e:
                if took_in_everything_sent():
                    seen_all.set()
                for delta in stream:
                    got.append(delta)
                    if took_in_everything_sent():
                        seen_all.set()
        err = e.value
        got_pcm, got_words = b"".join(d["audio"] for d in got), "".join(d["transcript"] for d in got)
        # the caller saw, as deltas, exactly what was sent before the stream broke (FIN or RST) ...
        assert (len(got_pcm), got_words) == (len(pcm), words) and got_pcm == pcm and seen_all.is_set()
        # ... and the partial reply is exactly that
        partial = err.partial
        assert isinstance(partial, ChatReply) and (partial.transcript or "") == words
        if pcm:
            assert_playable(partial.audio, pcm)
            assert f"{len(pcm) / 48000:.2f} s of audio" in str(err)
        else:
            assert partial.audio is None
        assert partial.audio_id == events(body)[1]["choices"][0]["delta"]["audio"]["id"]
        message = str(err)
        assert message.startswith("the chat stream broke off before it finished (")
        assert "is in the error's .partial" in message and err.request_id == "req_replay"
        reason = "connection reset by the server" if end == "reset" else "the server closed the connection mid-response"
        assert reason in message
        # nothing recorded, never retried once the stream had started
        assert json.dumps(conv.messages) == before and conv.last_reply is None and stream.result is None
        assert server.connections == 1
    finally:
        server.close()


def test_chat_stream_cut_without_http_framing_is_still_caught(captured):
    """A relay that ends the body by closing the connection (no length, no chunks): the
    missing `[DONE]` and finish_reason, or a half event, are what tell the stream broke."""
    body = captured["chat"]
    points = cut_points(body)
    for where, expected in (("mid_event_in_audio", "ended in the middle of an event"),
                            ("after_two_audio_events", "ended before [DONE]")):
        server = serve(replay(body, cut=points[where], framing="close"))
        try:
            conv = Conversation()
            conv.add_user("hi")
            with nbaudio.Client(server.base_url) as c:
                with pytest.raises(StreamInterruptedError, match=expected.replace("[", r"\[")) as e:
                    c.chat(conv, stream=True).collect()
            pcm, words = delivered(body, points[where])
            assert_playable(e.value.partial.audio, pcm)
            assert e.value.partial.transcript == words and len(conv) == 1
        finally:
            server.close()


def test_chat_stream_that_omits_only_done_is_complete(captured):
    """finish_reason arrived and then the connection closed (some relays never send [DONE])."""
    body = captured["chat"]
    server = serve(replay(body, cut=body.index(b"data: [DONE]"), framing="close"))
    try:
        conv = Conversation()
        conv.add_user("hi")
        with nbaudio.Client(server.base_url) as c:
            reply = c.chat(conv, stream=True).collect()
        pcm, words = chat_parts(events(body))
        assert reply.audio.data == pcm and reply.transcript == words and reply.finish_reason
        assert conv.last_reply is reply
    finally:
        server.close()


def test_chat_stream_stall_becomes_a_read_timeout_with_partial(captured):
    body = captured["chat"]
    cut = cut_points(body)["after_two_audio_events"]
    server = serve(replay(body, cut=cut, end="stall", stall=3.0))
    try:
        conv = Conversation()
        conv.add_user("hi")
        with nbaudio.Client(server.base_url, timeout=(5, 0.5)) as c:
            with pytest.raises(StreamInterruptedError) as e:
                c.chat(conv, stream=True).collect()
        assert str(e.value).startswith("the chat stream stalled: no data arrived within the read timeout")
        assert_playable(e.value.partial.audio, delivered(body, cut)[0])
        assert len(conv) == 1
    finally:
        server.close()


def test_whole_replayed_chat_stream_is_the_engines_reply(captured):
    """The replay itself is faithful: uncut, it assembles to what the engine sent."""
    body = captured["chat"]
    server = serve(replay(body))
    try:
        with nbaudio.Client(server.base_url) as c:
            reply = c.chat("hi", stream=True).collect()
        pcm, words = chat_parts(events(body))
        assert reply.audio.data == pcm and reply.transcript == words and reply.usage.total_tokens > 0
    finally:
        server.close()


# ---- speech and transcription streams -------------------------------------------------------------

def speech_pcm(evs: list[Any]) -> bytes:
    return b"".join(base64.b64decode(ev["audio"]) for ev in evs if ev["type"] == "speech.audio.delta")


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_speech_sse_stream_cut_gives_partial_clip(captured, framing):
    body = captured["speech_sse"]
    ends = event_ends(body)
    assert len(ends) >= 3
    for cut, why in ((ends[0] + 40, "broke off" if framing == "chunked" else "ended in the middle of an event"),
                     (ends[-2], "broke off" if framing == "chunked" else "ended before speech.audio.done")):
        server = serve(replay(body, cut=cut, framing=framing))
        try:
            with nbaudio.Client(server.base_url) as c:
                stream = c.speak(SPEECH_TEXT, response_format="pcm", stream=True, stream_format="sse")
                got = b""
                with pytest.raises(StreamInterruptedError, match=f"^the speech stream {why}") as e:
                    for piece in stream:
                        got += piece
            pcm = speech_pcm(events(body[:cut]))
            assert got == pcm
            assert_playable(e.value.partial, pcm)
        finally:
            server.close()


def test_raw_speech_stream_cut_gives_partial_clip(captured):
    body = captured["speech_raw"]
    cut = len(body) // 3 * 2 + 1  # an odd byte count: half a sample
    server = serve(replay(body, cut=cut, content_type=b"audio/pcm"))
    try:
        with nbaudio.Client(server.base_url) as c:
            with pytest.raises(StreamInterruptedError, match="^the speech stream broke off") as e:
                c.speak(SPEECH_TEXT, response_format="pcm", stream=True).collect()
        assert_playable(e.value.partial, body[:cut - 1])
    finally:
        server.close()


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_transcription_stream_cut_gives_partial_text(captured, framing):
    body = captured["transcription"]
    evs = events(body)
    deltas = [ev["delta"] for ev in evs if ev["type"] == "transcript.text.delta"]
    assert len(deltas) >= 2 and evs[-1]["type"] == "transcript.text.done"
    cut = event_ends(body)[len(deltas) - 2]  # every delta but the last, and no done event
    server = serve(replay(body, cut=cut, framing=framing))
    try:
        audio = AudioClip.from_array([0.0] * 1600, 16000)
        with nbaudio.Client(server.base_url) as c:
            with pytest.raises(StreamInterruptedError, match="^the transcription stream") as e:
                c.transcribe(audio, response_format="json", stream=True).collect()
        partial = e.value.partial
        assert isinstance(partial, Transcript) and partial.text == "".join(deltas[:-1]) and partial.audio is audio
        assert f"{len(partial.text)} characters of text" in str(e.value)
    finally:
        server.close()


# ---- %%voice through a proxy that breaks one reply ---------------------------------------------------

def test_voice_cell_keeps_no_half_turn_and_the_next_turn_works(engine, shell, capsys):
    proxy = FaultProxy(engine.base_url)
    magics = VoiceMagics(shell)
    # this test's defaults, whatever another test left in the shared shell's config
    magics.max_history, magics.stream, magics.text_only, magics.system = None, True, False, None
    shell.register_magics(magics)
    magics.client = nbaudio.Client(proxy.base_url, max_retries=2)
    try:
        shell.run_cell_magic("voice", "--max-tokens 16", "Name one dog breed.")
        first = shell.user_ns["_voice"]
        assert first.audio_id and first.audio.duration > 0
        capsys.readouterr()

        # the second reply is cut after its second audio chunk
        def after_two_audio_chunks(answer: bytes) -> int:
            return event_ends(answer)[audio_event_indexes(events(answer))[1]]

        proxy.fault = after_two_audio_chunks
        result = shell.run_cell("%%voice --max-tokens 16\nName a cat breed.")
        out = capsys.readouterr()
        assert result.error_in_exec is None and "Traceback" not in out.out + out.err
        (line,) = out.err.strip().splitlines()
        assert line.startswith("StreamInterruptedError: the chat stream broke off before it finished")
        assert line.endswith("(turn not kept; the conversation still has its 1 earlier turn)")
        conv = magics.conversations["default"]
        assert len(conv) == 2 and conv.last_reply is first and shell.user_ns["_voice"] is first
        assert len(proxy.bodies) == 2  # a stream that broke is not sent again

        proxy.fault = None
        shell.run_cell_magic("voice", "--max-tokens 16", "Name a bird.")
        third = shell.user_ns["_voice"]
        assert third is not first and third.audio_id not in (None, first.audio_id) and third.audio.duration > 0
        sent = [m for m in proxy.bodies[-1]["messages"] if m["role"] != "system"]
        assert sent == [{"role": "user", "content": "Name one dog breed."},
                        {"role": "assistant", "audio": {"id": first.audio_id}},
                        {"role": "user", "content": "Name a bird."}]
        assert len(conv) == 4 and conv.audio_ids() == [first.audio_id, third.audio_id]
    finally:
        magics.client.close()
        magics.client = None
        proxy.close()
