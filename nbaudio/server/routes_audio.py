"""`POST /v1/audio/speech`, `/v1/audio/transcriptions`, `/v1/audio/translations`."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, Iterator, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..audio import AudioClip, decode_mono, guess_format
from ..errors import AudioDecodeError, AudioTooLongError, MissingDependencyError
from ..spec import (MIME_TYPES, SPEECH_MODELS, TIMESTAMP_GRANULARITIES, TRANSCRIPTION_FORMATS, TRANSCRIPTION_INCLUDE,
                    TRANSCRIPTION_MODELS, TRANSLATION_FORMATS, UPLOAD_FORMATS)
from ..sse import format_sse
from ..transcript import Segment, Transcript, Word
from .api_errors import EngineError
from .encoder import StreamEncoder
from .models import WeightError
from .speech import plan_voice, voice_name
from .stt import LANGUAGES, SAMPLE_RATE, SttRequest, SttSegment, language_code, pick_engine
from .tokens import audio_tokens, text_tokens_estimate

router = APIRouter()

STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def model_not_found(model: str, param: str = "model") -> EngineError:
    return EngineError(404, f"The model `{model}` does not exist or you do not have access to it.",
                       param=param, code="model_not_found")


# ---- speech ---------------------------------------------------------------------------------
class SpeechRequest(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    model: str
    input: Annotated[str, Field(min_length=1, max_length=4096)]
    voice: str | dict[str, Any]
    instructions: Annotated[str | None, Field(max_length=4096)] = None  # accepted; piper has no style control
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] = "mp3"
    speed: Annotated[float, Field(ge=0.25, le=4.0)] = 1.0
    stream_format: Literal["sse", "audio"] = "audio"


def _speech_model_ok(model: str) -> bool:
    return model in SPEECH_MODELS or model == "piper" or model.startswith(("tts-1", "gpt-4o-mini-tts"))


# Each server-sent event: JSON in `data` (for /openapi.json; the chat route uses it too).
SSE_SCHEMA = {"schema": {"type": "object", "required": ["data"], "properties": {"data": {"type": "string"}}}}
_SPEECH_OPENAPI = {"responses": {"200": {"description": "The audio, streamed (SSE events with stream_format=sse)",
                                         "content": {MIME_TYPES[f]: {"schema": {"type": "string", "format": "binary"}}
                                                     for f in ("mp3", "opus", "aac", "flac", "wav", "pcm")}
                                         | {"text/event-stream": SSE_SCHEMA}}}}


@router.post("/v1/audio/speech", openapi_extra=_SPEECH_OPENAPI)
async def create_speech(body: SpeechRequest, request: Request) -> Response:
    engine = request.app.state.engine
    if not _speech_model_ok(body.model):
        raise model_not_found(body.model)
    if not body.input.strip():
        raise EngineError(400, "Invalid value for 'input': the text is empty.", param="input")
    voice = voice_name(body.voice)
    plan = await run_in_threadpool(plan_voice, engine, voice, body.input, body.speed)
    fmt = body.response_format
    # Make the first sentence before answering, so a failure is still a proper error response.
    chunks = plan.synthesize(body.input)
    first = await run_in_threadpool(next, chunks, None)
    if first is None:
        raise EngineError(400, "Invalid value for 'input': nothing in it can be spoken.", param="input")
    encoder = StreamEncoder(fmt, plan.rate)
    headers = {**STREAM_HEADERS, "X-Nbaudio-Voice": plan.voice}
    if body.stream_format == "sse":
        return StreamingResponse(_speech_sse(first, chunks, encoder, body.input), media_type="text/event-stream",
                                 headers=headers)
    return StreamingResponse(_encoded(first, chunks, encoder), media_type=MIME_TYPES[fmt], headers=headers)


def _encoded(first: Any, chunks: Iterator[Any], encoder: StreamEncoder) -> Iterator[bytes]:
    try:
        data = encoder.feed(first)
        if data:
            yield data
        for audio in chunks:
            data = encoder.feed(audio)
            if data:
                yield data
        tail = encoder.close()
        if tail:
            yield tail
    finally:
        encoder.abort()


def _speech_sse(first: Any, chunks: Iterator[Any], encoder: StreamEncoder, text: str) -> Iterator[bytes]:
    for data in _encoded(first, chunks, encoder):
        yield format_sse({"type": "speech.audio.delta", "audio": base64.b64encode(data).decode("ascii")})
    tin, tout = text_tokens_estimate(text), audio_tokens(encoder.duration)
    yield format_sse({"type": "speech.audio.done",
                      "usage": {"input_tokens": tin, "output_tokens": tout, "total_tokens": tin + tout}})


# ---- transcriptions and translations ----------------------------------------------------------
async def _read_form(request: Request) -> Any:
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        raise EngineError(400, "This endpoint expects multipart/form-data with a 'file' part "
                               f"(got Content-Type {ctype or 'none'!r}).", code="invalid_content_type")
    try:
        return await request.form(max_files=8, max_fields=64)
    except StarletteHTTPException as exc:  # starlette's multipart parser errors arrive as 400s
        raise EngineError(400, f"Could not parse the multipart body: {exc.detail}") from None


def _field(form: Any, name: str) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    if isinstance(value, UploadFile):
        raise EngineError(400, f"Invalid type for '{name}': expected a string, got a file.", param=name)
    return value


def _list_field(form: Any, name: str) -> list[str]:
    values = form.getlist(name + "[]") + form.getlist(name)
    out = []
    for v in values:
        if isinstance(v, UploadFile):
            raise EngineError(400, f"Invalid type for '{name}[]': expected strings.", param=f"{name}[]")
        v = v.strip()
        if v.startswith("["):  # some clients send the whole list as JSON
            try:
                items = json.loads(v)
            except ValueError:
                raise EngineError(400, f"Invalid value for '{name}[]': {v!r}.", param=f"{name}[]") from None
            out.extend(str(x) for x in items)
        else:
            out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def _bool_field(form: Any, name: str) -> bool:
    v = _field(form, name)
    if v is None or v == "":
        return False
    if v.lower() in ("true", "1"):
        return True
    if v.lower() in ("false", "0"):
        return False
    raise EngineError(400, f"Invalid value for '{name}': expected true or false, got {v!r}.", param=name)


def _float_field(form: Any, name: str, lo: float, hi: float) -> float | None:
    v = _field(form, name)
    if v is None or v == "":
        return None
    try:
        x = float(v)
    except ValueError:
        raise EngineError(400, f"Invalid type for '{name}': expected a number, got {v!r}.", param=name) from None
    if not lo <= x <= hi:
        raise EngineError(400, f"Invalid value for '{name}': {x} is outside [{lo}, {hi}].", param=name)
    return x


async def _upload_clip(form: Any, max_bytes: int) -> tuple[AudioClip, str]:
    upload = form.get("file")
    if upload is None:
        raise EngineError(400, "Missing required parameter: 'file'.", param="file")
    if not isinstance(upload, UploadFile):
        raise EngineError(400, "Invalid type for 'file': send the audio as a file part "
                               "(multipart with a filename), not as a text field.", param="file")
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise EngineError(413, f"The file is larger than {max_bytes // (1024 * 1024)} MB; split or compress it.",
                          param="file", code="file_too_large")
    name = upload.filename or "audio"
    if not data:
        raise EngineError(400, f"The file '{name}' is empty (0 bytes).", param="file", code="empty_file")
    fmt = guess_format(data, name)
    if fmt is None:
        raise EngineError(415, f"Unsupported file format for '{name}': the bytes are not audio in any supported "
                               f"format. Supported formats: {', '.join(UPLOAD_FORMATS)}.",
                          param="file", code="unsupported_file_format")
    return AudioClip(data, fmt, name=name), name


def samples_16k(clip: AudioClip, param: str, max_seconds: float) -> Any:
    """The clip as mono float32 at Whisper's rate, decoded block by block and never past
    `max_seconds` (400 `audio_too_long`); undecodable or empty audio is a 400/415 on `param`."""
    try:
        samples = decode_mono(clip, SAMPLE_RATE, max_seconds=max_seconds)
    except MissingDependencyError as exc:
        raise EngineError(415, f"Cannot decode '{clip.name or param}' here: {exc}", param=param,
                          code="unsupported_file_format") from None
    except AudioTooLongError as exc:
        raise EngineError(400, f"Invalid value for '{param}': {exc.message} (this engine's max_audio_seconds)",
                          param=param, code="audio_too_long") from None
    except AudioDecodeError as exc:
        raise EngineError(400, f"Invalid value for '{param}': {exc.message}", param=param, code="invalid_file") from None
    if samples.size == 0:
        raise EngineError(400, f"Invalid value for '{param}': the audio contains no samples.", param=param,
                          code="empty_file")
    return samples


def whisper_for(engine: Any, samples: Any, language: str | None, task: str) -> tuple[Any, str | None]:
    """`pick_engine`, with a model that fails to load answered as 503."""
    try:
        return pick_engine(engine.models, samples, language, task)
    except WeightError as exc:
        raise EngineError(503, f"The speech-to-text model could not be loaded: {exc}", code="model_unavailable") from None


def _stt_model_ok(model: str, task: str) -> bool:
    if task == "translate":
        return model in ("whisper-1", "whisper-base")
    return model in TRANSCRIPTION_MODELS or model in ("whisper-tiny.en", "whisper-base") or model.startswith(
        ("gpt-4o-transcribe", "gpt-4o-mini-transcribe"))  # dated snapshots


def _chunking_vad(value: str | None) -> bool:
    if value is None or value == "":
        return False
    if value == "auto":
        return True
    try:
        obj = json.loads(value)
    except ValueError:
        raise EngineError(400, "Invalid value for 'chunking_strategy': use \"auto\" or a server_vad object.",
                          param="chunking_strategy") from None
    if not (isinstance(obj, dict) and obj.get("type") == "server_vad") and obj != "auto":
        raise EngineError(400, "Invalid value for 'chunking_strategy': use \"auto\" or {\"type\": \"server_vad\"}.",
                          param="chunking_strategy")
    return True


async def _stt(request: Request, task: str) -> Response:
    engine = request.app.state.engine
    form = await _read_form(request)
    model = _field(form, "model")
    if not model:
        raise EngineError(400, "Missing required parameter: 'model'.", param="model")
    if not _stt_model_ok(model, task):
        raise model_not_found(model)
    formats = TRANSCRIPTION_FORMATS if task == "transcribe" else TRANSLATION_FORMATS
    fmt = _field(form, "response_format") or "json"
    if fmt not in formats:
        raise EngineError(400, f"Invalid value for 'response_format': '{fmt}'. Supported values are: "
                               f"{', '.join(repr(f) for f in formats)}.", param="response_format")
    language = None
    lang_raw = _field(form, "language") if task == "transcribe" else None
    if lang_raw:
        language = language_code(lang_raw)
        if language is None:
            raise EngineError(400, f"Invalid value for 'language': {lang_raw!r} is not a language Whisper knows "
                                   "(use an ISO-639-1 code such as 'en' or 'de').", param="language")
    grans = _list_field(form, "timestamp_granularities")
    for g in grans:
        if g not in TIMESTAMP_GRANULARITIES:
            raise EngineError(400, f"Invalid value for 'timestamp_granularities[]': {g!r}; use 'word' and/or "
                                   "'segment'.", param="timestamp_granularities[]")
    include = _list_field(form, "include")
    for i in include:
        if i not in TRANSCRIPTION_INCLUDE:
            raise EngineError(400, f"Invalid value for 'include[]': {i!r}; the only supported value is 'logprobs'.",
                              param="include[]")
    if include and fmt != "json":
        raise EngineError(400, "'include[]=logprobs' only works with response_format 'json'.", param="include[]")
    stream = _bool_field(form, "stream")
    req = SttRequest(
        samples=None, task=task, language=language, prompt=_field(form, "prompt"),
        temperature=_float_field(form, "temperature", 0.0, 1.0),
        words="word" in grans and fmt == "verbose_json", logprobs=bool(include),
        vad=_chunking_vad(_field(form, "chunking_strategy")),
    )
    clip, _name = await _upload_clip(form, engine.settings.max_upload_bytes)
    req.samples = await run_in_threadpool(samples_16k, clip, "file", engine.settings.max_audio_seconds)
    whisper, lang = await run_in_threadpool(whisper_for, engine, req.samples, req.language, task)
    req.language = lang
    segments, meta = await run_in_threadpool(whisper.segments, req)
    usage_kind = "tokens" if model.startswith("gpt-") else "duration"
    if stream:
        return StreamingResponse(_stt_sse(segments, meta, req, fmt, model), media_type="text/event-stream",
                                 headers=STREAM_HEADERS)
    segs = await run_in_threadpool(list, segments)
    transcript = _transcript(segs, meta, req, usage_kind)
    if task == "translate":
        transcript.language = "english"
    body, media_type = transcript.render(fmt)
    return Response(body, media_type=media_type)


def _text(segs: list[SttSegment]) -> str:
    return "".join(s.text for s in segs).strip()


def _usage(kind: str, segs: list[SttSegment], meta: dict[str, Any], prompt: str | None) -> dict[str, Any]:
    if kind == "duration":
        return {"type": "duration", "seconds": round(meta["duration"], 3)}
    audio_in = audio_tokens(meta["duration"])
    text_in = text_tokens_estimate(prompt or "")
    out = sum(len(s.tokens) for s in segs)
    return {"type": "tokens", "input_tokens": audio_in + text_in,
            "input_token_details": {"text_tokens": text_in, "audio_tokens": audio_in},
            "output_tokens": out, "total_tokens": audio_in + text_in + out}


def _transcript(segs: list[SttSegment], meta: dict[str, Any], req: SttRequest, usage_kind: str) -> Transcript:
    segments = [
        Segment(id=s.id, start=s.start, end=s.end, text=s.text, seek=s.seek, tokens=s.tokens,
                temperature=s.temperature, avg_logprob=s.avg_logprob, compression_ratio=s.compression_ratio,
                no_speech_prob=s.no_speech_prob,
                words=[Word(w["word"].strip(), w["start"], w["end"], w["probability"]) for w in s.words])
        for s in segs
    ]
    words = [w for s in segments for w in s.words] if req.words else []
    logprobs = [lp for s in segs for lp in s.logprobs] if req.logprobs else None
    return Transcript(text=_text(segs), language=LANGUAGES.get(meta["language"], meta["language"]),
                      duration=round(meta["duration"], 3), segments=segments, words=words, logprobs=logprobs,
                      usage=_usage(usage_kind, segs, meta, req.prompt), task=req.task)


def _stt_sse(segments: Iterator[SttSegment], meta: dict[str, Any], req: SttRequest, fmt: str,
             model: str) -> Iterator[bytes]:
    done: list[SttSegment] = []
    for seg in segments:
        done.append(seg)
        delta: dict[str, Any] = {"type": "transcript.text.delta", "delta": seg.text if done[0] is not seg
                                 else seg.text.lstrip()}
        if req.logprobs:
            delta["logprobs"] = seg.logprobs
        if fmt == "diarized_json":
            delta["segment_id"] = f"seg_{seg.id}"
            yield format_sse({"type": "transcript.text.segment", "id": f"seg_{seg.id}", "start": seg.start,
                              "end": seg.end, "text": seg.text.strip(), "speaker": "A"})
        yield format_sse(delta)
    final: dict[str, Any] = {"type": "transcript.text.done", "text": _text(done),
                             "usage": _usage("tokens", done, meta, req.prompt)}
    if req.logprobs:
        final["logprobs"] = [lp for s in done for lp in s.logprobs]
    yield format_sse(final)


def _form_openapi(task: str) -> dict[str, Any]:
    """The multipart body the route parses by hand, described for /openapi.json (clients, fuzzers)."""
    formats = TRANSCRIPTION_FORMATS if task == "transcribe" else TRANSLATION_FORMATS
    props: dict[str, Any] = {
        "file": {"type": "string", "format": "binary",
                 "description": f"The audio ({', '.join(UPLOAD_FORMATS)}), at most 25 MB."},
        "model": {"type": "string", "example": "whisper-1"},
        "prompt": {"type": "string"},
        "response_format": {"type": "string", "enum": list(formats), "default": "json"},
        "temperature": {"type": "number", "minimum": 0, "maximum": 1},
    }
    if task == "transcribe":
        props.update({
            "language": {"type": "string", "example": "en"},
            "timestamp_granularities[]": {"type": "array", "items": {"type": "string",
                                                                     "enum": list(TIMESTAMP_GRANULARITIES)}},
            "include[]": {"type": "array", "items": {"type": "string", "enum": list(TRANSCRIPTION_INCLUDE)}},
            "stream": {"type": "boolean"},
            "chunking_strategy": {"type": "string", "example": "auto"},
        })
    text = {"schema": {"type": "string"}}
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file", "model"], "properties": props}}}},
        "responses": {"200": {"description": "The transcript in `response_format` (SSE events with stream=true)",
                              "content": {"application/json": {"schema": {"type": "object"}}, "text/plain": text,
                                          "text/vtt": text, "text/event-stream": SSE_SCHEMA}}},
    }


@router.post("/v1/audio/transcriptions", openapi_extra=_form_openapi("transcribe"))
async def create_transcription(request: Request) -> Response:
    return await _stt(request, "transcribe")


@router.post("/v1/audio/translations", openapi_extra=_form_openapi("translate"))
async def create_translation(request: Request) -> Response:
    return await _stt(request, "translate")
