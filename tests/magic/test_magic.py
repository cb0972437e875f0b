"""`%%voice` / `%voice` driven through a real IPython shell.

Conversations run against the embedded engine (real models on loopback); the cases that need a
server to misbehave in one particular way (a relay refusing input_audio, errors, a stream that
breaks) run against the scripted server in `magic_fakes`.
"""

from __future__ import annotations

import base64
import json
import re
import time
import warnings

import pytest
from IPython.core.error import UsageError
from traitlets.config import Config

from nbaudio import AudioClip, ChatReply, Client, Conversation, Transcript
from nbaudio.errors import BadRequestError
from nbaudio.magic import VoiceMagics, interpolate
from nbaudio.relay import RelayNotice, refuses_input_audio
from tests.support.magic_fakes import MAX_TOKENS, FakeChatServer, cell, error, sent_input_audio

KEY = "sk-test-0123456789abcdefSECRET"


@pytest.fixture
def fake(httpserver, voice):
    server = FakeChatServer(httpserver)
    voice.client = Client(server.base_url, api_key=KEY, max_retries=0)
    yield server
    voice.client.close()


def assistant_ids(body: dict) -> list[str]:
    return [m["audio"]["id"] for m in body["messages"] if m["role"] == "assistant" and m.get("audio")]


def texts(body: dict) -> str:
    return json.dumps([m.get("content") for m in body["messages"]])


# ---- against the embedded engine ------------------------------------------------------------------


def test_three_turns_send_earlier_audio_ids(shell, on_engine, sent):
    cell(shell, f"--voice coral {MAX_TOKENS}", "Is a golden retriever a good family dog?")
    first = shell.user_ns["_voice"]
    cell(shell, MAX_TOKENS, "Do they shed a lot?")
    second = shell.user_ns["_voice"]
    cell(shell, f"{MAX_TOKENS} --out answer", "How often should I brush one?")
    third = shell.user_ns["_voice"]

    assert len(sent) == 3
    for reply in (first, second, third):
        assert isinstance(reply, ChatReply) and reply.audio_id and reply.audio is not None and reply.text
        assert reply.audio.duration > 0.2
    assert sent[0]["audio"] == {"voice": "coral", "format": "pcm16"} and sent[0]["stream"] is True
    assert assistant_ids(sent[0]) == []
    assert assistant_ids(sent[1]) == [first.audio_id]
    assert assistant_ids(sent[2]) == [first.audio_id, second.audio_id]
    # the assistant turns go by id alone: no transcript text alongside
    assert all(m.get("content") is None for m in sent[2]["messages"] if m["role"] == "assistant")
    assert shell.user_ns["answer"] is third

    conv = shell.run_line_magic("voice", "history")
    assert isinstance(conv, Conversation) and len(conv) == 6 and conv.last_reply is third
    replayed = shell.run_line_magic("voice", "replay 1")
    assert isinstance(replayed, AudioClip) and replayed is first.audio
    # Not a notebook kernel: each reply is displayed once, whole, as a chat turn with a player.
    shown = [o for o in shell.display_pub.outputs if "<audio" in o["data"].get("text/html", "")]
    assert len(shown) == 3 and not any(o["update"] for o in shell.display_pub.outputs)


def test_audio_input_turn(shell, on_engine, sent, tmp_path):
    question = shell.run_line_magic("voice", "speak --voice nova Is a golden retriever a good family dog?")
    assert isinstance(question, AudioClip) and question.duration > 1
    shell.user_ns["question"] = question
    heard = shell.run_line_magic("voice", "transcribe question")
    assert isinstance(heard, Transcript) and "golden" in heard.text.lower()

    # audio alone: IPython refuses an empty %%voice cell, so the line form sends it
    shell.run_line_magic("voice", f"--audio question {MAX_TOKENS}")
    reply = shell.user_ns["_voice"]
    assert reply.audio is not None and reply.text
    (user,) = [m for m in sent[0]["messages"] if m["role"] == "user"]
    assert [p["type"] for p in user["content"]] == ["input_audio"]
    assert user["content"][0]["input_audio"]["format"] == "wav"

    # a path works too, with text alongside the audio
    path = question.save(tmp_path / "question.wav")
    cell(shell, f"--audio {path} {MAX_TOKENS}", "Answer in one sentence.")
    user = sent[1]["messages"][-1]
    assert [p["type"] for p in user["content"]] == ["text", "input_audio"]
    assert assistant_ids(sent[1]) == [reply.audio_id]


