"""`LiveSession` and `%voice live` in the kernel, with the page played by `Page`: the widget messages
and binary buffers live.js sends (start, 100 ms microphone pieces at 48 kHz, "I cut this reply at N
ms", stop) through the comm, against the real engine's Realtime route. The real browser, with a fake
microphone and Web Audio playback, is tests/browser/test_browser_live.py.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any

import numpy as np
import pytest
from IPython.core.error import UsageError

from nbaudio import AudioClip, Client, Conversation, InvalidInputError
from nbaudio.widgets import LiveRecord, LiveSession
from tests.realtime.conftest import KEY
from tests.support.browser import free_port
from tests.support.data import SENTENCES
from tests.support.magic_fakes import cell

pytestmark = [pytest.mark.timeout(300), pytest.mark.engine]

DEVICE_RATE = 48000
PIECE_S = 0.1
WAIT_S = 120.0


class Page:
    """Sends what live.js sends, through the widget's comm, and keeps what the kernel sends back."""

    def __init__(self, live: LiveSession) -> None:
        self.live = live
        self.received: list[tuple[dict, list]] = []
        self.arrived = threading.Condition()
        self.seq = 0
        original = live.send

        def send(content: Any, buffers: Any = None) -> None:
            with self.arrived:
                self.received.append((content, list(buffers or [])))
                self.arrived.notify_all()
            original(content, buffers)

        live.send = send  # type: ignore[method-assign]

    def message(self, content: dict, buffers: list[bytes] = ()) -> None:
        self.live.comm.handle_msg({"content": {"data": {"method": "custom", "content": content}},
                                   "buffers": [memoryview(b) for b in buffers]})

    def start(self, rate: int = DEVICE_RATE) -> None:
        self.message({"type": "live:start", "rate": rate})

    def speak(self, pcm: np.ndarray, *, pace: bool = False) -> None:
        """Microphone audio (int16 at DEVICE_RATE) in 100 ms pieces, as the worklet's blocks add up."""
        step = int(PIECE_S * DEVICE_RATE)
        for k in range(0, len(pcm), step):
            self.message({"type": "live:audio", "seq": self.seq}, [pcm[k:k + step].astype("<i2").tobytes()])
            self.seq += 1
            if pace:
                time.sleep(PIECE_S)

    def of(self, kind: str) -> list[dict]:
        return [c for c, _ in self.received if c.get("type") == kind]

    def wait_for(self, test, what: str, timeout: float = WAIT_S) -> None:
        with self.arrived:
            if not self.arrived.wait_for(lambda: test(self), timeout):
                kinds = sorted({c.get("type") for c, _ in self.received})
                raise AssertionError(f"timed out waiting for {what}; got {kinds}")

    def audio_ms(self, item_id: str | None = None) -> float:
        return sum(len(b[0]) for c, b in self.received if c.get("type") == "audio" and b
                   and (item_id is None or c.get("item_id") == item_id)) / 48.0


def mic(clip_bytes: bytes, *, lead_s: float = 0.4, tail_s: float = 1.4) -> np.ndarray:
    """Speech as a 48 kHz microphone gives it (int16), with silence around it (the tail ends the turn)."""
    clip = AudioClip(clip_bytes).mono().resample(DEVICE_RATE)
    x = np.concatenate([np.zeros(int(lead_s * DEVICE_RATE)), clip.samples, np.zeros(int(tail_s * DEVICE_RATE))])
    return np.round(np.clip(x, -1, 1) * 32767).astype(np.int16)


def words(text: str) -> set[str]:
    return {w.strip(".,!?…").lower() for w in text.split() if w.strip(".,!?…")}


@pytest.fixture
def client(engine):
    with Client(engine.base_url) as c:
        yield c


