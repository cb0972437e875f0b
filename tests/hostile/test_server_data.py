"""Odd but valid server data (issue 26, item 8 and 10, and the decode message): every answer a
server can send is a result or an nbaudio error (NbAudioError) saying what was wrong, never a
raw AttributeError / TypeError / KeyError / ValueError / binascii.Error / RecursionError.

First the cases the audit found, each as it was sent; then Hypothesis properties that put
arbitrary JSON anywhere in a chat completion, a transcription (json / verbose_json /
diarized_json), the SSE streams of chat, speech and transcription, and the events of a Realtime
session, served on loopback and read through the real `nbaudio.Client` and
`nbaudio.realtime.connect`. The rule they hold the parsers to is nbaudio._wire.fields'.
"""

from __future__ import annotations

import base64
import json
import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from nbaudio.audio import AudioClip
from nbaudio.errors import APIResponseError, AudioDecodeError, NbAudioError, RealtimeServerError
from tests.hostile.canary import assert_no_key
from tests.hostile.server_answers import (
    AUDIO_B64,
    CHAT,
    CHAT_CHUNKS,
    JSON_VALUES,
    RAW_MESSAGES,
    REALTIME_EVENTS,
    SPEECH_EVENTS,
    TRANSCRIPTION,
    TRANSCRIPTION_EVENTS,
    AnswerServer,
    RealtimeScript,
    check_reply,
    check_transcript,
    replaced,
    spoiled,
    spoiled_events,
)

pytestmark = pytest.mark.timeout(120)
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DEEP = "[" * 100_000 + "]" * 100_000  # valid JSON, nested past what Python's decoder recurses into


@pytest.fixture(scope="module")
def server():
    s = AnswerServer()
    yield s
    s.close()


@pytest.fixture(scope="module")
def realtime():
    script = RealtimeScript()
    yield script
    script.close()


@pytest.fixture(scope="module")
def clip() -> AudioClip:
    return AudioClip.from_array(np.zeros(1600, dtype=np.float32), 16000)


def chat(server: AnswerServer, **kw):
    return server.client().chat("hi", audio_bridge=False, **kw)


def refused(call, match: str) -> APIResponseError:
    with pytest.raises(APIResponseError, match=match) as err:
        call()
    assert_no_key(str(err.value))
    return err.value


# ---- the audit's cases -------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "value", "field"), [
    (("choices", 0, "message"), "hi", r"choices\[0\]\.message of the chat reply is the string 'hi'"),
    (("choices", 0, "message", "audio"), "zz", r"choices\[0\]\.message\.audio .* where the API promises an object"),
    (("choices", 0), "x", r"choices\[0\] of the chat reply"),
    (("choices", 0, "message", "content"), 5, r"message\.content .* is 5"),
    (("choices", 0, "message", "audio", "data"), "AAA", r"audio\.data .* not valid base64"),
])
def test_a_chat_reply_of_the_wrong_shape_is_refused_naming_the_field(server, path, value, field):
    server.serve(replaced(CHAT, path, value))
    err = refused(lambda: chat(server), field)
    assert "base_url" in str(err)  # the next step


def test_token_counts_that_are_not_numbers_are_dropped_and_the_reply_kept(server):
    usage = {"prompt_tokens": "abc", "completion_tokens": "12", "total_tokens": 8.0,
             "prompt_tokens_details": "x", "completion_tokens_details": {"audio_tokens": -1}}
    server.serve(replaced(CHAT, ("usage",), usage))
    reply = chat(server)
    assert reply.text == "Hi there" and reply.audio is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens) == (0, 12, 8)
    assert reply.usage.prompt_text_tokens is None and reply.usage.completion_audio_tokens is None
    assert reply.usage.raw == usage  # what was sent stays readable
    server.serve(replaced(replaced(CHAT, ("model",), 5), ("choices", 0, "message", "audio", "expires_at"), "soon"))
    reply = chat(server)
    assert reply.model is None and reply.expires_at is None and not reply.expired()


