"""A clip's block: waveform image, player and caption; what every view with audio embeds."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .._wire.text import format_clock, human_bytes
from ..audio import AudioClip
from ..errors import AudioDecodeError, MissingDependencyError
from .markup import MUTED, escape, wrap
from .player import PlayerMedia, codec_label, player_html, player_media
from .settings import options
from .waveform import WAVE_LEFT, WAVE_RIGHT, time_ticks
from .waveform_image import waveform_png

__all__ = ["clip_block", "clip_html", "ticks_html"]

# The time labels under the waveform: text in the notebook's font (a size relative to it, so they
# grow with zoom and on a projector), each with a 4 px tick mark above it drawn as its background.
_TICK_ROW = "position:relative;height:1.7em;font-size:0.85em;line-height:1;opacity:0.8"
_TICK = ("position:absolute;top:0;padding-top:5px;white-space:nowrap;"
         "background:linear-gradient(currentColor,currentColor) {mark} 0/1px 4px no-repeat")
# Labels this close to an end are aligned to it (centred they would stick out of the box).
_END_FRACTION = 0.03


# A label's room at the most: "1.25 s" and its gaps at 0.85em of a 13-14 px font.
_TICK_PX = 64
# One worker that encodes players while the display draws waveforms (threads start on first use).
_ENCODER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nbaudio-player")


def ticks_html(duration: float, width_px: int | None = None) -> str:
    """The time labels of a waveform of `duration` seconds, placed by percent of its width: as many
    as fit in `width_px` (a compare grid's small waveforms get fewer)."""
    spans = []
    most = 8 if width_px is None else max(2, min(8, width_px // _TICK_PX))
    for f, label in time_ticks(duration, most):
        if f <= _END_FRACTION:
            where = f"left:{f * 100:.2f}%;" + _TICK.format(mark="0")
        elif f >= 1 - _END_FRACTION:
            where = f"right:{(1 - f) * 100:.2f}%;" + _TICK.format(mark="100%")
        else:
            where = f"left:{f * 100:.2f}%;transform:translateX(-50%);" + _TICK.format(mark="50%")
        spans.append(f'<span class="nbaudio-tick" style="{where}">{escape(label)}</span>')
    return f'<div class="nbaudio-ticks" style="{_TICK_ROW}">{" ".join(spans)}</div>'


def _waveform_html(clip: AudioClip, segments: Any = None, size_px: tuple[int, int] | None = None) -> str:
    if not options.waveform:
        return ""
    png = waveform_png(clip, segments=segments, size_px=size_px)
    width, height = size_px or options.waveform_px
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    # data-x0/x1/dur let the player script map a click on the image to a time
    return (f'<div class="nbaudio-wavebox" style="width:100%;max-width:{width}px">'
            f'<div class="nbaudio-wave" data-x0="{WAVE_LEFT}" data-x1="{WAVE_RIGHT}" data-dur="{clip.duration:.6f}" '
            'style="position:relative">'
            f'<img alt="waveform" src="{uri}" style="width:100%;display:block" width="{width}" height="{height}">'
            f"</div>{ticks_html(clip.duration, width)}</div>")


def _known_size(clip: AudioClip) -> int | None:
    """The clip's encoded size without encoding it: a clip made from samples has no bytes yet, and
    16-bit WAV/PCM sizes follow from the frames; other formats are not encoded just for a caption."""
    if clip.is_encoded:
        return clip.nbytes
    if clip.format in ("wav", "pcm"):
        return clip.frames * clip.channels * 2 + (44 if clip.format == "wav" else 0)
    return None


def _caption(clip: AudioClip, media: PlayerMedia) -> str:
    bits = []
    if clip.name:
        bits.append(f"<b>{escape(clip.name)}</b>")
    bits.append(escape(f"{clip.duration:.2f} s" if clip.duration < 60 else format_clock(clip.duration, decimals=1)))
    bits.append(escape(f"{clip.sample_rate:,} Hz"))
    bits.append("mono" if clip.channels == 1 else escape(f"{clip.channels} channels"))
    size = _known_size(clip)
    bits.append(escape(codec_label(clip.format) + (f" {human_bytes(size)}" if size is not None else "")))
    if clip.cost is not None:
        bits.append(escape(f"cost {clip.cost}"))
    if media.saved_to is not None:
        bits.append(f'player: <a href="{escape(media.src)}" target="_blank">{escape(media.saved_to.as_posix())}</a> '
                    f"({escape(media.label)})")
    elif media.src is not None:
        bits.append(escape(f"player: {media.label}"))
    out = f'<div style="{MUTED}">{" · ".join(bits)}</div>'
    if media.note:
        out += f'<div style="{MUTED};font-style:italic">{escape(media.note)}</div>'
    return out


def clip_block(clip: AudioClip, *, segments: Any = None, waveform: bool = True, notes: list[str],
               waveform_px: tuple[int, int] | None = None, caption: bool = True) -> str:
    """Waveform (unless `waveform` is false or switched off; `waveform_px` other than the option's
    size), player and caption (unless `caption` is false: a view that says it in its own words).

    Sentences the reader should also see in the plain-text output are appended to `notes`.
    """
    try:
        _ = clip.samples  # decode once up front: undecodable audio shows why instead of a traceback
    except (AudioDecodeError, MissingDependencyError) as exc:
        notes.append(f"Audio cannot be shown: {exc}")
        return (f'<div style="{MUTED};font-style:italic">{escape(clip.format)} audio cannot be shown: '
                f"{escape(exc)}</div>")
    if waveform and options.waveform:
        # The player's encode (libopus, mostly outside the GIL) runs beside the waveform's drawing:
        # a first display of a minute of speech waits for the longer of the two, not for both.
        encoding = _ENCODER.submit(player_media, clip)
        wave = _waveform_html(clip, segments, waveform_px)
        media = encoding.result()
    else:
        media, wave = player_media(clip), ""
    if media.note:
        notes.append(media.note)
    if caption:
        return wave + player_html(media) + _caption(clip, media)
    link = ""  # a player saved beside the notebook is a link, its only trace when the caption is left out
    if media.saved_to is not None:
        link = (f'<div style="{MUTED}">player: <a href="{escape(media.src)}" target="_blank">'
                f"{escape(media.saved_to.as_posix())}</a></div>")
    return wave + player_html(media) + link


def clip_html(clip: AudioClip, notes: list[str]) -> str:
    """The whole output of an AudioClip."""
    return wrap(clip_block(clip, notes=notes), "clip", unit=True)
