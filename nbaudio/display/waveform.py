"""The waveform: a min/max envelope per pixel column, its time ticks and segment spans, and
`plot_waveform`, which draws it with matplotlib (imported on first use) for readers who want a figure.

The notebook output's image is drawn without matplotlib (waveform_image.py) from the same envelope,
ticks and spans.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._wire.text import format_clock
from ..audio import AudioClip, as_audio_clip
from ..errors import InvalidInputError
from ..transcript import Transcript
from .settings import options
from .speakers_html import speaker_colors

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes

__all__ = ["WAVE_LEFT", "WAVE_RIGHT", "envelope", "labelled_png", "palette_png", "plot_waveform", "segment_spans",
           "tick_label", "tick_values", "time_ticks"]

#: Where the time axis starts and ends in the display PNG, as fractions of its width: the player's
#: script (and the player widget) map clicks and the cursor through these. The image is all plot:
#: its time labels are HTML text under it.
WAVE_LEFT, WAVE_RIGHT = 0.0, 1.0
# Where the axes sit in `labelled_png`'s image (its labels are in the picture), as fractions of its width.
_FIGURE_LEFT, _FIGURE_RIGHT = 0.025, 0.975
_TICK_STEPS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300,
               600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def envelope(samples: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-column (min, max) of `samples` split into `columns` nearly equal runs.

    Column i covers samples [i*N//columns, (i+1)*N//columns); multichannel input (frames, ch)
    gives the min and max over all channels. With fewer samples than columns every sample is
    its own column. One pass over memory per statistic, no copies of the signal.
    """
    import numpy as np

    arr = np.asarray(samples)
    if arr.ndim not in (1, 2) or arr.shape[0] == 0:
        raise InvalidInputError(
            f"envelope needs a non-empty (frames,) or (frames, channels) array, got shape {arr.shape}")
    if not isinstance(columns, (int, np.integer)) or columns < 1:
        raise InvalidInputError(f"columns must be a positive integer, not {columns!r}")
    n = arr.shape[0]
    columns = int(min(columns, n))
    starts = (np.arange(columns, dtype=np.int64) * n) // columns
    mins = np.minimum.reduceat(arr, starts, axis=0)
    maxs = np.maximum.reduceat(arr, starts, axis=0)
    if arr.ndim == 2:
        mins, maxs = mins.min(axis=1), maxs.max(axis=1)
    return mins, maxs


def tick_values(vmin: float, vmax: float, most: int = 8) -> list[float]:
    """Ticks at the first round step that gives at most `most` of them over [vmin, vmax]."""
    span = max(vmax - vmin, 1e-9)
    step = next((s for s in _TICK_STEPS if span / s <= most), _TICK_STEPS[-1])
    first = math.ceil(vmin / step - 1e-9)
    last = math.floor(vmax / step + 1e-9)
    return [k * step for k in range(first, last + 1)]


def _time_axis(ax: Axes, duration: float) -> None:
    """Seconds on short clips, m:ss on long ones, h:mm:ss past an hour; ticks at round steps."""
    from matplotlib import ticker

    class TimeLocator(ticker.Locator):
        def __call__(self) -> list[float]:
            vmin, vmax = sorted(self.axis.get_view_interval())
            return self.tick_values(vmin, vmax)

        def tick_values(self, vmin: float, vmax: float) -> list[float]:
            return tick_values(vmin, vmax)

    ax.xaxis.set_major_locator(TimeLocator())
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda x, _pos=None: tick_label(x, duration)))


def tick_label(x: float, duration: float) -> str:
    """A time on the axis of a clip of `duration` s: seconds under a minute, m:ss, h:mm:ss past an hour."""
    if duration < 60:
        return f"{x:g}"
    sign = "-" if x < 0 else ""
    return sign + format_clock(abs(x), decimals=0, hours=duration >= 3600)


def time_ticks(duration: float, most: int = 8) -> list[tuple[float, str]]:
    """The labels of a time axis over [0, duration] as (fraction of the axis, label); under a minute
    the last one says its unit ("30 s")."""
    if not duration > 0:
        return []
    ticks = [(t / duration, tick_label(t, duration)) for t in tick_values(0.0, duration, most)]
    if duration < 60 and ticks:
        ticks[-1] = (ticks[-1][0], ticks[-1][1] + " s")
    return ticks


def segment_spans(segments: Any) -> list[tuple[float, float, str | None]]:
    """(start, end, speaker) from a Transcript, Segments, or (start, end[, label]) tuples."""
    if isinstance(segments, Transcript):
        segments = segments.segments
    spans = []
    for s in segments:
        if isinstance(s, (tuple, list)):
            start, end = float(s[0]), float(s[1])
            who = str(s[2]) if len(s) > 2 and s[2] is not None else None
        else:
            start, end, who = float(s.start), float(s.end), getattr(s, "speaker", None)
        spans.append((start, end, who))
    return spans


