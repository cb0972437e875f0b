"""The official openai SDK's Realtime client (`client.realtime.connect`) against the engine's
WS /v1/realtime: real speech from the engine's TTS streamed at the pace of speech, every event
received checked against the SDK's `RealtimeServerEvent` types."""

from __future__ import annotations

import base64
import io
import json
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from tests.realtime.conftest import QUESTIONS
from tests.realtime.speech import RATE, appends, overlap, recv, speech_then_quiet, stream, stream_then, until

pytestmark = pytest.mark.timeout(300)

VAD = {"type": "server_vad", "silence_duration_ms": 500}
ENGLISH = {"model": "whisper-1", "language": "en"}


def _open(conn, **session):
    assert recv(conn)["type"] == "session.created"
    conn.session.update(session={"type": "realtime", **session})
    return until(conn, "session.updated")["session"]


def _wav(pcm: bytes) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.frombuffer(pcm, dtype="<i2"), RATE, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _of(seen, kind):
    return [e for e in seen if e["type"] == kind]


def test_server_vad_turns_of_real_speech(rt_sdk, spoken, oai):
    with rt_sdk.realtime.connect(model="gpt-realtime") as conn:
        session = _open(conn, audio={"input": {"transcription": ENGLISH, "turn_detection": VAD}})
        assert session["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 500
        for question in QUESTIONS[:2]:
            feeder = stream(conn.send, spoken[question])
            seen: list[dict] = []
            done = until(conn, "response.done", seen)
            feeder.join()
            types = [e["type"] for e in seen]
            started = _of(seen, "input_audio_buffer.speech_started")
            stopped = _of(seen, "input_audio_buffer.speech_stopped")
            assert len(started) == len(stopped) == 1, types
            item = started[0]["item_id"]
            assert stopped[0]["item_id"] == item == _of(seen, "input_audio_buffer.committed")[0]["item_id"]
            assert 0 <= started[0]["audio_start_ms"] < stopped[0]["audio_end_ms"]
            assert types.index("input_audio_buffer.speech_stopped") < types.index("response.created")
            heard_user = _of(seen, "conversation.item.input_audio_transcription.completed")
            assert heard_user[0]["item_id"] == item and overlap(question, heard_user[0]["transcript"]) >= 0.6

            assert done["response"]["status"] == "completed"
            said = _of(seen, "response.output_audio_transcript.done")[0]["transcript"]
            assert said and "".join(e["delta"] for e in _of(seen, "response.output_audio_transcript.delta")) == said
            pcm = b"".join(base64.b64decode(e["delta"]) for e in _of(seen, "response.output_audio.delta"))
            assert len(pcm) > RATE  # over half a second of speech
            heard = oai.audio.transcriptions.create(model="whisper-1", file=("reply.wav", _wav(pcm))).text
            assert overlap(said, heard) >= 0.5, (said, heard)

            usage = done["response"]["usage"]
            assert usage["input_token_details"]["audio_tokens"] > 0
            assert usage["output_token_details"]["audio_tokens"] > 0
            assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
            assert done["response"]["output"][0]["content"][0] == {"type": "output_audio", "transcript": said}


def _settled(engine):
    """The engine's admission, once its own warm-up (which takes places too) is over."""
    warmup = engine.app.state.warmup
    assert warmup is None or warmup.done.wait(300)
    return engine.app.state.admission


def test_semantic_vad_ends_a_finished_question_on_its_words(rt_sdk, spoken, engine):
    admission = _settled(engine)
    semantic = {"type": "semantic_vad", "eagerness": "low"}  # a turn ends after 0.6 s if finished, else 1.5 s or 8 s
    with rt_sdk.realtime.connect(model="gpt-realtime") as conn:
        session = _open(conn, audio={"input": {"transcription": ENGLISH, "turn_detection": semantic}})
        assert session["audio"]["input"]["turn_detection"] == {**semantic, "create_response": True,
                                                               "interrupt_response": True}
        # The question, 0.9 s of silence, then nothing more: only its words can end the turn.
        pcm = speech_then_quiet(spoken[QUESTIONS[0]], 0.9)
        feeder = stream(conn.send, pcm)
        seen: list[dict] = []
        done = until(conn, "response.done", seen)
        feeder.join()
        stopped = _of(seen, "input_audio_buffer.speech_stopped")
        assert len(stopped) == 1 and stopped[0]["audio_end_ms"] <= len(pcm) * 1000 // (2 * RATE) + 64
        assert overlap(QUESTIONS[0], _of(seen, "conversation.item.input_audio_transcription.completed")[0]
                       ["transcript"]) >= 0.6
        assert done["response"]["status"] == "completed" and _of(seen, "response.output_audio.delta")
    assert admission.inside == admission.running == 0  # the reply begun early was the reply: nothing left over


def test_a_reply_begun_in_a_pause_the_speaker_goes_on_from_is_dropped(rt_sdk, spoken, engine):
    admission = _settled(engine)
    with rt_sdk.realtime.connect(model="gpt-realtime") as conn:
        _open(conn, audio={"input": {"transcription": ENGLISH, "turn_detection": VAD}})
        # One turn: a question, a 0.3 s pause held open while the engine transcribes it and begins a
        # reply, then a second question that makes that reply the wrong one.
        first = speech_then_quiet(spoken[QUESTIONS[0]], 0.3)

        def feed() -> None:
            stream(conn.send, first).join()
            time.sleep(3.0)  # nothing sent: the pause stays shorter than 500 ms, however long this takes
            stream(conn.send, spoken[QUESTIONS[1]][int(0.25 * RATE) * 2:]).join()

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        started = until(conn, "input_audio_buffer.speech_started")
        seen: list[dict] = []
        done = until(conn, "response.done", seen)
        feeder.join(timeout=60)
        heard = _of(seen, "conversation.item.input_audio_transcription.completed")[0]["transcript"]
        assert _of(seen, "input_audio_buffer.committed")[0]["item_id"] == started["item_id"]
        assert overlap(QUESTIONS[0] + " " + QUESTIONS[1], heard) >= 0.6, heard  # both questions, one turn
        assert done["response"]["status"] == "completed"
    assert admission.inside == admission.running == 0  # the reply begun in the pause gave its places back


def test_manual_turns_and_text_output(rt_sdk, spoken):
    with rt_sdk.realtime.connect(model="gpt-realtime") as conn:
        session = _open(conn, output_modalities=["text"],
                        audio={"input": {"turn_detection": None, "transcription": {"model": "whisper-1"}}})
        assert session["audio"]["input"]["turn_detection"] is None
        for event in appends(spoken[QUESTIONS[0]]):
            conn.send(event)
        conn.input_audio_buffer.commit()
        conn.response.create()
        seen: list[dict] = []
        done = until(conn, "response.done", seen)
        assert not _of(seen, "input_audio_buffer.speech_started")  # no VAD: the client decides the turn
        assert overlap(QUESTIONS[0], _of(seen, "conversation.item.input_audio_transcription.completed")[0]
                       ["transcript"]) >= 0.6
        assert not _of(seen, "response.output_audio.delta")
        text = _of(seen, "response.output_text.done")[0]["text"]
        assert text and "".join(e["delta"] for e in _of(seen, "response.output_text.delta")) == text
        assert done["response"]["status"] == "completed" and done["response"]["output_modalities"] == ["text"]

        conn.conversation.item.create(item={"type": "message", "role": "user",
                                            "content": [{"type": "input_text", "text": "Say hello to me."}]})
        added = until(conn, "conversation.item.added")
        assert added["item"]["content"] == [{"type": "input_text", "text": "Say hello to me."}]
        conn.response.create(response={"instructions": "Answer in a few words.", "output_modalities": ["text"]})
        done = until(conn, "response.done")
        assert done["response"]["status"] == "completed" and done["response"]["output"][0]["content"][0]["text"]


def test_cancel_ends_the_response_cancelled(rt_sdk):
    with rt_sdk.realtime.connect(model="gpt-realtime") as conn:
        _open(conn, audio={"input": {"turn_detection": None}})
        conn.conversation.item.create(item={"type": "message", "role": "user",
                                            "content": [{"type": "input_text", "text": QUESTIONS[2]}]})
        conn.response.create()
        first = until(conn, "response.output_audio.delta")
        conn.response.cancel()
        seen: list[dict] = []
        done = until(conn, "response.done", seen)
        assert done["response"]["id"] == first["response_id"]
        assert done["response"]["status"] == "cancelled"
        assert done["response"]["status_details"]["reason"] == "client_cancelled"
        assert _of(seen, "response.output_item.done")[0]["item"]["status"] == "incomplete"
        conn.response.cancel()  # nothing left to cancel: an error, and the session goes on
        assert until(conn, "error")["error"]["code"] == "response_cancel_not_active"
        conn.conversation.item.retrieve(item_id=first["item_id"])
        assert until(conn, "conversation.item.retrieved")["item"]["status"] == "incomplete"


def test_barge_in_cancels_and_truncate_cuts_the_transcript(rt_sdk, spoken):
    with rt_sdk.realtime.connect(model="gpt-realtime") as conn:
        _open(conn, audio={"input": {"transcription": ENGLISH, "turn_detection": {**VAD, "interrupt_response": True}}})
        speaking = threading.Event()
        interrupt = stream_then(conn.send, spoken[QUESTIONS[2]], spoken[QUESTIONS[1]], speaking)
        first = until(conn, "response.output_audio.delta")
        speaking.set()  # the user speaks over the reply as it starts (the engine makes it faster than it plays)
        got_ms = len(base64.b64decode(first["delta"])) * 1000 // (2 * RATE)
        seen: list[dict] = []
        done = until(conn, "response.done", seen)
        got_ms += sum(len(base64.b64decode(e["delta"])) for e in _of(seen, "response.output_audio.delta")) * 1000 // (
            2 * RATE)
        assert done["response"]["id"] == first["response_id"]
        assert done["response"]["status"] == "cancelled", [e["type"] for e in seen]
        assert done["response"]["status_details"]["reason"] == "turn_detected"
        assert _of(seen, "input_audio_buffer.speech_started")
        full = done["response"]["output"][0]["content"][0]["transcript"]

        heard_ms = min(got_ms, 400)
        conn.conversation.item.truncate(item_id=first["item_id"], content_index=0, audio_end_ms=heard_ms)
        after: list[dict] = []
        truncated = until(conn, "conversation.item.truncated", after)
        assert truncated["audio_end_ms"] == heard_ms
        conn.conversation.item.retrieve(item_id=first["item_id"])
        cut = until(conn, "conversation.item.retrieved", after)["item"]["content"][0]["transcript"]
        assert len(cut.split()) < len(full.split()), (cut, full)
        if not _of(after, "response.done"):
            after.append(until(conn, "response.done", after))
        interrupt.join()
        second = _of(after, "response.done")[0]["response"]
        assert second["id"] != first["response_id"] and second["status"] == "completed"
        late = [e for e in after if e.get("response_id") == first["response_id"]]
        assert not late  # nothing of the cancelled response after its response.done


