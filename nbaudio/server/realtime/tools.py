"""Function tools in a Realtime session: `session.tools` / `tool_choice` (and a response's own),
the `function_call` and `function_call_output` conversation items, and a response that calls a
tool instead of speaking (`response.function_call_arguments.delta/.done`), in the GA shapes the
official `openai` SDK types (`openai.types.realtime`).

The local model decides as in chat (nbaudio.server.models.tool_calls); an answer after a
`function_call_output` reads it as a tool result. With `--chat-upstream` a Realtime session has
no tools yet (refused by name when a response would need them).
"""

from __future__ import annotations

from typing import Any

from ..._wire.realtime import new_id
from ...errors import RealtimeEventError
from ..models.tool_calls import ToolChoice, ToolSpec, ToolSpecError, check_grammars, parse_tool_choice, parse_tools
from .conversation import Item

__all__ = ["RealtimeTools", "parse_tools_setting", "parse_call_item", "call_item", "call_events", "MAX_OUTPUT"]

MAX_OUTPUT = 64_000  # characters of a function_call_output kept (the local model reads far less)


class RealtimeTools:
    """A session's (or a response's) tools as sent, and as the local model takes them."""

    def __init__(self, raw: list[dict[str, Any]], choice: Any, specs: list[ToolSpec], parsed: ToolChoice) -> None:
        self.raw, self.choice, self.specs, self.parsed = raw, choice, specs, parsed

    @property
    def active(self) -> bool:
        return bool(self.specs) and self.parsed.mode != "none"


def parse_tools_setting(tools: Any, choice: Any, where: str, current: RealtimeTools | None = None) -> RealtimeTools:
    """`tools` and `tool_choice` of a session.update or response.create (either may be absent:
    the `current` one stays), checked as the local grammar needs them."""
    raw = current.raw if tools is _ABSENT and current is not None else (tools if tools is not _ABSENT else [])
    chosen = current.choice if choice is _ABSENT and current is not None else (choice if choice is not _ABSENT
                                                                              else "auto")
    try:
        specs = parse_tools(raw, f"{where}.tools", nested=False)
        parsed = parse_tool_choice(chosen, specs, f"{where}.tool_choice", nested=False)
        if specs:
            check_grammars(specs, f"{where}.tools")
    except ToolSpecError as exc:
        raise RealtimeEventError(exc.message, param=exc.param) from None
    return RealtimeTools([dict(t) for t in raw or []], chosen, specs, parsed)


_ABSENT: Any = object()
ABSENT = _ABSENT  # what a caller passes for a field the event leaves out


def parse_call_item(item: dict[str, Any], where: str) -> dict[str, Any]:
    """A `function_call` or `function_call_output` item a client adds, checked."""
    kind = item.get("type")
    fields = {"function_call": ("call_id", "name", "arguments"), "function_call_output": ("call_id", "output")}[kind]
    allowed = {"id", "type", "object", "status", *fields}
    unknown = sorted(set(item) - allowed)
    if unknown:
        raise RealtimeEventError(f"Unknown parameter: '{where}.{unknown[0]}'. A {kind} item takes "
                                 f"{', '.join(sorted(allowed))}.", param=f"{where}.{unknown[0]}",
                                 code="unknown_parameter")
    out: dict[str, Any] = {"type": kind}
    for key in fields:
        value = item.get(key)
        if not isinstance(value, str) or (key != "arguments" and key != "output" and not 0 < len(value) <= 64):
            raise RealtimeEventError(f"Missing or invalid '{where}.{key}': expected a string"
                                     f"{'' if key in ('arguments', 'output') else ' of 1 to 64 characters'}.",
                                     param=f"{where}.{key}")
        out[key] = value
    if "output" in out:
        out["output"] = out["output"][:MAX_OUTPUT]
    if item.get("id") is not None:
        if not isinstance(item["id"], str) or not 0 < len(item["id"]) <= 64:
            raise RealtimeEventError(f"Invalid value for '{where}.id': up to 64 characters.", param=f"{where}.id")
        out["id"] = item["id"]
    return out


def call_item(spec: dict[str, Any]) -> Item:
    """The conversation Item of a checked call or call-output item."""
    call = {k: v for k, v in spec.items() if k not in ("type", "id")}
    role = "assistant" if spec["type"] == "function_call" else "user"
    return Item(role=role, content=[], type=spec["type"], call=call, **({"id": spec["id"]} if "id" in spec else {}))


def call_events(response_id: str, item: Item, output_index: int) -> list[dict[str, Any]]:
    """The events of a call after its item was added: the arguments (one delta: the local model's
    call is made whole before it is sent), then the item done."""
    call = item.call
    where = {"response_id": response_id, "item_id": item.id, "output_index": output_index, "call_id": call["call_id"]}
    item.status = "completed"
    return [
        {"type": "response.function_call_arguments.delta", "event_id": new_id("event"), **where,
         "delta": call["arguments"]},
        {"type": "response.function_call_arguments.done", "event_id": new_id("event"), **where,
         "name": call["name"], "arguments": call["arguments"]},
    ]
