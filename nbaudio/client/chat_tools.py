"""chat(tools=[f, g]): Python functions given as tools, described to the model (nbaudio.tools),
and the calls in a reply run by them."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidInputError
from ..tools import ToolBox, ToolRun

__all__ = ["MAX_TOOL_ROUNDS", "run_call", "tool_box"]

MAX_TOOL_ROUNDS = 5  # requests after the first, each answering the calls of the one before


def tool_box(extra: dict[str, Any]) -> ToolBox | None:
    """The functions of chat()'s `tools=` (replaced in `extra` by their JSON schemas), or None when
    `tools` is absent or already JSON dicts (sent as they are, the calls left to the caller)."""
    tools = extra.get("tools")
    if not isinstance(tools, (list, tuple)) or not any(callable(t) for t in tools):
        return None
    if not all(callable(t) for t in tools):
        raise InvalidInputError("tools= takes Python functions or JSON tool dicts, not both", param="tools")
    box = ToolBox(tools, timeout=extra.pop("tool_timeout", 30.0))
    extra["tools"] = box.chat_specs()
    return box


def run_call(box: ToolBox, call: Any) -> ToolRun:
    """Run one `tool_calls` entry of a reply (untrusted: any shape gives a ToolRun, never an exception)."""
    call = call if isinstance(call, dict) else {}
    fn = call.get("function") if isinstance(call.get("function"), dict) else {}
    call_id = call.get("id") if isinstance(call.get("id"), str) else None
    return box.run(fn.get("name"), fn.get("arguments"), call_id)