@pytest.mark.parametrize(("body", "field"), [
    ({"text": "x", "segments": "abc"}, r"segments of the transcription is the string 'abc'"),
    ({"text": "x", "segments": [{"start": "a", "end": 1, "text": "x"}]}, r"segments\[0\]\.start .* 'a'"),
    ('{"text": "x", "segments": [{"start": NaN, "end": 1, "text": "x"}]}', r"segments\[0\]\.start .* NaN"),
    ({"text": "x", "segments": [{"start": 0, "end": 1e300, "text": "x"}]}, r"segments\[0\]\.end"),
    ({"text": "x", "segments": ["abc"]}, r"segments\[0\] of the transcription"),
    ({"text": "x", "words": [{"word": 5, "start": 0, "end": 1}]}, r"words\[0\]\.word .* is 5"),
])
def test_a_transcription_of_the_wrong_shape_is_refused_naming_the_field(server, clip, body, field):
    server.serve(body.encode() if isinstance(body, str) else body)
    refused(lambda: server.client().transcribe(clip, response_format="verbose_json"), field)


def test_transcription_details_of_the_wrong_type_are_dropped(server, clip):
    server.serve({"text": "x", "language": 5, "duration": "long", "usage": "lots", "logprobs": {},
                  "segments": [{"start": "1.5", "end": 2, "text": "x", "seek": "x", "tokens": "x", "id": [1]}]})
    t = server.client().transcribe(clip, response_format="verbose_json")
    assert (t.language, t.duration, t.usage, t.logprobs) == (None, None, None, None)
    assert (t.segments[0].start, t.segments[0].seek, t.segments[0].tokens, t.segments[0].id) == (1.5, 0, [], 0)


STREAMS = {
    "speech": lambda c, clip: c.speak("hi", stream=True).collect(),
    "chat": lambda c, clip: c.chat("hi", stream=True, modalities=["text"], audio_bridge=False).collect(),
    "transcription": lambda c, clip: c.transcribe(clip, stream=True, model="gpt-4o-transcribe",
                                                  response_format="json").collect(),
}


@pytest.mark.parametrize("kind", list(STREAMS))
@pytest.mark.parametrize("data", ["42", "[1,2]", '"str"', "null"])
def test_a_stream_event_that_is_not_an_object_is_refused(server, clip, kind, data):
    server.serve_events([data])
    with pytest.raises(APIResponseError, match=f"the {kind} stream"):
        STREAMS[kind](server.client(), clip)


@pytest.mark.parametrize(("chunk", "field"), [
    ({"choices": ["x"]}, r"choices\[0\] of a chat stream chunk is the string 'x'"),
    ({"choices": [{"delta": {"content": 5}}]}, r"choices\[0\]\.delta\.content of a chat stream chunk is 5"),
    ({"choices": [{"delta": {"tool_calls": [{"index": [0]}]}}]}, r"tool_calls\[0\]\.index"),
    ({"choices": [{"delta": {"audio": {"data": "AAA"}}}]}, r"audio\.data .* not valid base64"),
])
def test_a_chat_stream_chunk_of_the_wrong_shape_is_refused(server, chunk, field):
    server.serve_events([chunk, "[DONE]"])
    refused(lambda: chat(server, stream=True, modalities=["text"]).collect(), field)


def test_speech_and_transcription_events_of_the_wrong_shape_are_refused(server, clip):
    server.serve_events([{"type": "speech.audio.delta", "audio": 5}, {"type": "speech.audio.done"}])
    refused(lambda: server.client().speak("hi", stream=True).collect(), r"audio of a speech.audio.delta event is 5")
    server.serve_events([{"type": "transcript.text.delta", "delta": [1]}, {"type": "transcript.text.done"}])
    refused(lambda: STREAMS["transcription"](server.client(), clip), r"delta of a transcript.text.delta event")


@pytest.mark.parametrize("status", [200, 400])
def test_json_nested_too_deeply_is_an_nbaudio_error(server, clip, status):
    server.serve(('{"choices": ' + DEEP + "}").encode(), status=status)
    with pytest.raises(NbAudioError):
        chat(server)
    server.serve(('{"text": "x", "segments": ' + DEEP + "}").encode(), status=status)
    with pytest.raises(NbAudioError):
        server.client().transcribe(clip, response_format="verbose_json")