def test_two_spoken_turns_and_a_barge_in_leave_a_record(client, speech_clips):
    live = LiveSession(client=client, instructions="Answer in one short sentence.", max_minutes=5)
    page = Page(live)
    page.start()
    page.wait_for(lambda p: p.of("ready"), "the session to open")
    assert live.state == "live"

    # Turn 1: the user speaks, the server hears the end, transcribes it and answers with audio.
    page.speak(mic(speech_clips[SENTENCES[2]]))
    page.wait_for(lambda p: p.of("response_done"), "the first reply")
    heard = [m for m in page.of("user_text") if m["final"]]
    assert words(SENTENCES[2]) & words(heard[0]["text"]) >= {"golden", "retriever"}
    first = page.of("assistant_item")[0]["item_id"]
    assert page.audio_ms(first) > 300  # the reply's audio reached the page, as pcm16 buffers
    assert page.of("assistant_text")[0]["text"].strip()
    # The benchmark's stamps (live_hops.py): the end of the turn carries the pieces the kernel passed
    # on (seq, reached the kernel, went to the server), the reply's first audio when its turn's steps came.
    stopped = page.of("speech_stopped")[0]["hop"]
    seqs = [p[0] for p in stopped["pieces"]]
    assert seqs and seqs == sorted(seqs) and seqs[-1] < page.seq, seqs
    assert all(received <= sent <= stopped["at"] for _, received, sent in stopped["pieces"]), stopped
    hop = [c["hop"] for c in page.of("audio") if "hop" in c][0]
    assert hop["stopped"] == stopped["at"] <= min(hop["transcribed"], hop["token"], hop["audio"]), hop

    # Turn 2: while the reply's audio arrives, the page "plays" 700 ms of it and the user cuts in.
    page.speak(mic(speech_clips[SENTENCES[1]]))
    page.wait_for(lambda p: len(p.of("assistant_item")) >= 2, "the second reply to start")
    second = page.of("assistant_item")[1]["item_id"]
    page.wait_for(lambda p: p.audio_ms(second) >= 700, "700 ms of the second reply")
    page.message({"type": "live:interrupted", "item_id": second, "audio_end_ms": 700})
    page.wait_for(lambda p: p.of("truncated"), "the truncation")
    assert page.of("truncated")[0] == {"type": "truncated", "item_id": second, "audio_end_ms": 700}

    page.message({"type": "live:stop", "reason": "user"})
    conv = live.wait(WAIT_S)
    assert live.state == "ended" and live.ended and not live.error
    turns = conv.turns()
    users = [m for m, r in turns if m["role"] == "user"]
    replies = [r for _, r in turns if r is not None]
    assert len(users) == 2 and len(replies) == 2
    # The user's turns keep their own audio: the spoken span, not the silence around it.
    user_audio = [AudioClip(base64.b64decode(part["input_audio"]["data"])) for m in users for part in m["content"]
                  if part.get("type") == "input_audio"]
    assert len(user_audio) == 2 and all(0.8 < a.duration < 5.0 for a in user_audio)
    assert replies[0].audio is not None and replies[0].audio.duration > 0.3
    assert abs(replies[1].audio.duration - 0.7) < 0.01  # cut to what was heard
    assert replies[1].text.endswith("…")
    assert live.result.interrupted == 1 and live.result.reason == "user"
    assert "1 reply cut short" in live.record.summary
    bundle = live.record._repr_mimebundle_()
    assert "live session: 4 turns" in bundle["text/plain"]
    assert bundle["text/html"].count("<audio") == 4


def test_a_continued_conversation_seeds_the_session_and_gets_the_turns(client, speech_clips):
    earlier = Conversation(system="You are a tutor.")
    earlier.add_user("My name is Ada.")
    earlier.add({"role": "assistant", "content": "Nice to meet you, Ada."})
    live = LiveSession(client=client, conversation=earlier)
    assert live.session_config()["instructions"] == "You are a tutor."
    page = Page(live)
    page.start()
    page.wait_for(lambda p: p.of("ready"), "the session to open")
    page.speak(mic(speech_clips[SENTENCES[3]]))
    page.wait_for(lambda p: p.of("response_done"), "the reply")
    page.message({"type": "live:stop"})
    conv = live.wait(WAIT_S)
    assert conv is earlier
    roles = [m["role"] for m in conv.messages]
    assert roles == ["system", "user", "assistant", "user", "assistant"]  # the earlier turns once, then these
    assert live.result.conversation.messages[0]["role"] == "user"  # the record: this session's turns only


def test_manual_turns(client, speech_clips):
    live = LiveSession(client=client, vad="manual")
    assert live.session_config()["audio"]["input"]["turn_detection"] is None
    page = Page(live)
    page.start()
    page.wait_for(lambda p: p.of("ready"), "the session to open")
    page.message({"type": "live:talk"})
    page.speak(mic(speech_clips[SENTENCES[0]], tail_s=0.2))
    page.message({"type": "live:send"})
    page.wait_for(lambda p: p.of("response_done"), "the reply")
    assert page.of("speech_started") == []  # no server VAD
    assert [m for m in page.of("user_text") if m["final"] and "fox" in m["text"].lower()]
    page.message({"type": "live:stop"})
    assert len(live.wait(WAIT_S).turns()) == 2


