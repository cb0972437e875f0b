"""Schemathesis against the engine's own /openapi.json, over real HTTP to the session engine.

Every generated request (valid and invalid, JSON and multipart) must get a 2xx or 4xx, never a
5xx; errors must be OpenAI's `{"error": {message, type, param, code}}` (the description declares
it as every operation's `default` response, so `response_schema_conformance` checks it); and
no request may hang (each has a timeout). Budget: at most 15 examples per operation, no
shrinking, about a minute on 2 cores. Speech text and token counts are capped in the copy of the
description used for generation, so generated requests stay cheap to serve.
"""

from __future__ import annotations

import copy
import zlib
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from nbaudio import local
from nbaudio._wire.spec import VOICES
from tests.support.data import SENTENCES

# A third of the generated uploads carry real speech instead of random bytes, so the fuzzed form
# fields reach decoding and Whisper, not only the format check (a tone makes Whisper retry at
# every temperature; speech decodes in one pass).
SPEECH_SHARE = 3
REQUEST_TIMEOUT = 120  # seconds: far above any honest answer here, so hitting it means a hang
MAX_EXAMPLES = 15


def _cheap(doc: dict[str, Any]) -> dict[str, Any]:
    """The description narrowed so generated requests get past the model check and stay cheap:
    real model and voice names, short speech text, chat messages of a known shape, few tokens."""
    doc = copy.deepcopy(doc)
    schemas = doc["components"]["schemas"]
    speech = schemas["SpeechRequest"]["properties"]
    speech["model"] = {"type": "string", "enum": ["tts-1", "gpt-4o-mini-tts"]}
    speech["voice"] = {"type": "string", "enum": list(VOICES)}
    speech["input"]["maxLength"] = 30
    speech["instructions"] = {"type": "string", "maxLength": 60}
    chat = schemas["ChatRequest"]["properties"]
    chat["model"] = {"type": "string", "enum": ["gpt-4o-audio-preview", "gpt-4o-mini"]}
    chat["messages"] = {"type": "array", "minItems": 1, "maxItems": 3, "items": {
        "type": "object", "required": ["role", "content"],
        "properties": {"role": {"type": "string", "enum": ["system", "developer", "user", "assistant", "tool"]},
                       "content": {"type": "string", "maxLength": 40}}}}
    for name in ("max_tokens", "max_completion_tokens"):
        chat[name] = {"type": "integer", "minimum": 1, "maximum": 8}
    for path, models in (("/v1/audio/transcriptions", ["whisper-1", "gpt-4o-transcribe"]),
                         ("/v1/audio/translations", ["whisper-1"])):
        form = doc["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
        form["properties"]["model"] = {"type": "string", "enum": models}
        form["properties"]["prompt"] = {"type": "string", "maxLength": 40}
    return doc


def _engine_schema() -> schemathesis.BaseSchema:
    """The engine's description, built from the app itself (no models load; the requests then go to
    the session engine). Not `schemathesis.pytest.from_fixture`: it breaks on pytest 9."""
    from nbaudio.server.app import create_app
    from nbaudio.server.settings import Settings

    loaded = schemathesis.openapi.from_dict(_cheap(create_app(Settings()).openapi()))
    loaded.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
                                    max_examples=MAX_EXAMPLES, no_shrink=True, deterministic=True)
    return loaded


_TRANSCRIPTION_SCHEMAS = {"json": "CreateTranscriptionResponseJson",
                          "verbose_json": "CreateTranscriptionResponseVerboseJson",
                          "diarized_json": "CreateTranscriptionResponseDiarizedJson"}
_TRANSLATION_SCHEMAS = {"json": "CreateTranslationResponseJson", "verbose_json": "CreateTranslationResponseVerboseJson"}


def _official_schema(case: Any, response: requests.Response) -> str | None:
    """The official schema a JSON answer must meet, by path and asked format; None for other answers."""
    if "application/json" not in response.headers.get("content-type", ""):
        return None
    if response.status_code >= 400:
        return "ErrorResponse"
    body = case.body if isinstance(case.body, dict) else {}
    fmt = body.get("response_format") or "json"
    return {"/v1/models": "ListModelsResponse", "/v1/chat/completions": "CreateChatCompletionResponse",
            "/v1/audio/transcriptions": _TRANSCRIPTION_SCHEMAS.get(fmt),
            "/v1/audio/translations": _TRANSLATION_SCHEMAS.get(fmt)}.get(case.path)


def test_description_covers_every_route(engine):
    """The fuzzer only reaches what the description declares: multipart uploads included."""
    doc = requests.get(engine.url + "/openapi.json", timeout=30).json()
    ops = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    assert {("POST", "/v1/audio/speech"), ("POST", "/v1/audio/transcriptions"), ("POST", "/v1/audio/translations"),
            ("POST", "/v1/audio/diarizations"), ("POST", "/v1/chat/completions"), ("GET", "/v1/models")} <= ops
    upload = doc["paths"]["/v1/audio/transcriptions"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert upload["schema"]["properties"]["file"]["format"] == "binary"
    assert set(upload["schema"]["required"]) == {"file", "model"}
    turns = doc["paths"]["/v1/audio/diarizations"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert turns["schema"]["properties"]["file"]["format"] == "binary"
    for item in doc["paths"].values():
        for op in item.values():
            assert "422" not in op["responses"]  # FastAPI's shape never leaves the engine
            assert op["responses"]["default"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorResponse")


schema = _engine_schema()


@pytest.fixture(scope="module")
def fuzz_engine(engine):
    """The session's models behind an app whose chat answers are short when no max_tokens is sent."""
    server = local.start(models=engine.app.state.engine.models, llm_max_tokens=8)
    yield server
    server.stop()


# One test per operation, by its label. Not `schema.parametrize()`: on pytest 9 its items all get
# the node id `test_fuzz`, and pytest-xdist, which schedules by node id, then ran one of the eight.
OPERATIONS = {op.label: op for op in (result.ok() for result in schema.get_all_operations())}


@pytest.mark.parametrize("label", sorted(OPERATIONS))
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz(label, data, fuzz_engine, speech_clips, validate):
    operation = OPERATIONS[label]
    case = data.draw(st.one_of(*(operation.as_strategy(mode) for mode in GenerationMode)), label="case")
    if isinstance(case.body, dict) and "file" in case.body:
        if zlib.crc32(repr(case.body).encode("utf-8", "replace")) % SPEECH_SHARE == 0:
            case.body["file"] = speech_clips[SENTENCES[0]]
    response = case.call(base_url=fuzz_engine.url, timeout=REQUEST_TIMEOUT)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance,
                                             content_type_conformance])
    assert response.status_code < 500, response.text[:300]
    if response.status_code >= 400:
        error = response.json()["error"]
        assert isinstance(error["message"], str) and error["message"]
        assert "Traceback" not in response.text
    # The engine's own description checks the engine against itself; the official one (vendored:
    # tests/fixtures/openai_audio_schemas.json) checks it against the API it stands in for.
    official = _official_schema(case, response)
    if official is not None:
        validate(response.json(), official)
