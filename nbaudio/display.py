"""How nbaudio's objects show themselves in notebooks.

Everything renders to static HTML (a player, a waveform PNG, tables) so saved notebooks still
read on GitHub and nbviewer; a few lines of inline JavaScript add seek-on-click, a moving
cursor and the highlighted segment where the frontend runs scripts, and nothing breaks where it
does not. Notebooks stay small: the player gets a compact copy of the audio (Opus at a speech
sample rate unless `options.player_format` says otherwise), each output stores its bytes once,
and a player larger than `options.max_inline_bytes` is written beside the notebook and linked.

    import nbaudio.display
    nbaudio.display.options.player_format = "mp3"          # e.g. for old Safari
    with nbaudio.display.options.override(max_inline_bytes=10_000_000):
        display(long_clip)
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import io
import math
import re
import struct
import zlib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence
from urllib.parse import quote

from .audio import OPUS_RATES, AudioClip, _human_bytes
from .errors import AudioDecodeError, InvalidInputError, MissingDependencyError

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes

    from .chat import ChatReply, Conversation
    from .transcript import Transcript

__all__ = [
    "DisplayOptions", "options", "mimebundle", "plot_waveform", "envelope", "waveform_png",
    "player_clip", "format_clock",
]

_PLAYER_FORMATS = ("opus", "mp3", "wav", "original")
# Formats that are already small enough to hand to the browser as they are.
_COMPACT_FORMATS = ("opus", "ogg", "mp3", "aac", "m4a", "webm")
# Tried in order after the requested player format; WAV always works.
_FALLBACK_ORDER = ("opus", "mp3", "wav")
_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
_CODEC_LABEL = {"opus": "Opus", "ogg": "Ogg Vorbis", "mp3": "MP3", "wav": "WAV", "aac": "AAC", "m4a": "AAC",
                "webm": "WebM/Opus", "flac": "FLAC", "pcm": "PCM"}
_SPEAKER_COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d")
_MUTED = "color:#888;font-size:0.85em"


@dataclass
class DisplayOptions:
    """Settings for notebook output; change the module-level `options` instance."""

    #: Codec of the embedded player: "opus" (smallest), "mp3" (plays everywhere), "wav", or
    #: "original" (the clip's own bytes). Unavailable codecs fall back opus -> mp3 -> wav.
    player_format: str = "opus"
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
    #: Most transcript segments rendered as table rows; the rest are summarised in one line.
    max_rows: int = 1000

    def __setattr__(self, name: str, value: Any) -> None:
        _check_option(name, value)
        object.__setattr__(self, name, value)

    @contextlib.contextmanager
    def override(self, **changes: Any) -> Iterator["DisplayOptions"]:
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
            for name, value in saved.items():
                object.__setattr__(self, name, value)


def _check_option(name: str, value: Any) -> None:
    if name == "player_format" and value not in _PLAYER_FORMATS:
        raise InvalidInputError(f"player_format must be one of {', '.join(_PLAYER_FORMATS)}, not {value!r}")
    if name in ("player_sample_rate", "max_inline_bytes") and value is not None:
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise InvalidInputError(f"{name} must be a positive integer or None, not {value!r}")
    if name == "max_rows" and (not isinstance(value, int) or value < 0):
        raise InvalidInputError(f"max_rows must be a non-negative integer, not {value!r}")
    if name == "waveform_px":
        ok = isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) and v >= 16 for v in value)
        if not ok:
            raise InvalidInputError(f"waveform_px must be (width, height) in pixels, each >= 16, not {value!r}")


options = DisplayOptions()


# ---- small helpers ---------------------------------------------------------------------------
def _e(value: Any) -> str:
    """Escape anything for HTML text or a quoted attribute."""
    return html.escape(str(value), quote=True)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def format_clock(seconds: float, *, decimals: int = 2, hours: bool | None = None) -> str:
    """m:ss.ss (or h:mm:ss.s when `hours`, which defaults to seconds >= 1 h)."""
    seconds = max(0.0, float(seconds))
    if hours is None:
        hours = seconds >= 3600
    scale = 10 ** decimals
    total = round(seconds * scale)
    whole, frac = divmod(total, scale)
    h, rem = divmod(whole, 3600)
    m, s = divmod(rem, 60)
    tail = f".{frac:0{decimals}d}" if decimals else ""
    if hours:
        return f"{h}:{m:02d}:{s:02d}{tail}"
    return f"{h * 60 + m}:{s:02d}{tail}"


def _wants(mime: str, include: Iterable[str] | None, exclude: Iterable[str] | None) -> bool:
    return (include is None or mime in include) and not (exclude is not None and mime in exclude)


# ---- envelope and waveform plot ---------------------------------------------------------------
def envelope(samples: "np.ndarray", columns: int) -> tuple["np.ndarray", "np.ndarray"]:
    """Per-column (min, max) of `samples` split into `columns` nearly equal runs.

    Column i covers samples [i*N//columns, (i+1)*N//columns); multichannel input (frames, ch)
    gives the min and max over all channels. With fewer samples than columns every sample is
    its own column. One pass over memory per statistic, no copies of the signal.
    """
    import numpy as np

    arr = np.asarray(samples)
    if arr.ndim not in (1, 2) or arr.shape[0] == 0:
        raise InvalidInputError(f"envelope needs a non-empty (frames,) or (frames, channels) array, got shape {arr.shape}")
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


def _time_axis(ax: "Axes", duration: float) -> None:
    """Seconds on short clips, m:ss on long ones, h:mm:ss past an hour; ticks at round steps."""
    from matplotlib import ticker

    class TimeLocator(ticker.Locator):
        steps = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300,
                 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)

        def __call__(self) -> list[float]:
            vmin, vmax = sorted(self.axis.get_view_interval())
            return self.tick_values(vmin, vmax)

        def tick_values(self, vmin: float, vmax: float) -> list[float]:
            span = max(vmax - vmin, 1e-9)
            step = next((s for s in self.steps if span / s <= 8), self.steps[-1])
            first = math.ceil(vmin / step - 1e-9)
            last = math.floor(vmax / step + 1e-9)
            return [k * step for k in range(first, last + 1)]

    long_clip = duration >= 60

    def label(x: float, _pos: int | None = None) -> str:
        if not long_clip:
            return f"{x:g}"
        sign = "-" if x < 0 else ""
        return sign + format_clock(abs(x), decimals=0, hours=duration >= 3600)

    ax.xaxis.set_major_locator(TimeLocator())
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(label))


def _segment_spans(segments: Any) -> list[tuple[float, float, str | None]]:
    """(start, end, speaker) from a Transcript, Segments, or (start, end[, label]) tuples."""
    from .transcript import Transcript

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
    ax: "Axes | None" = None,
    *,
    segments: Any = None,
    columns: int | None = None,
    color: str | None = None,
    amplitude_ticks: bool = True,
    **kw: Any,
) -> "Axes":
    """Draw the clip's min/max envelope (one bar per pixel column) on `ax` and return the Axes.

    `ax=None` opens a new pyplot figure (shown inline by the notebook, like any plot).
    `segments` overlays segment boundaries: a Transcript, its segments, or (start, end[, label])
    tuples; speakers get coloured bands. `columns` defaults to the Axes' width in pixels.
    Other keyword arguments go to `Axes.fill_between` (e.g. alpha, label).
    """
    import numpy as np

    if isinstance(clip, tuple):
        from .audio import as_audio_clip

        clip = as_audio_clip(clip)
    if not isinstance(clip, AudioClip):
        raise InvalidInputError(f"plot_waveform needs an AudioClip or (samples, sample_rate), not {type(clip).__name__}")
    if ax is None:
        import matplotlib.pyplot as plt

        _fig, ax = plt.subplots(figsize=(9, 2), layout="constrained")
    samples = clip.samples
    rate = clip.sample_rate
    duration = samples.shape[0] / rate
    if columns is None:
        columns = max(16, int(round(ax.get_window_extent().width)))
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
        _overlay_segments(ax, _segment_spans(segments))
    if ax.get_xlabel() == "":
        ax.set_xlabel("time (s)" if duration < 60 else "time")
    return ax


def _overlay_segments(ax: "Axes", spans: Sequence[tuple[float, float, str | None]]) -> None:
    from matplotlib.collections import PolyCollection

    if not spans:
        return
    speakers = list(dict.fromkeys(who for _, _, who in spans if who))
    verts, faces = [], []
    for i, (start, end, who) in enumerate(spans):
        verts.append([(start, 0.0), (start, 1.0), (end, 1.0), (end, 0.0)])
        if who:
            faces.append(_SPEAKER_COLORS[speakers.index(who) % len(_SPEAKER_COLORS)])
        else:
            faces.append("#888888" if i % 2 == 0 else "#bbbbbb")
    bands = PolyCollection(verts, facecolors=faces, alpha=0.15, linewidths=0, transform=ax.get_xaxis_transform(),
                           zorder=0)
    ax.add_collection(bands, autolim=False)
    edges = sorted({t for start, end, _ in spans for t in (start, end)})
    ax.vlines(edges, 0.0, 1.0, transform=ax.get_xaxis_transform(), colors="#888888", linewidths=0.5, alpha=0.7,
              zorder=1)


# Where the axes sit in the display PNG, as fractions of its width: the player's JS maps clicks
# and the cursor through these.
_WAVE_LEFT, _WAVE_RIGHT = 0.025, 0.975


def waveform_png(clip: AudioClip, *, segments: Any = None, size_px: tuple[int, int] | None = None) -> bytes:
    """The display waveform as PNG bytes (transparent, no figure left open)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    width, height = size_px or options.waveform_px
    dpi = 100
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi, facecolor="none")
    canvas = FigureCanvasAgg(fig)
    bottom = min(0.45, 20 / height)  # room for the tick labels
    ax = fig.add_axes((_WAVE_LEFT, bottom, _WAVE_RIGHT - _WAVE_LEFT, 0.98 - bottom))
    ax.set_facecolor("none")
    plot_waveform(clip, ax, segments=segments, columns=width, amplitude_ticks=False)
    ax.set_xlabel("")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color("#999999")
    ax.tick_params(axis="x", colors="#888888", labelsize=7, length=3, pad=1)
    ax.axhline(0.0, color="#999999", linewidth=0.3, zorder=0)
    canvas.draw()
    # A 32-colour palette looks the same as the RGBA render at about a third of the bytes.
    from PIL import Image  # matplotlib depends on Pillow

    rgba = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    rgba.quantize(colors=32, method=Image.Quantize.FASTOCTREE).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


