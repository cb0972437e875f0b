"""What the hostile server-data tests serve: a loopback HTTP server (pytest-httpserver) whose one
answer a test sets, a scripted Realtime server whose events a test sets, well-formed answers of
each shape to spoil, and the Hypothesis strategies that spoil them."""

from __future__ import annotations

import copy
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from werkzeug import Response

import nbaudio
from nbaudio.audio import AudioClip
from nbaudio.chat import ChatReply, Usage
from nbaudio.errors import RealtimeClosedError
from nbaudio.transcript import Segment, Transcript, Word
from tests.hostile.canary import CANARY, assert_no_key
from tests.support.faults import ScriptedWebSocket

# ---- serving -----------------------------------------------------------------------------------


@dataclass
class Answer:
    body: bytes = b"{}"
    content_type: str = "application/json"
    status: int = 200


class AnswerServer:
    """Answers every request with `answer` (set it before each call), on loopback."""

    def __init__(self) -> None:
        self.answer = Answer()
        self.http = HTTPServer(host="127.0.0.1", port=0)
        self.http.expect_request(re.compile(".*")).respond_with_handler(self._respond)
        self.http.start()

    def _respond(self, _request) -> Response:
        a = self.answer
        return Response(a.body, status=a.status, content_type=a.content_type)

    def serve(self, body: Any, content_type: str = "application/json", status: int = 200) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.answer = Answer(data, content_type, status)

    def serve_events(self, events: list[Any]) -> None:
        """An SSE body, one `data:` line per event (strings as they are, anything else as JSON)."""
        self.serve(b"".join(b"data: " + (e if isinstance(e, str) else json.dumps(e)).encode() + b"\n\n"
                            for e in events), "text/event-stream")

    def client(self) -> nbaudio.Client:
        return nbaudio.Client(self.http.url_for("/v1"), api_key=CANARY, max_retries=0, timeout=20)

    def close(self) -> None:
        self.http.clear()
        if self.http.is_running():
            self.http.stop()


@dataclass
class RealtimeScript:
    """A Realtime server that sends session.created, then `events` (raw strings as they are), then closes."""

    events: list[Any] = field(default_factory=list)
    server: ScriptedWebSocket | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.server = ScriptedWebSocket(self._run)

    def _run(self, ws) -> None:
        with self.lock:
            events = list(self.events)
        ws.send(json.dumps({"type": "session.created", "event_id": "event_0", "session": {"type": "realtime"}}))
        for event in events:
            ws.send(event if isinstance(event, str) else json.dumps(event))
        ws.close()

    def client(self) -> nbaudio.Client:
        assert self.server is not None
        return nbaudio.Client(self.server.base_url, api_key=CANARY, max_retries=0)

    def read_all(self, events: list[Any]) -> tuple[Any, list[Exception]]:
        """Connect, read every event to the close; returns (the session, the errors raised on the way:
        a malformed event raises, and reading goes on after it)."""
        with self.lock:
            self.events = events
        errors: list[Exception] = []
        rt = nbaudio.realtime.connect(client=self.client(), first_event_timeout=10, timeout=10)
        with rt:
            while True:
                try:
                    for _ in rt.events():
                        pass
                except RealtimeClosedError:
                    break
                except nbaudio.errors.NbAudioError as exc:
                    assert_no_key(str(exc))
                    errors.append(exc)
        return rt, errors

    def close(self) -> None:
        assert self.server is not None
        self.server.__exit__()


# ---- well-formed answers, to spoil ---------------------------------------------------------------

AUDIO_B64 = "AAABAAIAAwA="  # 4 pcm16 samples

CHAT = {
    "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-audio-preview",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": "Hi there", "refusal": None, "tool_calls": None,
        "audio": {"id": "audio_1", "data": AUDIO_B64, "transcript": "Hi there", "expires_at": 1900000000}}}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8,
              "prompt_tokens_details": {"text_tokens": 3, "audio_tokens": 0, "cached_tokens": 0},
              "completion_tokens_details": {"text_tokens": 2, "audio_tokens": 3}},
}

TRANSCRIPTION = {
    "task": "transcribe", "language": "english", "duration": 2.0, "text": "hello there",
    "words": [{"word": "hello", "start": 0.0, "end": 0.5}, {"word": "there", "start": 0.6, "end": 1.0}],
    "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": 1.0, "text": "hello there", "speaker": "A",
                  "tokens": [1, 2], "temperature": 0.0, "avg_logprob": -0.2, "compression_ratio": 1.0,
                  "no_speech_prob": 0.01, "words": [{"word": "hello", "start": 0.0, "end": 0.5, "probability": 0.9}]}],
    "usage": {"type": "duration", "seconds": 2},
}