@pytest.mark.parametrize("kind", list(STREAMS))
def test_a_stream_event_nested_too_deeply_is_an_nbaudio_error(server, clip, kind):
    server.serve_events([DEEP])
    with pytest.raises(APIResponseError, match="not JSON"):
        STREAMS[kind](server.client(), clip)


# ---- Realtime --------------------------------------------------------------------------------------


def test_a_realtime_error_event_whose_error_is_text_raises_with_that_text(realtime):
    rt, errors = realtime.read_all([{"type": "error", "error": "rate limited"}])
    assert len(errors) == 1 and isinstance(errors[0], RealtimeServerError)
    assert errors[0].message == "rate limited"


@pytest.mark.parametrize(("event", "field"), [
    ({"type": "input_audio_buffer.committed"}, r"item_id of the Realtime event input_audio_buffer.committed is null"),
    ({"type": "response.output_audio.delta", "item_id": "item_a", "delta": "AAA"}, r"delta .* not valid base64"),
    ({"type": "conversation.item.added", "item": "x"}, r"item of the Realtime event conversation.item.added"),
    ({"type": "response.done", "response": {"output": ["x"]}}, r"response\.output\[0\]"),
    ({"type": "conversation.item.truncated", "item_id": "item_a", "audio_end_ms": "5"}, r"audio_end_ms"),
    ({"type": "conversation.item.added", "item": {"content": [{"type": "input_text", "text": 5}]}},
     r"item\.content\[0\]\.text"),
])
def test_a_malformed_realtime_event_raises_from_the_call_and_the_session_goes_on(realtime, event, field):
    follow = {"type": "conversation.item.added", "item": {"id": "item_t", "role": "user", "status": "completed",
                                                          "content": [{"type": "input_text", "text": "typed"}]}}
    rt, errors = realtime.read_all([event, follow])
    assert len(errors) == 1 and isinstance(errors[0], APIResponseError)
    assert re.search(field, str(errors[0])), str(errors[0])
    assert [(t.item_id, t.text) for t in rt.turns] == [("item_t", "typed")]  # the next event was read and kept


def test_an_item_of_a_role_no_chat_message_has_stays_out_of_the_conversation(realtime):
    item = {"id": "item_c", "type": "message", "role": "critic", "content": [{"type": "input_text", "text": "meh"}]}
    rt, errors = realtime.read_all([{"type": "conversation.item.added", "item": item}])
    assert not errors and [(t.role, t.text) for t in rt.turns] == [("critic", "meh")]
    assert rt.conversation.turns() == []  # raised InvalidInputError (role 'critic') before


# ---- item 10 and the decode message ----------------------------------------------------------------


def test_speech_asked_as_sse_but_not_streamed_returns_the_assembled_clip(server):
    pcm = np.arange(-3000, 3000, 10, dtype="<i2").tobytes()
    server.serve_events([{"type": "speech.audio.delta", "audio": base64.b64encode(pcm[:300]).decode()},
                         {"type": "speech.audio.delta", "audio": base64.b64encode(pcm[300:]).decode()},
                         {"type": "speech.audio.done", "usage": {"total_tokens": 3}}])
    clip = server.client().speak("hi", response_format="pcm", stream_format="sse")
    assert isinstance(clip, AudioClip) and clip.data == pcm


def test_audio_that_does_not_decode_says_what_the_bytes_were(server):
    server.serve(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40, "audio/wav")
    clip = server.client().speak("hi")
    with pytest.raises(AudioDecodeError) as err:
        _ = clip.duration
    text = str(err.value)
    assert "BytesIO" not in text and " at 0x" not in text
    assert re.search(r"the WAV audio \(\d\d bytes, starting b'RIFF.\\x00\\x00\\x00'\)", text), text


# ---- properties: arbitrary JSON anywhere -----------------------------------------------------------


