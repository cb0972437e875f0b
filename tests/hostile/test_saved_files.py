"""Saved conversations as a hostile or careless user meets them (issue 26, items 12-14): dotted
names, a shared JSON that names files elsewhere, and files that are not what `save` writes.

`Conversation.load` answers with a Conversation or an InvalidInputError that names the file and
what is wrong (the turn and the field); it never reads a file outside the conversation's folder,
and never raises JSONDecodeError, KeyError, AttributeError or TypeError.
"""

from __future__ import annotations

import base64
import json
import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbaudio import AudioClip, Conversation
from nbaudio.chat import AUDIO_NOT_SAVED, ChatReply
from nbaudio.errors import InvalidInputError
from tests.hostile.canary import outcomes_within

pytestmark = pytest.mark.timeout(120)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

CLIP = AudioClip.from_array(0.3 * np.sin(np.arange(8000) / 5.0), 16000)
WAV = CLIP.data


def saved_with_audio(folder) -> Conversation:
    conv = Conversation(system="Be brief.")
    conv.add_user("what is this?", audio=CLIP)
    conv.add_reply(ChatReply(content=None, transcript="a tone", audio=CLIP, audio_id="audio_1", expires_at=10**10))
    return conv


def write_json(path, document) -> None:
    path.write_text(json.dumps(document), encoding="utf-8")


def a_turn(input_audio: dict) -> dict:
    return {"message": {"role": "user", "content": [{"type": "text", "text": "hi"},
                                                    {"type": "input_audio", "input_audio": input_audio}]}}


# ---- item 12: dotted names ------------------------------------------------------------------


def test_dotted_names_are_kept_apart_and_loaded_back(tmp_path):
    for n in (1, 2):
        Conversation([{"role": "user", "content": f"lesson {n}"}]).save(tmp_path / f"lesson.{n}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lesson.1.json", "lesson.2.json"]
    for n in (1, 2):
        assert Conversation.load(tmp_path / f"lesson.{n}").messages == [{"role": "user", "content": f"lesson {n}"}]
        assert Conversation.load(tmp_path / f"lesson.{n}.json").messages[0]["content"] == f"lesson {n}"
    conv = Conversation([{"role": "user", "content": "x"}])
    assert conv.save(tmp_path / "plain").name == "plain.json"
    assert conv.save(tmp_path / "kept.json").name == "kept.json"
    assert conv.save(tmp_path / "v2.0.final").name == "v2.0.final.json"


def test_dotted_names_keep_their_audio_files_apart(tmp_path):
    saved_with_audio(tmp_path).save(tmp_path / "talk.1")
    saved_with_audio(tmp_path).save(tmp_path / "talk.2")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "talk.1_001_in1.wav" in names and "talk.2_001_in1.wav" in names and "talk.1_002.wav" in names
    loaded = Conversation.load(tmp_path / "talk.2")
    part = loaded.messages[1]["content"][1]["input_audio"]
    assert base64.b64decode(part["data"]) == WAV and part["format"] == "wav"
    assert loaded.last_reply.audio.data == WAV


@pytest.mark.parametrize("path", ["", "/", ".", ".."])
def test_a_folder_is_not_a_conversation_name(tmp_path, path):
    with pytest.raises(InvalidInputError, match="path"):
        Conversation([{"role": "user", "content": "x"}]).save(path)


def test_a_place_that_cannot_be_written_says_why(tmp_path):
    (tmp_path / "a_file").write_text("x")
    for target in (tmp_path / "a_file" / "talk", tmp_path / ("x" * 300)):
        with pytest.raises(InvalidInputError, match="could not"):
            saved_with_audio(tmp_path).save(target)


# ---- item 13: only files beside the conversation, by plain name, that are audio ----------------


@pytest.fixture
def shared(tmp_path):
    """A folder with a conversation's own recording, and a secret file outside it."""
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "rec.wav").write_bytes(WAV)
    secret = tmp_path / "secret.wav"
    secret.write_bytes(WAV)  # even audio: it is not the conversation's to send
    return folder, secret


def load_refused(folder, document, *match: str) -> InvalidInputError:
    write_json(folder / "talk.json", document)
    with pytest.raises(InvalidInputError) as err:
        Conversation.load(folder / "talk.json")
    for text in ("talk.json", *match):
        assert text in str(err.value)
    return err.value


@pytest.mark.parametrize("name", ["ABSOLUTE", "../secret.wav", "../../../../../../etc/passwd", "sub/rec.wav",
                                  "./rec.wav", "..", ".", "", "sub\\rec.wav", "rec.wav\0", 5, ["rec.wav"]])
