"""`{name}` fields in cells and option values, filled from the notebook's variables."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["interpolate", "resolve_audio"]

# `{name}`, `{name.attr}`, `{name!r}`, `{name:spec}`; `{{` and `}}` are literal braces.
_FIELD = re.compile(
    r"\{\{|\}\}|\{(?P<name>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:!(?P<conv>[rsa]))?(?::(?P<spec>[^{}]*))?\}"
)


def interpolate(text: str, namespace: Mapping[str, Any]) -> str:
    """Replace `{name}` fields with values from `namespace`, as `str.format` would.

    Unknown names (and anything that is not a simple field, such as JSON) are left as they are;
    `{{` and `}}` give literal braces.
    """

    def field(m: re.Match[str]) -> str:
        token = m.group(0)
        if token in ("{{", "}}"):
            return token[0]
        head, *attrs = m.group("name").split(".")
        if head not in namespace:
            return token
        value = namespace[head]
        try:
            for attr in attrs:
                value = getattr(value, attr)
            conv = m.group("conv")
            if conv:
                value = {"r": repr, "s": str, "a": ascii}[conv](value)
            return format(value, m.group("spec") or "")
        except (AttributeError, TypeError, ValueError):
            return token

    return _FIELD.sub(field, text)


def resolve_audio(source: str, namespace: Mapping[str, Any]) -> Any:
    """An audio source named in a magic: a variable's value (`rec` or `{rec}`), else the string as a path."""
    bare = source[1:-1] if source.startswith("{") and source.endswith("}") else source
    if bare.isidentifier() and bare in namespace:
        return namespace[bare]
    return str(Path(interpolate(source, namespace)).expanduser())