def test_bad_events_get_error_events_and_the_session_goes_on(rt_sdk):
    cases = [
        ("not json at all", "invalid_json", None),
        ({"type": "input_audio_buffer.apend"}, "invalid_event", "type"),
        ({"type": "session.update", "session": {"type": "realtime", "voice_activity": True}}, "unknown_parameter",
         "session.voice_activity"),
        ({"type": "session.update", "session": {"type": "realtime", "audio": {
            "input": {"format": {"type": "audio/pcm", "rate": 16000}}}}}, "unsupported_value",
         "session.audio.input.format"),
        ({"type": "session.update", "session": {"type": "realtime", "audio": {
            "input": {"turn_detection": {"type": "push_to_talk"}}}}}, "unsupported_value",
         "session.audio.input.turn_detection.type"),
        ({"type": "session.update", "session": {"type": "realtime", "audio": {
            "input": {"turn_detection": {"type": "semantic_vad", "eagerness": "eager"}}}}}, "invalid_value",
         "session.audio.input.turn_detection.eagerness"),
        ({"type": "session.update", "session": {"type": "realtime", "audio": {
            "input": {"turn_detection": {"type": "semantic_vad", "silence_duration_ms": 200}}}}}, "unknown_parameter",
         "session.audio.input.turn_detection.silence_duration_ms"),
        ({"type": "session.update", "session": {"type": "realtime", "audio": {"output": {"voice": "nobody"}}}},
         "invalid_value", "session.audio.output.voice"),
        ({"type": "input_audio_buffer.append", "audio": "@@not base64@@"}, "invalid_value", "audio"),
        ({"type": "input_audio_buffer.commit"}, "input_audio_buffer_commit_empty", None),
        ({"type": "response.cancel"}, "response_cancel_not_active", None),
        ({"type": "conversation.item.delete", "item_id": "item_nope"}, "item_not_found", "item_id"),
        ({"type": "conversation.item.create", "item": {"type": "function_call", "name": "f", "call_id": "c1",
                                                       "arguments": "{}", "result": 1}}, "unknown_parameter",
         "item.result"),
        ({"type": "conversation.item.create", "item": {"type": "function_call_output", "output": "18"}},
         "invalid_value", "item.call_id"),
        ({"type": "response.create", "response": {"output_modalities": ["audio", "text"]}}, "invalid_value",
         "response.output_modalities"),
    ]
    with rt_sdk.realtime.connect(model="gpt-realtime") as conn:
        assert recv(conn)["type"] == "session.created"
        for i, (event, code, param) in enumerate(cases):
            if isinstance(event, dict):
                conn.send_raw(json.dumps({**event, "event_id": f"evt_{i}"}))
            else:
                conn.send_raw(event)
            err = recv(conn)
            assert err["type"] == "error", (event, err)
            assert (err["error"]["code"], err["error"]["param"]) == (code, param), err
            assert err["error"]["message"]
            assert err["error"]["event_id"] == (f"evt_{i}" if isinstance(event, dict) else None)
        conn.session.update(session={"type": "realtime", "instructions": "Be brief."})
        assert until(conn, "session.updated")["session"]["instructions"] == "Be brief."