def test_files_named_outside_the_folder_are_refused(shared, name):
    folder, secret = shared
    (folder / "sub").mkdir()
    (folder / "sub" / "rec.wav").write_bytes(WAV)
    name = str(secret) if name == "ABSOLUTE" else name
    load_refused(folder, {"nbaudio_conversation": 1, "turns": [a_turn({"file": name, "format": "wav"})]},
                 "turn 1", "input_audio.file")
    reply = {"message": {"role": "assistant", "content": "hi"}, "reply": {"text": "hi", "audio_file": name}}
    load_refused(folder, {"turns": [reply]}, "turn 1", "reply.audio_file")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="symlinks")
def test_links_that_leave_the_folder_are_refused(shared):
    folder, secret = shared
    (folder / "link.wav").symlink_to(secret)
    load_refused(folder, {"turns": [a_turn({"file": "link.wav"})]}, "outside the conversation's folder")
    (folder / "inside.wav").symlink_to(folder / "rec.wav")
    write_json(folder / "ok.json", {"turns": [a_turn({"file": "inside.wav"})]})
    assert base64.b64decode(Conversation.load(folder / "ok.json").messages[0]["content"][1]["input_audio"]["data"]) \
        == WAV


def test_files_that_are_not_audio_are_refused(shared):
    folder, _ = shared
    (folder / "notes.wav").write_text("my passwords: hunter2\n" * 20)
    (folder / "key").write_bytes(os.urandom(512))
    for name in ("notes.wav", "key"):
        load_refused(folder, {"turns": [a_turn({"file": name})]}, "turn 1", "not audio that decodes")
    load_refused(folder, {"turns": [a_turn({"data": base64.b64encode(b"text, not audio").decode()})]},
                 "input_audio.data")
    load_refused(folder, {"turns": [a_turn({"data": "%%% not base64"})]}, "input_audio.data")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_is_refused_not_read(shared):
    folder, _ = shared
    os.mkfifo(folder / "pipe.wav")
    os.mkfifo(folder / "pipe.json")
    write_json(folder / "talk.json", {"turns": [a_turn({"file": "pipe.wav"})]})
    outcome = outcomes_within(20, lambda: Conversation.load(folder / "talk.json"),
                              lambda: Conversation.load(folder / "pipe.json"))
    assert all(isinstance(e, InvalidInputError) and "pipe (FIFO)" in str(e) for e in outcome), outcome


def test_the_conversations_own_files_load_and_missing_ones_are_a_note(shared):
    folder, _ = shared
    write_json(folder / "talk.json", {"nbaudio_conversation": 1, "turns": [
        a_turn({"file": "rec.wav", "format": "wav"}), {"message": {"role": "assistant", "content": "a tone"},
                                                        "reply": {"text": "a tone", "audio_file": "rec.wav"}},
        a_turn({"file": "gone.wav", "format": "wav"})]})
    with pytest.warns(UserWarning, match="turn 2"):
        conv = Conversation.load(folder / "talk.json")
    assert base64.b64decode(conv.messages[0]["content"][1]["input_audio"]["data"]) == WAV
    assert conv.last_reply.audio.data == WAV
    assert conv.messages[2]["content"][1] == {"type": "text", "text": AUDIO_NOT_SAVED}


# ---- item 14: files that are not a saved conversation -----------------------------------------


