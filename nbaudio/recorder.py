"""The old home of `Recorder` (`nbaudio.recorder.Recorder`), kept so existing imports work; it
lives in nbaudio.widgets.recorder now. Prefer `from nbaudio.widgets import Recorder`."""

from __future__ import annotations

from .widgets.recorder import MAX_SECONDS_LIMIT, Recorder

__all__ = ["MAX_SECONDS_LIMIT", "Recorder"]
