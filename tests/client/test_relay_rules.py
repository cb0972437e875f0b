"""Relay rules (issue 14, items 3, 4, 7, 11 and the relay behaviours): what a user gets from
OpenAI's wire quirks and from the relays in front of it (new-api, one-api, LiteLLM).

Happy paths run on the real engine; the relay shapes a real server will not produce on demand
come from scripted servers (pytest-httpserver), each shape taken from the relay's code or issues.
"""

from __future__ import annotations

import base64
import json
import time
import warnings
from typing import Any

import numpy as np
import pytest
from werkzeug import Request, Response

from nbaudio import AudioClip, BadRequestError, ChatReply, Client, Conversation, InvalidInputError, Transcript
from nbaudio.chat import ChatStreamAssembler
from tests.support.magic_fakes import FakeChatServer, error, sent_input_audio, wav_bytes
from tests.support.signals import tone_pcm16

KEY = "sk-test-relay-0123456789SECRET"
SHORT = {"max_tokens": 24, "temperature": 0.2, "seed": 7}


@pytest.fixture
def fake(httpserver):
    server = FakeChatServer(httpserver)
    with Client(server.base_url, api_key=KEY, max_retries=0) as client:
        server.client = client
        yield server


def relay_notes(record) -> list[str]:
    from nbaudio.relay import RelayNotice

    return [str(w.message) for w in record if issubclass(w.category, RelayNotice)]


def assistant_ids(body: dict) -> list[str]:
    return [m["audio"]["id"] for m in body["messages"] if m["role"] == "assistant" and m.get("audio")]


def assistant_texts(body: dict) -> list[Any]:
    return [m.get("content") for m in body["messages"] if m["role"] == "assistant"]


def two_turns(fake) -> Conversation:
    conv = Conversation()
    fake.client.chat(conv, audio=AudioClip(wav_bytes(tone_pcm16(0.5, amp=0.3)), "wav"))
    conv.add_user("and then?")
    fake.client.chat(conv)
    return conv


# ---- 3: save / load keeps the user's audio ------------------------------------------------------


def test_saved_conversation_keeps_user_audio_and_a_third_turn_after_load_works(engine, sent, tmp_path):
    with Client(engine.base_url) as client:
        question = client.speak("Is a golden retriever a good family dog?", voice="nova")
        conv = Conversation()
        first = client.chat(conv, audio=question, **SHORT)
        conv.add_user("Do they shed a lot?")
        client.chat(conv, **SHORT)
        path = conv.save(tmp_path / "chat.json")
        saved_parts = [p for t in json.loads(path.read_text())["turns"] if isinstance(t["message"]["content"], list)
                       for p in t["message"]["content"] if p["type"] == "input_audio"]
        assert len(saved_parts) == 1 and "data" not in saved_parts[0]["input_audio"]
        assert (tmp_path / saved_parts[0]["input_audio"]["file"]).read_bytes() == question.data

        back = Conversation.load(path)
        third = client.chat(back, audio=question, **SHORT)  # failed before: 400 "not valid base64"
    assert third.text and third.audio is not None
    last = sent[-1]
    user1 = next(m for m in last["messages"] if m["role"] == "user")
    assert base64.b64decode(user1["content"][0]["input_audio"]["data"]) == question.data
    # the real engine kept its ids: every earlier reply went by id, no fallback
    assert assistant_ids(last) == [first.audio_id, conv.last_reply.audio_id]


