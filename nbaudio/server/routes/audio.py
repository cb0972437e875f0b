"""`POST /v1/audio/speech`, `/v1/audio/transcriptions`, `/v1/audio/translations`, and the engine's
`/v1/audio/diarizations` (who spoke when, without transcribing)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from ..._wire.spec import (
    DIARIZE_MODEL,
    MIME_TYPES,
    SPEECH_FORMATS,
    SPEECH_MAX_INPUT,
    SPEECH_STREAM_FORMATS,
    SPEED_MAX,
    SPEED_MIN,
    TIMESTAMP_GRANULARITIES,
    TRANSCRIPTION_FORMATS,
    TRANSCRIPTION_INCLUDE,
    TRANSLATION_FORMATS,
    UPLOAD_FORMATS,
)
from ..._wire.sse import format_sse
from ...codec.stream import StreamEncoder
from ...transcript import Segment, Transcript, Word, speaker_at
from .. import paths, untrusted_json
from ..api_errors import bad_request, model_not_found
from ..diarization.pipeline import Turn
from ..engine import EngineDep
from ..model_names import multilingual_only, speech_model_ok, stt_model_ok
from ..models.stt import LANGUAGES, SAMPLE_RATE, SttRequest, SttSegment, language_code
from ..models.translation_quality import WARNING_HEADER, translation_warning
from ..route_helpers import SSE_SCHEMA, samples_16k, streaming
from ..tokens import audio_tokens, text_tokens_estimate
from ..transcribe import transcribe
from ..untrusted_json import UntrustedJSONError
from ..voices import plan_voice, voice_name
from .diarization import diarize, label_segments, read_speaker_request, split_by_speaker
from .forms import bool_field, float_field, list_field, read_form, text_field, upload_clip

router = APIRouter()


# ---- speech ---------------------------------------------------------------------------------
class SpeechRequest(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)

    model: str
    input: Annotated[str, Field(min_length=1, max_length=SPEECH_MAX_INPUT)]
    voice: str | dict[str, Any]
    instructions: Annotated[str | None, Field(max_length=4096)] = None  # accepted; piper has no style control
    response_format: Literal[*SPEECH_FORMATS] = "mp3"
    speed: Annotated[float, Field(ge=SPEED_MIN, le=SPEED_MAX)] = 1.0
    stream_format: Literal[*SPEECH_STREAM_FORMATS] = "audio"


_SPEECH_OPENAPI = {"responses": {"200": {"description": "The audio, streamed (SSE events with stream_format=sse)",
                                         "content": {MIME_TYPES[f]: {"schema": {"type": "string", "format": "binary"}}
                                                     for f in SPEECH_FORMATS}
                                         | {"text/event-stream": SSE_SCHEMA}}}}


@router.post(paths.SPEECH, openapi_extra=_SPEECH_OPENAPI)
async def create_speech(body: SpeechRequest, engine: EngineDep) -> Response:
    if not speech_model_ok(body.model):
        raise model_not_found(body.model)
    if not body.input.strip():
        raise bad_request("Invalid value for 'input': the text is empty.", param="input")
    voice = voice_name(body.voice)
    plan = await run_in_threadpool(plan_voice, engine, voice, body.input, body.speed)
    fmt = body.response_format
    # Make the first sentence before answering, so a failure is still a proper error response.
    chunks = plan.synthesize(body.input)
    first = await run_in_threadpool(next, chunks, None)
    if first is None:
        raise bad_request("Invalid value for 'input': nothing in it can be spoken.", param="input")
    encoder = StreamEncoder(fmt, plan.rate)
    headers = {"X-Nbaudio-Voice": plan.voice}
    if body.stream_format == "sse":
        return streaming(_speech_sse(first, chunks, encoder, body.input), headers=headers)
    return streaming(_encoded(first, chunks, encoder), MIME_TYPES[fmt], headers=headers)


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
def _chunking_vad(value: str | None) -> bool:
    if value is None or value == "":
        return False
    if value == "auto":
        return True
    try:
        obj = untrusted_json.loads(value)
    except UntrustedJSONError as exc:
        raise bad_request(f"Invalid value for 'chunking_strategy': the value {exc}; use \"auto\" or a server_vad "
                          "object.", param="chunking_strategy") from None
    if not (isinstance(obj, dict) and obj.get("type") == "server_vad") and obj != "auto":
        raise bad_request("Invalid value for 'chunking_strategy': use \"auto\" or {\"type\": \"server_vad\"}.",
                          param="chunking_strategy")
    return True


def _language(form: Any, task: str) -> str | None:
    """The `language` field as Whisper's code (None: detect it); only transcriptions take one."""
    raw = text_field(form, "language") if task == "transcribe" else None
    if not raw:
        return None
    language = language_code(raw)
    if language is None:
        raise bad_request(f"Invalid value for 'language': {raw!r} is not a language Whisper knows "
                          "(use an ISO-639-1 code such as 'en' or 'de').", param="language")
    return language