def test_reset_and_new_start_over(shell, on_engine, sent):
    cell(shell, MAX_TOKENS, "Name a dog breed.")
    cell(shell, MAX_TOKENS, "Name another one.")
    assert len(sent[1]["messages"]) == 3
    shell.run_line_magic("voice", "reset")
    assert on_engine.conversations == {}
    cell(shell, MAX_TOKENS, "Name a cat breed.")
    assert [m["role"] for m in sent[2]["messages"]] == ["user"]
    cell(shell, f"--new --system 'Answer in three words.' {MAX_TOKENS}", "Name a bird.")
    assert [m["role"] for m in sent[3]["messages"]] == ["system", "user"]
    assert sent[3]["messages"][0]["content"] == "Answer in three words."


def test_named_conversations_never_mix(shell, on_engine, sent):
    cell(shell, f"--name dogs {MAX_TOKENS} --text-only", "Tell me about beagles.")
    dogs_first = shell.user_ns["_voice"]
    cell(shell, f"--name cats {MAX_TOKENS} --text-only", "Tell me about siamese cats.")
    cell(shell, f"--name dogs {MAX_TOKENS} --text-only", "Are they loud?")
    cell(shell, f"--name cats {MAX_TOKENS} --text-only", "Do they shed?")
    dogs = [b for b in sent if "beagles" in texts(b)]
    cats = [b for b in sent if "siamese" in texts(b)]
    assert len(dogs) == 2 and len(cats) == 2
    assert not any("siamese" in texts(b) or "shed" in texts(b) for b in dogs)
    assert not any("beagles" in texts(b) or "loud" in texts(b) for b in cats)
    assert dogs_first.text in texts(dogs[1])
    assert set(on_engine.conversations) == {"dogs", "cats"}
    shell.run_line_magic("voice", "reset --name dogs")
    assert set(on_engine.conversations) == {"cats"}


def test_interpolation_from_user_namespace(shell, on_engine, sent):
    shell.user_ns["dog"] = "golden retriever"
    cell(shell, MAX_TOKENS + " --text-only --system 'You know about {dog}s, not {{dog}}.'",
         "Is a {dog} good with {kids}? Reply as JSON like {{\"ok\": true}}. {dog.upper}")
    body = sent[0]
    assert body["messages"][0]["content"] == "You know about golden retrievers, not {dog}."
    user = body["messages"][1]["content"]
    assert user.startswith("Is a golden retriever good with {kids}? Reply as JSON like {\"ok\": true}.")
    assert "<built-in method upper" in user  # attribute access works; no call is made
    assert body["modalities"] == ["text"] and "audio" not in body


def test_expired_audio_id_is_sent_as_transcript(shell, on_engine, sent):
    cell(shell, f"--no-stream {MAX_TOKENS}", "Is a golden retriever a good family dog?")
    first = shell.user_ns["_voice"]
    assert first.audio.format == "wav"  # not streamed: the client's default format
    first.expires_at = int(time.time()) - 60  # as if the hour had passed
    cell(shell, MAX_TOKENS, "Do they shed?")
    assistant = [m for m in sent[1]["messages"] if m["role"] == "assistant"]
    assert assistant == [{"role": "assistant", "content": first.text}]


def test_audio_id_the_server_forgot_falls_back_to_text(shell, on_engine, sent, tmp_path):
    # A conversation saved in an earlier session: the engine no longer knows its audio id.
    saved = tmp_path / "old.json"
    saved.write_text(json.dumps({"nbaudio_conversation": 1, "turns": [
        {"message": {"role": "user", "content": "Is a golden retriever a good family dog?"}},
        {"message": {"role": "assistant", "audio": {"id": "audio_from_last_week"}, "content": None},
         "reply": {"text": "Yes, they are gentle and patient.", "transcript": "Yes, they are gentle and patient.",
                   "audio_id": "audio_from_last_week", "expires_at": int(time.time()) + 3000}},
    ]}))
    on_engine.conversations["default"] = Conversation.load(saved)
    cell(shell, MAX_TOKENS, "Do they shed?")
    assert len(sent) == 2
    assert assistant_ids(sent[0]) == ["audio_from_last_week"]
    assert assistant_ids(sent[1]) == []
    assert {"role": "assistant", "content": "Yes, they are gentle and patient."} in sent[1]["messages"]
    assert len(on_engine.conversations["default"]) == 4