def test_a_failing_chat_backend_ends_the_response_failed(engine):
    import socket

    import openai

    from nbaudio import local

    with socket.socket() as s:  # a port nobody listens on: the upstream is down
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    with local.start(models=engine.app.state.engine.models, chat_upstream=dead) as server:
        sdk = openai.OpenAI(base_url=server.base_url, api_key="sk-local", max_retries=0)
        with sdk.realtime.connect(model="gpt-realtime") as conn:
            assert recv(conn)["type"] == "session.created"
            conn.conversation.item.create(item={"type": "message", "role": "user",
                                                "content": [{"type": "input_text", "text": "Hello?"}]})
            conn.response.create()
            seen: list[dict] = []
            done = until(conn, "response.done", seen)
            assert done["response"]["status"] == "failed"
            assert done["response"]["status_details"]["error"]["code"] == "upstream_error"
            assert _of(seen, "error")[0]["error"]["code"] == "upstream_error"
            conn.conversation.item.create(item={"type": "message", "role": "user",
                                                "content": [{"type": "input_text", "text": "Still there?"}]})
            assert until(conn, "conversation.item.added")["item"]["role"] == "user"  # the session goes on


WEATHER_TOOL = {"type": "function", "name": "get_weather", "description": "The current weather in a city.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


def test_a_tool_call_round_trip_in_the_ga_shapes(rt_sdk):
    """The SDK's client: session tools, a question, the function_call item with its arguments,
    the client's function_call_output, then the answer that reads it."""
    with rt_sdk.realtime.connect(model="gpt-realtime") as conn:
        session = _open(conn, output_modalities=["text"], tools=[WEATHER_TOOL],
                        tool_choice={"type": "function", "name": "get_weather"})
        assert session["tools"] == [WEATHER_TOOL] and session["tool_choice"]["name"] == "get_weather"
        conn.conversation.item.create(item={"type": "message", "role": "user", "content": [
            {"type": "input_text", "text": "What is the weather in Paris?"}]})
        conn.response.create()
        seen: list[dict] = []
        done = until(conn, "response.done", seen)
        [call] = done["response"]["output"]
        assert call["type"] == "function_call" and call["name"] == "get_weather" and call["status"] == "completed"
        assert json.loads(call["arguments"]) == {"city": "Paris"}
        added = _of(seen, "response.output_item.added")[0]["item"]
        assert added["type"] == "function_call" and added["id"] == call["id"] and added["arguments"] == ""
        deltas = _of(seen, "response.function_call_arguments.delta")
        finished = _of(seen, "response.function_call_arguments.done")[0]
        assert "".join(d["delta"] for d in deltas) == finished["arguments"] == call["arguments"]
        assert finished["call_id"] == call["call_id"] and finished["item_id"] == call["id"]
        assert not _of(seen, "response.output_text.delta")

        conn.session.update(session={"type": "realtime", "tool_choice": "auto"})
        until(conn, "session.updated")
        conn.conversation.item.create(item={"type": "function_call_output", "call_id": call["call_id"],
                                            "output": json.dumps({"temperature_c": 18, "sky": "sunny"})})
        assert until(conn, "conversation.item.added")["item"]["type"] == "function_call_output"
        conn.response.create()
        answer = until(conn, "response.done")["response"]
        [message] = answer["output"]
        said = message["content"][0]["text"].lower()
        assert message["type"] == "message" and ("18" in said or "sunny" in said), said  # it read the result


def test_session_tools_the_grammar_cannot_take_are_refused_by_place(rt_sdk):
    with rt_sdk.realtime.connect(model="gpt-realtime") as conn:
        assert recv(conn)["type"] == "session.created"
        for tools, choice, param in (
                ([{**WEATHER_TOOL, "name": "two words"}], "auto", "session.tools[0].name"),
                ([WEATHER_TOOL], {"type": "function", "name": "nope"}, "session.tool_choice"),
                ([{**WEATHER_TOOL, "parameters": {"type": "object", "properties": {
                    "x": {"$ref": "https://example.com/s.json"}}}}], "auto", "session.tools[0]")):
            conn.send_raw(json.dumps({"type": "session.update",
                                      "session": {"type": "realtime", "tools": tools, "tool_choice": choice}}))
            err = recv(conn)
            assert err["type"] == "error" and err["error"]["param"] == param, err
