"""The engine against hostile and unlucky input (issue 26, held-out findings): JSON nested 100 000
deep on WS /v1/realtime and on the HTTP routes is answered like any malformed input, with no
traceback in the log; a local reply the token cap cuts ends on a whole sentence (or line), not
mid-word, streamed or not, also when its characters take several tokens each; and an upstream
(`--chat-upstream`) that answers odd JSON gets a 502 upstream_error, never a crash."""

from __future__ import annotations

import json
import logging

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import connect

pytestmark = pytest.mark.timeout(600)

DEEP = 100_000
# Depths around the interpreter's recursion limit (what json.loads survives depends on the stack
# it starts from) and far beyond it.
DEPTHS = (64, 500, 900, 980, 1000, 1100, 5000, DEEP)


def _nested(depth: int, kind: str, leaf: str = "1") -> str:
    if kind == "array":
        return "[" * depth + leaf + "]" * depth
    return '{"a":' * depth + leaf + "}" * depth


@pytest.fixture
def engine_log(caplog):
    """What the engine logs at WARNING and above (its thread logs through the same logging)."""
    caplog.set_level(logging.WARNING)
    return caplog


def _no_traceback(log) -> None:
    bad = [r for r in log.records if r.exc_info or "Traceback" in r.getMessage() or "RecursionError" in r.getMessage()]
    assert not bad, [r.getMessage() for r in bad]


# ---- WS /v1/realtime --------------------------------------------------------------------------

def _realtime(engine):
    return connect(engine.base_url.replace("http://", "ws://") + "/realtime?model=gpt-realtime", max_size=None)


def _event(ws) -> dict:
    return json.loads(ws.recv(timeout=60))


@pytest.mark.parametrize("kind", ["array", "object"])
def test_realtime_message_nested_100k_deep_is_an_error_event_and_the_session_goes_on(engine, engine_log, kind):
    with _realtime(engine) as ws:
        assert _event(ws)["type"] == "session.created"
        ws.send(_nested(DEEP, kind))
        event = _event(ws)
        assert event["type"] == "error", event
        assert event["error"]["code"] == "invalid_json" and "nested" in event["error"]["message"], event
        assert event["error"]["type"] == "invalid_request_error"
        # The session is still open and still answers.
        ws.send(json.dumps({"type": "session.update", "session": {"type": "realtime", "instructions": "Be brief."}}))
        assert _event(ws)["type"] == "session.updated"
    _no_traceback(engine_log)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.sampled_from(DEPTHS) | st.integers(1, 3000), kind=st.sampled_from(["array", "object"]),
       where=st.sampled_from(["whole", "type", "session", "item", "event_id"]))
def test_realtime_any_nesting_anywhere_is_answered_without_a_traceback(engine, engine_log, depth, kind, where):
    """Deep values inside an event, where handlers look at them (the type, the session, an item),
    get an error event or are handled; the session never fails with internal_error."""
    nested = _nested(depth, kind)
    message = {
        "whole": nested,
        "type": '{"type":' + nested + "}",
        "session": '{"type":"session.update","session":' + nested + "}",
        "item": '{"type":"conversation.item.create","item":' + nested + "}",
        "event_id": '{"type":"session.update","event_id":' + nested + ',"session":{"type":"realtime"}}',
    }[where]
    with _realtime(engine) as ws:
        assert _event(ws)["type"] == "session.created"
        ws.send(message)
        event = _event(ws)
        assert event["type"] in ("error", "session.updated"), event
        if event["type"] == "error":
            assert event["error"]["code"] != "internal_error", event
    _no_traceback(engine_log)


# ---- HTTP -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["array", "object"])
def test_chat_body_nested_100k_deep_is_a_clear_400(engine, engine_log, kind):
    body = '{"model":"gpt-4o","messages":' + _nested(DEEP, kind) + "}"
    r = requests.post(engine.base_url + "/chat/completions", data=body,
                      headers={"content-type": "application/json"}, timeout=60)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert "nested" in error["message"] and error["type"] == "invalid_request_error", error
    _no_traceback(engine_log)