def test_config_base_url_and_key_are_redacted(shell, voice, engine, capsys, tmp_path):
    shell.user_ns["key"] = KEY
    # as typed in a notebook: the cell's source (history) holds `{key}`, never the key
    shell.run_cell(f"%voice config base_url={engine.base_url} api_key={{key}} voice=echo max_tokens=24",
                   store_history=True)
    assert "api_key={key}" in shell.history_manager.input_hist_raw[-1]
    shell.run_line_magic("voice", "config")
    shown = capsys.readouterr().out
    assert KEY not in shown and "***" in shown and engine.base_url in shown and "'echo'" in shown
    cell(shell, f"--save {tmp_path}/chat.json", "Say hello.")
    saved = (tmp_path / "chat.json").read_text()
    assert KEY not in saved and list(tmp_path.glob("chat_*.wav"))
    assert KEY not in repr(voice.client) and KEY not in repr(vars(voice))
    assert KEY not in str(shell.history_manager.input_hist_raw) + capsys.readouterr().out
    shell.run_line_magic("voice", "config api_key=none")
    assert "api_key=none" in repr(voice.client)


# ---- against the scripted server -----------------------------------------------------------------


def test_relay_that_refuses_input_audio(shell, voice, fake, capsys):
    fake.reject = lambda body: error(
        400, "Invalid content type. input_audio is only supported by certain models.", param="messages") \
        if sent_input_audio(body) else None
    shell.user_ns["rec"] = AudioClip.from_array([0.0, 0.1, -0.1] * 4000, 16000)
    with pytest.warns(RelayNotice, match="does not accept audio input") as notes:
        cell(shell, "--audio rec", "Please answer:")
    assert len(notes) == 1 and capsys.readouterr().err == ""
    assert [sent_input_audio(b) for b in fake.chat_bodies] == [True, False]
    assert fake.chat_bodies[1]["messages"][-1] == {"role": "user", "content": "Please answer:\n\nwhat the user said"}
    assert shell.user_ns["_voice"].text == "reply 1" and shell.user_ns["_voice"].input_transcribed

    # known now: transcribed first, no refused request, no second notice
    shell.user_ns["rec"] = AudioClip.from_array([0.0, 0.2, -0.2] * 4000, 16000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RelayNotice)
        shell.run_line_magic("voice", "--audio rec")
    assert [sent_input_audio(b) for b in fake.chat_bodies] == [True, False, False]
    assert fake.chat_bodies[2]["messages"][-1] == {"role": "user", "content": "what the user said"}
    # the conversation keeps the recordings themselves, not just their words
    conv = voice.conversations["default"]
    assert [[p["type"] for p in m["content"]] for m in conv.messages if m["role"] == "user"] == [
        ["text", "input_audio"], ["input_audio"]]


def test_refusal_detection_is_specific():
    def err(msg, status=400):
        return BadRequestError(msg, status_code=status)

    assert refuses_input_audio(err("Invalid content type. input_audio is only supported by certain models."))
    assert refuses_input_audio(err("This model does not support audio input, please transcribe it first"))
    assert refuses_input_audio(err("unknown variant `input_audio`, expected `text` or `image_url`", 422))
    assert not refuses_input_audio(err("Audio with id audio_123 not found or expired"))
    assert not refuses_input_audio(err("input_audio could not be decoded: corrupt WAV header"))
    assert not refuses_input_audio(err("input_audio is not supported", 429))


def test_api_error_is_one_line_and_the_conversation_survives(shell, voice, fake, capsys):
    cell(shell, "", "first")
    fake.reject = lambda body: error(401, f"Incorrect API key provided: {KEY}.", code="invalid_api_key")
    result = shell.run_cell("%%voice\nsecond")
    out = capsys.readouterr()
    assert result.error_in_exec is None and "Traceback" not in out.out + out.err
    (line,) = out.err.strip().splitlines()
    assert line.startswith("AuthenticationError: 401: Incorrect API key provided") and KEY not in line
    assert "1 earlier turn" in line
    conv = voice.conversations["default"]
    assert len(conv) == 2 and shell.user_ns["_voice"].text == "reply 1"

    fake.reject = None
    cell(shell, "", "third")
    last = fake.chat_bodies[-1]["messages"]
    assert [m.get("content") for m in last if m["role"] == "user"] == ["first", "third"]
    assert assistant_ids(fake.chat_bodies[-1]) == ["audio_fake_1"]