def _listed(form: Any, name: str, allowed: tuple[str, ...], say: str) -> list[str]:
    """A `name[]` field whose every value is one of `allowed` (else 400 with `say`)."""
    values = list_field(form, name)
    for value in values:
        if value not in allowed:
            raise bad_request(f"Invalid value for '{name}[]': {value!r}; {say}.", param=f"{name}[]")
    return values


def _response_format(form: Any, task: str) -> str:
    formats = TRANSCRIPTION_FORMATS if task == "transcribe" else TRANSLATION_FORMATS
    fmt = text_field(form, "response_format") or "json"
    if fmt not in formats:
        raise bad_request(f"Invalid value for 'response_format': '{fmt}'. Supported values are: "
                          f"{', '.join(repr(f) for f in formats)}.", param="response_format")
    return fmt


async def _stt(request: Request, engine: EngineDep, task: str) -> Response:
    form = await read_form(request)
    model = text_field(form, "model")
    if not model:
        raise bad_request("Missing required parameter: 'model'.", param="model")
    if not stt_model_ok(model, task):
        raise model_not_found(model)
    fmt = _response_format(form, task)
    language = _language(form, task)
    grans = _listed(form, "timestamp_granularities", TIMESTAMP_GRANULARITIES, "use 'word' and/or 'segment'")
    include = _listed(form, "include", TRANSCRIPTION_INCLUDE, "the only supported value is 'logprobs'")
    if include and fmt != "json":
        raise bad_request("'include[]=logprobs' only works with response_format 'json'.", param="include[]")
    stream = bool_field(form, "stream")
    prompt = text_field(form, "prompt")
    temperature = float_field(form, "temperature", 0.0, 1.0)
    vad = _chunking_vad(text_field(form, "chunking_strategy"))
    speakers = read_speaker_request(form, fmt) if task == "transcribe" else None
    clip = await upload_clip(form, engine.settings.max_upload_bytes)
    samples = await run_in_threadpool(samples_16k, clip, "file", engine.settings.max_audio_seconds)
    turns = None
    if speakers is not None and speakers.wanted:  # before decoding: a stream's segments carry speakers too
        turns = await run_in_threadpool(diarize, engine.settings.cache_dir, samples, speakers,
                                        engine.settings.max_audio_seconds)
    split = turns is not None and fmt == "diarized_json" and not stream  # cut at speaker changes, by word times
    req = SttRequest(samples=samples, task=task, language=language, prompt=prompt, temperature=temperature,
                     words=("word" in grans and fmt == "verbose_json") or split, logprobs=bool(include), vad=vad,
                     multilingual=multilingual_only(model))
    segments, meta = await run_in_threadpool(transcribe, engine, req)
    if stream:
        return streaming(_stt_sse(segments, meta, req, fmt, turns))
    segs = await run_in_threadpool(list, segments)
    transcript = _transcript(segs, meta, req, "tokens" if model.startswith("gpt-") else "duration")
    if turns is not None:
        transcript = split_by_speaker(transcript, turns) if split else label_segments(transcript, turns)
    warning = None
    if task == "translate":
        transcript.language = "english"
        # Whisper base invents fluent English for some languages (docs/translation.md): say so.
        warning = translation_warning(meta["language"], LANGUAGES.get(meta["language"], "").title() or None)
    body, media_type = transcript.render(fmt)
    if not warning:
        return Response(body, media_type=media_type)
    if media_type == "application/json":
        body = json.dumps({**json.loads(body), "warning": warning}, ensure_ascii=False)
    return Response(body, media_type=media_type, headers={WARNING_HEADER: warning})


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
                no_speech_prob=s.no_speech_prob, language=LANGUAGES.get(s.language or "", s.language),
                words=[Word(w["word"].strip(), w["start"], w["end"], w["probability"]) for w in s.words])
        for s in segs
    ]
    words = [w for s in segments for w in s.words] if req.words else []
    logprobs = [lp for s in segs for lp in s.logprobs] if req.logprobs else None
    return Transcript(text=_text(segs), language=LANGUAGES.get(meta["language"], meta["language"]),
                      duration=round(meta["duration"], 3), segments=segments, words=words, logprobs=logprobs,
                      usage=_usage(usage_kind, segs, meta, req.prompt), task=req.task)


