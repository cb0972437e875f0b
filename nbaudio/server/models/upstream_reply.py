"""What an upstream chat endpoint (`--chat-upstream`) sends, checked in one place: a streamed
`chat.completion.chunk` (`chunk_parts`) or a whole `chat.completion` (`completion_parts`, from an
upstream that ignores stream=true), as the parts the engine uses. Data not shaped as the API
promises (`choices: ["x"]`, `delta.content: 5`, a tool call's index as a list) is an
UpstreamShapeError, which the engine answers with a 502 `upstream_error`, never a crash; an
`error` object in a 2xx stream is an UpstreamFailure with the upstream's own message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["UpstreamShapeError", "UpstreamFailure", "UpstreamPart", "chunk_parts", "completion_parts"]


class UpstreamShapeError(ValueError):
    """The upstream's JSON is not what the chat completions API sends (the message says where)."""


class UpstreamFailure(Exception):
    """The upstream sent an error object in place of a chunk; `message` is its own (maybe empty)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class UpstreamPart:
    """One choice's contribution: its text, tool-call fragments and finish reason."""

    text: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    finish_reason: str | None = None


@dataclass
class UpstreamReply:
    """What one chunk (or the whole body) says: the model's name, usage counts, and its parts."""

    model: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    parts: list[UpstreamPart]


def chunk_parts(data: Any) -> UpstreamReply:
    """A streamed chunk: `choices[*].delta`."""
    return _reply(data, "delta")


def completion_parts(data: Any) -> UpstreamReply:
    """A whole reply: `choices[0].message` (the engine makes one choice)."""
    reply = _reply(data, "message")
    reply.parts = reply.parts[:1]
    return reply


def _reply(data: Any, inner: str) -> UpstreamReply:
    data = _object(data, "the reply")
    if data.get("error") is not None and not data.get("choices"):
        error = data["error"]
        message = error.get("message") if isinstance(error, dict) else error
        raise UpstreamFailure(message if isinstance(message, str) else "")
    choices = data.get("choices") or []
    if not isinstance(choices, list):
        raise UpstreamShapeError(f"'choices' is {_kind(choices)}, not a list")
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    return UpstreamReply(
        model=data["model"] if isinstance(data.get("model"), str) and data["model"] else None,
        prompt_tokens=_count(usage.get("prompt_tokens")), completion_tokens=_count(usage.get("completion_tokens")),
        parts=[_part(_object(choice, f"choices[{i}]"), inner, f"choices[{i}]") for i, choice in enumerate(choices)])


def _part(choice: dict[str, Any], inner: str, where: str) -> UpstreamPart:
    body = _object(choice.get(inner) or {}, f"{where}.{inner}")
    calls = body.get("tool_calls") or []
    if not isinstance(calls, list):
        raise UpstreamShapeError(f"{where}.{inner}.tool_calls is {_kind(calls)}, not a list")
    return UpstreamPart(text=_text(body.get("content"), f"{where}.{inner}.content") or "",
                        tool_calls=[_tool_call(_object(c, f"{where}.{inner}.tool_calls[{i}]"),
                                               f"{where}.{inner}.tool_calls[{i}]") for i, c in enumerate(calls)],
                        finish_reason=_text(choice.get("finish_reason"), f"{where}.finish_reason"))


def _tool_call(call: dict[str, Any], where: str) -> dict[str, Any]:
    """A fragment as Generation.put_tool_calls takes it: index an int, id and names strings,
    arguments a string (an object given as such is written as JSON, as some servers send it)."""
    index = call.get("index")
    if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
        raise UpstreamShapeError(f"{where}.index is {_kind(index)}, not an integer")
    fn = _object(call.get("function") or {}, f"{where}.function")
    arguments = fn.get("arguments")
    if isinstance(arguments, (dict, list)):
        arguments = json.dumps(arguments)
    out: dict[str, Any] = {"function": {"name": _text(fn.get("name"), f"{where}.function.name"),
                                        "arguments": _text(arguments, f"{where}.function.arguments")}}
    if index is not None:
        out["index"] = index
    if _text(call.get("id"), f"{where}.id"):
        out["id"] = call["id"]
    return out


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UpstreamShapeError(f"{where} is {_kind(value)}, not an object")
    return value


def _text(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise UpstreamShapeError(f"{where} is {_kind(value)}, not a string")
    return value


def _count(value: Any) -> int | None:
    """A token count as given, or None when it is not one (usage is then estimated, not refused)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number")
