"""Costs of answers whose usage comes at the end: a streamed transcription (its
transcript.text.done), a streamed chat (its last chunk, asked for with stream_options) and a
Realtime session (each response.done), against scripted servers that report given token counts:
the cost is those counts at the table's prices, shown where a non-streamed answer's is, and
"unknown" (never a number) without a usage or a price."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosed
from werkzeug import Request, Response

import nbaudio
import nbaudio.realtime
from nbaudio import AudioClip, Client, Prices
from nbaudio._wire.sse import format_sse
from tests.support.faults import ScriptedWebSocket
from tests.support.magic_fakes import wav_bytes
from tests.support.signals import tone_pcm16

CLIP = AudioClip(wav_bytes(tone_pcm16(0.5, amp=0.3)), "wav")
TOKENS = {"type": "tokens", "input_tokens": 130, "output_tokens": 12, "total_tokens": 142,
          "input_token_details": {"text_tokens": 30, "audio_tokens": 100}}
PRICE = Prices.openai().price("gpt-4o-mini-transcribe")


def _sse(events: list[dict]) -> Response:
    return Response(b"".join(format_sse(e) for e in events) + b"data: [DONE]\n\n", content_type="text/event-stream")


def test_a_streamed_transcription_costs_its_usage(httpserver):
    def transcribe(request: Request) -> Response:
        assert request.form["stream"] == "true"
        done = {"type": "transcript.text.done", "text": "hello there"}
        if request.form["model"] != "no-usage":
            done["usage"] = TOKENS
        return _sse([{"type": "transcript.text.delta", "delta": "hello"},
                     {"type": "transcript.text.delta", "delta": " there"}, done])

    httpserver.expect_request("/v1/audio/transcriptions").respond_with_handler(transcribe)
    with Client(httpserver.url_for("/v1"), max_retries=0) as c:
        stream = c.transcribe(CLIP, model="gpt-4o-mini-transcribe", stream=True, response_format="json")
        assert "".join(stream) == "hello there"
        t = stream.result
        bare = c.transcribe(CLIP, model="no-usage", stream=True, response_format="json").collect()
    want = (30 * PRICE.text_input_per_1m + 100 * PRICE.audio_input_per_1m + 12 * PRICE.text_output_per_1m) / 1e6
    assert t.model == "gpt-4o-mini-transcribe" and t.cost.usd == pytest.approx(want)
    assert "100 audio input tokens" in t.cost.basis
    assert f"gpt-4o-mini-transcribe: {t.cost}" in t._repr_mimebundle_()["text/html"]
    assert bare.cost is not None and str(bare.cost) == "unknown" and "no price" in bare.cost.basis


def _chunk(delta: dict, **more) -> dict:
    return {"id": "c1", "object": "chat.completion.chunk", "model": "gpt-4o-audio-preview-2025-06-03",
            "choices": [{"index": 0, "delta": delta, "finish_reason": more.pop("finish", None)}], **more}


def test_a_streamed_chat_costs_the_usage_of_its_last_chunk(httpserver):
    sent: list[dict] = []
    usage = {"prompt_tokens": 40, "completion_tokens": 25, "total_tokens": 65,
             "prompt_tokens_details": {"text_tokens": 40, "audio_tokens": 0, "cached_tokens": 0},
             "completion_tokens_details": {"text_tokens": 5, "audio_tokens": 20}}

    def chat(request: Request) -> Response:
        body = json.loads(request.data)
        sent.append(body)
        chunks = [_chunk({"role": "assistant", "content": "Hi"}), _chunk({"content": " there"}, finish="stop")]
        if body["messages"][-1]["content"] != "no usage":
            chunks.append({**_chunk({}), "choices": [], "usage": usage})
        return _sse(chunks)

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(chat)
    with Client(httpserver.url_for("/v1"), max_retries=0) as c:
        reply = c.chat("hello", modalities=["text"], stream=True).collect()
        bare = c.chat("no usage", modalities=["text"], stream=True).collect()
    assert sent[0]["stream_options"] == {"include_usage": True}  # what makes OpenAI send the usage
    price = Prices.openai().price("gpt-4o-audio-preview")
    want = (40 * price.text_input_per_1m + 5 * price.text_output_per_1m + 20 * price.audio_output_per_1m) / 1e6
    assert reply.text == "Hi there" and reply.cost.usd == pytest.approx(want)
    assert f"cost: {reply.cost}" in reply._repr_mimebundle_()["text/html"]
    assert str(bare.cost) == "unknown" and bare.cost.basis == "the answer gave no token usage"


def _session(usages: list[dict | None]):
    """A Realtime server that answers each response.create with a text reply and a response.done
    carrying the next of `usages`."""
    def script(ws) -> None:
        ws.send(json.dumps({"type": "session.created", "event_id": "e0", "session": {"type": "realtime"}}))
        for n, usage in enumerate(usages):
            assert json.loads(ws.recv())["type"] == "response.create"
            item = {"id": f"item_{n}", "type": "message", "role": "assistant", "status": "completed", "content": []}
            ws.send(json.dumps({"type": "response.output_item.added", "event_id": f"a{n}", "response_id": f"r{n}",
                                "output_index": 0, "item": {**item, "status": "in_progress"}}))
            ws.send(json.dumps({"type": "response.output_text.done", "event_id": f"t{n}", "response_id": f"r{n}",
                                "item_id": item["id"], "output_index": 0, "content_index": 0, "text": f"reply {n}"}))
            response = {"id": f"r{n}", "object": "realtime.response", "status": "completed", "output": [item]}
            if usage is not None:
                response["usage"] = usage
            ws.send(json.dumps({"type": "response.done", "event_id": f"d{n}", "response": response}))
        try:
            ws.recv()  # until the client closes
        except ConnectionClosed:
            pass
    return script


REALTIME_USAGE = {"total_tokens": 380, "input_tokens": 300, "output_tokens": 80,
                  "input_token_details": {"text_tokens": 100, "audio_tokens": 200, "cached_tokens": 50},
                  "output_token_details": {"text_tokens": 20, "audio_tokens": 60}}


def test_a_realtime_sessions_responses_cost_their_usage():
    with ScriptedWebSocket(_session([REALTIME_USAGE, REALTIME_USAGE])) as server:
        client = Client(server.base_url, api_key="sk-scripted-not-checked")
        with nbaudio.realtime.connect("gpt-4o-realtime-preview", client=client) as rt:
            for _ in range(2):
                rt.create_response()
                rt.wait_for("response.done")
            conv, total = rt.conversation, rt.cost
    p = Prices.openai().price("gpt-4o-realtime-preview")
    # 50 cached of the 100 text input tokens; the 200 audio ones at the audio price
    one = (50 * p.cached_input_per_1m + 50 * p.text_input_per_1m + 200 * p.audio_input_per_1m
           + 20 * p.text_output_per_1m + 60 * p.audio_output_per_1m) / 1e6
    replies = [r for _, r in conv.turns() if r is not None]
    assert [r.cost.usd for r in replies] == [pytest.approx(one)] * 2 and total.usd == pytest.approx(2 * one)
    assert f"cost: {replies[0].cost}" in conv._repr_mimebundle_()["text/html"]


def test_a_realtime_model_without_a_price_or_a_response_without_usage_is_unknown():
    for model, usages in (("gpt-realtime", [REALTIME_USAGE]), ("gpt-4o-realtime-preview", [None])):
        with ScriptedWebSocket(_session(usages)) as server:
            client = Client(server.base_url, api_key="sk-scripted-not-checked")
            with nbaudio.realtime.connect(model, client=client) as rt:
                rt.create_response()
                rt.wait_for("response.done")
                reply = rt.conversation.last_reply
                assert str(reply.cost) == "unknown" and str(rt.cost) == "unknown", model