def test_the_page_learns_the_kernel_took_its_audio(client, speech_clips):
    """The acknowledgements the page uses to tell a busy kernel (a running cell) from a slow one."""
    live = LiveSession(client=client)
    page = Page(live)
    page.start()
    page.speak(np.zeros(int(0.5 * DEVICE_RATE), dtype=np.int16))
    page.wait_for(lambda p: p.of("ack") and p.of("ack")[-1]["seq"] == 4, "the acknowledgement of piece 4")
    live.stop()
    live.wait(WAIT_S)


def test_time_limit_ends_the_session_and_keeps_the_record(client, speech_clips):
    live = LiveSession(client=client, max_minutes=0.05)  # 3 s
    page = Page(live)
    page.start()
    page.wait_for(lambda p: p.of("ready"), "the session to open")
    live.wait(WAIT_S)
    assert live.result.reason == "limit"
    assert page.of("ended")[0]["text"].endswith("stopped at the time limit")


def test_unreachable_server_is_said_in_the_widget():
    with Client(f"http://127.0.0.1:{free_port()}/v1", api_key="sk-live-canary-0b7e3c9a55") as client:
        live = LiveSession(client=client)
        page = Page(live)
        page.start()
        live.wait(WAIT_S)
    assert live.result.reason == "error"
    assert "could not be reached" in live.error and "NBAUDIO_BASE_URL" in live.error
    assert "Nothing had been said yet" in live.error
    assert page.of("ended")[0]["error"] == live.error
    assert "sk-live-canary" not in repr(page.received) + live.error


def test_rejected_key_is_said_in_the_widget(keyed_engine):
    with Client(keyed_engine.base_url, api_key="sk-wrong-canary-77aa01") as client:
        live = LiveSession(client=client)
        Page(live).start()
        live.wait(WAIT_S)
    assert "rejected the API key" in live.error and "NBAUDIO_API_KEY" in live.error
    assert "sk-wrong-canary" not in live.error


def test_session_limit_is_said_in_the_widget(keyed_engine):
    keyed_engine.app.state.realtime.limits.max_sessions = 0
    with Client(keyed_engine.base_url, api_key=KEY) as client:
        live = LiveSession(client=client)
        Page(live).start()
        live.wait(WAIT_S)
    assert "session limit was reached" in live.error


def test_bad_arguments_are_refused_before_anything_starts():
    for kwargs, says in (({"vad": "auto"}, "vad must be"), ({"max_minutes": 0}, "max_minutes"),
                         ({"max_minutes": 61}, "at most 60"), ({"model": " "}, "model"),
                         ({"voice": 3}, "voice must be a string"), ({"conversation": []}, "Conversation")):
        with pytest.raises(InvalidInputError, match=says):
            LiveSession(**kwargs)
    live = LiveSession()
    with pytest.raises(InvalidInputError, match="has not ended yet"):
        _ = live.conversation


def test_voice_live_magic_options(shell, voice):
    with pytest.raises(UsageError, match="not both"):
        shell.run_line_magic("voice", "live --instructions a --system b")
    with pytest.raises(UsageError, match="--max-minutes"):
        shell.run_line_magic("voice", "live --max-minutes 0")
    with pytest.raises(UsageError, match="invalid choice"):
        shell.run_line_magic("voice", "live --vad auto")
    with pytest.raises(UsageError, match="--out needs a variable"):
        shell.run_line_magic("voice", "live --out 1x")


def test_voice_live_keeps_the_conversation_for_voice_cells(shell, voice, client, speech_clips):
    magics = voice
    magics.client = client
    shell.run_line_magic("voice", "live --voice alloy --instructions 'Answer briefly.' --out talk")
    live = magics.live_session
    assert isinstance(live, LiveSession) and live.voice == "alloy"
    page = Page(live)
    page.start()
    page.wait_for(lambda p: p.of("ready"), "the session to open")
    page.speak(mic(speech_clips[SENTENCES[2]]))
    page.wait_for(lambda p: p.of("response_done"), "the reply")
    page.message({"type": "live:stop"})
    conv = live.wait(WAIT_S)
    assert shell.user_ns["_voice"] is conv and shell.user_ns["talk"] is conv
    assert conv.messages[0] == {"role": "system", "content": "Answer briefly."}
    before = len(conv)
    cell(shell, "--text-only --max-tokens 20", "Say that again, shorter.")
    assert len(magics.conversations["default"]) == before + 2  # %%voice went on with the live conversation
    # What the %%voice turn sent: the spoken turn as the words the server heard, not its audio again
    # (which the engine transcribed anew on every later request), so it costs what a typed turn costs.
    spoken = conv.messages[1]
    assert [p["type"] for p in spoken["content"]] == ["text", "input_audio"]  # kept for the player
    sent = conv.to_messages()
    assert "input_audio" not in json.dumps(sent)
    assert sent[1] == {"role": "user", "content": spoken["content"][0]["text"]}
    usage = conv.last_reply.usage
    assert usage is not None and not (usage.raw.get("prompt_tokens_details") or {}).get("audio_tokens")
    assert isinstance(live.record, LiveRecord)


