"""What the sync and async sessions share: the event type, audio to pcm16, and `Wire`, which
encodes client events (checked before sending), decodes server events into the turn record and
turns error events into exceptions, the key redacted from anything a server sends back."""

from __future__ import annotations

import base64
import functools
import json
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._http.validation import check_seconds, is_finite, is_real, json_ready
from .._redaction import Secret
from .._redaction import redact as redact_key
from .._wire.fields import meta_text, parse_json
from .._wire.realtime import CLIENT_EVENTS, SAMPLE_RATE, new_id
from ..audio import AudioClip
from ..codec import as_float_samples, check_sample_rate, resample
from ..errors import APIResponseError, APITimeoutError, InvalidInputError, RealtimeServerError
from .connection import closed_error, websocket_url
from .record import TurnRecord
from .server_events import checked_event

__all__ = ["RealtimeEvent", "pcm16", "Wire", "text_item", "truncate_event", "FIRST_EVENT_TIMEOUT", "DEFAULT_TIMEOUT",
           "PING_INTERVAL", "CHUNK_MS", "wait_seconds"]

FIRST_EVENT_TIMEOUT = 15.0  # session.created must come this soon after the upgrade
DEFAULT_TIMEOUT = 120.0  # the longest wait for any one event while you iterate
PING_INTERVAL = 20.0
CHUNK_MS = 100


@dataclass(frozen=True)
class RealtimeEvent:
    """A server event: `type`, `data` (the whole JSON object) and shortcuts for common fields."""

    type: str
    data: dict[str, Any] = field(repr=False)
    # The pcm16 (24 kHz) of a `response.output_audio.delta`, decoded once as it arrived; b"" for other events.
    audio: bytes = field(default=b"", repr=False)

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    @property
    def event_id(self) -> str | None:
        return self.data.get("event_id")

    @property
    def item_id(self) -> str | None:
        return self.data.get("item_id")

    @property
    def response_id(self) -> str | None:
        return self.data.get("response_id") or (self.data.get("response") or {}).get("id")

    @property
    def delta(self) -> str | None:
        return self.data.get("delta")

    @property
    def transcript(self) -> str | None:
        return self.data.get("transcript")

    def __repr__(self) -> str:
        keys = ", ".join(k for k in self.data if k not in ("type", "event_id"))
        return f"<RealtimeEvent {self.type} ({keys})>"


def pcm16(audio: Any, sample_rate: int | None = None) -> bytes:
    """pcm16 at 24 kHz from an AudioClip, a float/int16 array (with `sample_rate`) or raw pcm16 bytes."""
    if isinstance(audio, AudioClip):
        samples, rate = audio.samples, audio.sample_rate
    elif isinstance(audio, (bytes, bytearray, memoryview)):
        if sample_rate not in (None, SAMPLE_RATE):
            raise InvalidInputError(f"raw bytes are taken as pcm16 at {SAMPLE_RATE} Hz; give an AudioClip or an "
                                    "array with sample_rate= for other rates.", param="sample_rate")
        if len(audio) % 2:
            raise InvalidInputError("pcm16 audio has an even number of bytes.", param="audio")
        return bytes(audio)
    elif isinstance(audio, np.ndarray):
        if sample_rate is None:
            raise InvalidInputError("an array needs sample_rate= (e.g. 16000).", param="sample_rate")
        samples, rate = as_float_samples(audio), check_sample_rate(sample_rate)
    else:
        raise InvalidInputError(f"send_audio takes an AudioClip, a numpy array or pcm16 bytes, not "
                                f"{type(audio).__name__}.", param="audio")
    if samples.ndim > 1:
        samples = samples.mean(axis=1)
    samples = resample(samples, rate, SAMPLE_RATE)
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def wait_seconds(timeout: Any, default: float) -> float:
    """The seconds to wait for an event: `timeout` when given (checked), else the session's `default`."""
    return default if timeout is None else check_seconds(timeout, "timeout")


def appends(pcm: bytes, chunk_ms: Any) -> list[tuple[bytes, dict[str, Any]]]:
    """(piece, `input_audio_buffer.append` event) for `pcm` cut in `chunk_ms` pieces (at least 10 ms)."""
    if not is_real(chunk_ms) or not is_finite(chunk_ms) or chunk_ms <= 0:
        raise InvalidInputError(f"chunk_ms must be a positive number of milliseconds, not {chunk_ms!r}.",
                                param="chunk_ms")
    step = 2 * SAMPLE_RATE * max(10, int(chunk_ms)) // 1000
    return [(pcm[k:k + step], {"type": "input_audio_buffer.append",
                               "audio": base64.b64encode(pcm[k:k + step]).decode("ascii")})
            for k in range(0, len(pcm), step)]