# ---- the player ---------------------------------------------------------------------------
def _snap_rate(rate: int, allowed: Sequence[int]) -> int:
    return next((r for r in allowed if r >= rate), allowed[-1])


# Ogg bitstream serial numbers are random per encode; a fixed one makes the same clip give the
# same bytes, so re-running a notebook does not change its outputs (or the saved file's name).
_OGG_SERIAL = 0x6E626175
_BIT_REVERSED = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def _ogg_crc(page: bytes) -> int:
    """Ogg's CRC-32 (polynomial 0x04C11DB7, unreflected, no xor) via zlib's reflected one."""
    raw = zlib.crc32(page.translate(_BIT_REVERSED), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{raw:032b}"[::-1], 2)


def _stable_ogg(data: bytes) -> bytes:
    """The Ogg stream with the fixed serial number (page CRCs recomputed); unchanged if not Ogg."""
    buf = bytearray(data)
    pos = 0
    while pos + 27 <= len(buf) and buf[pos:pos + 4] == b"OggS":
        nseg = buf[pos + 26]
        size = 27 + nseg + sum(buf[pos + 27:pos + 27 + nseg])
        if pos + size > len(buf):
            return data
        struct.pack_into("<II", buf, pos + 14, _OGG_SERIAL, struct.unpack_from("<I", buf, pos + 18)[0])
        struct.pack_into("<I", buf, pos + 22, 0)
        struct.pack_into("<I", buf, pos + 22, _ogg_crc(bytes(buf[pos:pos + size])))
        pos += size
    return bytes(buf) if pos == len(buf) else data


def player_clip(clip: AudioClip) -> AudioClip:
    """The compact copy of `clip` that the HTML player embeds (see `options.player_format`)."""
    wanted = options.player_format
    if wanted == "original":
        return clip
    if clip.format in _COMPACT_FORMATS and clip.format != "webm":
        return clip  # already small; re-encoding would only lose quality
    cap = options.player_sample_rate
    target = clip.sample_rate if cap is None else min(clip.sample_rate, cap)
    order = [wanted] + [f for f in _FALLBACK_ORDER if f != wanted]
    for fmt in order:
        if fmt == "opus":
            rate = _snap_rate(target, OPUS_RATES)
        elif fmt == "mp3":
            rate = _snap_rate(target, _MP3_RATES)
        else:
            rate = target
        if fmt == clip.format and rate == clip.sample_rate:
            return clip
        try:
            small = clip.encode(fmt, sample_rate=rate)
        except MissingDependencyError:
            if fmt == "wav":
                raise
            continue
        if fmt == "opus":
            small = AudioClip(_stable_ogg(small.data), "opus", sample_rate=small.sample_rate,
                              channels=small.channels, name=small.name)
        return small
    raise AssertionError("unreachable: WAV encoding always succeeds or raises")


@dataclass
class _Media:
    """The player's source: inline bytes or a file beside the notebook."""

    clip: AudioClip
    src: str | None  # a data: URI or a relative URL; None when the file could not be written
    saved_to: Path | None = None
    note: str | None = None  # a sentence for the reader (saved, or why there is no player)

    @property
    def label(self) -> str:
        c = self.clip
        codec = _CODEC_LABEL.get(c.format, c.format.upper())
        return f"{codec} {c.sample_rate / 1000:g} kHz, {_human_bytes(c.nbytes)}"


def _player_media(clip: AudioClip) -> _Media:
    small = player_clip(clip)
    data = small.data
    cap = options.max_inline_bytes
    if cap is None or len(data) <= cap:
        return _Media(small, f"data:{small.mime_type};base64,{small.to_base64()}")
    return _save_beside_notebook(small, cap)


def _save_beside_notebook(clip: AudioClip, cap: int) -> _Media:
    data = clip.data
    ext = "ogg" if clip.format == "opus" else clip.format
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(clip.name).stem)[:40] if clip.name else "clip"
    name = f"{stem or 'clip'}-{hashlib.sha1(data).hexdigest()[:12]}.{ext}"
    rel = Path(options.media_dir) / name
    why = f"{_human_bytes(len(data))} is over nbaudio.display.options.max_inline_bytes ({_human_bytes(cap)})"
    try:
        if not (rel.exists() and rel.stat().st_size == len(data)):
            rel.parent.mkdir(parents=True, exist_ok=True)
            rel.write_bytes(data)
    except OSError as exc:
        return _Media(clip, None, None, f"Audio not embedded: {why}, and saving it to {rel.as_posix()} failed ({exc}).")
    return _Media(clip, quote(rel.as_posix()), rel,
                  f"Audio not embedded: {why}; saved to {rel.as_posix()} beside the notebook and linked.")