MALFORMED = [
    (b"", "not JSON"),
    (b"{not json", "not JSON"),
    (b"\xff\xfe\x00garbage", "not JSON"),
    (b"[1, 2, 3]", "list of \"turns\""),
    (b"\"a string\"", "list of \"turns\""),
    (b"{}", "list of \"turns\""),
    (b'{"turns": {}}', "list of \"turns\""),
    (b'{"nbaudio_conversation": 99, "turns": []}', "version 99"),
    (b'{"turns": [5]}', "turn 1 has no message"),
    (b'{"turns": [{}]}', "turn 1 has no message"),
    (b'{"turns": [{"message": "hi"}]}', "turn 1 has no message"),
    (b'{"turns": [{"message": {"role": "wizard", "content": "x"}}]}', "turn 1: messages[0] has role 'wizard'"),
    (b'{"turns": [{"message": {"role": "user"}}]}', "has no content"),
    (b'{"turns": [{"message": {"role": "user", "content": [{"type": "input_audio", "input_audio": 5}]}}]}',
     "input_audio must be an object"),
    (b'{"turns": [{"message": {"role": "assistant", "content": "x"}, "reply": "text"}]}', "reply must be an object"),
    (b'{"turns": [{"message": {"role": "assistant", "content": "x"}, "reply": {"expires_at": "soon"}}]}',
     "reply.expires_at"),
    (b'{"turns": [{"message": {"role": "assistant", "content": "x"}, "reply": {"usage": [1]}}]}', "reply.usage"),
    (b'{"turns": [{"message": {"role": "assistant", "content": "x"}, "reply": {"audio_bridged": "yes"}}]}',
     "reply.audio_bridged"),
    (b'{"turns": [{"message": {"role": "assistant", "content": "x"}, "reply": {"usage": "abc"}}]}',
     "reply.usage"),
    (b'{"turns": [{"message": {"role": "assistant", "audio": {"id": 5}}}]}', "audio must be"),
    (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
]


@pytest.mark.parametrize("raw,match", MALFORMED, ids=[f"malformed-{i}" for i in range(len(MALFORMED))])
def test_malformed_files_say_what_is_wrong(tmp_path, raw, match):
    (tmp_path / "talk.json").write_bytes(raw)
    with pytest.raises(InvalidInputError, match="talk.json") as err:
        Conversation.load(tmp_path / "talk.json")
    assert match in str(err.value)


def test_a_missing_file_or_a_folder(tmp_path):
    with pytest.raises(InvalidInputError, match="not found"):
        Conversation.load(tmp_path / "nothing")
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(InvalidInputError, match="folder"):
        Conversation.load(tmp_path / "dir.json")


# ---- property: any JSON document ---------------------------------------------------------------

NAMES = st.sampled_from(["rec.wav", "gone.wav", "notes.wav", "../secret.wav", "/etc/passwd", "", ".", "sub/rec.wav"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
                    st.text(max_size=12), NAMES)
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                    max_leaves=12)
INPUT_AUDIO = st.dictionaries(st.sampled_from(["file", "data", "format"]), st.one_of(
    NAMES, JSON, st.just(base64.b64encode(WAV).decode()), st.sampled_from(["wav", "mp3", "<omitted>"])), max_size=3)
PART = st.one_of(JSON, st.fixed_dictionaries({"type": st.sampled_from(["input_audio", "text", "image_url"])}, optional={
    "input_audio": st.one_of(INPUT_AUDIO, JSON), "text": st.one_of(st.text(max_size=10), JSON)}))
MESSAGE = st.fixed_dictionaries({}, optional={
    "role": st.one_of(st.sampled_from(["user", "assistant", "system", "tool", "x"]), JSON),
    "content": st.one_of(st.text(max_size=10), st.lists(PART, max_size=3), JSON),
    "audio": st.one_of(st.fixed_dictionaries({"id": st.one_of(st.text(max_size=8), JSON)}), JSON)})
REPLY = st.fixed_dictionaries({}, optional={key: st.one_of(JSON, NAMES) for key in (
    "text", "transcript", "audio_id", "expires_at", "audio_bridged", "usage", "audio_file")})
TURN = st.one_of(JSON, st.fixed_dictionaries({"message": st.one_of(MESSAGE, JSON)}, optional={"reply": REPLY}))
DOCUMENT = st.one_of(JSON, st.fixed_dictionaries({"turns": st.lists(TURN, max_size=4)},
                                                 optional={"nbaudio_conversation": st.one_of(st.just(1), JSON)}))


@pytest.fixture(scope="module")
def corpus_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("saved")
    folder = root / "conv"
    folder.mkdir()
    (folder / "rec.wav").write_bytes(WAV)
    (folder / "notes.wav").write_text("not audio\n" * 20)
    (folder / "sub").mkdir()
    (folder / "sub" / "rec.wav").write_bytes(WAV)
    (root / "secret.wav").write_bytes(WAV)
    return folder


@FAST
@given(DOCUMENT)
def test_any_json_document_loads_or_is_refused(corpus_folder, document):
    write_json(corpus_folder / "talk.json", document)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            conv = Conversation.load(corpus_folder / "talk.json")
        except InvalidInputError as err:
            assert "talk.json" in str(err)
            return
    # What loaded is usable: it renders, builds requests, and sends only audio that decodes.
    repr(conv)
    for message in conv.to_messages(now=0):
        for part in message.get("content") if isinstance(message.get("content"), list) else []:
            if isinstance(part, dict) and part.get("type") == "input_audio":
                data = base64.b64decode(part["input_audio"]["data"])
                assert data == WAV or AudioClip(data).validate()


@FAST
@given(st.binary(max_size=200))
def test_any_bytes_load_or_are_refused(corpus_folder, raw):
    (corpus_folder / "talk.json").write_bytes(raw)
    try:
        Conversation.load(corpus_folder / "talk.json")
    except InvalidInputError as err:
        assert "talk.json" in str(err)


def test_a_usage_count_of_the_wrong_type_is_dropped_not_fatal(tmp_path):
    """As for a server's answer (nbaudio._wire.fields): a count that is not a number describes
    nothing, so it is left out and the conversation loads."""
    path = tmp_path / "odd.json"
    path.write_text('{"turns": [{"message": {"role": "assistant", "content": "x"}, '
                    '"reply": {"text": "x", "usage": {"prompt_tokens": "abc", "completion_tokens": 3}}}]}')
    conv = Conversation.load(path)
    (reply,) = conv.replies.values()
    assert reply.usage.completion_tokens == 3 and reply.usage.prompt_tokens == 0