def outcome(call, check) -> None:
    """`call()` gives a well-formed result (`check` passes) or raises an nbaudio error without the key."""
    try:
        result = call()
    except NbAudioError as exc:
        assert_no_key(str(exc))
        event(type(exc).__name__)  # --hypothesis-show-statistics: how often each outcome came
        return
    event("a result")
    check(result)


@PROPERTY
@given(body=spoiled(CHAT) | JSON_VALUES)
def test_any_chat_completion_is_a_reply_or_an_nbaudio_error(server, body):
    server.serve(body)
    outcome(lambda: chat(server), check_reply)


@PROPERTY
@given(body=spoiled(TRANSCRIPTION) | JSON_VALUES, fmt=st.sampled_from(["json", "verbose_json", "diarized_json"]))
def test_any_transcription_is_a_transcript_or_an_nbaudio_error(server, clip, body, fmt):
    server.serve(body)
    model = "gpt-4o-transcribe-diarize" if fmt == "diarized_json" else "whisper-1"
    outcome(lambda: server.client().transcribe(clip, response_format=fmt, model=model), check_transcript)


@PROPERTY
@given(events=spoiled_events(CHAT_CHUNKS + ["[DONE]"]))
def test_any_chat_stream_is_a_reply_or_an_nbaudio_error(server, events):
    server.serve_events(events)
    outcome(lambda: STREAMS["chat"](server.client(), None), check_reply)


@PROPERTY
@given(events=spoiled_events(SPEECH_EVENTS))
def test_any_speech_stream_is_a_clip_or_an_nbaudio_error(server, events):
    server.serve_events(events)
    outcome(lambda: STREAMS["speech"](server.client(), None), lambda c: isinstance(c, AudioClip) and c.nbytes > 0)


@PROPERTY
@given(events=spoiled_events(TRANSCRIPTION_EVENTS))
def test_any_transcription_stream_is_a_transcript_or_an_nbaudio_error(server, clip, events):
    server.serve_events(events)
    outcome(lambda: STREAMS["transcription"](server.client(), clip), check_transcript)


@PROPERTY
@given(events=spoiled_events(REALTIME_EVENTS))
def test_any_realtime_events_are_recorded_or_raise_nbaudio_errors(realtime, events):
    # Raw text only as the strategy's fixed non-JSON messages: a non-JSON message that is the key is
    # issue 26's item 3 (redaction before cutting), tested where that is fixed.
    rt, errors = realtime.read_all([e if isinstance(e, dict) or e in RAW_MESSAGES else json.dumps(e) for e in events])
    event(f"{len(errors)} errors, {len(rt.turns)} turns")
    for turn in rt.turns:
        assert isinstance(turn.item_id, str) and isinstance(turn.role, str) and isinstance(turn.text, str)
        assert isinstance(turn.audio, bytearray) and 0 <= turn.heard <= 1 and not math.isnan(turn.heard)
    for message, reply in rt.conversation.turns():
        assert isinstance(message, dict)
        if reply is not None:
            check_reply(reply)


def test_the_well_formed_answers_are_read_as_they_are(server, clip, realtime):
    """The templates the properties spoil are read in full, so the properties start from real answers."""
    server.serve(CHAT)
    reply = chat(server)
    assert reply.text == "Hi there" and reply.audio.data == base64.b64decode(AUDIO_B64)
    server.serve(TRANSCRIPTION)
    t = server.client().transcribe(clip, response_format="verbose_json")
    assert t.segments[0].speaker == "A" and t.words[1].word == "there" and t.duration == 2.0
    server.serve_events(CHAT_CHUNKS + ["[DONE]"])
    streamed = STREAMS["chat"](server.client(), None)
    assert streamed.text == "Hi" and streamed.tool_calls[0]["function"]["name"] == "f"
    server.serve_events(TRANSCRIPTION_EVENTS)
    assert STREAMS["transcription"](server.client(), clip).segments[0].speaker == "A"
    rt, errors = realtime.read_all(REALTIME_EVENTS)
    assert [type(e) for e in errors] == [RealtimeServerError]
    assert [(t.role, t.text) for t in rt.turns] == [("user", "hello"), ("assistant", "Hi there")]