@pytest.mark.parametrize(("body", "says"), [
    (b'{"model":"gpt-4o","messages":[{"role":"user","content":"caf\xe9"}]}', "not UTF-8"),
    (b'{"model":"gpt-4o","messages":[', "could not parse the JSON body"),
])
def test_chat_body_not_utf8_or_not_json_is_a_400_that_says_so(engine, engine_log, body, says):
    r = requests.post(engine.base_url + "/chat/completions", data=body,
                      headers={"content-type": "application/json"}, timeout=60)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert says in error["message"] and error["param"] is None, error  # not the byte offset as a "param"
    _no_traceback(engine_log)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.sampled_from(DEPTHS) | st.integers(1, 3000), kind=st.sampled_from(["array", "object"]),
       where=st.sampled_from(["messages", "content", "model", "stop", "tools", "stream_options", "audio"]))
def test_chat_body_any_nesting_anywhere_is_never_a_500(engine, engine_log, depth, kind, where):
    nested = _nested(depth, kind)
    user = '{"role":"user","content":"Hi"}'
    fields = {"model": '"gpt-4o"', "messages": "[" + user + "]", "max_tokens": "1"}
    if where == "content":
        fields["messages"] = '[{"role":"user","content":' + nested + "}]"
    else:
        fields[where] = nested
    body = "{" + ",".join(f'"{k}":{v}' for k, v in fields.items()) + "}"
    r = requests.post(engine.base_url + "/chat/completions", data=body,
                      headers={"content-type": "application/json"}, timeout=120)
    assert r.status_code < 500, r.text
    _no_traceback(engine_log)


@pytest.mark.parametrize("field", ["timestamp_granularities[]", "chunking_strategy"])
def test_form_field_nested_100k_deep_is_a_400(engine, engine_log, speech_clips, field):
    wav = next(iter(speech_clips.values()))
    r = requests.post(engine.base_url + "/audio/transcriptions", timeout=120,
                      files={"file": ("a.wav", wav, "audio/wav")},
                      data={"model": "whisper-1", field: "[" * DEEP + "]" * DEEP})
    assert r.status_code == 400, r.text
    assert "nested" in r.json()["error"]["message"]
    _no_traceback(engine_log)


# ---- a reply cut by the token cap -------------------------------------------------------------

# The prompt, and prompts about it whose replies have characters of several tokens each
# (CJK, Cyrillic, emoji): llama-cpp-python streams such a character as one chunk, so counting
# chunks as tokens put the sentence window past the cap and the reply stopped mid-word ("...\nY").
CUT_PROMPTS = (
    "What do bees make?",
    "Translate 'What do bees make?' into Chinese, Japanese, Russian and Greek, and explain each.",
    "What do bees make? Answer in Russian.",
    "Write a long line of bee emojis like 🐝🐝🐝🐝🐝🐝 and nothing else.",
)
CAP = 200  # the engine's default max_tokens (Settings.llm_max_tokens)
SENTENCE_END = ".!?…。！？\"'”’)]"


def _raw_reply(engine, prompt: str) -> str:
    """What the model itself says within the cap, uncut: greedy decoding from an empty context, as
    the engine's next reply will be (llama.cpp reuses a cached prompt prefix, and a prompt evaluated
    in other batches can tip a greedy choice: the same question asked twice may get another answer)."""
    backend = engine.app.state.engine.chat_backend()
    with backend.lock:
        backend.llm.reset()
        out = backend.llm.create_chat_completion(messages=[{"role": "user", "content": prompt}], max_tokens=CAP,
                                                 **backend.defaults)
        backend.llm.reset()
    return out["choices"][0]["message"]["content"]


def _ask(engine, prompt: str, stream: bool) -> tuple[str, str, int]:
    """(text, finish reason, completion tokens) of the engine's reply with default settings."""
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}]}
    if not stream:
        r = requests.post(engine.base_url + "/chat/completions", json=body, timeout=300)
        r.raise_for_status()
        reply = r.json()
        return (reply["choices"][0]["message"]["content"], reply["choices"][0]["finish_reason"],
                reply["usage"]["completion_tokens"])
    body.update(stream=True, stream_options={"include_usage": True})
    text, finish, tokens = "", None, None
    with requests.post(engine.base_url + "/chat/completions", json=body, timeout=300, stream=True) as r:
        r.raise_for_status()
        for line in r.iter_lines(decode_unicode=True):
            if not line.startswith("data: {"):
                continue
            chunk = json.loads(line[6:])
            for choice in chunk["choices"]:
                text += choice["delta"].get("content") or ""
                finish = choice["finish_reason"] or finish
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
    return text, finish, tokens


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("prompt", CUT_PROMPTS)
def test_a_reply_cut_by_the_cap_ends_on_a_whole_sentence_or_line(engine, prompt, stream):
    raw = _raw_reply(engine, prompt)
    text, finish, tokens = _ask(engine, prompt, stream)
    if finish != "length":  # the model stopped by itself: nothing was cut
        assert text == raw
        return
    assert text.strip() and raw.startswith(text), (text[-80:], raw[len(text) - 40:len(text) + 40])
    rest = raw[len(text):]
    ends_sentence = text.rstrip()[-1] in SENTENCE_END or rest.lstrip(" \t").startswith("\n")
    assert rest[:1].isspace() or (not rest and ends_sentence), f"cut mid-word: ...{text[-40:]!r} | {rest[:20]!r}"
    assert ends_sentence, f"cut mid-sentence: ...{text[-60:]!r} | {rest[:30]!r}"
    assert tokens == CAP, "usage counts the tokens generated, not the chunks streamed"


