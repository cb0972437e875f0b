"""The notebook output's waveform image, drawn with numpy and written by Pillow.

No matplotlib: importing it was most of the first display's time (0.7 s of 1.0 s for a 60 s clip
in a fresh kernel). The image is the plot alone — the min/max envelope one pixel column each,
segment bands and edges, the speaker lane and the zero line, as `plot_waveform` draws them — and
spans the whole width (WAVE_LEFT, WAVE_RIGHT = 0, 1); its time labels are HTML text under it
(clip_html.py), which stays sharp when zoomed and follows the notebook's font size.

Layers are painted bottom to top with the "over" operator on premultiplied colour, each pixel
weighted by how much of it the shape covers (soft edges without a rasteriser).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..audio import AudioClip
from .settings import options
from .speakers_html import speaker_colors
from .waveform import LANE_HEIGHT, MIN_EDGE_SPACING_PX, envelope, palette_png, segment_spans

if TYPE_CHECKING:
    import numpy as np

__all__ = ["waveform_png"]

_EDGE_GREY, _AXIS_GREY = "#888888", "#999999"
_BAND_ALPHA, _LANE_ALPHA, _EDGE_ALPHA, _ZERO_ALPHA = 0.15, 0.9, 0.45, 0.5
_UNLABELLED_BANDS = ("#888888", "#bbbbbb")  # segments without speakers alternate these
_HEADROOM = 1.08  # the envelope's peak sits this far under the top


def waveform_png(clip: AudioClip, *, segments: Any = None, size_px: tuple[int, int] | None = None) -> bytes:
    """The display waveform as PNG bytes (transparent; the plot only, its time axis is the image's
    width); drawn once per clip, segments, size and colour, and kept on the clip (`AudioClip.cached`)."""
    size = size_px or options.waveform_px
    spans = tuple(segment_spans(segments)) if segments is not None else None
    key = ("waveform", spans, tuple(size), options.color)
    return clip.cached(key, lambda: _draw(clip, spans, size, options.color))


@functools.lru_cache(maxsize=64)
def _rgb(colour: str) -> tuple[float, float, float]:
    """A CSS colour as RGB in 0..1; matplotlib's own names ("C0", "tab:blue") through matplotlib."""
    from PIL import ImageColor

    try:
        rgb = ImageColor.getrgb(colour)[:3]
    except ValueError:
        from matplotlib.colors import to_rgb  # only for names CSS does not know

        return to_rgb(colour)
    return rgb[0] / 255, rgb[1] / 255, rgb[2] / 255


class _Canvas:
    """Premultiplied RGB and alpha, (height, width), painted layer by layer."""

    def __init__(self, width: int, height: int) -> None:
        import numpy as np

        self.width, self.height = width, height
        self.colour = np.zeros((height, width, 3), dtype=np.float32)
        self.alpha = np.zeros((height, width), dtype=np.float32)

    def paint(self, rows: slice, cols: slice, colour: str, cover: Any) -> None:
        """`colour` over the region, each pixel at opacity `cover` (a number or an array that
        broadcasts to the region: per column (w,), per pixel (h, w))."""
        import numpy as np

        a = np.broadcast_to(np.asarray(cover, dtype=np.float32), self.alpha[rows, cols].shape)
        keep = 1.0 - a
        self.colour[rows, cols] = self.colour[rows, cols] * keep[..., None] + a[..., None] * np.float32(_rgb(colour))
        self.alpha[rows, cols] = self.alpha[rows, cols] * keep + a

    def rgba(self) -> np.ndarray:
        import numpy as np

        a = self.alpha[..., None]
        rgb = np.divide(self.colour, a, out=np.zeros_like(self.colour), where=a > 0)
        out = np.concatenate((rgb, a), axis=2)
        return np.clip(np.rint(out * 255), 0, 255).astype(np.uint8)


