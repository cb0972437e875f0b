"""A transcription session (`?intent=transcription`, `session.type: "transcription"`) run by the
official openai SDK's Realtime client against the engine: the engine's own speech streamed at the
pace of speech, every event checked against the SDK's `RealtimeServerEvent` types."""

from __future__ import annotations

import pytest

from tests.realtime.conftest import QUESTIONS
from tests.realtime.speech import appends, overlap, recv, stream, until

pytestmark = pytest.mark.timeout(300)

STORY = QUESTIONS[2]  # about five seconds of speech: long enough for words to be sent while it is spoken
LOGPROBS = "item.input_audio_transcription.logprobs"


def _open(conn, **session):
    from openai.types.realtime import RealtimeTranscriptionSessionCreateRequest, SessionCreatedEvent

    created = recv(conn)
    assert created["type"] == "session.created" and created["session"]["type"] == "transcription"
    assert isinstance(SessionCreatedEvent.model_validate(created).session, RealtimeTranscriptionSessionCreateRequest)
    conn.session.update(session={"type": "transcription", **session})
    return until(conn, "session.updated")["session"]


def test_words_arrive_while_spoken_and_add_up_to_the_transcript(rt_sdk, spoken):
    with rt_sdk.realtime.connect(model="gpt-realtime", extra_query={"intent": "transcription"}) as conn:
        session = _open(conn, include=[LOGPROBS], audio={"input": {
            "transcription": {"model": "whisper-1", "language": "en"},
            "turn_detection": {"type": "server_vad", "silence_duration_ms": 500}}})
        assert session["include"] == [LOGPROBS]
        assert session["audio"]["input"]["transcription"]["language"] == "en"
        # A quarter of the pace of speech: each decode has more time than on a busy test machine's
        # cores, so the words come while the turn is spoken whatever the load (lag is bench_captions').
        feeder = stream(conn.send, spoken[STORY], pace=0.25)
        seen: list[dict] = []
        done = until(conn, "conversation.item.input_audio_transcription.completed", seen)
        feeder.join()
    types = [e["type"] for e in seen]
    item = next(e for e in seen if e["type"] == "input_audio_buffer.speech_started")["item_id"]
    deltas = [e for e in seen if e["type"] == "conversation.item.input_audio_transcription.delta"]
    assert {e["item_id"] for e in deltas} == {item} == {done["item_id"]}
    # Stable words go out while the speaker is still talking, not only once the turn is over.
    assert types.index("conversation.item.input_audio_transcription.delta") < \
        types.index("input_audio_buffer.speech_stopped"), types
    # The deltas are the provisional words; the completed transcript is a decode of the whole turn
    # (it may correct one of them) and holds the story at least as well.
    said = "".join(e["delta"] for e in deltas)
    assert overlap(STORY, done["transcript"]) >= max(0.7, overlap(STORY, said) - 0.05), (said, done["transcript"])
    # logprobs where asked: one per word, in the deltas and the completed event
    assert all(len(e["logprobs"]) == len(e["delta"].split()) for e in deltas)
    assert len(done["logprobs"]) == len(done["words"]) == len(done["transcript"].split())
    assert all(p["logprob"] <= 0 for p in done["logprobs"])
    starts = [w["start"] for w in done["words"]]
    assert starts == sorted(starts) and 0 <= starts[0] and done["words"][-1]["end"] <= done["usage"]["seconds"]
    assert done["usage"]["type"] == "duration" and done["usage"]["seconds"] > 3


def test_manual_commits_and_refusals(rt_sdk, spoken):
    question = QUESTIONS[0]
    with rt_sdk.realtime.connect(model="gpt-realtime", extra_query={"intent": "transcription"}) as conn:
        session = _open(conn, audio={"input": {"turn_detection": None,
                                               "transcription": {"model": "whisper-1", "prompt": "Geography."}}})
        assert session["audio"]["input"]["turn_detection"] is None and session["include"] == []
        conn.send({"type": "response.create"})
        refused = until(conn, "error")["error"]
        assert refused["code"] == "invalid_event" and "transcription session" in refused["message"]
        conn.session.update(session={"type": "realtime"})
        assert until(conn, "error")["error"]["param"] == "session.type"
        for event in appends(spoken[question]):
            conn.send(event)
        conn.input_audio_buffer.commit()
        seen: list[dict] = []
        done = until(conn, "conversation.item.input_audio_transcription.completed", seen)
        committed = next(e for e in seen if e["type"] == "input_audio_buffer.committed")
        assert committed["item_id"] == done["item_id"] and "logprobs" not in done
        assert overlap(question, done["transcript"]) >= 0.6, done["transcript"]
        conn.input_audio_buffer.commit()  # nothing appended since
        assert until(conn, "error")["error"]["code"] == "input_audio_buffer_commit_empty"


def test_nbaudio_client_opens_a_transcription_session(engine, spoken):
    import nbaudio.realtime
    from nbaudio import Client, InvalidInputError

    question = QUESTIONS[1]
    with pytest.raises(InvalidInputError, match="intent"):
        nbaudio.realtime.connect(intent="translation")
    with Client(engine.base_url) as client, nbaudio.realtime.connect(
            client=client, intent="transcription", session={"audio": {"input": {"turn_detection": None}}}) as rt:
        assert rt.kind == "transcription" and rt.session["type"] == "transcription"
        rt.send_audio(spoken[question], commit=True)
        done = rt.wait_for("conversation.item.input_audio_transcription.completed")
    assert overlap(question, done.transcript) >= 0.6
    assert [(t.role, t.text) for t in rt.turns] == [("user", done.transcript)] and rt.turns[0].audio
