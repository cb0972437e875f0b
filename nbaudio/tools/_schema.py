"""A plain Python function described as a tool: its JSON schema from the signature, the type hints
and the docstring, and the check of the arguments a model sends against it.

Supported parameter types: str, int, float, bool, Literal[...] of those, list[...] of any of
these, and X | None / Optional[X] of any of these. A parameter with a default is not required.
The description is the docstring's first paragraph; a parameter's, its line in a Google-style
"Args:" section or a NumPy-style "Parameters" section. Anything else (no type hint, *args,
**kwargs, positional-only, dict, a class of its own) is refused, naming the parameter.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInputError

__all__ = ["Tool", "ToolSchemaError", "describe", "check_arguments", "MAX_STRING"]

MAX_STRING = 20_000  # characters of one string argument a function is given
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}


class ToolSchemaError(InvalidInputError):
    """A function that cannot be described as a tool (the message names the parameter)."""


@dataclass(frozen=True)
class Tool:
    """A function the model may call, and its JSON schema."""

    name: str
    description: str
    parameters: dict[str, Any]
    function: Callable[..., Any]

    def chat_spec(self) -> dict[str, Any]:
        """The tool as /chat/completions takes it."""
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": self.parameters}}

    def realtime_spec(self) -> dict[str, Any]:
        """The tool as a Realtime session takes it."""
        return {"type": "function", "name": self.name, "description": self.description,
                "parameters": self.parameters}


def _type_schema(hint: Any, where: str) -> dict[str, Any]:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    if origin is typing.Literal:
        if not args or not all(type(a) in _SCALARS for a in args):
            raise ToolSchemaError(f"{where}: Literal values must be str, int, float or bool", param=where)
        return {"type": _SCALARS[type(args[0])], "enum": list(args)} if len({type(a) for a in args}) == 1 \
            else {"enum": list(args)}
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return {"anyOf": [_type_schema(rest[0], where), {"type": "null"}]}
    if origin is list and len(args) == 1:
        return {"type": "array", "items": _type_schema(args[0], where)}
    raise ToolSchemaError(f"{where}: type {hint!r} is not supported; use str, int, float, bool, Literal[...], "
                          "list[...] of those, or X | None", param=where)


def _doc_parts(doc: str) -> tuple[str, dict[str, str]]:
    """(the first paragraph, {parameter: its description}) of a Google- or NumPy-style docstring."""
    paragraphs = re.split(r"\n\s*\n", doc.strip(), maxsplit=1)
    summary = " ".join(paragraphs[0].split())
    params: dict[str, str] = {}
    google = re.search(r"^(?:Args|Arguments|Parameters):\s*\n((?:[ \t]+.*\n?)+)", doc, re.M)
    numpy = re.search(r"^Parameters\s*\n-{3,}\s*\n((?:.*\n?)+?)(?:\n\s*\n|\Z)", doc, re.M)
    if google:
        for m in re.finditer(r"^[ \t]+(\w+)(?:\s*\([^)]*\))?:\s*(.+)$", google.group(1), re.M):
            params[m.group(1)] = m.group(2).strip()
    elif numpy:
        lines = numpy.group(1).splitlines()
        for i, line in enumerate(lines):
            m = re.match(r"^(\w+)\s*(?::.*)?$", line)
            if m and i + 1 < len(lines) and lines[i + 1].startswith((" ", "\t")):
                params[m.group(1)] = lines[i + 1].strip()
    return summary, params


def describe(function: Callable[..., Any]) -> Tool:
    """`function` as a Tool; ToolSchemaError (naming the parameter) when it cannot be described."""
    if isinstance(function, Tool):
        return function
    if not callable(function):
        raise ToolSchemaError(f"a tool must be a function, not {type(function).__name__}", param="tools")
    name = getattr(function, "__name__", "")
    if not _NAME.match(name):
        raise ToolSchemaError(f"a tool needs a name of letters, digits, _ or - (not {name!r}: use a def, not a "
                              "lambda)", param="tools")
    try:
        hints = typing.get_type_hints(function)
        signature = inspect.signature(function)
    except (NameError, TypeError, ValueError) as exc:
        raise ToolSchemaError(f"tool {name}: its signature cannot be read ({exc})", param=name) from None
    summary, param_docs = _doc_parts(inspect.getdoc(function) or "")
    properties: dict[str, Any] = {}
    required = []
    for p in signature.parameters.values():
        where = f"{name}({p.name})"
        if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            raise ToolSchemaError(f"{where}: *args, **kwargs and positional-only parameters cannot be given by "
                                  "name from JSON", param=where)
        if p.name not in hints:
            raise ToolSchemaError(f"{where} has no type hint; add one (str, int, float, bool, Literal, list)",
                                  param=where)
        schema = _type_schema(hints[p.name], where)
        if p.name in param_docs:
            schema["description"] = param_docs[p.name]
        properties[p.name] = schema
        if p.default is p.empty:
            required.append(p.name)
    parameters = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    return Tool(name, summary, parameters, function)


def _check(value: Any, schema: dict[str, Any], where: str) -> Any:
    """`value` if it fits `schema` (one of describe's), else ValueError saying why."""
    if "anyOf" in schema:
        return None if value is None else _check(value, schema["anyOf"][0], where)
    if "enum" in schema:
        if value not in schema["enum"] or isinstance(value, bool) != any(isinstance(e, bool) for e in schema["enum"]):
            raise ValueError(f"{where} must be one of {schema['enum']}")
        return value
    kind = schema["type"]
    if kind == "string" and isinstance(value, str):
        if len(value) > MAX_STRING:
            raise ValueError(f"{where} is {len(value)} characters long; at most {MAX_STRING}")
        return value
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "integer" and not isinstance(value, bool):
        if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
            return int(value)
    if kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind == "array" and isinstance(value, list):
        return [_check(v, schema["items"], f"{where}[{i}]") for i, v in enumerate(value)]
    raise ValueError(f"{where} must be a {kind}, not {type(value).__name__}")


def check_arguments(tool: Tool, arguments: Any) -> dict[str, Any]:
    """The keyword arguments for `tool.function` from a model's decoded arguments; ValueError when
    they do not fit its schema (not an object, unknown or missing names, wrong types)."""
    if not isinstance(arguments, dict):
        raise ValueError("the arguments must be a JSON object")
    props = tool.parameters["properties"]
    unknown = sorted(set(arguments) - set(props))
    if unknown:
        raise ValueError(f"unknown argument(s) {', '.join(repr(u[:40]) for u in unknown[:5])}; "
                         f"{tool.name} takes {', '.join(props) or 'none'}")
    missing = [k for k in tool.parameters["required"] if k not in arguments]
    if missing:
        raise ValueError(f"missing argument(s) {', '.join(missing)}")
    return {k: _check(v, props[k], k) for k, v in arguments.items()}