def _player_html(media: _Media) -> str:
    if media.src is None:
        return ""
    fallback = (f"This browser cannot play {_e(media.clip.mime_type)}; set "
                "nbaudio.display.options.player_format = &quot;mp3&quot;.")
    return (f'<audio controls preload="metadata" src="{_e(media.src)}" '
            f'style="width:100%;max-width:{options.waveform_px[0]}px;height:36px;display:block">{fallback}</audio>')


def _waveform_html(clip: AudioClip, segments: Any = None) -> str:
    if not options.waveform:
        return ""
    png = waveform_png(clip, segments=segments)
    width, height = options.waveform_px
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return (f'<div class="nbaudio-wave" data-x0="{_WAVE_LEFT}" data-x1="{_WAVE_RIGHT}" data-dur="{clip.duration:.6f}" '
            f'style="position:relative;width:100%;max-width:{width}px">'
            f'<img alt="waveform" src="{uri}" style="width:100%;display:block" width="{width}" height="{height}">'
            '</div>')


def _caption(clip: AudioClip, media: _Media | None) -> str:
    bits = []
    if clip.name:
        bits.append(f"<b>{_e(clip.name)}</b>")
    bits.append(_e(f"{clip.duration:.2f} s" if clip.duration < 60 else format_clock(clip.duration, decimals=1)))
    bits.append(_e(f"{clip.sample_rate:,} Hz"))
    bits.append("mono" if clip.channels == 1 else _e(f"{clip.channels} channels"))
    bits.append(_e(f"{_CODEC_LABEL.get(clip.format, clip.format.upper())} {_human_bytes(clip.nbytes)}"))
    if media is not None:
        if media.saved_to is not None:
            bits.append(f'player: <a href="{_e(media.src)}" target="_blank">{_e(media.saved_to.as_posix())}</a> '
                        f"({_e(media.label)})")
        elif media.src is not None:
            bits.append(_e(f"player: {media.label}"))
    out = f'<div style="{_MUTED}">{" · ".join(bits)}</div>'
    if media is not None and media.note:
        out += f'<div style="{_MUTED};font-style:italic">{_e(media.note)}</div>'
    return out