def _stt_sse(segments: Iterator[SttSegment], meta: dict[str, Any], req: SttRequest, fmt: str,
             turns: list[Turn] | None = None) -> Iterator[bytes]:
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
                              "end": seg.end, "text": seg.text.strip(),
                              "speaker": speaker_at(turns or [], seg.start, seg.end) or "A"})
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


@router.post(paths.TRANSCRIPTIONS, openapi_extra=_form_openapi("transcribe"))
async def create_transcription(request: Request, engine: EngineDep) -> Response:
    return await _stt(request, engine, "transcribe")


@router.post(paths.TRANSLATIONS, openapi_extra=_form_openapi("translate"))
async def create_translation(request: Request, engine: EngineDep) -> Response:
    return await _stt(request, engine, "translate")


# ---- who spoke when, alone ------------------------------------------------------------------
_DIARIZE_OPENAPI = {
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary", "description": "The audio, at most 25 MB."},
            "model": {"type": "string", "example": "gpt-4o-transcribe-diarize"},
            "num_speakers": {"type": "integer", "minimum": 1},
            "known_speaker_names[]": {"type": "array", "items": {"type": "string"}},
            "known_speaker_references[]": {"type": "array", "items": {"type": "string"}}}}}}},
    "responses": {"200": {"description": "Speaker turns: {duration, speakers, segments: [{start, end, speaker}]}",
                          "content": {"application/json": {"schema": {"type": "object"}}}}},
}


@router.post(paths.DIARIZATIONS, openapi_extra=_DIARIZE_OPENAPI)
async def create_diarization(request: Request, engine: EngineDep) -> Response:
    """An engine extension: the speaker turns of an upload, with the transcription form's speaker fields
    (num_speakers, known_speaker_names[], known_speaker_references[]); a client re-labels a transcript
    it already has with them instead of transcribing again."""
    form = await read_form(request)
    model = text_field(form, "model")
    if model and model != DIARIZE_MODEL:
        raise bad_request(f"Invalid value for 'model': {model!r}; speaker turns come from {DIARIZE_MODEL!r} "
                          "(or leave 'model' out).", param="model")
    speakers = read_speaker_request(form, "diarized_json")
    clip = await upload_clip(form, engine.settings.max_upload_bytes)
    samples = await run_in_threadpool(samples_16k, clip, "file", engine.settings.max_audio_seconds)
    turns = await run_in_threadpool(diarize, engine.settings.cache_dir, samples, speakers,
                                    engine.settings.max_audio_seconds)
    body = {"duration": round(len(samples) / SAMPLE_RATE, 3),
            "speakers": list(dict.fromkeys(t.speaker for t in turns)),
            "segments": [{"start": t.start, "end": t.end, "speaker": t.speaker} for t in turns]}
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")
