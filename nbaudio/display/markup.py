"""HTML building blocks shared by every view: escaping, role colours and styles, embedded scripts, the output wrapper.

The one place that knows the styles: the display's views and the `%%voice` live view both use them.
"""

from __future__ import annotations

import functools
import hashlib
import html
from collections.abc import Iterable
from importlib import resources
from typing import Any

__all__ = [
    "MUTED",
    "escape",
    "player_script",
    "role_color",
    "role_heading",
    "role_style",
    "script_text",
    "wrap",
]

#: Inline style of captions and other secondary text.
MUTED = "color:#888;font-size:0.85em"
_ROLE_COLORS = {"assistant": "#4c78a8", "user": "#54a24b", "system": "#999999", "developer": "#999999",
                "tool": "#b279a2"}
# The script finds its output by this id when document.currentScript is not set.
_ROOT_ID_PLACEHOLDER = "NBAUDIO_ROOT_ID"


def escape(value: Any) -> str:
    """Escape anything for HTML text or a quoted attribute."""
    return html.escape(str(value), quote=True)


def role_color(role: str) -> str:
    """The colour of a chat role (grey for roles without one)."""
    return _ROLE_COLORS.get(role, "#999999")


def role_style(role: str) -> str:
    """Inline style of one chat turn: a left rule in the role's colour."""
    return f"border-left:3px solid {role_color(role)};padding:2px 0 2px 10px;margin:6px 0"


def role_heading(role: str, details: Iterable[str] = ()) -> str:
    """The turn's first line: the role in bold and its colour, then the details joined by " · "."""
    tail = " · ".join(details)
    return (f'<div style="{MUTED}"><b style="color:{role_color(role)}">{escape(role)}</b>'
            f'{escape(" · " + tail) if tail else ""}</div>')


@functools.cache
def script_text(name: str) -> str:
    """A JS file of this package as embedded in outputs (player.js, speakers.js)."""
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    # the file's comment lines stay out of every output that embeds the script
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("//")).rstrip("\n")


def player_script(root_id: str) -> str:
    """The `<script>` that wires the players under the output with id `root_id` (see player.js)."""
    return f"<script>{script_text('player.js').replace(_ROOT_ID_PLACEHOLDER, root_id)}</script>"


def wrap(body: str, kind: str, *, unit: bool) -> str:
    """The outermost `<div>` of an output, with the player script when `body` has a player.

    Its id comes from the content, so the same object gives the same HTML every time.
    """
    root_id = "nbaudio-" + hashlib.sha1(body.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    classes = f"nbaudio nbaudio-{kind}" + (" nbaudio-unit" if unit else "")
    script = player_script(root_id) if "<audio" in body else ""
    return (f'<div class="{classes}" id="{root_id}" style="font-family:inherit;max-width:100%">'
            f"{body}{script}</div>")
