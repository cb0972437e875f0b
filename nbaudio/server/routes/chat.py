"""`POST /v1/chat/completions`: text and `input_audio` in, text and/or audio out.

The assistant's words come from the chat backend (local GGUF or upstream text endpoint);
`input_audio` parts are transcribed first and earlier assistant audio (`{"audio": {"id"}}`)
is replaced by its stored transcript (chat_input.py), so any text-only model can hold a spoken
conversation. Audio out is synthesized sentence by sentence (chat_speech.py); with `stream=true`
each sentence is sent as pcm16 as soon as it is spoken, while the transcript streams token by token.
"""

from __future__ import annotations

import base64
import itertools
import secrets
import time
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..._wire.error_bodies import error_payload
from ..._wire.spec import CHAT_AUDIO_FORMATS, CHAT_MODALITIES, CHAT_STREAM_AUDIO_FORMAT, PCM_SAMPLE_RATE
from ..._wire.sse import format_sse
from ...codec import resample
from ...codec.stream import StreamEncoder
from .. import paths
from ..api_errors import EngineError, bad_request, model_not_found, model_unavailable
from ..catalog.weights import WeightError
from ..chat.input import SPOKEN_SYSTEM_PROMPT, text_messages
from ..chat.speech import SpeakingPace, speak_all, synthesize
from ..engine import Engine, EngineDep
from ..model_names import chat_model_ok
from ..models.llm import Generation, GenParams
from ..models.tool_calls import (
    ToolChoice,
    ToolSpec,
    ToolSpecError,
    called,
    check_grammars,
    decide,
    parse_tool_choice,
    parse_tools,
)
from ..route_helpers import SSE_SCHEMA, streaming
from ..tokens import audio_tokens, text_tokens_estimate
from ..voices import plan_voice, voice_name

router = APIRouter()

_PCM_CHUNK_BYTES = 2 * PCM_SAMPLE_RATE // 4  # a quarter second of pcm16 per delta


class AudioOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    voice: str | dict[str, Any]
    format: Literal[*CHAT_AUDIO_FORMATS]


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: Annotated[str, Field(strict=True, min_length=1)]
    messages: Annotated[list[dict[str, Any]], Field(min_length=1)]
    modalities: list[Literal[*CHAT_MODALITIES]] | None = None
    audio: AudioOutput | None = None
    stream: Annotated[bool, Field(strict=True)] | None = False
    stream_options: dict[str, Any] | None = None
    max_tokens: Annotated[int, Field(ge=1)] | None = None
    max_completion_tokens: Annotated[int, Field(ge=1)] | None = None
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    seed: int | None = None
    stop: str | list[str] | None = None
    n: Annotated[int, Field(ge=1, le=128)] | None = None
    presence_penalty: Annotated[float, Field(ge=-2, le=2)] | None = None
    frequency_penalty: Annotated[float, Field(ge=-2, le=2)] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None


_CHAT_OPENAPI = {"responses": {"200": {
    "description": "A chat.completion, or chat.completion.chunk events with stream=true",
    "content": {"application/json": {"schema": {"type": "object"}},
                "text/event-stream": SSE_SCHEMA}}}}