# ---- an upstream chat endpoint that answers odd JSON ----------------------------------------------

class _Upstream:
    """A scripted upstream (`--chat-upstream`) whose next answer is `body` with `content_type`."""

    def __init__(self) -> None:
        from tests.support.faults import RawServer

        self.body, self.content_type = b"", "text/event-stream"
        self.server = RawServer(self._answer)

    def _answer(self, conn) -> None:
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: {self.content_type}\r\nContent-Length: {len(self.body)}\r\n"
                     "Connection: close\r\n\r\n".encode() + self.body)


@pytest.fixture(scope="module")
def upstream_engine(engine):
    from nbaudio import local

    upstream = _Upstream()
    with local.start(models=engine.app.state.engine.models, chat_upstream=upstream.server.base_url) as server:
        yield server, upstream
    upstream.server.close()


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                 max_size=3),
                     max_leaves=6)
_ODD = _JSON | st.sampled_from(["x", 5, [1, 2], {}, [], None, float("inf"), "abc", [{}], ["x"], 10**30])
_SHAPES = (
    lambda v: v,
    lambda v: {"choices": v},
    lambda v: {"choices": [v]},
    lambda v: {"choices": [{"delta": v}]},
    lambda v: {"choices": [{"delta": {"content": v}}]},
    lambda v: {"choices": [{"delta": {"tool_calls": v}}]},
    lambda v: {"choices": [{"delta": {"tool_calls": [v]}}]},
    lambda v: {"choices": [{"delta": {"tool_calls": [{"index": v, "function": {"name": "f"}}]}}]},
    lambda v: {"choices": [{"delta": {"tool_calls": [{"index": 0, "function": v}]}}]},
    lambda v: {"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"name": v, "arguments": v}}]}}]},
    lambda v: {"choices": [{"delta": {"content": "Hi."}, "finish_reason": v}]},
    lambda v: {"choices": [], "usage": v},
    lambda v: {"choices": [], "usage": {"prompt_tokens": v, "completion_tokens": v}},
    lambda v: {"model": v, "choices": []},
    lambda v: {"choices": [{"message": v}]},
    lambda v: {"choices": [{"message": {"content": v, "tool_calls": v}}]},
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.sampled_from(range(len(_SHAPES))), value=_ODD, streamed=st.booleans(),
       as_json=st.booleans())
def test_odd_upstream_json_is_a_502_or_a_reply_never_a_crash(upstream_engine, monkeypatch, engine_log, shape, value,
                                                              streamed, as_json):
    import threading

    server, upstream = upstream_engine
    data = _SHAPES[shape](value)
    if as_json:  # an upstream that ignores stream=true and answers one JSON body
        upstream.content_type, upstream.body = "application/json", json.dumps(data).encode()
    else:
        upstream.content_type = "text/event-stream"
        upstream.body = f"data: {json.dumps(data)}\n\ndata: [DONE]\n\n".encode()
    crashed: list = []
    monkeypatch.setattr(threading, "excepthook", crashed.append)
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}], "stream": streamed}
    r = requests.post(server.base_url + "/chat/completions", json=body, timeout=60)
    assert not crashed, [c.exc_value for c in crashed]
    if streamed:
        assert r.status_code == 200
        events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: {")]
        for event in events:
            if "error" in event:
                assert event["error"]["code"] == "upstream_error", event
            else:
                for choice in event["choices"]:
                    assert isinstance(choice["delta"].get("content") or "", str)
    elif r.status_code == 200:
        message = r.json()["choices"][0]["message"]
        assert message["content"] is None or isinstance(message["content"], str)
    else:
        assert r.status_code == 502 and r.json()["error"]["code"] == "upstream_error", r.text
    _no_traceback(engine_log)
