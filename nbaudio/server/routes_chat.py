"""`POST /v1/chat/completions`: text and `input_audio` in, text and/or audio out.

The assistant's words come from the chat backend (local GGUF or upstream text endpoint);
`input_audio` parts are transcribed first and earlier assistant audio (`{"audio": {"id"}}`)
is replaced by its stored transcript, so any text-only model can hold a spoken conversation.
Audio out is synthesized sentence by sentence; with `stream=true` each sentence is sent as
pcm16 as soon as it is spoken, while the transcript streams token by token.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import time
from typing import Annotated, Any, Iterator, Literal

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from .._longform import complete_sentences, split_sentences
from ..audio import AudioClip, resample
from ..errors import AudioDecodeError, error_payload
from ..spec import CHAT_INPUT_AUDIO_FORMATS, PCM_SAMPLE_RATE
from ..sse import format_sse
from .api_errors import EngineError
from .encoder import StreamEncoder
from .llm import ChatBackend, GenParams, Generation, UpstreamChat
from .models import CHAT_MODELS, WeightError
from .routes_meta import LOCAL_CHAT_MODEL
from .speech import VoicePlan, plan_voice, voice_name
from .routes_audio import SSE_SCHEMA, samples_16k, whisper_for
from .stt import SttRequest
from .tokens import audio_tokens, text_tokens_estimate

router = APIRouter()

# Said to a small local model when its answer will be spoken and the caller set no system prompt.
SPOKEN_SYSTEM_PROMPT = ("You are a helpful assistant. Your answers are spoken aloud, so answer in a few short, "
                        "plain sentences without lists or markdown.")
_PCM_CHUNK_BYTES = 2 * PCM_SAMPLE_RATE // 4  # a quarter second of pcm16 per delta
# A streamed reply starts speaking at its first phrase of a few words instead of waiting for the
# first whole sentence (often a third of a short reply): after a comma or dash, or before a word
# that opens a clause (English; other languages wait for the sentence). The first audio comes
# about twice as soon, at the cost of one phrase-final intonation (docs/benchmarks.md).
_PHRASE_END = re.compile(r"(?<=[,;:\u2013\u2014])\s+|\s+(?=(?:and|but|or|so|because|that|which|who|when|while|"
                         r"where|if|with)\s)")
_FIRST_PHRASE_WORDS = 5


def _first_phrase(text: str) -> tuple[str, str]:
    """(the first phrase of at least `_FIRST_PHRASE_WORDS` words, the rest), or ("", text)."""
    for m in _PHRASE_END.finditer(text):
        if len(text[: m.start()].split()) >= _FIRST_PHRASE_WORDS:
            return text[: m.end()], text[m.end():]
    return "", text


class AudioOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    voice: str | dict[str, Any]
    format: Literal["wav", "aac", "mp3", "flac", "opus", "pcm16"]


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: Annotated[str, Field(strict=True, min_length=1)]
    messages: Annotated[list[dict[str, Any]], Field(min_length=1)]
    modalities: list[Literal["text", "audio"]] | None = None
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


def _model_ok(model: str, engine: Any) -> bool:
    if engine.settings.chat_upstream:
        return True  # the upstream decides which names it serves
    # OpenAI's names (answered by the local model), "local", or a local chat model by its name.
    return model.startswith(("gpt-", "chatgpt-")) or model in (LOCAL_CHAT_MODEL, "local", *CHAT_MODELS)


_CHAT_OPENAPI = {"responses": {"200": {
    "description": "A chat.completion, or chat.completion.chunk events with stream=true",
    "content": {"application/json": {"schema": {"type": "object"}},
                "text/event-stream": SSE_SCHEMA}}}}


@router.post("/v1/chat/completions", openapi_extra=_CHAT_OPENAPI)
async def create_chat_completion(body: ChatRequest, request: Request) -> Response:
    engine = request.app.state.engine
    if not _model_ok(body.model, engine):
        raise EngineError(404, f"The model `{body.model}` does not exist or you do not have access to it.",
                          param="model", code="model_not_found")
    modalities = body.modalities or ["text"]
    want_audio = "audio" in modalities
    if want_audio and body.audio is None:
        raise EngineError(400, "Missing required parameter: 'audio'. With modalities ['text', 'audio'] give "
                               "audio: {\"voice\": \"alloy\", \"format\": \"wav\"}.", param="audio")
    if body.stream and want_audio and body.audio.format != "pcm16":
        raise EngineError(400, f"Unsupported value: 'audio.format' does not support '{body.audio.format}' with "
                               "stream=true. Supported values are: 'pcm16'.", param="audio.format",
                          code="unsupported_value")
    if body.n not in (None, 1):
        raise EngineError(400, "Invalid value for 'n': the local engine makes one choice (n=1).", param="n")
    if body.tools and not engine.settings.chat_upstream:
        raise EngineError(400, "The local model does not support tools; start the engine with --chat-upstream "
                               "to use a model that does.", param="tools", code="unsupported_parameter")
    voice = voice_name(body.audio.voice, "audio.voice") if want_audio else None
    messages, audio_seconds = await run_in_threadpool(_text_messages, engine, body.messages)
    if want_audio and not engine.settings.chat_upstream and not any(m["role"] == "system" for m in messages):
        messages.insert(0, {"role": "system", "content": SPOKEN_SYSTEM_PROMPT})
    if want_audio:
        # Resolve the voice (and load it) now, so a bad voice is a 400 before anything streams.
        await run_in_threadpool(plan_voice, engine, voice, "Hello.", 1.0, param="audio.voice")
    try:
        backend = await run_in_threadpool(_chat_backend, request.app)
    except WeightError as exc:
        raise EngineError(503, f"The chat model could not be loaded: {exc}", code="model_unavailable") from None
    params = GenParams(
        model=body.model, max_tokens=body.max_completion_tokens or body.max_tokens or engine.settings.llm_max_tokens,
        temperature=body.temperature, top_p=body.top_p, seed=body.seed,
        stop=[body.stop] if isinstance(body.stop, str) else body.stop,
        presence_penalty=body.presence_penalty, frequency_penalty=body.frequency_penalty,
        extra={k: v for k, v in (("tools", body.tools), ("tool_choice", body.tool_choice),
                                  ("parallel_tool_calls", (body.model_extra or {}).get("parallel_tool_calls")))
               if v is not None},
    )
    gen = await run_in_threadpool(backend.generate, messages, params)
    meta = {"id": "chatcmpl-" + secrets.token_hex(12), "created": int(time.time()), "model": body.model,
            "system_fingerprint": "nbaudio-local"}
    if body.stream:
        include_usage = bool((body.stream_options or {}).get("include_usage"))
        chunks = _stream(engine, gen, meta, voice if want_audio else None, audio_seconds, include_usage)
        return StreamingResponse(chunks, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    text = await run_in_threadpool(gen.text)
    tool_calls = gen.tool_calls
    # A reply that only calls tools has content null and no audio, as from the OpenAI API: there is
    # nothing to say until the tool results come back in the next turn.
    message: dict[str, Any] = {"role": "assistant", "content": text or (None if tool_calls else ""),
                               "refusal": None, "annotations": []}
    if tool_calls:
        message["tool_calls"] = tool_calls
    audio_out = 0.0
    if want_audio and (text.strip() or not tool_calls):
        audio, audio_out = await run_in_threadpool(_speak_all, engine, voice, text, body.audio.format)
        stored = engine.store.put(text, audio_out)
        message["content"] = None
        message["audio"] = {"id": stored.id, "data": audio, "expires_at": stored.expires_at, "transcript": text}
    return JSONResponse({
        **meta, "object": "chat.completion", "service_tier": "default",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": gen.finish_reason}],
        "usage": _usage(gen, text, audio_seconds, audio_out),
    })


def _chat_backend(app: Any) -> ChatBackend:
    """This app's upstream when its settings name one, else the registry's local model. The
    upstream is kept per app, not in the model registry: apps that share one registry (several
    engines in a process, the tests) may front different upstreams, or none."""
    engine = app.state.engine
    if not engine.settings.chat_upstream:
        return engine.models.chat_backend()
    backend = getattr(app.state, "upstream_chat", None)
    if backend is None:
        backend = app.state.upstream_chat = UpstreamChat(engine.settings)
    return backend


# ---- input: messages as text ------------------------------------------------------------------
def _text_messages(engine: Any, messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], float]:
    """Messages the text model can read, and the seconds of input audio transcribed for them."""
    out: list[dict[str, Any]] = []
    seconds = 0.0
    upstream = bool(engine.settings.chat_upstream)
    for i, m in enumerate(messages):
        role = m.get("role")
        if role not in ("system", "developer", "user", "assistant", "tool"):
            raise EngineError(400, f"Invalid value for 'messages[{i}].role': {role!r}. Supported values are: "
                                   "'system', 'developer', 'user', 'assistant' and 'tool'.", param=f"messages[{i}].role")
        content = m.get("content")
        parts: list[str] = []
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            for j, part in enumerate(content):
                text, secs = _part_text(engine, part, f"messages[{i}].content[{j}]")
                parts.append(text)
                seconds += secs
        elif content is not None:
            raise EngineError(400, f"Invalid type for 'messages[{i}].content': expected a string or an array of "
                                   "content parts.", param=f"messages[{i}].content")
        if role == "assistant" and m.get("audio") is not None:
            parts.insert(0, _stored_transcript(engine, m["audio"], i))
        text = " ".join(p for p in parts if p).strip()
        if not text and role != "assistant":
            raise EngineError(400, f"Invalid value for 'messages[{i}].content': the message is empty.",
                              param=f"messages[{i}].content")
        if upstream:
            msg = {k: v for k, v in m.items() if k not in ("audio", "content")}
            msg["content"] = text if (text or not m.get("tool_calls")) else None
        elif role == "developer":
            msg = {"role": "system", "content": text}
        elif role == "tool":
            msg = {"role": "user", "content": f"(tool result) {text}"}
        else:
            msg = {"role": role, "content": text}
        out.append(msg)
    return out, seconds


def _part_text(engine: Any, part: Any, where: str) -> tuple[str, float]:
    if not isinstance(part, dict) or "type" not in part:
        raise EngineError(400, f"Invalid value for '{where}': a content part needs a 'type'.", param=where)
    kind = part["type"]
    if kind == "text":
        if not isinstance(part.get("text"), str):
            raise EngineError(400, f"Missing required parameter: '{where}.text'.", param=f"{where}.text")
        return part["text"], 0.0
    if kind == "input_audio":
        return _transcribe_part(engine, part.get("input_audio"), where)
    raise EngineError(400, f"Invalid value for '{where}.type': '{kind}' parts are not supported by the local engine "
                           "(it understands 'text' and 'input_audio').", param=f"{where}.type")


def _transcribe_part(engine: Any, spec: Any, where: str) -> tuple[str, float]:
    param = f"{where}.input_audio"
    if not isinstance(spec, dict):
        raise EngineError(400, f"Missing required parameter: '{param}'.", param=param)
    fmt = spec.get("format")
    if fmt not in CHAT_INPUT_AUDIO_FORMATS:
        raise EngineError(400, f"Invalid value for '{param}.format': {fmt!r}. Supported values are: 'wav' and 'mp3'.",
                          param=f"{param}.format")
    data = spec.get("data")
    if not isinstance(data, str) or not data:
        raise EngineError(400, f"Missing required parameter: '{param}.data'.", param=f"{param}.data")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise EngineError(400, f"Invalid value for '{param}.data': not valid base64.", param=f"{param}.data") from None
    try:
        clip = AudioClip(raw, fmt)
    except AudioDecodeError as exc:
        raise EngineError(400, f"Invalid value for '{param}.data': {exc.message}", param=f"{param}.data") from None
    samples16 = samples_16k(clip, f"{param}.data", engine.settings.max_audio_seconds)
    whisper, lang = whisper_for(engine, samples16, None, "transcribe")
    segments, meta = whisper.segments(SttRequest(samples16, language=lang))
    return "".join(s.text for s in segments).strip(), float(meta["duration"])


def _stored_transcript(engine: Any, audio: Any, i: int) -> str:
    param = f"messages[{i}].audio.id"
    if not isinstance(audio, dict) or not isinstance(audio.get("id"), str):
        raise EngineError(400, f"Invalid value for 'messages[{i}].audio': expected {{\"id\": \"audio_...\"}}.",
                          param=f"messages[{i}].audio")
    stored = engine.store.get(audio["id"])
    if stored is None:
        raise EngineError(400, f"Audio with id '{audio['id']}' was not found or has expired. Send the assistant's "
                               "transcript as text content instead.", param=param, code="audio_not_found")
    return stored.transcript


# ---- output -------------------------------------------------------------------------------------
def _synth(engine: Any, voice: str, text: str, rate: int | None) -> Iterator[tuple[np.ndarray, int]]:
    """(samples, rate) per sentence, each sentence in the voice its language needs."""
    for sentence in split_sentences(text):
        plan: VoicePlan = plan_voice(engine, voice, sentence, 1.0, param="audio.voice")
        for audio in plan.synthesize(sentence):
            if rate is not None and plan.rate != rate:
                audio = resample(audio, plan.rate, rate)
            yield audio, rate or plan.rate


def _speak_all(engine: Any, voice: str, text: str, fmt: str) -> tuple[str, float]:
    """The whole answer as base64 audio in `fmt`, and its length in seconds."""
    rate = None
    parts = []
    for audio, r in _synth(engine, voice, text or "…", None):
        if rate is None:
            rate = r
        parts.append(audio if r == rate else resample(audio, r, rate))
    if not parts:
        rate, parts = PCM_SAMPLE_RATE, [np.zeros(PCM_SAMPLE_RATE // 10, dtype=np.float32)]
    samples = np.concatenate(parts)
    clip = AudioClip.from_array(samples, rate, format="wav")
    encoded = clip.encode("pcm" if fmt == "pcm16" else fmt)
    return encoded.to_base64(), len(samples) / rate


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


def _stream(engine: Any, gen: Generation, meta: dict[str, Any], voice: str | None, audio_in: float,
            include_usage: bool) -> Iterator[bytes]:
    """The stream; a failure after it started is sent as an error event (the status is already 200)."""
    try:
        yield from _stream_chunks(engine, gen, meta, voice, audio_in, include_usage)
    except EngineError as exc:
        yield format_sse(error_payload(exc.message, status_code=exc.status_code, param=exc.param, code=exc.code))


def _stream_chunks(engine: Any, gen: Generation, meta: dict[str, Any], voice: str | None, audio_in: float,
                   include_usage: bool) -> Iterator[bytes]:
    """Chat chunks: transcript/content deltas per token, pcm16 audio per spoken sentence."""
    audio_id = engine.store.new_id() if voice else None
    yield _chunk(meta, {"role": "assistant", "content": None if voice else "", "refusal": None},
                 include_usage=include_usage)
    text: list[str] = []
    pending = ""
    started_speaking = False
    encoder = StreamEncoder("pcm", PCM_SAMPLE_RATE) if voice else None

    def speak(sentences: str) -> Iterator[bytes]:
        for audio, rate in _synth(engine, voice, sentences, None):
            if encoder.source_rate != rate:
                audio = resample(audio, rate, encoder.source_rate)
            pcm = encoder.feed(audio)
            for k in range(0, len(pcm), _PCM_CHUNK_BYTES):
                data = base64.b64encode(pcm[k:k + _PCM_CHUNK_BYTES]).decode("ascii")
                yield _chunk(meta, {"audio": {"id": audio_id, "data": data}}, include_usage=include_usage)

    for kind, delta in gen.events():
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
        ready, pending = complete_sentences(pending + delta)
        if not ready and not started_speaking:
            ready, pending = _first_phrase(pending)
        if ready:
            started_speaking = True
            yield from speak(ready)
    full = "".join(text)
    audio_out = 0.0
    # Only tool calls, nothing said: no audio at all (as in the non-streamed reply).
    if voice is not None and not (gen.tool_calls and not full.strip()):
        if pending.strip():
            yield from speak(pending)
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
