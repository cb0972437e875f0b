"""Tool calls by the local chat model: the `tools` and `tool_choice` of a request read and checked,
and the decision (answer, or call which tool with which arguments) made in two constrained steps.

A 135M model does not follow a tool-calling chat template reliably, so the engine asks it two
narrow questions, each answered under a llama.cpp grammar, so that what comes out is always one of
the allowed answers and a call is always well formed:

1. which: `answer` or a tool's name (`required`: a name; a named `tool_choice` skips this step),
   each scored by the model's likelihood of replying with it to the last user message after a
   system prompt listing the tools, plus the words the message shares with the tool (tool_choice.py);
2. with what: the same message answered with the chosen tool's arguments, under the grammar of its
   `parameters` schema (strings and arrays given a length bound, so a call always ends within its
   token budget).

After a tool result (the conversation ends with one), `auto` answers: the small model would
otherwise call again and again. How often it chooses right is measured by
experiments/local_tool_choice.py, tuned on experiments/tool_choice_tuning.py (docs/tools.md).
"""

from __future__ import annotations

import copy
import json
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..api_errors import EngineError
from . import tool_choice
from .llm import Generation

if TYPE_CHECKING:
    from .llm import LlamaChat

__all__ = ["ToolSpec", "ToolChoice", "ToolSpecError", "parse_tools", "parse_tool_choice", "check_grammars",
           "decide", "called", "ANSWER"]

ANSWER = "answer"  # the first step's word for "no tool": not a valid tool name here (see parse_tools)
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Bounds given to what a schema leaves unbounded, so a call ends within _ARGS_TOKENS.
_MAX_STRING = 120
_MAX_ITEMS = 8
_ARGS_TOKENS = 400
_LEAD = "{}"  # a user turn that says nothing (see _last_user)


class ToolSpecError(ValueError):
    """A `tools` or `tool_choice` the engine cannot take; `param` names where."""

    def __init__(self, message: str, param: str) -> None:
        super().__init__(message)
        self.message, self.param = message, param


@dataclass(frozen=True)
class ToolSpec:
    """One function the model may call."""

    name: str
    description: str
    parameters: dict[str, Any]

    def line(self) -> str:
        props = ", ".join(self.parameters.get("properties", {}))
        return f"- {self.name}({props}): {self.description or 'no description'}"


@dataclass(frozen=True)
class ToolChoice:
    """`none`, `auto`, `required`, or `function` with the tool's `name`."""

    mode: str = "auto"
    name: str | None = None