def test_save_without_audio_loads_with_a_clear_marker(fake, sent, tmp_path):
    conv = two_turns(fake)
    path = conv.save(tmp_path / "light.json", audio=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["light.json"]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        back = Conversation.load(path)
    assert any("audio was not saved" in str(w.message) for w in record)
    conv_user = back.messages[0]
    assert conv_user["content"] == [{"type": "text", "text": "[the user's audio was not saved with this conversation]"}]
    back.add_user("go on")
    fake.client.chat(back)
    assert "<omitted>" not in json.dumps(sent[-1]) and not sent_input_audio(sent[-1])


def test_old_files_with_omitted_audio_load_with_the_marker(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"nbaudio_conversation": 1, "turns": [{"message": {"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"format": "wav", "data": "<omitted>"}}]}}]}))
    with pytest.warns(UserWarning, match="turn 1"):
        back = Conversation.load(path)
    assert "<omitted>" not in json.dumps(back.to_messages())


# ---- 4: a failed turn does not poison the conversation ------------------------------------------


def test_a_400_that_mentions_audio_rejects_no_id_and_sends_nothing_more(fake):
    conv = two_turns(fake)
    before = len(fake.chat_bodies)
    conv.add_user("third")
    fake.reject = lambda body: error(400, "Invalid value for 'audio.voice': 'bogus' is not a supported voice.",
                                     param="audio.voice")
    with pytest.raises(BadRequestError):
        fake.client.chat(conv, voice="bogus")
    assert len(fake.chat_bodies) == before + 1  # no doomed second request
    assert conv.rejected_ids == set()
    fake.reject = None
    fake.client.chat(conv)
    assert assistant_ids(fake.chat_bodies[-1]) == ["audio_fake_1", "audio_fake_2"]


@pytest.mark.parametrize("message", ["This model does not support audio input.",
                                     "Audio file might be corrupted or unsupported"])
def test_audio_input_errors_do_not_reject_ids(fake, message):
    conv = two_turns(fake)
    fake.reject = lambda body: error(400, message, param="messages[4].content[0].input_audio")
    with pytest.raises(BadRequestError):
        fake.client.chat(conv, audio=AudioClip(wav_bytes(tone_pcm16(0.2, amp=0.3)), "wav"), audio_bridge=False)
    assert conv.rejected_ids == set() and len(conv) == 4


def test_only_the_message_the_param_names_is_rejected(fake):
    conv = two_turns(fake)
    conv.add_user("third")
    # OpenAI names the message by index in `param` (its real shape: content.messages[N].audio.id)
    fake.reject = lambda body: error(400, "The audio of this assistant message has expired.",
                                     param="content.messages[3].audio.id", code="audio_not_found") \
        if "audio_fake_2" in assistant_ids(body) else None
    reply = fake.client.chat(conv)
    retry = fake.chat_bodies[-1]
    assert assistant_ids(retry) == ["audio_fake_1"]  # turn 1 still by id
    assert assistant_texts(retry) == [None, "reply 2"]
    assert conv.rejected_ids == {"audio_fake_2"} and reply.text == "reply 3"


def test_openais_real_audio_not_found_text_names_the_id(fake):
    conv = two_turns(fake)
    conv.add_user("third")
    fake.reject = lambda body: error(400, "Assistant audio audio_fake_1 not found.", code="audio_not_found") \
        if "audio_fake_1" in assistant_ids(body) else None
    fake.client.chat(conv)
    assert assistant_ids(fake.chat_bodies[-1]) == ["audio_fake_2"] and conv.rejected_ids == {"audio_fake_1"}


def test_an_unambiguous_code_without_index_rejects_every_id(fake):
    conv = two_turns(fake)
    conv.add_user("third")
    fake.reject = lambda body: error(400, "Unknown audio.", code="audio_not_found") if assistant_ids(body) else None
    fake.client.chat(conv)
    assert assistant_ids(fake.chat_bodies[-1]) == [] and assistant_texts(fake.chat_bodies[-1]) == ["reply 1", "reply 2"]


def test_audio_id_rule_is_specific():
    from nbaudio.errors import BadRequestError as E
    from nbaudio.relay import rejected_audio_ids

    messages = [{"role": "user", "content": "a"}, {"role": "assistant", "audio": {"id": "audio_a"}},
                {"role": "user", "content": "b"}, {"role": "assistant", "audio": {"id": "audio_b"}},
                {"role": "user", "content": "c"}]

    def ids(msg, param=None, code=None, status=400):
        return rejected_audio_ids(E(msg, status_code=status, param=param, code=code), messages)

    assert ids("Assistant audio audio_b not found.", "content.messages[3].audio.id", "audio_not_found") == ["audio_b"]
    assert ids("Audio with id 'audio_a' was not found or has expired.", "messages[1].audio.id") == ["audio_a"]
    assert ids("Field required", "messages.3.audio") == ["audio_b"]  # FastAPI/pydantic paths
    assert ids("audio id expired") == ["audio_a", "audio_b"]
    assert ids("Invalid value for 'audio.voice'", "audio.voice") == []
    assert ids("This model does not support audio input") == []
    assert ids("audio_not_found", "messages[2].content") == []  # names a user message: not an id
    assert ids("Assistant audio audio_b not found.", status=429) == []


def test_magic_uses_the_relay_rules():
    # the refusal rule lives in one place; %%voice keeps no copy of it and no state of its own
    import importlib
    import pkgutil

    import nbaudio.magic as magic
    import nbaudio.relay as relay

    modules = [magic, *(importlib.import_module(f"{magic.__name__}.{m.name}")
                        for m in pkgutil.iter_modules(magic.__path__))]
    for module in modules:
        assert not {"_REFUSAL", "_MENTIONS_AUDIO_INPUT"} & set(vars(module)), module.__name__
        assert getattr(module, "refuses_input_audio", relay.refuses_input_audio) is relay.refuses_input_audio
    assert "_text_only_relays" not in magic.VoiceMagics.__init__.__code__.co_names


# ---- 7: chat audio is what its bytes say ---------------------------------------------------------


def test_mp3_where_wav_was_asked_stays_mp3(httpserver, tmp_path):
    mp3 = AudioClip.from_array(np.sin(np.linspace(0, 800, 24000)) * 0.3, 24000).encode("mp3").data

    def chat(request: Request) -> Response:
        msg = {"role": "assistant", "content": None,
               "audio": {"id": "audio_m", "data": base64.b64encode(mp3).decode(), "transcript": "hi",
                         "expires_at": int(time.time()) + 3600}}
        return Response(json.dumps({"choices": [{"index": 0, "message": msg, "finish_reason": "stop"}]}),
                        content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(chat)
    conv = Conversation()
    with Client(httpserver.url_for("/v1"), max_retries=0) as client:
        reply = client.chat(conv, audio_format="wav", audio=AudioClip(wav_bytes(tone_pcm16(0.2, amp=0.3)), "wav"))
    assert reply.audio.format == "mp3" and reply.audio.data == mp3  # bytes 4-7 untouched
    conv.save(tmp_path / "c.json")
    saved = sorted(p.name for p in tmp_path.iterdir() if "_001" in p.name)
    assert saved == ["c_001.mp3"] and (tmp_path / "c_001.mp3").read_bytes() == mp3


def test_requested_format_is_a_hint_only():
    pcm = tone_pcm16(0.2, amp=0.3)
    assert ChatReply.from_response(_reply_with(pcm), audio_format="pcm16").audio.format == "pcm"
    assert ChatReply.from_response(_reply_with(wav_bytes(pcm)), audio_format="pcm16").audio.format == "wav"
    asm = ChatStreamAssembler("pcm16")
    asm.feed({"choices": [{"index": 0, "delta": {"audio": {"data": base64.b64encode(wav_bytes(pcm)).decode()}}}]})
    assert asm.reply().audio.format == "wav"


def _reply_with(data: bytes) -> dict:
    return {"choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": None, "audio": {"id": "a", "data": base64.b64encode(data).decode()}}}]}


# ---- 11: text formats wrapped in JSON (LiteLLM) --------------------------------------------------

SRT = "1\n00:00:00,000 --> 00:00:01,500\nHello there.\n\n2\n00:00:01,500 --> 00:00:03,250\nGeneral Kenobi.\n"
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello there.\n\n00:00:01.500 --> 00:00:03.250\nGeneral Kenobi.\n"


@pytest.mark.parametrize("fmt,inner,stream", [("srt", SRT, False), ("vtt", VTT, False), ("srt", SRT, True)])
def test_srt_and_vtt_wrapped_in_json_are_parsed(httpserver, fmt, inner, stream):
    httpserver.expect_request("/v1/audio/transcriptions").respond_with_json({"text": inner})
    with Client(httpserver.url_for("/v1"), max_retries=0) as client:
        t = client.transcribe(AudioClip(wav_bytes(tone_pcm16(0.2, amp=0.3)), "wav"), response_format=fmt, stream=stream)
        if stream:
            t = t.collect()
    assert [(s.start, s.end, s.text) for s in t.segments] == [(0.0, 1.5, "Hello there."),
                                                               (1.5, 3.25, "General Kenobi.")]
    assert t.text == "Hello there. General Kenobi."
    assert t.to_srt() == SRT


def test_a_streamed_transcription_wrapped_in_json_gives_the_words(httpserver):
    """LiteLLM buffers the SSE of a streamed transcription and answers {"text": "<the events>"}."""
    events = [{"type": "transcript.text.delta", "delta": "Hello "},
              {"type": "transcript.text.delta", "delta": "there."},
              {"type": "transcript.text.done", "text": "Hello there.", "usage": {"type": "tokens", "total_tokens": 9}}]
    wrapped = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    httpserver.expect_request("/v1/audio/transcriptions").respond_with_json({"text": wrapped})
    with Client(httpserver.url_for("/v1"), max_retries=0) as client:
        clip = AudioClip(wav_bytes(tone_pcm16(0.2, amp=0.3)), "wav")
        stream = client.transcribe(clip, stream=True, response_format="json")
        assert list(stream) == ["Hello there."]
    assert stream.result.text == "Hello there." and stream.result.usage["total_tokens"] == 9


def test_plain_json_is_still_json():
    t = Transcript.from_response(json.dumps({"text": "Just words, no cues."}), "srt")
    assert t.text == "Just words, no cues." and t.segments == []


# ---- relay: new-api drops the assistant `audio` field -----------------------------------------


def new_api_relay(fake, backend: str = "openai") -> None:
    """new-api's dto.Message has no `audio` field: an assistant turn sent by id arrives as
    {"role": "assistant", "content": null}. OpenAI behind it answers 400 (its real text, with
    new-api's request-id suffix); a lax backend answers without having seen the turn."""

    def reject(body):
        for i, m in enumerate(body["messages"]):
            if m["role"] == "assistant" and m.get("audio"):
                if backend == "openai":
                    return error(400, "Invalid value for 'content': expected a string, got null. "
                                      "(request id: 2025061312345678)", param=f"messages.[{i}].content")
        return None

    fake.reject = reject


def test_new_api_dropping_audio_ids_falls_back_to_transcripts_once(fake):
    conv = Conversation()
    fake.client.chat(conv, audio=AudioClip(wav_bytes(tone_pcm16(0.2, amp=0.3)), "wav"))
    new_api_relay(fake)
    conv.add_user("second")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        reply = fake.client.chat(conv)
        conv.add_user("third")
        fake.client.chat(conv)
    notes = relay_notes(record)
    assert len(notes) == 1 and "transcript" in notes[0], notes
    assert reply.text == "reply 2" and conv.rejected_ids == set()
    # 2nd turn: refused once, resent as text; 3rd turn: text straight away
    assert [assistant_ids(b) for b in fake.chat_bodies[1:]] == [["audio_fake_1"], [], []]
    assert assistant_texts(fake.chat_bodies[-1]) == ["reply 1", "reply 2"]


def test_reply_that_ignored_the_earlier_ids_is_asked_again_with_transcripts(httpserver):
    """A lax backend behind new-api: the prompt did not grow by the earlier reply (the server's own
    token counts say so), so the turn is sent again with transcripts."""
    bodies = []

    def chat(request: Request) -> Response:
        body = request.get_json()
        bodies.append(body)
        seen = sum(len(json.dumps(m.get("content") or "")) for m in body["messages"]) // 4  # audio dropped
        n = len(bodies)
        msg = {"role": "assistant", "content": None, "audio": {
            "id": f"audio_{n}", "data": base64.b64encode(wav_bytes(tone_pcm16(0.2, amp=0.3))).decode(),
            "transcript": "A long and careful answer about golden retrievers and their temperament " * 2,
            "expires_at": int(time.time()) + 3600}}
        usage = {"prompt_tokens": 10 + seen, "completion_tokens": 300, "total_tokens": 310 + seen,
                 "completion_tokens_details": {"text_tokens": 40, "audio_tokens": 260}}
        return Response(json.dumps({"choices": [{"index": 0, "message": msg, "finish_reason": "stop"}],
                                    "usage": usage}), content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(chat)
    conv = Conversation()
    with Client(httpserver.url_for("/v1"), max_retries=0) as client, warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        conv.add_user("Is a golden retriever a good family dog?")
        client.chat(conv)
        conv.add_user("Why?")
        client.chat(conv)
        conv.add_user("And cats?")
        client.chat(conv)
    assert len(relay_notes(record)) == 1
    assert [assistant_ids(b) for b in bodies] == [[], ["audio_1"], [], []]
    assert len(conv) == 6 and conv.messages[3]["audio"] == {"id": "audio_3"}


# ---- relay: the audio bridge ---------------------------------------------------------------------


class TextOnlyRelay:
    """A text model behind a relay: `modalities` is ignored and the reply has content, no audio.
    The same server has /audio/speech and /audio/transcriptions."""

    def __init__(self, httpserver) -> None:
        self.chat_bodies: list[dict[str, Any]] = []
        self.speech_bodies: list[dict[str, Any]] = []
        httpserver.expect_request("/v1/chat/completions").respond_with_handler(self.chat)
        httpserver.expect_request("/v1/audio/speech").respond_with_handler(self.speech)
        self.client = Client(httpserver.url_for("/v1"), api_key=KEY, max_retries=0)

    def chat(self, request: Request) -> Response:
        self.chat_bodies.append(request.get_json())
        msg = {"role": "assistant", "content": f"plain text reply {len(self.chat_bodies)}"}
        return Response(json.dumps({"choices": [{"index": 0, "message": msg, "finish_reason": "stop"}]}),
                        content_type="application/json")

    def speech(self, request: Request) -> Response:
        self.speech_bodies.append(request.get_json())
        return Response(wav_bytes(tone_pcm16(0.4, amp=0.3)), content_type="audio/wav")


@pytest.fixture
def text_only(httpserver):
    relay = TextOnlyRelay(httpserver)
    yield relay
    relay.client.close()


def test_bridge_speaks_a_text_only_reply(text_only):
    fake = text_only
    conv = Conversation()
    conv.add_user("hello")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        reply = fake.client.chat(conv, voice="marin", model="gpt-audio")
        again = fake.client.chat("again", voice="cedar", model="gpt-audio-mini")
    assert reply.audio is not None and reply.audio.duration == pytest.approx(0.4) and reply.audio_bridged
    assert reply.text == "plain text reply 1" and again.audio_bridged
    assert [b["input"] for b in fake.speech_bodies] == ["plain text reply 1", "plain text reply 2"]
    assert fake.speech_bodies[0]["voice"] == "marin" and fake.speech_bodies[0]["response_format"] == "wav"
    assert fake.chat_bodies[0]["model"] == "gpt-audio" and fake.chat_bodies[0]["audio"]["voice"] == "marin"
    notes = relay_notes(record)
    assert len(notes) == 1 and "audio_bridge=False" in notes[0] and KEY not in notes[0]
    assert conv.last_reply is reply and conv.messages[-1] == {"role": "assistant", "content": "plain text reply 1"}


def test_bridge_off_gives_the_reply_as_the_server_sent_it(text_only):
    reply = text_only.client.chat("hello", audio_bridge=False)
    assert reply.audio is None and not reply.audio_bridged and text_only.speech_bodies == []


def test_bridge_on_a_stream(httpserver):
    def chat(request: Request) -> Response:
        base = {"id": "c", "object": "chat.completion.chunk"}
        chunks = [{**base, "choices": [{"index": 0, "delta": {"content": "streamed words"}, "finish_reason": "stop"}]}]
        return Response("".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n",
                        content_type="text/event-stream")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(chat)
    httpserver.expect_request("/v1/audio/speech").respond_with_data(tone_pcm16(0.3, amp=0.3), content_type="audio/L16")
    with Client(httpserver.url_for("/v1"), max_retries=0) as client, pytest.warns(UserWarning):
        reply = client.chat("hello", stream=True).collect()
    assert reply.audio_bridged and reply.audio.format == "pcm" and reply.audio.duration == pytest.approx(0.3)


def test_bridge_transcribes_audio_for_a_server_that_refuses_it(fake):
    fake.reject = lambda body: error(
        400, "Invalid content type. input_audio is only supported by certain models.", param="messages") \
        if sent_input_audio(body) else None
    clip = AudioClip(wav_bytes(tone_pcm16(0.3, amp=0.3)), "wav")
    conv = Conversation()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        reply = fake.client.chat(conv, audio=clip)
        conv.add_user("and?")
        fake.client.chat(conv)
    assert len(relay_notes(record)) == 1 and reply.input_transcribed
    assert [sent_input_audio(b) for b in fake.chat_bodies] == [True, False, False]
    assert fake.chat_bodies[1]["messages"][-1] == {"role": "user", "content": "what the user said"}
    assert fake.transcriptions == 1  # the recording is transcribed once, not on every turn
    # the conversation keeps the recording itself
    assert conv.messages[0]["content"][0]["input_audio"]["data"] == clip.to_base64()


def test_without_the_bridge_a_refusal_is_raised_and_nothing_is_kept(fake):
    fake.reject = lambda body: error(400, "This model does not support audio input, please transcribe it first") \
        if sent_input_audio(body) else None
    conv = Conversation()
    with pytest.raises(BadRequestError):
        fake.client.chat(conv, audio=AudioClip(wav_bytes(tone_pcm16(0.3, amp=0.3)), "wav"), audio_bridge=False)
    assert len(conv) == 0 and fake.transcriptions == 0


# ---- relay: per-model transcription rules --------------------------------------------------------


@pytest.fixture
def stt(httpserver):
    forms: list[dict[str, list[str]]] = []

    def handler(request: Request) -> Response:
        forms.append({k: request.form.getlist(k) for k in request.form})
        fmt = request.form.get("response_format")
        if fmt not in ("json", "text", "diarized_json") and request.form.get("model", "").startswith("gpt-4o"):
            return error(400, f"response_format '{fmt}' is not compatible with model", param="response_format")
        return Response(json.dumps({"text": "words"}), content_type="application/json")

    httpserver.expect_request("/v1/audio/transcriptions").respond_with_handler(handler)
    with Client(httpserver.url_for("/v1"), max_retries=0) as client:
        yield client, forms


@pytest.mark.parametrize("model", ["gpt-4o-transcribe", "gpt-4o-mini-transcribe", "gpt-4o-mini-transcribe-2025-12-15"])
def test_json_only_models_get_json_and_a_note(stt, model):
    client, forms = stt
    clip = AudioClip(wav_bytes(tone_pcm16(0.3, amp=0.3)), "wav")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert client.transcribe(clip, model=model).text == "words"
        client.transcribe(clip, model=model)
    assert [f["response_format"] for f in forms] == [["json"], ["json"]]
    assert "timestamp_granularities[]" not in forms[0]
    notes = relay_notes(record)
    assert len(notes) == 1 and model in notes[0] and "json" in notes[0]


@pytest.mark.parametrize("kwargs,expect", [
    ({"response_format": "verbose_json"}, "takes response_format json"),
    ({"response_format": "srt"}, "takes response_format json"),
    ({"timestamp_granularities": ["segment"]}, "verbose_json"),
])
def test_explicit_formats_a_model_does_not_take_are_refused_before_sending(stt, kwargs, expect):
    client, forms = stt
    with pytest.raises(InvalidInputError, match=expect):
        client.transcribe(AudioClip(wav_bytes(tone_pcm16(0.3, amp=0.3)), "wav"), model="gpt-4o-transcribe", **kwargs)
    assert forms == []


def test_timestamp_granularities_need_verbose_json(stt):
    client, forms = stt
    with pytest.raises(InvalidInputError, match="verbose_json"):
        client.transcribe(AudioClip(wav_bytes(tone_pcm16(0.3, amp=0.3)), "wav"), response_format="json",
                          timestamp_granularities=["segment"])
    assert forms == []


def test_diarize_gets_chunking_for_long_input(stt):
    client, forms = stt
    long_clip = AudioClip(wav_bytes(tone_pcm16(31.0, amp=0.3)), "wav")
    with pytest.warns(UserWarning, match="chunking_strategy"):
        client.transcribe(long_clip, model="gpt-4o-transcribe-diarize", response_format="diarized_json")
    with pytest.warns(UserWarning, match="asking for json"):  # verbose_json, the default, is not one it takes
        client.transcribe(AudioClip(wav_bytes(tone_pcm16(2.0, amp=0.3)), "wav"), model="gpt-4o-transcribe-diarize")
    assert forms[0]["chunking_strategy"] == ["auto"] and "chunking_strategy" not in forms[1]
    assert forms[1]["response_format"] == ["json"]
    with pytest.raises(InvalidInputError, match="diarized_json"):
        client.transcribe(long_clip, model="gpt-4o-transcribe-diarize", response_format="verbose_json")


def test_a_relay_refusing_a_format_falls_back_to_json_once(stt):
    client, forms = stt
    # a model nbaudio has no rule for (a relay's alias), refused by the server for verbose_json
    with pytest.warns(UserWarning, match="response_format"):
        t = client.transcribe(AudioClip(wav_bytes(tone_pcm16(0.3, amp=0.3)), "wav"), model="gpt-4o-relay-alias")
    assert t.text == "words" and [f["response_format"] for f in forms] == [["verbose_json"], ["json"]]


def test_new_voices_and_models_are_known():
    from nbaudio._wire import spec

    assert {"marin", "cedar"} <= set(spec.VOICES)
    assert {"gpt-audio", "gpt-audio-mini", "gpt-realtime"} <= set(spec.CHAT_MODELS)
    assert "gpt-4o-mini-tts" in spec.SPEECH_MODELS
