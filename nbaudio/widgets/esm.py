"""The ES modules of the widgets, as anywidget gets them: a widget's own .js file after mic.js,
which holds what the microphone widgets share (anywidget loads one module per widget, from text,
so a relative `import` between the files would not resolve)."""

from __future__ import annotations

import functools
from importlib import resources

__all__ = ["widget_module"]


@functools.cache
def widget_module(name: str) -> str:
    """mic.js followed by `name` (recorder.js, live.js): one ES module's text."""
    folder = resources.files(__package__)
    return "\n".join(folder.joinpath(part).read_text(encoding="utf-8") for part in ("mic.js", name))