def parse_tools(value: Any, where: str = "tools", *, nested: bool = True) -> list[ToolSpec]:
    """The tools of a request: chat's `{"type": "function", "function": {...}}` (`nested`) or
    Realtime's `{"type": "function", "name": ..., ...}`."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ToolSpecError(f"Invalid type for '{where}': expected an array of tools.", where)
    out: list[ToolSpec] = []
    for i, tool in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(tool, dict) or tool.get("type") != "function":
            raise ToolSpecError(f"Invalid value for '{at}': expected {{\"type\": \"function\", ...}} (the only kind "
                                "of tool this server has).", f"{at}.type")
        fn = tool.get("function") if nested else tool
        fn_at = f"{at}.function" if nested else at
        if not isinstance(fn, dict):
            raise ToolSpecError(f"Missing required parameter: '{fn_at}'.", fn_at)
        name = fn.get("name")
        if not isinstance(name, str) or not _NAME.match(name) or name == ANSWER:
            raise ToolSpecError(f"Invalid value for '{fn_at}.name': a tool name is 1 to 64 letters, digits, _ or -"
                                f" (and not '{ANSWER}').", f"{fn_at}.name")
        if any(t.name == name for t in out):
            raise ToolSpecError(f"Invalid value for '{fn_at}.name': two tools are named {name!r}.", f"{fn_at}.name")
        description = fn.get("description") or ""
        if not isinstance(description, str):
            raise ToolSpecError(f"Invalid type for '{fn_at}.description': expected a string.", f"{fn_at}.description")
        params = fn.get("parameters") or {"type": "object", "properties": {}}
        if not isinstance(params, dict) or params.get("type", "object") != "object":
            raise ToolSpecError(f"Invalid value for '{fn_at}.parameters': expected a JSON schema of type 'object'.",
                                f"{fn_at}.parameters")
        out.append(ToolSpec(name, description, params))
    return out


def parse_tool_choice(value: Any, tools: list[ToolSpec], where: str = "tool_choice", *,
                      nested: bool = True) -> ToolChoice:
    """`none` / `auto` / `required` / `{"type": "function", "function": {"name"}}` (Realtime:
    `{"type": "function", "name"}`); a named tool must be one of `tools`."""
    if value is None:
        return ToolChoice("auto" if tools else "none")
    if value in ("none", "auto", "required"):
        if value == "required" and not tools:
            raise ToolSpecError(f"Invalid value for '{where}': 'required' needs tools.", where)
        return ToolChoice(value)
    name = None
    if isinstance(value, dict) and value.get("type") == "function":
        inner = value.get("function") if nested else value
        name = inner.get("name") if isinstance(inner, dict) else None
    if not isinstance(name, str):
        raise ToolSpecError(f"Invalid value for '{where}': expected 'none', 'auto', 'required' or "
                            "{\"type\": \"function\", " + ('"function": {"name": ...}}' if nested else
                                                           '"name": ...}') + ".", where)
    if not any(t.name == name for t in tools):
        raise ToolSpecError(f"Invalid value for '{where}': no tool is named {name[:64]!r}.", where)
    return ToolChoice("function", name)


def _bounded(schema: Any) -> Any:
    """`schema` with a length bound on every string and array that has none."""
    if isinstance(schema, list):
        return [_bounded(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if ref is not None and not (isinstance(ref, str) and ref.startswith("#/")):
        # llama.cpp's converter would fetch an http(s) $ref: a request must not make the engine fetch URLs.
        raise ValueError(f"only local $ref ('#/...') are supported, not {str(ref)[:80]!r}")
    out = {k: _bounded(v) for k, v in schema.items()}
    kinds = out.get("type") if isinstance(out.get("type"), list) else [out.get("type")]
    if "string" in kinds and "enum" not in out and "const" not in out:
        out["maxLength"] = min(int(out.get("maxLength", _MAX_STRING)), _MAX_STRING)
    if "array" in kinds:
        out["maxItems"] = min(int(out.get("maxItems", _MAX_ITEMS)), _MAX_ITEMS)
    return out


def _arguments_grammar(tool: ToolSpec) -> Any:
    from llama_cpp import LlamaGrammar

    schema = _bounded(copy.deepcopy(tool.parameters))
    return LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)


def _choice_grammar(names: list[str]) -> Any:
    from llama_cpp import LlamaGrammar

    return LlamaGrammar.from_string("root ::= " + " | ".join(json.dumps(n) for n in names), verbose=False)


def check_grammars(tools: list[ToolSpec], where: str = "tools") -> None:
    """Refuse, by its place, a tool whose `parameters` llama.cpp cannot make a grammar of."""
    for i, tool in enumerate(tools):
        try:
            _arguments_grammar(tool)
        # The converter checks some of its input with assert (an unresolvable local $ref), and
        # calls .get on a property's schema (AttributeError when it is null, as hypothesis found).
        except (ValueError, KeyError, TypeError, AttributeError, AssertionError, RecursionError) as exc:
            raise ToolSpecError(f"The local model cannot call '{tool.name}': its parameters schema uses what the "
                                f"local grammar does not support ({type(exc).__name__}: {str(exc)[:120]}). Simplify "
                                "it, or use --chat-upstream.", f"{where}[{i}]") from None


def _last_user(messages: list[dict[str, Any]]) -> str:
    for m in reversed(messages):
        if m.get("role") == "user" and (m.get("content") or "").strip():
            return m["content"]
    return _LEAD


def _ask(backend: LlamaChat, system: str, user: str, grammar: Any, max_tokens: int) -> tuple[str, dict[str, Any]]:
    """One constrained, greedy answer of the local model: (text, usage)."""
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    with backend.lock:
        try:
            out = backend.llm.create_chat_completion(messages=messages, grammar=grammar, temperature=0.0,
                                                     seed=backend.defaults.get("seed"), max_tokens=max_tokens,
                                                     repeat_penalty=1.0, stream=False)
        except (ValueError, RuntimeError) as exc:
            raise EngineError(400 if "context" in str(exc).lower() else 500,
                              f"The local model could not choose a tool: {exc}") from None
    choice = out["choices"][0]
    if choice.get("finish_reason") == "length":
        raise EngineError(500, "The local model's tool call did not fit in its token budget; give the tool's "
                               "string parameters a maxLength, or fewer parameters.")
    return choice["message"]["content"] or "", out.get("usage") or {}


@dataclass
class Decision:
    """The calls chosen (empty: answer), with the tokens the two steps used."""

    calls: list[dict[str, Any]]
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def count(self, usage: dict[str, Any]) -> None:
        self.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        self.completion_tokens += int(usage.get("completion_tokens") or 0)


def _which_prompt(tools: list[ToolSpec], required: bool) -> str:
    listing = "\n".join(t.line() for t in tools)
    rest = "" if required else f" If none of them does, reply with {ANSWER}."
    return (f"You have these tools:\n{listing}\nReply with the name of the one tool that does what the user asks."
            f"{rest}")


def _choose(backend: LlamaChat, tools: list[ToolSpec], user: str, required: bool, decision: Decision) -> str:
    """A tool's name, or ANSWER: scored (tool_choice.py), or, for a model without a chat template to
    score under, the greedy answer under a grammar of the names."""
    formatter = backend.formatter()
    if formatter is None:
        names = [t.name for t in tools] + ([] if required else [ANSWER])
        name, usage = _ask(backend, _which_prompt(tools, required), user, _choice_grammar(names), max_tokens=32)
        decision.count(usage)
        return name
    with backend.lock:
        try:
            name, prompt_tokens = tool_choice.choose(backend, formatter, tools, user, None if required else ANSWER)
        except (ValueError, RuntimeError) as exc:
            raise EngineError(400 if "context" in str(exc).lower() else 500,
                              f"The local model could not choose a tool: {exc}") from None
    decision.count({"prompt_tokens": prompt_tokens, "completion_tokens": 1})
    return name


def _args_prompt(tool: ToolSpec) -> str:
    props = json.dumps(tool.parameters.get("properties", {}))
    return (f"Call the tool {tool.name}: {tool.description or 'no description'} Its arguments: {props}. "
            "Reply with the arguments as JSON, taken from the user's words.")


def decide(backend: LlamaChat, messages: list[dict[str, Any]], tools: list[ToolSpec], choice: ToolChoice, *,
           after_tool_result: bool = False) -> Decision:
    """Whether (and what) the local model calls for the conversation `messages` (text messages);
    `after_tool_result`: the conversation ends with a tool's result."""
    decision = Decision([])
    if not tools or choice.mode == "none" or (choice.mode == "auto" and after_tool_result):
        return decision
    user = _last_user(messages)
    name = choice.name
    if name is None:
        name = _choose(backend, tools, user, choice.mode == "required", decision)
        if name == ANSWER:
            return decision
    tool = next(t for t in tools if t.name == name)
    arguments, usage = _ask(backend, _args_prompt(tool), user, _arguments_grammar(tool), _ARGS_TOKENS)
    decision.count(usage)
    # Re-serialised compactly: the grammar allows spaces the API's own calls do not have.
    compact = json.dumps(json.loads(arguments), ensure_ascii=False)
    decision.calls.append({"id": "call_" + secrets.token_hex(12), "type": "function",
                           "function": {"name": tool.name, "arguments": compact}})
    return decision


def called(model: str, decision: Decision) -> Generation:
    """A finished Generation that holds only `decision`'s calls (finish_reason tool_calls)."""
    gen = Generation(model)
    gen.put_tool_calls([{"index": i, **call} for i, call in enumerate(decision.calls)])
    gen.finish_reason = "tool_calls"
    gen.prompt_tokens, gen.completion_tokens = decision.prompt_tokens, decision.completion_tokens
    gen.finish()
    return gen
