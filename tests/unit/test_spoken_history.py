"""A conversation that went through `%voice live` sends its spoken turns as the words the server
heard, not as audio to be transcribed again on every later request; saved and loaded alike."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nbaudio import AudioClip, Conversation, InvalidInputError
from nbaudio.realtime.record import TurnRecord


def _live_record() -> TurnRecord:
    record = TurnRecord()
    record.sent_audio(np.full(24000, 800, dtype="<i2").tobytes())  # 1 s of "speech" at 24 kHz
    record.feed({"type": "input_audio_buffer.committed", "item_id": "u1"})
    record.feed({"type": "conversation.item.input_audio_transcription.completed", "item_id": "u1",
                 "transcript": "What is the capital of France?"})
    record.feed({"type": "response.output_item.added", "response_id": "r1",
                 "item": {"id": "a1", "role": "assistant", "status": "in_progress"}})
    record.feed({"type": "response.output_audio.delta", "item_id": "a1"}, np.zeros(4800, "<i2").tobytes())
    record.feed({"type": "response.output_audio_transcript.done", "item_id": "a1", "transcript": "Paris."})
    return record


def test_a_heard_turn_is_sent_as_its_words_and_keeps_its_audio():
    conv = _live_record().conversation()
    kept = conv.messages[0]
    assert [p["type"] for p in kept["content"]] == ["text", "input_audio"]
    sent = conv.to_messages()
    assert sent[0] == {"role": "user", "content": "What is the capital of France?"}
    assert "input_audio" not in json.dumps(sent)
    typed = Conversation()
    typed.add_user("What is the capital of France?")
    assert len(json.dumps(sent[0])) == len(json.dumps(typed.to_messages()[0]))


def test_a_recording_sent_with_a_typed_question_is_still_sent():
    clip = AudioClip.from_array(np.zeros(1600, np.float32), 16000)
    conv = Conversation()
    conv.add_user("Translate this:", clip)
    assert "input_audio" in json.dumps(conv.to_messages())


def test_transcribed_needs_both_audio_and_text():
    clip = AudioClip.from_array(np.zeros(1600, np.float32), 16000)
    with pytest.raises(InvalidInputError, match="transcribed=True"):
        Conversation().add_user(None, clip, transcribed=True)
    with pytest.raises(InvalidInputError, match="transcribed=True"):
        Conversation().add_user("hi", None, transcribed=True)


def test_saved_and_loaded_a_heard_turn_is_still_sent_as_words(tmp_path):
    conv = _live_record().conversation()
    loaded = Conversation.load(conv.save(tmp_path / "talk"))
    assert loaded.to_messages()[0] == {"role": "user", "content": "What is the capital of France?"}
    assert [p["type"] for p in loaded.messages[0]["content"]] == ["text", "input_audio"]


def test_undoing_a_heard_turn_forgets_it():
    conv = _live_record().conversation()
    conv.pop_turn()
    clip = AudioClip.from_array(np.zeros(1600, np.float32), 16000)
    conv.add_user("Translate this:", clip)
    assert "input_audio" in json.dumps(conv.to_messages())


def test_the_record_names_clips_by_turn_and_keeps_no_empty_reply():
    record = _live_record()
    # A second turn whose reply was stopped before it said anything.
    record.sent_audio(np.full(24000, 800, dtype="<i2").tobytes())
    record.feed({"type": "input_audio_buffer.committed", "item_id": "u2"})
    record.feed({"type": "conversation.item.input_audio_transcription.completed", "item_id": "u2",
                 "transcript": "And Germany?"})
    record.feed({"type": "response.output_item.added", "response_id": "r2",
                 "item": {"id": "a2", "role": "assistant", "status": "in_progress"}})
    record.feed({"type": "response.done", "response": {"status": "cancelled", "output": [
        {"id": "a2", "status": "incomplete"}]}})
    conv = record.conversation()
    assert [m["role"] for m in conv.messages] == ["user", "assistant", "user"]
    replies = [r for _, r in conv.turns() if r is not None]
    assert [r.audio.name for r in replies] == ["reply 1"]
    from nbaudio.widgets.live import LiveRecord

    html = LiveRecord(conv, "2 turns")._repr_mimebundle_()["text/html"]
    assert "item_" not in html and "incomplete" not in html
    assert html.count('alt="waveform"') == 3  # both recordings and the reply, as every chat turn