def text_item(text: str, role: str = "user", item_id: str | None = None) -> dict[str, Any]:
    """The `conversation.item.create` of a text message (assistant text is output_text)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError("send_text needs some text.", param="text")
    if role not in ("user", "assistant", "system"):
        raise InvalidInputError(f"role must be user, assistant or system, not {role!r}.", param="role")
    kind = "output_text" if role == "assistant" else "input_text"
    item = {"type": "message", "role": role, "content": [{"type": kind, "text": text}]}
    return {"type": "conversation.item.create", "item": {**({"id": item_id} if item_id else {}), **item}}


def truncate_event(item_id: str, audio_end_ms: Any, content_index: Any = 0) -> dict[str, Any]:
    """`conversation.item.truncate`: an assistant item cut to what the listener heard."""
    if not isinstance(item_id, str) or not item_id:
        raise InvalidInputError("truncate needs the item_id of an assistant item.", param="item_id")
    if not is_real(audio_end_ms) or not is_finite(audio_end_ms) or audio_end_ms < 0:
        raise InvalidInputError(f"audio_end_ms must be 0 or more milliseconds, not {audio_end_ms!r}.",
                                param="audio_end_ms")
    if not isinstance(content_index, numbers.Integral) or not is_real(content_index) or content_index < 0:
        raise InvalidInputError(f"content_index must be a whole number >= 0, not {content_index!r}.",
                                param="content_index")
    return {"type": "conversation.item.truncate", "item_id": item_id, "content_index": int(content_index),
            "audio_end_ms": int(audio_end_ms)}


class Wire:
    """One session's URL, turn record and key redaction, and its events to and from JSON."""

    def __init__(self, base_url: str, model: str, api_key: str | None, websocket_base_url: str | None,
                 redact: Any = None, intent: str | None = None) -> None:
        self.url = websocket_url(base_url, model, websocket_base_url, intent)
        self.intent = intent
        Secret(api_key)  # remembered, so every error of this process has it taken out
        self.redact = redact or functools.partial(redact_key, key=api_key)
        self.record = TurnRecord()
        self.closed = False

    def encode(self, event: Any) -> str:
        if not isinstance(event, dict) or event.get("type") not in CLIENT_EVENTS:
            kind = event.get("type") if isinstance(event, dict) else type(event).__name__
            raise InvalidInputError(f"{kind!r} is not a Realtime client event; known: "
                                    f"{', '.join(sorted(CLIENT_EVENTS))}.", param="type")
        if self.closed:
            raise InvalidInputError("this Realtime session is closed; connect again.")
        # numpy numbers taken, NaN and infinity refused (they are not JSON), the field named
        return json.dumps(json_ready({"event_id": new_id("event"), **event}), allow_nan=False)

    def decode(self, raw: str | bytes) -> RealtimeEvent:
        try:
            data = parse_json(raw)
        except ValueError:
            raise APIResponseError(f"the Realtime server sent a message that is not JSON: "
                                   f"{self.redact(str(raw))[:80]!r}") from None  # cut after redacting
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            raise APIResponseError("the Realtime server sent an event without a type")
        audio = checked_event(data)  # a malformed event raises here, before the record takes it in
        self.record.feed(data, audio)
        return RealtimeEvent(data["type"], data, audio)

    def server_error(self, event: RealtimeEvent) -> RealtimeServerError:
        err = event.get("error")
        if isinstance(err, str):  # {"type": "error", "error": "rate limited"}: the message alone
            err = {"message": err}
        elif not isinstance(err, dict):
            err = {}
        code = err.get("code")
        if isinstance(code, int) and not isinstance(code, bool):
            code = str(code)
        return RealtimeServerError(self.redact(str(err.get("message") or "the server sent an error event")),
                                   type=meta_text(err.get("type")), code=meta_text(code),
                                   param=meta_text(err.get("param")), event_id=meta_text(err.get("event_id")))

    def first(self, event: RealtimeEvent) -> dict[str, Any]:
        """The session of the first event, which must be session.created."""
        if event.type == "error":
            raise self.server_error(event)
        if event.type != "session.created":
            raise APIResponseError(f"the Realtime server's first event was {event.type!r}, not session.created; "
                                   "it may not speak the GA Realtime protocol")
        return event.get("session") or {}

    def timed_out(self, timeout: float, waiting_for: str) -> APITimeoutError:
        return APITimeoutError(f"no Realtime event from {self.url} within {timeout:g} s (waiting for {waiting_for})")

    def closed_error(self, exc: BaseException) -> Exception:
        self.closed = True
        return closed_error(exc, self.url, self.redact)
