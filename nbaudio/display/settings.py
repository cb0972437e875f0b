"""The display settings: one `DisplayOptions` instance, `nbaudio.display.options`, checked on every change.

The module is not called `options` so that `nbaudio.display.options` always means the instance.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any

from ..errors import InvalidInputError

__all__ = ["PLAYER_FORMATS", "DisplayOptions", "check_option", "options"]

PLAYER_FORMATS = ("auto", "opus", "mp3", "wav", "original")


@dataclass
class DisplayOptions:
    """Settings for notebook output; change the module-level `options` instance."""

    #: Codec of the embedded player. "auto": the clip's own bytes when they are compact already
    #: (MP3, Opus, Ogg, AAC/M4A, WebM), else Opus when PyAV is installed (its libopus is fast),
    #: else MP3. "opus" (smallest), "mp3" (plays everywhere, old Safari too), "wav": that codec
    #: (a clip already in it is kept as it is); "original": the clip's own bytes, whatever they are.
    #: Unavailable codecs fall back opus -> mp3 -> wav.
    player_format: str = "auto"
    #: Highest sample rate of the player copy (speech needs no more); None keeps the clip's rate.
    player_sample_rate: int | None = 24000
    #: A player larger than this many bytes is saved under `media_dir` and linked instead of
    #: embedded; None embeds everything.
    max_inline_bytes: int | None = 2_000_000
    #: Folder for those files, relative to the kernel's working directory (the notebook's folder).
    media_dir: str = "nbaudio_media"
    #: Draw a waveform image above each clip's player.
    waveform: bool = True
    #: Waveform image size in pixels (width, height).
    waveform_px: tuple[int, int] = (720, 110)
    #: Colour of the waveform.
    color: str = "#4c78a8"
    #: Most transcript segments rendered as table rows; a line above them says how many more there are.
    max_rows: int = 1000
    #: Segments after those that the output holds unrendered: where scripts run, they become rows when
    #: a search, playback past the last row or a click on that line needs them (a 1 h transcript of
    #: 1800 segments is all in). Where scripts do not run only the first `max_rows` show.
    max_hidden_rows: int = 4000

    def __setattr__(self, name: str, value: Any) -> None:
        check_option(name, value)
        object.__setattr__(self, name, value)

    @contextlib.contextmanager
    def override(self, **changes: Any) -> Iterator[DisplayOptions]:
        """Change some options inside a `with` block and restore them after."""
        known = {f.name for f in fields(self)}
        for name in changes:
            if name not in known:
                raise InvalidInputError(f"unknown display option {name!r}; options are {', '.join(sorted(known))}")
        saved = {name: getattr(self, name) for name in changes}
        try:
            for name, value in changes.items():
                setattr(self, name, value)
            yield self
        finally:
            # the saved values passed the checks when they were set
            for name, value in saved.items():
                object.__setattr__(self, name, value)


def check_option(name: str, value: Any) -> None:
    """Raise InvalidInputError if `value` is not allowed for the display option `name`."""
    if name == "player_format" and value not in PLAYER_FORMATS:
        raise InvalidInputError(f"player_format must be one of {', '.join(PLAYER_FORMATS)}, not {value!r}")
    positive_int = isinstance(value, int) and not isinstance(value, bool) and value > 0
    if name in ("player_sample_rate", "max_inline_bytes") and value is not None and not positive_int:
        raise InvalidInputError(f"{name} must be a positive integer or None, not {value!r}")
    if name in ("max_rows", "max_hidden_rows") and (not isinstance(value, int) or isinstance(value, bool)
                                                    or value < 0):
        raise InvalidInputError(f"{name} must be a non-negative integer, not {value!r}")
    if name == "waveform_px":
        ok = isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) and v >= 16 for v in value)
        if not ok:
            raise InvalidInputError(f"waveform_px must be (width, height) in pixels, each >= 16, not {value!r}")


options = DisplayOptions()
