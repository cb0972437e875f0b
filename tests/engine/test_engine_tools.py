"""Tool calls through `nbaudio serve --chat-upstream` (issue 14, bug 5).

The upstream is a scripted OpenAI-shaped text chat server (pytest-httpserver): no local model
calls tools on demand, and a text LLM is exactly what `--chat-upstream` fronts. Its replies
follow the OpenAI chat streaming format: the first `delta.tool_calls` fragment of a call carries
index, id, type and name, the next ones only pieces of `arguments`. The engine in between is
real (transcription and speech on the session's models).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug import Request, Response

import nbaudio
from nbaudio import local
from nbaudio.metrics import word_error_rate

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
TIME_TOOL = {"type": "function", "function": {
    "name": "get_time", "description": "The local time in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
ANSWER = "It is sunny in Paris and the time is noon."
QUESTION = "What is the weather and the time in Paris?"


def _sse(chunks: list[dict[str, Any]]) -> bytes:
    return b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "chatcmpl-up", "object": "chat.completion.chunk", "created": 1, "model": "up-model",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _tool_call_stream() -> bytes:
    """Two parallel calls, arguments in pieces, as the OpenAI API streams them."""
    return _sse([
        _chunk({"role": "assistant", "content": None, "tool_calls": [
            {"index": 0, "id": "call_weather1", "type": "function",
             "function": {"name": "get_weather", "arguments": ""}}]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"ci'}}]}),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'ty": "Paris"}'}}]}),
        _chunk({"tool_calls": [{"index": 1, "id": "call_time2", "type": "function",
                                "function": {"name": "get_time", "arguments": '{"city": "Paris"}'}}]}),
        _chunk({}, finish="tool_calls"),
        {"id": "chatcmpl-up", "object": "chat.completion.chunk", "created": 1, "model": "up-model", "choices": [],
         "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70}},
    ])


def _answer_stream() -> bytes:
    words = ANSWER.split(" ")
    return _sse([_chunk({"role": "assistant", "content": ""})]
                + [_chunk({"content": w + ("" if i == len(words) - 1 else " ")}) for i, w in enumerate(words)]
                + [_chunk({}, finish="stop")])


EXPECTED_CALLS = [
    {"id": "call_weather1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
    {"id": "call_time2", "type": "function", "function": {"name": "get_time", "arguments": '{"city": "Paris"}'}},
]


class Upstream:
    """Answers with tool calls until the conversation holds tool results, then with ANSWER."""

    def __init__(self, streams: bool = True) -> None:
        self.streams = streams
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: Request) -> Response:
        body = json.loads(request.get_data())
        self.bodies.append(body)
        answered = any(m.get("role") == "tool" for m in body["messages"])
        if not self.streams:  # an upstream that ignores stream=true and sends one chat.completion
            message = ({"role": "assistant", "content": ANSWER} if answered else
                       {"role": "assistant", "content": None, "tool_calls": EXPECTED_CALLS})
            return Response(json.dumps({"id": "chatcmpl-up", "object": "chat.completion", "created": 1,
                                        "model": "up-model", "choices": [{
                                            "index": 0, "message": message,
                                            "finish_reason": "stop" if answered else "tool_calls"}]}),
                            content_type="application/json")
        return Response(_answer_stream() if answered else _tool_call_stream(), content_type="text/event-stream")


@pytest.fixture(params=["sse", "json"])
def bridge(request, engine, httpserver) -> Iterator[tuple[local.LocalServer, Upstream]]:
    upstream = Upstream(streams=request.param == "sse")
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(upstream)
    with local.start(models=engine.app.state.engine.models, chat_upstream=httpserver.url_for("/v1")) as server:
        yield server, upstream


def _tool_results(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    results = {"get_weather": "sunny, 24 C", "get_time": "12:00"}
    return [{"role": "tool", "tool_call_id": c["id"], "content": results[c["function"]["name"]]} for c in calls]


def test_tool_calls_pass_through_without_audio_then_the_answer_is_spoken(bridge):
    server, upstream = bridge
    client = nbaudio.Client(server.base_url, max_retries=0)
    messages = [{"role": "user", "content": QUESTION}]
    reply = client.chat(messages, voice="coral", tools=[WEATHER_TOOL, TIME_TOOL])
    assert upstream.bodies[0]["tools"] == [WEATHER_TOOL, TIME_TOOL]
    assert reply.finish_reason == "tool_calls"
    assert reply.tool_calls == EXPECTED_CALLS
    # Nothing to say yet: no audio (not 0.1 s of silence), no text, no audio id to refer back to.
    assert reply.audio is None and reply.audio_id is None and reply.text == ""
    assert reply.raw["choices"][0]["message"]["content"] is None

    # The follow-up turn: the assistant's calls and the tool results go back to the upstream.
    messages += [{"role": "assistant", "content": None, "tool_calls": reply.tool_calls},
                 *_tool_results(reply.tool_calls)]
    final = client.chat(messages, voice="coral", tools=[WEATHER_TOOL, TIME_TOOL])
    sent = upstream.bodies[1]["messages"]
    assert sent[1] == {"role": "assistant", "content": None, "tool_calls": EXPECTED_CALLS}
    assert sent[2] == {"role": "tool", "tool_call_id": "call_weather1", "content": "sunny, 24 C"}
    assert sent[3] == {"role": "tool", "tool_call_id": "call_time2", "content": "12:00"}
    assert final.finish_reason == "stop" and final.tool_calls is None
    assert final.transcript == ANSWER and final.audio_id
    assert 1.0 < final.audio.duration < 10.0  # nine words spoken
    # The spoken answer, heard back: piper's voice varies per call, and tiny.en now and then mishears
    # a word of it ("signing" for "sunny"), so one of nine may differ.
    heard = client.transcribe(final.audio).text
    assert word_error_rate(ANSWER, heard) <= 1 / 9, heard


def test_streamed_tool_calls_arrive_as_delta_fragments(bridge):
    server, upstream = bridge
    client = nbaudio.Client(server.base_url, max_retries=0)
    stream = client.chat([{"role": "user", "content": QUESTION}], voice="coral", tools=[WEATHER_TOOL, TIME_TOOL],
                         stream=True)
    reply = stream.collect()
    assert reply.finish_reason == "tool_calls"
    assert reply.tool_calls == EXPECTED_CALLS
    assert reply.audio is None and reply.audio_id is None and reply.text == ""


def test_streamed_fragments_have_the_openai_shape(bridge):
    """On the wire: the first fragment of each call has index, id, type and name; the rest add arguments."""
    import requests

    server, upstream = bridge
    r = requests.post(server.base_url + "/chat/completions", stream=True, timeout=60, json={
        "model": "up-model", "modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": "pcm16"},
        "stream": True, "tools": [WEATHER_TOOL, TIME_TOOL], "messages": [{"role": "user", "content": QUESTION}]})
    assert r.status_code == 200, r.text
    chunks = [json.loads(line[6:]) for line in r.iter_lines(decode_unicode=True)
              if line.startswith("data: ") and line != "data: [DONE]"]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    fragments = [f for d in deltas for f in d.get("tool_calls") or []]
    firsts = [f for f in fragments if "id" in f]
    assert [(f["index"], f["id"], f["type"], f["function"]["name"]) for f in firsts] == [
        (0, "call_weather1", "function", "get_weather"), (1, "call_time2", "function", "get_time")]
    assert all(set(f) <= {"index", "id", "type", "function"} and isinstance(f["index"], int) for f in fragments)
    args = {0: "", 1: ""}
    for f in fragments:
        args[f["index"]] += f["function"].get("arguments", "")
    assert {k: json.loads(v) for k, v in args.items()} == {0: {"city": "Paris"}, 1: {"city": "Paris"}}
    assert not any("audio" in d for d in deltas)  # no audio id, no silence
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_streamed_follow_up_after_tool_results_speaks(bridge):
    server, upstream = bridge
    client = nbaudio.Client(server.base_url, max_retries=0)
    messages = [{"role": "user", "content": QUESTION},
                {"role": "assistant", "content": None, "tool_calls": EXPECTED_CALLS}, *_tool_results(EXPECTED_CALLS)]
    reply = client.chat(messages, voice="coral", tools=[WEATHER_TOOL, TIME_TOOL], stream=True).collect()
    assert reply.transcript == ANSWER and reply.tool_calls is None and reply.finish_reason == "stop"
    assert reply.audio is not None and 1.0 < reply.audio.duration < 10.0
