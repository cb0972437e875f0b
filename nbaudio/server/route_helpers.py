"""What the routes share: streamed responses and audio in for Whisper (which Whisper hears it: transcribe.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.responses import StreamingResponse

from ..audio import AudioClip, decode_mono
from ..errors import AudioDecodeError, AudioTooLongError, MissingDependencyError
from .api_errors import EngineError, bad_request
from .models.stt import SAMPLE_RATE

__all__ = ["STREAM_HEADERS", "SSE_SCHEMA", "streaming", "samples_16k"]

# Streamed answers must reach the client as they are made: no cache, no proxy buffering (nginx).
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
# Each server-sent event: JSON in `data` (for /openapi.json).
SSE_SCHEMA = {"schema": {"type": "object", "required": ["data"], "properties": {"data": {"type": "string"}}}}


def streaming(chunks: Iterator[bytes], media_type: str = "text/event-stream",
              headers: dict[str, str] | None = None) -> StreamingResponse:
    """A streamed response (server-sent events by default) with STREAM_HEADERS and `headers`."""
    return StreamingResponse(chunks, media_type=media_type, headers={**STREAM_HEADERS, **(headers or {})})


def samples_16k(clip: AudioClip, param: str, max_seconds: float) -> Any:
    """The clip as mono float32 at Whisper's rate, decoded block by block and never past
    `max_seconds` (400 `audio_too_long`); undecodable or empty audio is a 400/415 on `param`."""
    try:
        samples = decode_mono(clip, SAMPLE_RATE, max_seconds=max_seconds)
    except MissingDependencyError as exc:
        raise EngineError(415, f"Cannot decode '{clip.name or param}' here: {exc}", param=param,
                          code="unsupported_file_format") from None
    except AudioTooLongError as exc:
        raise bad_request(f"Invalid value for '{param}': {exc.message} (this engine's max_audio_seconds)",
                          param=param, code="audio_too_long") from None
    except AudioDecodeError as exc:
        raise bad_request(f"Invalid value for '{param}': {exc.message}", param=param, code="invalid_file") from None
    if samples.size == 0:
        raise bad_request(f"Invalid value for '{param}': the audio contains no samples.", param=param,
                          code="empty_file")
    return samples