def _clip_block(clip: AudioClip, *, segments: Any = None, waveform: bool = True, notes: list[str]) -> str:
    try:
        clip.samples  # decode once up front: undecodable audio shows why instead of a traceback
    except (AudioDecodeError, MissingDependencyError) as exc:
        notes.append(f"Audio cannot be shown: {exc}")
        return f'<div style="{_MUTED};font-style:italic">{_e(clip.format)} audio cannot be shown: {_e(exc)}</div>'
    media = _player_media(clip)
    if media.note:
        notes.append(media.note)
    wave = _waveform_html(clip, segments) if waveform else ""
    return wave + _player_html(media) + _caption(clip, media)


# ---- scripts (optional: everything reads without them) ---------------------------------------
# Wires every `.nbaudio-unit` under the output: waveform click seeks, a cursor follows playback,
# `.nbaudio-ts[data-t]` seek, the `.nbaudio-seg` being played is highlighted.
_SCRIPT = """<script>(function(){var s=document.currentScript,r=s&&s.parentElement;
if(!r||!r.querySelectorAll)r=document.getElementById("%(id)s");if(!r)return;
var us=r.querySelectorAll(".nbaudio-unit");if(r.classList.contains("nbaudio-unit"))us=[r].concat([].slice.call(us));
[].forEach.call(us,function(u){var a=u.querySelector("audio");if(!a||a.dataset.nbw)return;a.dataset.nbw=1;
var w=u.querySelector(".nbaudio-wave"),c=null,segs=u.querySelectorAll(".nbaudio-seg"),cur=null;
function go(t){a.currentTime=t;a.play();}
if(w){var x0=+w.dataset.x0,x1=+w.dataset.x1,d=+w.dataset.dur;c=document.createElement("div");
c.style.cssText="position:absolute;top:0;bottom:18%%;width:1px;background:#e45756;pointer-events:none;display:none";
w.appendChild(c);w.style.cursor="pointer";w.addEventListener("click",function(e){var b=w.getBoundingClientRect();
var f=((e.clientX-b.left)/b.width-x0)/(x1-x0);go(Math.max(0,Math.min(1,f))*d);});}
[].forEach.call(u.querySelectorAll(".nbaudio-ts"),function(el){el.style.cursor="pointer";
el.style.textDecoration="underline dotted";el.addEventListener("click",function(e){e.preventDefault();go(+el.dataset.t);});});
function tick(){var t=a.currentTime;if(c){c.style.display="block";
c.style.left=((x0+(x1-x0)*Math.min(1,t/d))*100)+"%%";}
var hit=null;for(var i=0;i<segs.length;i++){if(t>=+segs[i].dataset.start&&t<+segs[i].dataset.end){hit=segs[i];break;}}
if(hit!==cur){if(cur)cur.style.background="";if(hit)hit.style.background="rgba(76,120,168,0.18)";cur=hit;}
if(!a.paused)requestAnimationFrame(tick);}
a.addEventListener("play",tick);a.addEventListener("seeked",tick);a.addEventListener("timeupdate",tick);});})();</script>"""