def plot_waveform(
    clip: AudioClip | tuple[Any, int],
    ax: Axes | None = None,
    *,
    segments: Any = None,
    columns: int | None = None,
    color: str | None = None,
    amplitude_ticks: bool = True,
    **kw: Any,
) -> Axes:
    """Draw the clip's min/max envelope (one bar per pixel column) on `ax` and return the Axes.

    `ax=None` opens a new pyplot figure (shown inline by the notebook, like any plot).
    `segments` overlays segment boundaries: a Transcript, its segments, or (start, end[, label])
    tuples; speakers get coloured bands. `columns` defaults to the Axes' width in pixels.
    Other keyword arguments go to `Axes.fill_between` (e.g. alpha, label).
    """
    import numpy as np

    if isinstance(clip, tuple):
        clip = as_audio_clip(clip)
    if not isinstance(clip, AudioClip):
        raise InvalidInputError(
            f"plot_waveform needs an AudioClip or (samples, sample_rate), not {type(clip).__name__}")
    if ax is None:
        import matplotlib.pyplot as plt

        _fig, ax = plt.subplots(figsize=(9, 2), layout="constrained")
    samples = clip.samples
    rate = clip.sample_rate
    duration = samples.shape[0] / rate
    if columns is None:
        columns = max(16, round(ax.get_window_extent().width))
    mins, maxs = envelope(samples, columns)
    n = samples.shape[0]
    cols = mins.shape[0]
    # Each column drawn at its centre time, so the band spans exactly [0, duration].
    centres = ((np.arange(cols) + 0.5) * n / cols) / rate
    times = np.concatenate(([0.0], centres, [duration]))
    lo = np.concatenate((mins[:1], mins, mins[-1:]))
    hi = np.concatenate((maxs[:1], maxs, maxs[-1:]))
    color = color or kw.pop("facecolor", None) or options.color
    kw.setdefault("linewidth", 0.6)  # an outline keeps silence visible as a line
    ax.fill_between(times, lo, hi, color=color, **kw)
    peak = float(max(abs(float(mins.min())), abs(float(maxs.max())), 1e-3))
    ax.set_xlim(0.0, duration)
    ax.set_ylim(-peak * 1.08, peak * 1.08)
    _time_axis(ax, duration)
    if not amplitude_ticks:
        ax.set_yticks([])
    if segments is not None:
        spans = segment_spans(segments)
        if any(who for _, _, who in spans):  # room under the envelope for the speaker lane
            ax.set_ylim(-peak * 1.08 / (1 - 2 * LANE_HEIGHT), peak * 1.08)
        _overlay_segments(ax, spans)
    if ax.get_xlabel() == "":
        ax.set_xlabel("time (s)" if duration < 60 else "time")
    return ax


# Segment edges are drawn only when they are at least this far apart on average.
MIN_EDGE_SPACING_PX = 4
# The speaker lane: a strip of solid speaker colours along the bottom of the axes (fraction of its height).
LANE_HEIGHT = 0.12


def _overlay_segments(ax: Axes, spans: Sequence[tuple[float, float, str | None]]) -> None:
    from matplotlib.collections import PolyCollection

    if not spans:
        return
    colours = speaker_colors(list(dict.fromkeys(who for _, _, who in spans if who)))
    verts, faces = [], []
    for i, (start, end, who) in enumerate(spans):
        verts.append([(start, 0.0), (start, 1.0), (end, 1.0), (end, 0.0)])
        if who:
            faces.append(colours[who])
        else:
            faces.append("#888888" if i % 2 == 0 else "#bbbbbb")
    if colours:  # who spoke when, in solid colour under the envelope (the faint bands alone are hard to tell apart)
        lane = [[(s, 0.0), (s, LANE_HEIGHT), (e, LANE_HEIGHT), (e, 0.0)] for s, e, who in spans if who]
        ax.add_collection(PolyCollection(lane, facecolors=[colours[who] for _, _, who in spans if who], alpha=0.9,
                                         linewidths=0, transform=ax.get_xaxis_transform(), zorder=2), autolim=False)
    bands = PolyCollection(verts, facecolors=faces, alpha=0.15, linewidths=0, transform=ax.get_xaxis_transform(),
                           zorder=0)
    ax.add_collection(bands, autolim=False)  # added last: the segment bands are the Axes' last collection
    edges = sorted({t for start, end, _ in spans for t in (start, end)})
    width_px = ax.figure.get_figwidth() * ax.figure.dpi * ax.get_position().width
    if len(edges) > width_px / MIN_EDGE_SPACING_PX:  # an hour of segments: lines would grey out the wave
        return
    ax.vlines(edges, 0.0, 1.0, transform=ax.get_xaxis_transform(), colors="#888888", linewidths=0.5, alpha=0.7,
              zorder=1)


def labelled_png(clip: AudioClip, spans: Sequence[tuple[float, float, str | None]] | None,
                 size: tuple[int, int]) -> bytes:
    """The waveform with its time labels in the picture, drawn by matplotlib: the `image/png` output,
    for frontends shown no HTML (where the labels cannot be text under the image)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    width, height = size
    dpi = 100
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor="none")
    canvas = FigureCanvasAgg(fig)
    bottom = min(0.45, 24 / height)  # room for the tick labels
    ax = fig.add_axes((_FIGURE_LEFT, bottom, _FIGURE_RIGHT - _FIGURE_LEFT, 0.98 - bottom))
    ax.set_facecolor("none")
    plot_waveform(clip, ax, segments=list(spans) if spans is not None else None, columns=width,
                  amplitude_ticks=False)
    ax.set_xlabel("")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color("#999999")
    ax.tick_params(axis="x", colors="#666666", labelsize=9, length=3, pad=1)
    ax.axhline(0.0, color="#999999", linewidth=0.3, zorder=0)
    canvas.draw()
    import numpy as np

    return palette_png(np.asarray(canvas.buffer_rgba()))


def palette_png(rgba: np.ndarray) -> bytes:
    """(height, width, 4) uint8 RGBA as a PNG of at most 32 colours: it looks the same as the RGBA
    image at about a third of the bytes. zlib's default level: level 9 (`optimize`) saved 1.2 kB
    of 6.7 kB on a 60 s waveform and took 15x as long (37 ms against 2.5 ms)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgba).quantize(colors=32, method=Image.Quantize.FASTOCTREE).save(buf, format="PNG")
    return buf.getvalue()
