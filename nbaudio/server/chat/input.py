"""Chat messages as the text model reads them: `input_audio` parts transcribed, earlier assistant
audio (`{"audio": {"id"}}`) replaced by its stored transcript, roles mapped for a local model."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ..._wire.spec import CHAT_INPUT_AUDIO_FORMATS
from ...audio import AudioClip
from ...errors import AudioDecodeError
from ..api_errors import bad_request
from ..engine import Engine
from ..models.stt import SttRequest
from ..route_helpers import samples_16k
from ..transcribe import transcribe

__all__ = ["SPOKEN_SYSTEM_PROMPT", "ROLES", "text_messages"]

# Said to a small local model when its answer will be spoken and the caller set no system prompt.
SPOKEN_SYSTEM_PROMPT = ("You are a helpful assistant. Your answers are spoken aloud, so answer in a few short, "
                        "plain sentences without lists or markdown.")
ROLES = ("system", "developer", "user", "assistant", "tool")


def text_messages(engine: Engine, messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], float]:
    """Messages the text model can read, and the seconds of input audio transcribed for them."""
    out: list[dict[str, Any]] = []
    seconds = 0.0
    upstream = bool(engine.settings.chat_upstream)
    for i, m in enumerate(messages):
        role = m.get("role")
        if role not in ROLES:
            raise bad_request(f"Invalid value for 'messages[{i}].role': {role!r}. Supported values are: "
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
            raise bad_request(f"Invalid type for 'messages[{i}].content': expected a string or an array of "
                              "content parts.", param=f"messages[{i}].content")
        if role == "assistant" and m.get("audio") is not None:
            parts.insert(0, _stored_transcript(engine, m["audio"], i))
        text = " ".join(p for p in parts if p).strip()
        if not text and role != "assistant":
            raise bad_request(f"Invalid value for 'messages[{i}].content': the message is empty.",
                              param=f"messages[{i}].content")
        if upstream:
            msg = {k: v for k, v in m.items() if k not in ("audio", "content")}
            msg["content"] = text if (text or not m.get("tool_calls")) else None
        elif role == "developer":
            msg = {"role": "system", "content": text}
        elif role == "tool":
            msg = {"role": "user", "content": f"(tool result) {text}"}
        elif role == "assistant" and not text and m.get("tool_calls"):
            # The local model reads its own earlier call as words, so the result that follows makes sense.
            msg = {"role": role, "content": "I called " + ", ".join(_call_text(c) for c in m["tool_calls"]) + "."}
        else:
            msg = {"role": role, "content": text}
        out.append(msg)
    return out, seconds


def _call_text(call: Any) -> str:
    fn = call.get("function") if isinstance(call, dict) else None
    if not isinstance(fn, dict):
        return "a tool"
    return f"{str(fn.get('name'))[:64]}({str(fn.get('arguments'))[:500]})"


def _part_text(engine: Engine, part: Any, where: str) -> tuple[str, float]:
    if not isinstance(part, dict) or "type" not in part:
        raise bad_request(f"Invalid value for '{where}': a content part needs a 'type'.", param=where)
    kind = part["type"]
    if kind == "text":
        if not isinstance(part.get("text"), str):
            raise bad_request(f"Missing required parameter: '{where}.text'.", param=f"{where}.text")
        return part["text"], 0.0
    if kind == "input_audio":
        return _transcribe_part(engine, part.get("input_audio"), where)
    raise bad_request(f"Invalid value for '{where}.type': '{kind}' parts are not supported by the local engine "
                      "(it understands 'text' and 'input_audio').", param=f"{where}.type")


def _transcribe_part(engine: Engine, spec: Any, where: str) -> tuple[str, float]:
    param = f"{where}.input_audio"
    if not isinstance(spec, dict):
        raise bad_request(f"Missing required parameter: '{param}'.", param=param)
    fmt = spec.get("format")
    if fmt not in CHAT_INPUT_AUDIO_FORMATS:
        raise bad_request(f"Invalid value for '{param}.format': {fmt!r}. Supported values are: 'wav' and 'mp3'.",
                          param=f"{param}.format")
    data = spec.get("data")
    if not isinstance(data, str) or not data:
        raise bad_request(f"Missing required parameter: '{param}.data'.", param=f"{param}.data")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise bad_request(f"Invalid value for '{param}.data': not valid base64.", param=f"{param}.data") from None
    try:
        clip = AudioClip(raw, fmt)
    except AudioDecodeError as exc:
        raise bad_request(f"Invalid value for '{param}.data': {exc.message}", param=f"{param}.data") from None
    samples16 = samples_16k(clip, f"{param}.data", engine.settings.max_audio_seconds)
    segments, meta = transcribe(engine, SttRequest(samples16))
    return "".join(s.text for s in segments).strip(), float(meta["duration"])


def _stored_transcript(engine: Engine, audio: Any, i: int) -> str:
    param = f"messages[{i}].audio.id"
    if not isinstance(audio, dict) or not isinstance(audio.get("id"), str):
        raise bad_request(f"Invalid value for 'messages[{i}].audio': expected {{\"id\": \"audio_...\"}}.",
                          param=f"messages[{i}].audio")
    stored = engine.store.get(audio["id"])
    if stored is None:
        raise bad_request(f"Audio with id '{audio['id']}' was not found or has expired. Send the assistant's "
                          "transcript as text content instead.", param=param, code="audio_not_found")
    return stored.transcript
