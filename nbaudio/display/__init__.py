"""How nbaudio's objects show themselves in notebooks.

Everything renders to static HTML (a player, a waveform PNG, tables) so saved notebooks still
read on GitHub and nbviewer; a small script (player.js) adds seek-on-click, a moving cursor and
the highlighted segment where the frontend runs scripts, and nothing breaks where it does not.
Notebooks stay small: the player gets a compact copy of the audio (the clip's own bytes when they
are compact already, else Opus or MP3 at a speech sample rate, see `options.player_format`), each
output stores its bytes once, and a player larger than `options.max_inline_bytes` is written
beside the notebook and linked (the clip's own file, not encoded). Copies and waveform images are
made once per clip and kept on it; `clear_cache()` drops the copies shared between clips.

    import nbaudio.display
    nbaudio.display.options.player_format = "mp3"          # e.g. for old Safari
    with nbaudio.display.options.override(max_inline_bytes=10_000_000):
        display(long_clip)

Modules, each importing only those above it: settings (`options`), markup (escaping, styles, the output
wrapper), waveform (envelope, ticks, matplotlib drawing), waveform_image (the output's image, drawn with
numpy), player (the compact copy and <audio>),
clip_html, flags_html, transcript_html, diff_html, chat_html, bundle (`mimebundle`, the entry point of every
`_repr_mimebundle_`).
"""

from __future__ import annotations

from .._wire.text import format_clock
from .bundle import mimebundle
from .player import clear_cache, codec_label, player_clip
from .settings import DisplayOptions, options
from .waveform import WAVE_LEFT, WAVE_RIGHT, envelope, plot_waveform
from .waveform_image import waveform_png

__all__ = [
    "WAVE_LEFT",
    "WAVE_RIGHT",
    "DisplayOptions",
    "clear_cache",
    "codec_label",
    "envelope",
    "format_clock",
    "mimebundle",
    "options",
    "player_clip",
    "plot_waveform",
    "waveform_png",
]