@router.post(paths.CHAT, openapi_extra=_CHAT_OPENAPI)
async def create_chat_completion(body: ChatRequest, engine: EngineDep) -> Response:
    upstream = bool(engine.settings.chat_upstream)
    if not chat_model_ok(body.model, upstream=upstream):
        raise model_not_found(body.model)
    modalities = body.modalities or ["text"]
    want_audio = "audio" in modalities
    if want_audio and body.audio is None:
        raise bad_request("Missing required parameter: 'audio'. With modalities ['text', 'audio'] give "
                          "audio: {\"voice\": \"alloy\", \"format\": \"wav\"}.", param="audio")
    if body.stream and want_audio and body.audio.format != CHAT_STREAM_AUDIO_FORMAT:
        raise bad_request(f"Unsupported value: 'audio.format' does not support '{body.audio.format}' with "
                          f"stream=true. Supported values are: '{CHAT_STREAM_AUDIO_FORMAT}'.", param="audio.format",
                          code="unsupported_value")
    if body.n not in (None, 1):
        raise bad_request("Invalid value for 'n': the local engine makes one choice (n=1).", param="n")
    local_tools = None if upstream else _local_tools(body)
    voice = voice_name(body.audio.voice, "audio.voice") if want_audio else None
    messages, audio_seconds = await run_in_threadpool(text_messages, engine, body.messages)
    if want_audio and not upstream and not any(m["role"] == "system" for m in messages):
        messages.insert(0, {"role": "system", "content": SPOKEN_SYSTEM_PROMPT})
    if want_audio:
        # Resolve the voice (and load it) now, so a bad voice is a 400 before anything streams.
        await run_in_threadpool(plan_voice, engine, voice, "Hello.", 1.0, param="audio.voice")
    try:
        backend = await run_in_threadpool(engine.chat_backend)
    except WeightError as exc:
        raise model_unavailable("chat model", exc) from None
    params = GenParams(
        model=body.model, max_tokens=body.max_completion_tokens or body.max_tokens or engine.settings.llm_max_tokens,
        temperature=body.temperature, top_p=body.top_p, seed=body.seed,
        stop=[body.stop] if isinstance(body.stop, str) else body.stop,
        presence_penalty=body.presence_penalty, frequency_penalty=body.frequency_penalty, streamed=bool(body.stream),
        extra={k: v for k, v in (("tools", body.tools), ("tool_choice", body.tool_choice),
                                  ("parallel_tool_calls", (body.model_extra or {}).get("parallel_tool_calls")))
               if v is not None},
    )
    gen = None
    if local_tools is not None:
        decision = await run_in_threadpool(decide, backend, messages, *local_tools,
                                           after_tool_result=body.messages[-1].get("role") == "tool")
        gen = called(f"{backend.name} (local)", decision) if decision.calls else None
    if gen is None:
        gen = await run_in_threadpool(backend.generate, messages, params)
    # "model" is the model that answered (gen.model: the local one, or the upstream's own name),
    # not body.model: a local reply must not be headed "gpt-4o-audio-preview".
    meta = {"id": "chatcmpl-" + secrets.token_hex(12), "created": int(time.time()), "model": gen.model,
            "system_fingerprint": "nbaudio-local"}
    if body.stream:
        include_usage = bool((body.stream_options or {}).get("include_usage"))
        return streaming(_stream(engine, gen, meta, voice if want_audio else None, audio_seconds, include_usage))
    text = await run_in_threadpool(gen.text)
    meta["model"] = gen.model  # an upstream names itself in its reply
    tool_calls = gen.tool_calls
    # A reply that only calls tools has content null and no audio, as from the OpenAI API: there is
    # nothing to say until the tool results come back in the next turn.
    message: dict[str, Any] = {"role": "assistant", "content": text or (None if tool_calls else ""),
                               "refusal": None, "annotations": []}
    if tool_calls:
        message["tool_calls"] = tool_calls
    audio_out = 0.0
    if want_audio and (text.strip() or not tool_calls):
        audio, audio_out = await run_in_threadpool(speak_all, engine, voice, text, body.audio.format)
        stored = engine.store.put(text, audio_out)
        message["content"] = None
        message["audio"] = {"id": stored.id, "data": audio, "expires_at": stored.expires_at, "transcript": text}
    return JSONResponse({
        **meta, "object": "chat.completion", "service_tier": "default",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": gen.finish_reason}],
        "usage": _usage(gen, text, audio_seconds, audio_out),
    })


def _local_tools(body: ChatRequest) -> tuple[list[ToolSpec], ToolChoice] | None:
    """The request's tools and tool_choice for the local model (None: no tools), checked."""
    try:
        tools = parse_tools(body.tools)
        choice = parse_tool_choice(body.tool_choice, tools)
        check_grammars(tools)
    except ToolSpecError as exc:
        raise bad_request(exc.message, param=exc.param) from None
    return (tools, choice) if tools else None


def _usage(gen: Generation, text: str, audio_in: float, audio_out: float) -> dict[str, Any]:
    text_out = gen.completion_tokens or text_tokens_estimate(text)
    text_in = gen.prompt_tokens
    a_in, a_out = audio_tokens(audio_in), audio_tokens(audio_out) if audio_out else 0
    return {
        "prompt_tokens": text_in + a_in, "completion_tokens": text_out + a_out,
        "total_tokens": text_in + a_in + text_out + a_out,
        "prompt_tokens_details": {"audio_tokens": a_in, "cached_tokens": 0, "text_tokens": text_in, "image_tokens": 0},
        "completion_tokens_details": {"accepted_prediction_tokens": 0, "audio_tokens": a_out, "reasoning_tokens": 0,
                                      "rejected_prediction_tokens": 0, "text_tokens": text_out},
    }


