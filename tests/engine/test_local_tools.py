"""Tool calls by the engine's local chat model (nbaudio.server.models.tool_calls) through
/v1/chat/completions, read by the official openai SDK: a call, its result sent back, the answer;
streamed and not; tool_choice none / auto / required / a named function; tools the local grammar
cannot take refused by their place."""

from __future__ import annotations

import json

import openai
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.timeout(600)

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The current weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
TIMER = {"type": "function", "function": {
    "name": "set_timer", "description": "Start a kitchen timer.",
    "parameters": {"type": "object", "properties": {"minutes": {"type": "integer"}}, "required": ["minutes"]}}}
MEAN = {"type": "function", "function": {
    "name": "column_mean", "description": "The mean of a column of the house-price table.",
    "parameters": {"type": "object", "properties": {"column": {"type": "string", "enum": ["price", "rooms", "area"]}},
                   "required": ["column"]}}}
QUESTION = {"role": "user", "content": "What is the weather in Paris?"}
FORCE_WEATHER = {"type": "function", "function": {"name": "get_weather"}}


def _arguments(call) -> dict:
    return json.loads(call.function.arguments)


def test_a_call_then_its_result_then_the_answer(oai):
    r = oai.chat.completions.create(model="gpt-4o-mini", messages=[QUESTION], tools=[WEATHER])
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    [call] = choice.message.tool_calls
    assert call.type == "function" and call.id.startswith("call_") and call.function.name == "get_weather"
    assert _arguments(call) == {"city": "Paris"}
    assert r.usage.completion_tokens > 0 and r.usage.prompt_tokens > 0

    result = {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temperature_c": 18, "sky": "sunny"})}
    answer = oai.chat.completions.create(model="gpt-4o-mini", tools=[WEATHER], messages=[
        QUESTION, choice.message.model_dump(exclude_none=True), result])
    assert answer.choices[0].finish_reason == "stop" and not answer.choices[0].message.tool_calls
    assert "18" in answer.choices[0].message.content  # the answer read the result


def test_auto_calls_the_one_of_several_tools_the_message_asks_for(oai):
    # The greedy choice under a grammar of the names sent this to get_weather (docs/tools.md).
    r = oai.chat.completions.create(model="gpt-4o-mini", tools=[WEATHER, MEAN, TIMER], messages=[
        {"role": "user", "content": "On average, how many rooms do the houses have?"}])
    [call] = r.choices[0].message.tool_calls
    assert call.function.name == "column_mean" and _arguments(call) == {"column": "rooms"}


def test_auto_answers_in_words_when_no_tool_fits(oai):
    r = oai.chat.completions.create(model="gpt-4o-mini", tools=[WEATHER, MEAN, TIMER], max_tokens=20, messages=[
        {"role": "user", "content": "Who was the first person on the moon?"}])
    assert not r.choices[0].message.tool_calls and r.choices[0].message.content


def test_streamed_call_arrives_as_delta_tool_calls(oai):
    chunks = list(oai.chat.completions.create(model="gpt-4o-mini", messages=[QUESTION], tools=[WEATHER, TIMER],
                                              tool_choice=FORCE_WEATHER, stream=True))
    pieces = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert pieces and pieces[0].index == 0 and pieces[0].id.startswith("call_")
    assert pieces[0].type == "function" and pieces[0].function.name == "get_weather"
    arguments = "".join(p.function.arguments or "" for p in pieces)
    assert json.loads(arguments) == {"city": "Paris"}
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert not "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_required_calls_even_a_tool_that_does_not_fit_and_arguments_follow_the_schema(oai):
    r = oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello there!"}],
                                    tools=[TIMER], tool_choice="required")
    [call] = r.choices[0].message.tool_calls
    args = _arguments(call)
    assert call.function.name == "set_timer" and set(args) == {"minutes"} and isinstance(args["minutes"], int)


def test_tool_choice_none_answers_in_words(oai):
    r = oai.chat.completions.create(model="gpt-4o-mini", messages=[QUESTION], tools=[WEATHER], tool_choice="none")
    assert r.choices[0].finish_reason in ("stop", "length") and not r.choices[0].message.tool_calls
    assert r.choices[0].message.content.strip()


@pytest.mark.parametrize(("tools", "choice", "param"), [
    ([{"type": "function", "function": {"name": "bad name!"}}], None, "tools[0].function.name"),
    ([{"type": "code_interpreter"}], None, "tools[0].type"),
    ([WEATHER, WEATHER], None, "tools[1].function.name"),
    ([WEATHER], {"type": "function", "function": {"name": "nope"}}, "tool_choice"),
    ([WEATHER], "sometimes", "tool_choice"),
    ([{"type": "function", "function": {"name": "f", "parameters": {"type": "array"}}}], None,
     "tools[0].function.parameters"),
    ([{"type": "function", "function": {"name": "f", "parameters": {
        "type": "object", "properties": {"x": {"$ref": "#/nowhere"}}}}}], None, "tools[0]"),
    ([{"type": "function", "function": {"name": "f", "parameters": {
        "type": "object", "properties": {"x": None}}}}], None, "tools[0]"),
    # llama.cpp's schema converter would fetch this URL: the engine refuses it first.
    ([{"type": "function", "function": {"name": "f", "parameters": {
        "type": "object", "properties": {"x": {"$ref": "http://127.0.0.1:9/schema.json"}}}}}], None, "tools[0]"),
])
def test_tools_the_local_model_cannot_take_are_400_by_place(engine, tools, choice, param):
    body = {"model": "gpt-4o-mini", "messages": [QUESTION], "tools": tools}
    if choice is not None:
        body["tool_choice"] = choice
    r = requests.post(engine.base_url + "/chat/completions", json=body, timeout=120)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == param, r.json()


def test_the_sdk_raises_a_bad_request_for_an_unknown_tool_choice(oai):
    with pytest.raises(openai.BadRequestError):
        oai.chat.completions.create(model="gpt-4o-mini", messages=[QUESTION], tools=[WEATHER],
                                    tool_choice={"type": "function", "function": {"name": "get_time"}})


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                         st.sampled_from(["type", "properties", "items", "enum", "$ref", "anyOf", "required", "name",
                                          "x", "maxLength", "pattern", "const", "function", "parameters"]),
                         inner, max_size=4), max_leaves=15)
_tool = st.fixed_dictionaries({"type": st.just("function"), "function": st.fixed_dictionaries(
    {"name": st.sampled_from(["f", "g", "answer", ""]),
     "parameters": st.fixed_dictionaries({"type": st.just("object"), "properties": st.dictionaries(
         st.sampled_from(["a", "b"]), _json, max_size=2)})})})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tools=st.lists(_tool | _json, max_size=3), choice=st.sampled_from(["none", "auto", "required", None]) | _json)
def test_any_tools_and_tool_choice_are_never_a_500(engine, tools, choice):
    body = {"model": "gpt-4o-mini", "messages": [QUESTION], "tools": tools, "max_tokens": 1,
            # "none" after a valid check: the schemas are turned into grammars, the model is not asked
            "tool_choice": "none" if choice in ("auto", "required") else choice}
    r = requests.post(engine.base_url + "/chat/completions", json=body, timeout=300)
    assert r.status_code < 500, r.text
