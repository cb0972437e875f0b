"""What the two tool-choice experiments share (local_tool_choice.py, the reported set;
tool_choice_tuning.py, the tuning set): the shape of a tool, what counts as "right", each prompt's
outcome and the summary of a run.

"right" is mechanical: the same tool (or no call) as the expected one and, for a call, the same
arguments (strings compared without case or spaces at the ends, numbers as numbers).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["tool", "right", "outcome", "report"]

Call = tuple[str, dict[str, Any]]


def tool(name: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    """A function tool of the Chat Completions API whose properties are all required."""
    return {"type": "function", "function": {"name": name, "description": description, "parameters": {
        "type": "object", "properties": properties, "required": list(properties)}}}


def _same(got: Any, want: Any) -> bool:
    if isinstance(want, str):
        return isinstance(got, str) and got.strip().lower() == want.lower()
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        return isinstance(got, (int, float)) and not isinstance(got, bool) and got == want
    return got == want


def right(call: Call | None, tool: str | None, args: dict[str, Any]) -> tuple[bool, bool]:
    """(right tool or right not to call, and right arguments too)."""
    if call is None or tool is None:
        return call is None and tool is None, call is None and tool is None
    name, got = call
    if name != tool:
        return False, False
    return True, set(got) == set(args) and all(_same(got[k], v) for k, v in args.items())


def outcome(prompt: str, tool: str | None, args: dict[str, Any], call: Call | None, got: Any,
            seconds: float) -> dict[str, Any]:
    """One prompt's row: what was expected, what came (`got`), whether it was right, how long it took."""
    chose, exact = right(call, tool, args)
    return {"prompt": prompt, "expected": [tool, args], "got": got, "right_choice": chose, "right": exact,
            "seconds": round(seconds, 2)}


def report(rows: list[dict[str, Any]], json_path: Path | None) -> None:
    """Print the run's summary; write its rows to `json_path` when given."""
    fits = [r for r in rows if r["expected"][0]]
    none = [r for r in rows if not r["expected"][0]]
    print(f"\nright tool and arguments: {sum(r['right'] for r in fits)}/{len(fits)} prompts where a tool fits "
          f"(right tool: {sum(r['right_choice'] for r in fits)}/{len(fits)}); "
          f"no call where none fits: {sum(r['right'] for r in none)}/{len(none)}; "
          f"all right: {sum(r['right'] for r in rows)}/{len(rows)}")
    if json_path:
        json_path.write_text(json.dumps(rows, indent=1) + "\n")