def _wrap(body: str, kind: str, *, unit: bool) -> str:
    root_id = "nbaudio-" + hashlib.sha1(body.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    classes = f"nbaudio nbaudio-{kind}" + (" nbaudio-unit" if unit else "")
    script = _SCRIPT % {"id": root_id} if "<audio" in body else ""
    return (f'<div class="{classes}" id="{root_id}" style="font-family:inherit;max-width:100%">'
            f"{body}{script}</div>")


# ---- per type ---------------------------------------------------------------------------------
def _clip_html(clip: AudioClip, notes: list[str]) -> str:
    return _wrap(_clip_block(clip, notes=notes), "clip", unit=True)


def _ts(t: float, hours: bool, text: str | None = None) -> str:
    label = text if text is not None else format_clock(t, hours=hours)
    return f'<span class="nbaudio-ts" data-t="{t:.3f}">{_e(label)}</span>'


def _words_html(words: Sequence[Any], hours: bool) -> str:
    items = []
    for w in words:
        title = f"{w.start:.2f}–{w.end:.2f} s" + (f", p={w.probability:.2f}" if w.probability is not None else "")
        items.append(f'<span class="nbaudio-ts" data-t="{w.start:.3f}" title="{_e(title)}" style="white-space:nowrap">'
                     f'<small style="color:#888">{_e(format_clock(w.start, hours=hours))}</small>&nbsp;'
                     f"{_e(w.word.strip())}</span>")
    return (f'<details><summary style="{_MUTED}">{_plural(len(words), "word")}</summary>'
            f'<div style="line-height:1.8">{" ".join(items)}</div></details>')


def _transcript_table(t: "Transcript") -> str:
    segs = t.segments
    hours = bool(segs) and max(s.end for s in segs) >= 3600
    speakers = t.speakers
    head_speaker = "<th style=\"text-align:left\">speaker</th>" if speakers else ""
    rows = []
    for s in segs[: options.max_rows]:
        who = ""
        if speakers:
            colour = _SPEAKER_COLORS[speakers.index(s.speaker) % len(_SPEAKER_COLORS)] if s.speaker else "#888"
            who = f'<td style="white-space:nowrap;color:{colour};font-weight:600;text-align:left;vertical-align:top">{_e(s.speaker or "")}</td>'
        words = _words_html(s.words, hours) if s.words else ""
        stamp = f"{format_clock(s.start, hours=hours)}–{format_clock(s.end, hours=hours)}"
        rows.append(
            f'<tr class="nbaudio-seg" data-start="{s.start:.3f}" data-end="{s.end:.3f}">'
            f'<td style="white-space:nowrap;font-variant-numeric:tabular-nums;text-align:left;vertical-align:top">'
            f"{_ts(s.start, hours, stamp)}</td>{who}"
            f'<td style="text-align:left;vertical-align:top">{_e(s.text.strip())}{words}</td></tr>'
        )
    if len(segs) > options.max_rows:
        span = 3 if speakers else 2
        rows.append(f'<tr><td colspan="{span}" style="{_MUTED};text-align:left">… {len(segs) - options.max_rows} more '
                    "segments (nbaudio.display.options.max_rows); see transcript.to_dataframe() or to_srt()</td></tr>")
    return ('<table style="border-collapse:collapse;margin-top:4px;width:100%">'
            f'<thead><tr><th style="text-align:left">time</th>{head_speaker}<th style="text-align:left">text</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _transcript_meta(t: "Transcript") -> str:
    bits = ["translation" if t.task == "translate" else "transcript"]
    if t.language:
        bits.append(f"language {t.language}")
    if t.duration is not None:
        bits.append(format_clock(t.duration, decimals=1))
    if t.segments:
        bits.append(_plural(len(t.segments), "segment"))
    words = t.all_words()
    if words:
        bits.append(_plural(len(words), "word"))
    if t.speakers:
        bits.append(_plural(len(t.speakers), "speaker"))
    return f'<div style="{_MUTED}">{_e(" · ".join(bits))}</div>'


def _transcript_html(t: "Transcript", notes: list[str]) -> str:
    parts = []
    if t.audio is not None:
        parts.append(_clip_block(t.audio, segments=t.segments or None, notes=notes))
    parts.append(_transcript_meta(t))
    if t.segments:
        parts.append(_transcript_table(t))
    else:
        parts.append(f'<div style="white-space:pre-wrap">{_e(t.text)}</div>')
        words = t.all_words()
        if words:
            parts.append(_words_html(words, bool(words) and words[-1].end >= 3600))
    return _wrap("".join(parts), "transcript", unit=t.audio is not None)


def _role_style(role: str) -> tuple[str, str]:
    colour = {"assistant": "#4c78a8", "user": "#54a24b", "system": "#999999", "developer": "#999999",
              "tool": "#b279a2"}.get(role, "#999999")
    return colour, f"border-left:3px solid {colour};padding:2px 0 2px 10px;margin:6px 0"


def _reply_body(reply: "ChatReply", notes: list[str], *, waveform: bool = True) -> str:
    parts = []
    head = ["assistant"]
    if reply.model:
        head.append(reply.model)
    if reply.finish_reason and reply.finish_reason != "stop":
        head.append(f"finish: {reply.finish_reason}")
    colour, _ = _role_style("assistant")
    parts.append(f'<div style="{_MUTED}"><b style="color:{colour}">{_e(head[0])}</b>'
                 f'{_e(" · " + " · ".join(head[1:])) if len(head) > 1 else ""}</div>')
    if reply.text:
        spoken = not reply.content and bool(reply.transcript)
        label = f'<span style="{_MUTED}" title="transcript of the audio">(spoken) </span>' if spoken else ""
        parts.append(f'<div style="white-space:pre-wrap">{label}{_e(reply.text)}</div>')
    if reply.refusal and reply.content:
        parts.append(f'<div style="color:#e45756">refused: {_e(reply.refusal)}</div>')
    for call in reply.tool_calls or []:
        fn = call.get("function") or {}
        parts.append(f'<pre style="margin:2px 0;{_MUTED}">tool call {_e(fn.get("name", ""))}({_e(fn.get("arguments", ""))})</pre>')
    if reply.audio is not None:
        parts.append(_clip_block(reply.audio, waveform=waveform, notes=notes))
    meta = []
    if reply.usage is not None:
        meta.append(f"tokens: {reply.usage}")
    if reply.audio_id:
        meta.append(f"audio id {reply.audio_id}")
    if meta:
        parts.append(f'<div style="{_MUTED}">{_e(" · ".join(meta))}</div>')
    return "".join(parts)


def _reply_html(reply: "ChatReply", notes: list[str]) -> str:
    _, style = _role_style("assistant")
    body = f'<div class="nbaudio-unit" style="{style}">{_reply_body(reply, notes)}</div>'
    return _wrap(body, "chat", unit=False)


def _message_html(message: dict[str, Any], notes: list[str]) -> str:
    from .chat import message_text

    role = str(message.get("role", "?"))
    colour, style = _role_style(role)
    parts = [f'<div style="{_MUTED}"><b style="color:{colour}">{_e(role)}</b></div>']
    text = message_text(message)
    if text:
        italic = ";font-style:italic;color:#888" if role in ("system", "developer") else ""
        parts.append(f'<div style="white-space:pre-wrap{italic}">{_e(text)}</div>')
    content = message.get("content")
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "input_audio":
                parts.append(_input_audio_html(part.get("input_audio") or {}, notes))
    if message.get("audio") and not text:
        parts.append(f'<div style="{_MUTED}">audio {_e(message["audio"].get("id", ""))}</div>')
    for call in message.get("tool_calls") or []:
        fn = call.get("function") or {}
        parts.append(f'<pre style="margin:2px 0;{_MUTED}">tool call {_e(fn.get("name", ""))}({_e(fn.get("arguments", ""))})</pre>')
    return f'<div class="nbaudio-unit" style="{style}">{"".join(parts)}</div>'


def _input_audio_html(part: dict[str, Any], notes: list[str]) -> str:
    data = part.get("data")
    if not isinstance(data, str) or not data or data == "<omitted>":
        return f'<div style="{_MUTED}">(audio {_e(part.get("format", ""))} not kept)</div>'
    try:
        clip = AudioClip.from_base64(data, part.get("format"))
        return _clip_block(clip, waveform=False, notes=notes)
    except AudioDecodeError as exc:
        return f'<div style="{_MUTED}">(audio {_e(part.get("format", ""))} could not be decoded: {_e(exc)})</div>'


def _conversation_html(conv: "Conversation", notes: list[str]) -> str:
    parts = []
    for message, reply in conv.turns():
        if reply is not None:
            _, style = _role_style("assistant")
            # a whole dialogue stays compact: players without waveforms
            parts.append(f'<div class="nbaudio-unit" style="{style}">{_reply_body(reply, notes, waveform=False)}</div>')
        else:
            parts.append(_message_html(message, notes))
    if not parts:
        parts.append(f'<div style="{_MUTED}">(empty conversation)</div>')
    return _wrap("".join(parts), "conversation", unit=False)


# ---- entry point ------------------------------------------------------------------------------
def mimebundle(obj: Any, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None) -> dict[str, str]:
    """The notebook output of an nbaudio object: `text/html` plus `text/plain` (always).

    The only side effect is the one the size cap asks for: a player above
    `options.max_inline_bytes` is written under `options.media_dir` (once; same bytes, same name).
    With `text/html` excluded, a clip or transcript with audio gives its waveform as `image/png`.
    """
    from .chat import ChatReply, Conversation
    from .transcript import Transcript

    renderers = {AudioClip: _clip_html, Transcript: _transcript_html, ChatReply: _reply_html,
                 Conversation: _conversation_html}
    render = next((fn for cls, fn in renderers.items() if isinstance(obj, cls)), None)
    if render is None:
        raise InvalidInputError(f"nbaudio.display has no view for {type(obj).__name__}")
    notes: list[str] = []
    bundle: dict[str, str] = {}
    if _wants("text/html", include, exclude):
        bundle["text/html"] = render(obj, notes)
    elif _wants("image/png", include, exclude):
        clip = obj if isinstance(obj, AudioClip) else getattr(obj, "audio", None)
        if isinstance(clip, AudioClip):
            segs = obj.segments if isinstance(obj, Transcript) and obj.segments else None
            bundle["image/png"] = base64.b64encode(waveform_png(clip, segments=segs)).decode("ascii")
    plain = repr(obj)
    if notes:
        plain += "\n" + "\n".join(notes)
    bundle["text/plain"] = plain
    return bundle