def test_failed_first_turn_and_failed_new_keep_what_was_there(shell, voice, fake, capsys):
    fake.reject = lambda body: error(400, "model not found", param="model")
    cell(shell, "--name solo", "hello")
    assert "solo" not in voice.conversations
    fake.reject = None
    cell(shell, "", "kept")
    fake.reject = lambda body: error(400, "model not found", param="model")
    cell(shell, "--new", "a fresh start that fails")
    assert [m.get("content") for m in voice.conversations["default"].messages][0] == "kept"
    assert len(capsys.readouterr().err.strip().splitlines()) == 2


def test_stream_broken_midway_is_not_recorded(shell, voice, fake, capsys):
    voice.live_output = True
    cell(shell, "", "first")
    fake.fail_midstream = True
    cell(shell, "", "second")
    assert "the model crashed" in capsys.readouterr().err
    assert len(voice.conversations["default"]) == 2
    outputs = shell.display_pub.outputs
    view_id = outputs[-1]["transient"]["display_id"]  # the view is redrawn last
    assert "failed; this turn was not kept" in outputs[-1]["data"]["text/plain"]
    assert [o["transient"]["display_id"] for o in outputs if not o["update"]][-2] == view_id


def test_streaming_shows_text_and_audio_progressively(shell, voice, fake):
    voice.live_output = True
    fake.reply_text = "Dogs <script>alert(1)</script> & cats"
    cell(shell, "", "hello")
    outputs = shell.display_pub.outputs
    view_id, sink_id = (o["transient"]["display_id"] for o in outputs[:2])
    view = [o["data"] for o in outputs if o["transient"].get("display_id") == view_id]
    sink = [o["data"] for o in outputs if o["transient"].get("display_id") == sink_id]
    # the transcript grows, escaped
    growing = [d["text/plain"] for d in view if d["text/plain"].startswith("assistant (streaming")]
    assert any("Dogs <scr" in t for t in growing)
    assert all("<script>alert" not in d.get("text/html", "") for d in view)
    # audio goes out as whole pcm16 samples queued into WebAudio, then the sink is emptied
    scripts = [d["text/html"] for d in sink if "\"play\"" in d.get("text/html", "")]
    chunks = [base64.b64decode(re.search(r'data = "([^"]*)"', s).group(1)) for s in scripts]
    reply = shell.user_ns["_voice"]
    assert chunks and b"".join(chunks) == reply.audio.data and all(len(c) % 2 == 0 for c in chunks)
    assert sink[-1] == {"text/plain": "", "text/html": ""}
    # the view ends as the normal chat-turn display of the reply, with its player
    assert view[-1]["text/plain"] == repr(reply) and "<audio" in view[-1]["text/html"]
    assert "&lt;script&gt;" in view[-1]["text/html"]


def test_bad_options_raise_usage_error_with_the_usage_line(shell, voice):
    bad = [
        ("--bogus", "hi", "unrecognized arguments: --bogus"),
        ("--temperature hot", "hi", "invalid float value"),
        ("--temperature 5", "hi", "out of range"),
        ("--max-history 0", "hi", "--max-history must be 1 or more"),
        ("--max-tokens -3", "hi", "--max-tokens must be 1 or more"),
        ("--format wav2", "hi", "invalid choice"),
        ("--out 1x", "hi", "--out needs a variable name"),
        ("--system 'unclosed", "hi", "could not read the options"),
        ("", "   \n  ", "the cell is empty"),
    ]
    for line, body, message in bad:
        with pytest.raises(UsageError, match=message) as info:
            cell(shell, line, body)
        if "could not read" not in message:
            assert "usage: %%voice [--model MODEL]" in str(info.value)
    for line, message in [("nope", "unknown %voice command"), ("config colour=red", "unknown setting 'colour'"),
                          ("config temperature=9", "temperature"), ("config stream=maybe", "not a valid bool"),
                          ("replay x", "invalid int value"), ("replay 1", "no conversation named 'default'"),
                          ("speak", "nothing to say"), ("speak --speed fast hi", "invalid float value")]:
        with pytest.raises(UsageError, match=message) as info:
            shell.run_line_magic("voice", line)
        if not line.startswith("nope"):
            assert "usage: %voice " in str(info.value)
    assert voice.conversations == {}


