"""The ES modules of the widgets, as anywidget gets them: saved_view.js (what every widget's module
does about its saved view), then the files named, e.g. mic.js (what the microphone widgets share)
and the widget's own .js file. anywidget loads one module per widget, from text, so a relative
`import` between the files would not resolve."""

from __future__ import annotations

import functools
from importlib import resources

__all__ = ["widget_module"]


@functools.cache
def widget_module(*names: str) -> str:
    """saved_view.js followed by `names` (e.g. "mic.js", "recorder.js"): one ES module's text."""
    folder = resources.files(__package__)
    return "\n".join(folder.joinpath(part).read_text(encoding="utf-8") for part in ("saved_view.js", *names))
