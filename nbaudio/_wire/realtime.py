"""The Realtime API's wire facts, shared by the engine (`nbaudio.server.realtime`) and the client
(`nbaudio.realtime`): the path, the audio format, event names, error events and what WebSocket
close codes mean. (The session settings the engine takes are read in nbaudio.server.realtime.config.)

The shapes follow the GA protocol as the official `openai` SDK types it (`openai.types.realtime`);
the beta shape (`OpenAI-Beta: realtime=v1`) is not spoken.
"""

from __future__ import annotations

import secrets
from typing import Any

from .spec import PCM_SAMPLE_RATE

__all__ = [
    "PATH", "SAMPLE_RATE", "BYTES_PER_MS", "AUDIO_FORMAT", "KEY_SUBPROTOCOL_PREFIX", "SUBPROTOCOL", "CLIENT_EVENTS",
    "CLOSE_CODES", "close_meaning", "new_id", "error_event",
]

PATH = "/v1/realtime"
SAMPLE_RATE = PCM_SAMPLE_RATE  # audio/pcm: 16-bit little-endian mono at 24 kHz, both ways
BYTES_PER_MS = 2 * SAMPLE_RATE // 1000  # of that audio: where an event's *_ms falls in the bytes
AUDIO_FORMAT = "audio/pcm"
# Browsers cannot set headers on a WebSocket: they send the key as a subprotocol
# ("realtime", "openai-insecure-api-key.<key>"); the server answers with "realtime" only.
SUBPROTOCOL = "realtime"
KEY_SUBPROTOCOL_PREFIX = "openai-insecure-api-key."

CLIENT_EVENTS = frozenset({
    "session.update", "input_audio_buffer.append", "input_audio_buffer.commit", "input_audio_buffer.clear",
    "conversation.item.create", "conversation.item.delete", "conversation.item.truncate",
    "conversation.item.retrieve", "response.create", "response.cancel", "output_audio_buffer.clear",
})

# WebSocket close codes a Realtime session can end with, and what each means to a person.
CLOSE_CODES: dict[int, str] = {
    1000: "the session ended normally",
    1001: "the server is going away (restart or shutdown)",
    1006: "the connection dropped without a close frame",
    1008: "policy violation (e.g. a refused key or origin, or a session limit)",
    1009: "a message was larger than the server accepts",
    1011: "the server hit an internal error",
    1013: "the server is at its session limit; try again later",
    4000: "beta_api_shape_disabled: the server no longer speaks the beta Realtime shape "
          "(OpenAI-Beta: realtime=v1); use the GA protocol",
}


def close_meaning(code: int | None) -> str:
    """What a close code means ("unknown close code 4321" for one not listed)."""
    if code is None:
        return CLOSE_CODES[1006]
    return CLOSE_CODES.get(code, f"unknown close code {code}")


def new_id(prefix: str) -> str:
    """An id in OpenAI's style: `event_...`, `item_...`, `resp_...`, `sess_...`."""
    return f"{prefix}_{secrets.token_hex(10)}"


def error_event(message: str, *, type: str = "invalid_request_error", code: str | None = None,
                param: str | None = None, event_id: str | None = None) -> dict[str, Any]:
    """An `error` server event; `event_id` inside `error` is the client event it answers."""
    return {"type": "error", "event_id": new_id("event"),
            "error": {"type": type, "code": code, "message": message, "param": param, "event_id": event_id}}