def test_bad_option_in_a_cell_shows_usage_without_traceback(shell, voice, capsys):
    result = shell.run_cell("%%voice --bogus\nhello")
    err = capsys.readouterr().err
    assert isinstance(result.error_in_exec, UsageError)
    assert err.startswith("UsageError: unrecognized arguments: --bogus") and "usage: %%voice" in err
    assert "Traceback" not in err


def test_max_history_is_a_traitlet_from_config(shell, fake, sent):
    magics = VoiceMagics(shell, config=Config({"VoiceMagics": {"max_history": 3, "voice": "sage"}}))
    shell.register_magics(magics)
    magics.client = Client(fake.base_url, max_retries=0)
    for i in range(3):
        cell(shell, "--system 'Be brief.'", f"turn {i}")  # the same --system again continues
    with pytest.raises(UsageError, match="add --new"):
        cell(shell, "--system 'Be verbose.'", "turn x")
    assert [m["role"] for m in sent[-1]["messages"]] == ["system", "user", "assistant", "user"]
    assert sent[-1]["audio"]["voice"] == "sage"
    shell.run_line_magic("config", "VoiceMagics.max_history = 1")
    cell(shell, "", "turn 3")
    assert [m["role"] for m in sent[-1]["messages"]] == ["system", "user"]
    cell(shell, "--max-history 5", "turn 4")  # this conversation's own cap wins
    assert len(sent[-1]["messages"]) == 6
    magics.client.close()


def test_text_only_non_stream_and_format(shell, voice, fake):
    cell(shell, "--text-only", "hi")
    assert fake.chat_bodies[-1]["modalities"] == ["text"] and fake.chat_bodies[-1]["stream"] is True
    assert shell.user_ns["_voice"].audio is None and shell.user_ns["_voice"].text == "reply 1"
    cell(shell, "--format wav", "hi again")  # only pcm16 streams: another format waits for the whole reply
    assert "stream" not in fake.chat_bodies[-1] and fake.chat_bodies[-1]["audio"]["format"] == "wav"
    shell.run_line_magic("voice", "config stream=off temperature=0.3 model=gpt-audio")
    cell(shell, "", "third")
    body = fake.chat_bodies[-1]
    assert "stream" not in body and body["temperature"] == 0.3 and body["model"] == "gpt-audio"


def test_export_and_save(shell, voice, fake, tmp_path, capsys):
    cell(shell, f"--save {tmp_path}/a/talk.json", "one")
    cell(shell, "", "two")
    shell.run_line_magic("voice", f"export {tmp_path}/b/talk.json")
    assert "saved 2 messages" in capsys.readouterr().out
    again = Conversation.load(tmp_path / "b" / "talk.json")
    assert [m.get("content") for m in again.messages if m["role"] == "user"] == ["one", "two"]
    assert len(list((tmp_path / "b").glob("talk_*.wav"))) == 2


def test_load_ext_registers_the_magics(shell):
    shell.run_line_magic("load_ext", "nbaudio")
    cell_magic = shell.magics_manager.magics["cell"]["voice"]
    assert isinstance(cell_magic.__self__, VoiceMagics)
    assert shell.magics_manager.magics["line"]["voice"].__self__ is cell_magic.__self__
    assert "--max-history N" in cell_magic.__doc__ and "{name}" in cell_magic.__doc__  # %%voice? help
    assert cell_magic.__self__ in shell.configurables  # so %config VoiceMagics works


def test_interpolate_rules():
    ns = {"name": "Rex", "n": 3.14159, "items": [1, 2]}
    assert interpolate("Hi {name}!", ns) == "Hi Rex!"
    assert interpolate("{missing} stays, {{name}} escapes", ns) == "{missing} stays, {name} escapes"
    assert interpolate("{n:.2f} {name!r} {name.lower}", ns).startswith("3.14 'Rex' <built-in method lower")
    assert interpolate('{"json": {name}}', ns) == '{"json": Rex}'
    assert interpolate("{name.nope} {n:bad}", ns) == "{name.nope} {n:bad}"
    assert interpolate("a }} b { c", ns) == "a } b { c"
