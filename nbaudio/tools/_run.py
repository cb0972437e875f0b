"""Running the functions a model calls: only those the user passed, with the model's arguments
checked first (they are untrusted JSON), in a thread with a time limit, and whatever happens
(bad JSON, an unknown name, wrong types, an exception, a timeout) turned into an error result for
the model, never an exception in the notebook."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidInputError
from ._schema import Tool, check_arguments, describe

__all__ = ["ToolBox", "ToolRun", "MAX_ARGUMENTS", "MAX_OUTPUT"]

MAX_ARGUMENTS = 100_000  # characters of a call's arguments JSON read at all
MAX_OUTPUT = 20_000  # characters of a result sent back to the model


@dataclass
class ToolRun:
    """One call the model made: what it asked for, and what the function gave (or the error)."""

    name: str
    arguments: Any  # the decoded arguments, or the raw text when they were not JSON
    call_id: str | None = None
    result: Any = None
    error: str | None = None
    seconds: float = 0.0
    output: str = field(default="", repr=False)  # what goes back to the model

    def __str__(self) -> str:
        args = self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments, ensure_ascii=False)
        shown = f"error: {self.error}" if self.error else self.output
        return f"{self.name}({args[:200]}) -> {shown[:300]}"


def _output(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=repr)
    if len(text) > MAX_OUTPUT:
        text = text[:MAX_OUTPUT] + f"... (cut: {len(text)} characters)"
    return text


class ToolBox:
    """The functions a session or a chat may call (off unless the user passed some)."""

    def __init__(self, functions: Iterable[Callable[..., Any] | Tool], *, timeout: float = 30.0) -> None:
        self.tools: dict[str, Tool] = {}
        for f in functions:
            tool = describe(f)
            if tool.name in self.tools:
                raise InvalidInputError(f"two tools are named {tool.name!r}", param="tools")
            self.tools[tool.name] = tool
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise InvalidInputError("tool_timeout must be a number of seconds > 0", param="tool_timeout")
        self.timeout = float(timeout)

    def __bool__(self) -> bool:
        return bool(self.tools)

    def chat_specs(self) -> list[dict[str, Any]]:
        return [t.chat_spec() for t in self.tools.values()]

    def realtime_specs(self) -> list[dict[str, Any]]:
        return [t.realtime_spec() for t in self.tools.values()]

    def run(self, name: Any, arguments: Any, call_id: str | None = None) -> ToolRun:
        """Call the tool `name` with `arguments` (the model's JSON text); always returns a ToolRun."""
        shown_name = name[:64] if isinstance(name, str) else repr(name)[:64]
        run = ToolRun(shown_name, arguments[:1000] if isinstance(arguments, str) else arguments, call_id)
        tool = self.tools.get(name) if isinstance(name, str) else None
        if tool is None:
            return self._fail(run, f"there is no tool {shown_name!r}; the tools are {', '.join(self.tools)}")
        try:
            if not isinstance(arguments, str) or len(arguments) > MAX_ARGUMENTS:
                raise ValueError(f"the arguments must be a JSON text of at most {MAX_ARGUMENTS} characters")
            decoded = json.loads(arguments) if arguments.strip() else {}
            run.arguments = decoded
            kwargs = check_arguments(tool, decoded)
        except (ValueError, RecursionError) as exc:  # json.JSONDecodeError is a ValueError
            return self._fail(run, f"bad arguments: {str(exc)[:300]}")
        return self._call(run, tool, kwargs)

    def _call(self, run: ToolRun, tool: Tool, kwargs: dict[str, Any]) -> ToolRun:
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["result"] = tool.function(**kwargs)
            except Exception as exc:  # any failure of the user's function goes back to the model
                box["error"] = f"{type(exc).__name__}: {exc}"

        start = time.perf_counter()
        # A daemon thread: Python cannot stop a thread, so a function past its time limit runs on
        # in the background while the model is told it timed out.
        worker = threading.Thread(target=target, daemon=True, name=f"nbaudio-tool-{tool.name}")
        worker.start()
        worker.join(self.timeout)
        run.seconds = time.perf_counter() - start
        if worker.is_alive():
            return self._fail(run, f"{tool.name} did not finish within {self.timeout:g} s")
        if "error" in box:
            return self._fail(run, box["error"][:1000])
        run.result = box.get("result")
        try:
            run.output = _output(run.result)
        except (TypeError, ValueError, RecursionError) as exc:
            return self._fail(run, f"its result could not be sent as JSON ({exc})")
        return run

    @staticmethod
    def _fail(run: ToolRun, message: str) -> ToolRun:
        run.error = message
        run.output = json.dumps({"error": message}, ensure_ascii=False)
        return run