def test_a_dropped_connection_keeps_what_was_said():
    """A scripted server that answers one turn, then drops the connection (no close frame)."""
    import json

    from tests.support.faults import ScriptedWebSocket

    def one_turn_then_drop(ws):
        ws.send(json.dumps({"type": "session.created", "session": {"type": "realtime"}}))
        json.loads(ws.recv())  # session.update
        ws.send(json.dumps({"type": "session.updated", "session": {"type": "realtime"}}))
        for event in ({"type": "input_audio_buffer.speech_started", "audio_start_ms": 0, "item_id": "u1"},
                      {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": 500, "item_id": "u1"},
                      {"type": "input_audio_buffer.committed", "item_id": "u1"},
                      {"type": "conversation.item.input_audio_transcription.completed", "item_id": "u1",
                       "transcript": "Hello there."},
                      {"type": "response.created", "response": {"id": "r1"}},
                      {"type": "response.output_item.added", "response_id": "r1",
                       "item": {"id": "a1", "role": "assistant", "type": "message"}},
                      {"type": "response.output_audio.delta", "item_id": "a1", "response_id": "r1",
                       "delta": base64.b64encode(bytes(4800)).decode()},
                      {"type": "response.output_audio_transcript.done", "item_id": "a1", "transcript": "Hi!"},
                      {"type": "response.done", "response": {"id": "r1", "status": "completed",
                                                             "output": [{"id": "a1", "status": "completed"}]}}):
            ws.send(json.dumps(event))
        ws.recv()  # the first audio piece from the page
        ws.socket.close()  # gone, without a close frame

    with ScriptedWebSocket(one_turn_then_drop) as server, \
            Client(server.base_url, api_key="sk-drop-canary-4e5f6a") as client:
        live = LiveSession(client=client)
        page = Page(live)
        page.start()
        page.wait_for(lambda p: p.of("response_done"), "the scripted reply")
        page.speak(np.zeros(int(0.3 * DEVICE_RATE), dtype=np.int16))
        conv = live.wait(WAIT_S)
    assert live.result.reason == "closed", (live.result, live.error)
    assert "connection dropped" in live.error and "2 turns said before it are kept" in live.error
    assert [m["role"] for m in conv.messages] == ["user", "assistant"]
    assert conv.last_reply.text == "Hi!" and abs(conv.last_reply.audio.duration - 0.1) < 0.001
    assert page.of("ended")[0]["error"] == live.error
    assert "sk-drop-canary" not in repr(page.received) + live.error


def test_a_malformed_event_is_said_in_the_widget_and_the_session_goes_on():
    """A scripted server that sends an event the protocol does not allow (an item that is a string),
    then a reply: the page is told, the reply still arrives and is recorded (issue 26, item 8)."""
    import json

    from websockets.exceptions import ConnectionClosed

    from tests.support.faults import ScriptedWebSocket

    def malformed_then_a_reply(ws):
        ws.send(json.dumps({"type": "session.created", "session": {"type": "realtime"}}))
        json.loads(ws.recv())  # session.update
        ws.send(json.dumps({"type": "session.updated", "session": {"type": "realtime"}}))
        for event in ({"type": "conversation.item.added", "item": "not an item"},
                      {"type": "response.created", "response": {"id": "r1"}},
                      {"type": "response.output_item.added", "response_id": "r1",
                       "item": {"id": "a1", "role": "assistant", "type": "message"}},
                      {"type": "response.output_audio_transcript.done", "item_id": "a1", "transcript": "Hi!"},
                      {"type": "response.done", "response": {"id": "r1", "status": "completed",
                                                             "output": [{"id": "a1", "status": "completed"}]}}):
            ws.send(json.dumps(event))
        try:
            ws.recv()  # held open until the page stops
        except ConnectionClosed:
            pass

    with ScriptedWebSocket(malformed_then_a_reply) as server, \
            Client(server.base_url, api_key="sk-malformed-canary-7b8c") as client:
        live = LiveSession(client=client)
        page = Page(live)
        page.start()
        page.wait_for(lambda p: p.of("response_done") or p.of("ended"), "the reply after the malformed event")
        assert not page.of("ended"), page.of("ended")  # the session ended on the malformed event before
        page.message({"type": "live:stop"})
        conv = live.wait(WAIT_S)
    said = [e["text"] for e in page.of("error")]
    assert len(said) == 1 and "item of the Realtime event conversation.item.added" in said[0], said
    assert live.result.reason == "user" and not live.error and conv.last_reply.text == "Hi!"


def test_a_piece_too_short_for_the_resampler_to_give_anything_is_no_error(client):
    """At 48 kHz a few samples come out of the streaming resampler as nothing (it holds them back):
    nothing is sent, and the page is told no error (it was: "samples must be a non-empty ... array",
    whenever a spoken turn's last piece happened to be that short)."""
    live = LiveSession(client=client, vad="manual", language="en")
    page = Page(live)
    page.start()
    page.wait_for(lambda p: p.of("ready") or p.of("ended"), "the session to open")
    page.message({"type": "live:talk"})
    page.speak(np.zeros(5, np.int16))
    page.message({"type": "live:stop"})
    live.wait(WAIT_S)
    assert not page.of("error") and not live.error, page.of("error")


def test_a_sample_rate_no_browser_has_is_refused_before_connecting():
    for reported in (True, 100, 48000.5, "48000"):
        live = LiveSession(client=Client("http://127.0.0.1:9/v1"))
        page = Page(live)
        page.start(rate=reported)
        assert "not usable" in page.of("ended")[0]["error"] and live.state == "idle"
    live = LiveSession(client=Client("http://127.0.0.1:9/v1"))
    Page(live).start(rate=48000.0)  # JSON's 48000.0 is a rate: the session starts (and fails to connect)
    live.wait(WAIT_S)
    assert "could not be reached" in live.error


def test_a_spoken_question_calls_a_notebook_function_and_the_answer_reads_its_result(client, engine):
    asked = []

    def get_weather(city: str) -> dict:
        """The current weather in a city."""
        asked.append(city)
        return {"temperature_c": 18, "sky": "sunny"}

    question = client.speak("What is the weather in Paris?", model="tts-1", voice="alloy", response_format="wav")
    live = LiveSession(client=client, vad="manual", tools=[get_weather], language="en")
    assert live.session_config()["tools"][0]["name"] == "get_weather"
    page = Page(live)
    page.start()
    page.wait_for(lambda p: p.of("ready"), "the session to open")
    page.message({"type": "live:talk"})
    page.speak(mic(question.to_wav(), tail_s=0.2))
    page.message({"type": "live:send"})
    page.wait_for(lambda p: len(p.of("response_done")) >= 2 or p.of("error"), "the call, then the answer")
    assert not page.of("error"), page.of("error") + page.of("notice")
    page.message({"type": "live:stop"})
    live.wait(WAIT_S)
    assert asked == ["Paris"]
    assert [m["text"] for m in page.of("notice") if m["text"].startswith("ran get_weather")]
    [run] = live.result.tool_runs
    assert run.arguments == {"city": "Paris"} and run.error is None
    answer = live.conversation.last_reply.text
    assert "18" in answer or "sunny" in answer.lower(), answer
    assert "get_weather" in live.record.summary


def test_a_function_that_cannot_be_a_tool_is_refused_in_the_cell():
    def mean(values):
        return sum(values) / len(values)

    with pytest.raises(InvalidInputError, match=r"mean\(values\) has no type hint"):
        LiveSession(tools=[mean])


def test_voice_live_tools_names_notebook_functions(shell, voice, client):
    def get_weather(city: str) -> str:
        """The current weather in a city."""
        return "sunny"

    voice.client = client
    shell.user_ns.update(get_weather=get_weather, not_a_function=42)
    with pytest.raises(UsageError, match="'not_a_function' is not a function"):
        shell.run_line_magic("voice", "live --tools get_weather,not_a_function")
    shell.run_line_magic("voice", "live --vad manual --tools get_weather")
    assert [t["name"] for t in voice.live_session.session_config()["tools"]] == ["get_weather"]