SPEECH_EVENTS = [{"type": "speech.audio.delta", "audio": AUDIO_B64},
                 {"type": "speech.audio.done", "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}}]

TRANSCRIPTION_EVENTS = [
    {"type": "transcript.text.delta", "delta": "hello"},
    {"type": "transcript.text.segment", "id": "seg_0", "start": 0.0, "end": 1.0, "text": "hello", "speaker": "A"},
    {"type": "transcript.text.done", "text": "hello", "usage": {"type": "tokens", "input_tokens": 1}},
]

CHAT_CHUNKS = [
    {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}}]},
    {"id": "c1", "choices": [{"index": 0, "delta": {"audio": {"id": "a1", "data": AUDIO_B64, "transcript": "Hi",
                                                              "expires_at": 1900000000}}}]},
    {"id": "c1", "choices": [{"index": 0, "delta": {"tool_calls": [
        {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}}]},
    {"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    {"id": "c1", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}},
]

REALTIME_EVENTS = [
    {"type": "input_audio_buffer.speech_started", "item_id": "item_u", "audio_start_ms": 0},
    {"type": "input_audio_buffer.speech_stopped", "item_id": "item_u", "audio_end_ms": 500},
    {"type": "input_audio_buffer.committed", "item_id": "item_u", "previous_item_id": None},
    {"type": "conversation.item.added", "item": {"id": "item_u", "type": "message", "role": "user",
                                                 "status": "completed", "content": [{"type": "input_audio"}]}},
    {"type": "conversation.item.input_audio_transcription.completed", "item_id": "item_u", "transcript": "hello"},
    {"type": "response.output_item.added", "response_id": "resp_1", "item": {
        "id": "item_a", "type": "message", "role": "assistant", "status": "in_progress", "content": []}},
    {"type": "response.output_audio.delta", "response_id": "resp_1", "item_id": "item_a", "delta": AUDIO_B64},
    {"type": "response.output_audio_transcript.done", "item_id": "item_a", "transcript": "Hi there"},
    {"type": "conversation.item.truncated", "item_id": "item_a", "audio_end_ms": 0},
    {"type": "response.done", "response": {"id": "resp_1", "status": "completed", "usage": {
        "input_tokens": 1, "output_tokens": 2, "total_tokens": 3, "input_token_details": {"audio_tokens": 1}},
        "output": [{"id": "item_a", "status": "completed"}]}},
    {"type": "error", "error": {"type": "invalid_request_error", "code": "x", "message": "m", "param": None}},
]

# ---- spoiling them -------------------------------------------------------------------------------

JSON_SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
                | st.text(max_size=12) | st.just(CANARY) | st.sampled_from(["", "0", "12", "1e400", "-1", "NaN"]))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (keys and indices) into a JSON value, its root included."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, prefix + (i,))
    return out


def replaced(value: Any, path: tuple, new: Any) -> Any:
    """A copy of `value` with what is at `path` replaced by `new`."""
    if not path:
        return new
    out = copy.deepcopy(value)
    holder = out
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = new
    return out


def spoiled(template: Any) -> st.SearchStrategy:
    """`template` with one or two of its values (anywhere, the whole included) replaced by arbitrary JSON."""
    every = paths(template)

    def spoil(value: Any, draw_path, draw_value) -> Any:
        return replaced(value, draw_path, draw_value)

    once = st.builds(spoil, st.just(template), st.sampled_from(every), JSON_VALUES)
    return once | once.flatmap(lambda v: st.builds(spoil, st.just(v), st.sampled_from(paths(v)), JSON_VALUES))


RAW_MESSAGES = ("[DONE]", "not json", "{")  # events sent as they are, not as JSON


def spoiled_events(template: list[Any]) -> st.SearchStrategy:
    """A list of events with values replaced, and arbitrary events (or strings) put in."""
    return spoiled(template).flatmap(lambda events: st.builds(
        lambda extra, at: events[:at] + extra + events[at:] if isinstance(events, list) else [events],
        st.lists(JSON_VALUES | st.sampled_from(RAW_MESSAGES), max_size=2),
        st.integers(0, len(events) if isinstance(events, list) else 0)))


# ---- what a result must look like --------------------------------------------------------------


def check_reply(reply: ChatReply) -> None:
    assert isinstance(reply, ChatReply) and isinstance(reply.text, str)
    for text in (reply.content, reply.transcript, reply.refusal, reply.audio_id, reply.finish_reason, reply.model,
                 reply.id):
        assert text is None or isinstance(text, str)
    assert reply.expires_at is None or isinstance(reply.expires_at, int)
    reply.expired()
    assert reply.audio is None or isinstance(reply.audio, AudioClip)
    assert reply.tool_calls is None or all(isinstance(tc, dict) for tc in reply.tool_calls)
    if reply.usage is not None:
        assert isinstance(reply.usage, Usage)
        assert all(isinstance(n, int) for n in (reply.usage.prompt_tokens, reply.usage.completion_tokens,
                                                 reply.usage.total_tokens))
        str(reply.usage)
    repr(reply), str(reply)


def check_transcript(t: Transcript) -> None:
    assert isinstance(t, Transcript) and isinstance(t.text, str)
    assert t.language is None or isinstance(t.language, str)
    assert t.duration is None or isinstance(t.duration, float)
    for piece in [*t.segments, *t.words, *(w for s in t.segments for w in s.words)]:
        assert isinstance(piece, (Segment, Word))
        assert isinstance(piece.start, float) and isinstance(piece.end, float)
    for s in t.segments:
        assert isinstance(s.text, str) and (s.speaker is None or isinstance(s.speaker, str))
    for fmt in ("json", "verbose_json", "diarized_json"):
        json.dumps(t.to_dict(fmt))
    t.to_srt(), t.to_vtt(), repr(t), t.speakers, t.by_speaker()