def _coverage(lo: np.ndarray, hi: np.ndarray, cells: int) -> np.ndarray:
    """How much of each of `cells` unit cells lies inside [lo, hi) (per interval: shape (cells, len(lo)))."""
    import numpy as np

    edges = np.arange(cells, dtype=np.float32)[:, None]
    return np.clip(np.minimum(edges + 1, hi[None, :]) - np.maximum(edges, lo[None, :]), 0.0, 1.0)


def _span_columns(start: float, end: float, px_per_s: float, width: int) -> tuple[slice, np.ndarray]:
    """The columns a time span touches and how much of each it covers."""
    import numpy as np

    x0, x1 = max(0.0, start * px_per_s), min(float(width), end * px_per_s)
    first, last = int(x0), min(width, int(np.ceil(x1)))
    if last <= first:
        return slice(0, 0), np.zeros(0, dtype=np.float32)
    cols = np.arange(first, last, dtype=np.float32)
    return slice(first, last), np.clip(np.minimum(cols + 1, x1) - np.maximum(cols, x0), 0.0, 1.0)


def _draw(clip: AudioClip, spans: Sequence[tuple[float, float, str | None]] | None, size: tuple[int, int],
          colour: str) -> bytes:
    import numpy as np

    width, height = size
    samples = clip.samples
    duration = samples.shape[0] / clip.sample_rate
    mins, maxs = envelope(samples, width)
    if mins.shape[0] < width:  # fewer samples than columns: each sample spans several columns
        pick = np.arange(width) * mins.shape[0] // width
        mins, maxs = mins[pick], maxs[pick]
    peak = float(max(abs(float(mins.min())), abs(float(maxs.max())), 1e-3))
    top = peak * _HEADROOM
    spans = list(spans or ())
    speakers = list(dict.fromkeys(who for _, _, who in spans if who))
    # room under the envelope for the speaker lane, as plot_waveform leaves it
    bottom = -top / (1 - 2 * LANE_HEIGHT) if speakers else -top
    px_per_value = height / (top - bottom)
    px_per_s = width / duration if duration > 0 else 0.0
    canvas = _Canvas(width, height)
    everything = slice(0, height)

    colours = speaker_colors(speakers)
    for i, (start, end, who) in enumerate(spans):  # faint bands, under everything
        cols, cover = _span_columns(start, end, px_per_s, width)
        band = colours[who] if who else _UNLABELLED_BANDS[i % 2]
        canvas.paint(everything, cols, band, _BAND_ALPHA * cover)
    zero = min(height - 1, int(top * px_per_value))
    canvas.paint(slice(zero, zero + 1), slice(0, width), _AXIS_GREY, _ZERO_ALPHA)
    # The envelope: rows from max down to min, at least one pixel thick (silence shows as a line).
    y_hi = (top - maxs.astype(np.float32)) * px_per_value
    y_lo = (top - mins.astype(np.float32)) * px_per_value
    thin = (y_lo - y_hi) < 1.0
    row = np.clip(np.floor((y_lo + y_hi) / 2), 0, height - 1)  # a whole pixel row: crisp, not two half-grey ones
    y_hi, y_lo = np.where(thin, row, y_hi), np.where(thin, row + 1, y_lo)
    canvas.paint(everything, slice(0, width), colour, _coverage(y_hi, y_lo, height))
    edges = sorted({t for start, end, _ in spans for t in (start, end)})
    if edges and len(edges) <= width / MIN_EDGE_SPACING_PX:  # an hour of segments would grey out the wave
        for t in edges:
            x = min(width - 1, max(0, int(t * px_per_s)))
            canvas.paint(everything, slice(x, x + 1), _EDGE_GREY, _EDGE_ALPHA)
    if speakers:  # who spoke when, in solid colour along the bottom
        lane = slice(height - max(1, round(LANE_HEIGHT * height)), height)
        for start, end, who in spans:
            if who:
                cols, cover = _span_columns(start, end, px_per_s, width)
                canvas.paint(lane, cols, colours[who], _LANE_ALPHA * cover)
    canvas.paint(slice(height - 1, height), slice(0, width), _AXIS_GREY, 1.0)  # the time axis line
    return palette_png(canvas.rgba())