def _chunk(meta: dict[str, Any], delta: dict[str, Any], finish: str | None = None,
           include_usage: bool = False) -> bytes:
    body = {**meta, "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
    if include_usage:
        body["usage"] = None
    return format_sse(body)


def _stream(engine: Engine, gen: Generation, meta: dict[str, Any], voice: str | None, audio_in: float,
            include_usage: bool) -> Iterator[bytes]:
    """The stream; a failure after it started is sent as an error event (the status is already 200)."""
    try:
        yield from _stream_chunks(engine, gen, meta, voice, audio_in, include_usage)
    except EngineError as exc:
        yield format_sse(error_payload(exc.message, status_code=exc.status_code, param=exc.param, code=exc.code))
    finally:  # the client went away mid-stream (or it ended): the model stops generating for nobody
        gen.cancel()


def _first_event(events: Iterator[Any]) -> tuple[list[Any], EngineError | None]:
    """([the first event] or [], the error that came instead). Waited for before the first chunk: an
    upstream names the model that answers in its first chunk, and every chunk must carry that name
    (clients take it from the first)."""
    try:
        return [next(events)], None
    except StopIteration:
        return [], None
    except EngineError as exc:
        return [], exc


def _stream_chunks(engine: Engine, gen: Generation, meta: dict[str, Any], voice: str | None, audio_in: float,
                   include_usage: bool) -> Iterator[bytes]:
    """Chat chunks: transcript/content deltas per token, pcm16 audio per spoken sentence."""
    audio_id = engine.store.new_id() if voice else None
    events = gen.events()
    head, failure = _first_event(events)
    meta = {**meta, "model": gen.model}
    yield _chunk(meta, {"role": "assistant", "content": None if voice else "", "refusal": None},
                 include_usage=include_usage)
    if failure is not None:
        raise failure
    text: list[str] = []
    pace = SpeakingPace()
    encoder = StreamEncoder("pcm", PCM_SAMPLE_RATE) if voice else None

    def speak(sentences: str) -> Iterator[bytes]:
        for audio, rate in synthesize(engine, voice, sentences):
            if encoder.source_rate != rate:
                audio = resample(audio, rate, encoder.source_rate)
            pcm = encoder.feed(audio)
            for k in range(0, len(pcm), _PCM_CHUNK_BYTES):
                data = base64.b64encode(pcm[k:k + _PCM_CHUNK_BYTES]).decode("ascii")
                yield _chunk(meta, {"audio": {"id": audio_id, "data": data}}, include_usage=include_usage)

    for kind, delta in itertools.chain(head, events):
        if kind == "tool_calls":
            yield _chunk(meta, {"tool_calls": delta}, include_usage=include_usage)
            continue
        if not delta:
            continue
        text.append(delta)
        if voice is None:
            yield _chunk(meta, {"content": delta}, include_usage=include_usage)
            continue
        yield _chunk(meta, {"audio": {"id": audio_id, "transcript": delta}}, include_usage=include_usage)
        ready = pace.feed(delta)
        if ready:
            yield from speak(ready)
    full = "".join(text)
    audio_out = 0.0
    # Only tool calls, nothing said: no audio at all (as in the non-streamed reply).
    if voice is not None and not (gen.tool_calls and not full.strip()):
        rest = pace.rest()
        if rest:
            yield from speak(rest)
        tail = encoder.close()
        if tail:
            yield _chunk(meta, {"audio": {"id": audio_id, "data": base64.b64encode(tail).decode("ascii")}},
                         include_usage=include_usage)
        audio_out = encoder.duration
        stored = engine.store.put(full.strip(), audio_out, audio_id=audio_id)
        yield _chunk(meta, {"audio": {"id": audio_id, "expires_at": stored.expires_at}}, include_usage=include_usage)
    yield _chunk(meta, {}, finish=gen.finish_reason, include_usage=include_usage)
    if include_usage:
        yield format_sse({**meta, "object": "chat.completion.chunk", "choices": [],
                          "usage": _usage(gen, full, audio_in, audio_out)})
    yield format_sse("[DONE]")
