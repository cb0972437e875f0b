"""The HTML player: a compact copy of the clip, embedded as a data: URI or saved beside the notebook."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..audio import AudioClip
from ..codec.formats import OPUS_RATES
from ..codec.ogg import stable_ogg
from ..errors import MissingDependencyError
from ..text import human_bytes
from .markup import escape
from .settings import options

__all__ = ["PlayerMedia", "codec_label", "player_clip", "player_html", "player_media"]

# Formats that are already small enough to hand to the browser as they are.
_COMPACT_FORMATS = ("opus", "ogg", "mp3", "aac", "m4a", "webm")
# Tried in order after the requested player format; WAV always works.
_FALLBACK_ORDER = ("opus", "mp3", "wav")
# MPEG-1/2/2.5 layer III sample rates; the player copy goes up to the next one.
_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
_CODEC_LABELS = {"opus": "Opus", "ogg": "Ogg Vorbis", "mp3": "MP3", "wav": "WAV", "aac": "AAC", "m4a": "AAC",
                 "webm": "WebM/Opus", "flac": "FLAC", "pcm": "PCM"}


def codec_label(fmt: str) -> str:
    """How captions name an audio format: "Opus", "Ogg Vorbis", "MP3" ... (the upper-cased name otherwise)."""
    return _CODEC_LABELS.get(fmt, fmt.upper())


def _snap_rate(rate: int, allowed: Sequence[int]) -> int:
    """The first of the ascending `allowed` rates at or above `rate` (the highest if none is)."""
    return next((r for r in allowed if r >= rate), allowed[-1])


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
            small = AudioClip(stable_ogg(small.data), "opus", sample_rate=small.sample_rate,
                              channels=small.channels, name=small.name)
        return small
    raise AssertionError("unreachable: WAV encoding always succeeds or raises")


@dataclass
class PlayerMedia:
    """The player's source: inline bytes or a file beside the notebook."""

    clip: AudioClip
    src: str | None  # a data: URI or a relative URL; None when the file could not be written
    saved_to: Path | None = None
    note: str | None = None  # a sentence for the reader (saved, or why there is no player)

    @property
    def label(self) -> str:
        c = self.clip
        return f"{codec_label(c.format)} {c.sample_rate / 1000:g} kHz, {human_bytes(c.nbytes)}"


def player_media(clip: AudioClip) -> PlayerMedia:
    """The player copy of `clip`, inline when it fits `options.max_inline_bytes`, else saved beside the notebook."""
    small = player_clip(clip)
    data = small.data
    cap = options.max_inline_bytes
    if cap is None or len(data) <= cap:
        return PlayerMedia(small, f"data:{small.mime_type};base64,{small.to_base64()}")
    return _save_beside_notebook(small, cap)


def _save_beside_notebook(clip: AudioClip, cap: int) -> PlayerMedia:
    data = clip.data
    ext = "ogg" if clip.format == "opus" else clip.format
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(clip.name).stem)[:40] if clip.name else "clip"
    # named by content: displaying the same clip again reuses the file
    name = f"{stem or 'clip'}-{hashlib.sha1(data).hexdigest()[:12]}.{ext}"
    rel = Path(options.media_dir) / name
    why = f"{human_bytes(len(data))} is over nbaudio.display.options.max_inline_bytes ({human_bytes(cap)})"
    try:
        if not (rel.exists() and rel.stat().st_size == len(data)):
            rel.parent.mkdir(parents=True, exist_ok=True)
            rel.write_bytes(data)
    except OSError as exc:
        return PlayerMedia(clip, None, None,
                           f"Audio not embedded: {why}, and saving it to {rel.as_posix()} failed ({exc}).")
    return PlayerMedia(clip, quote(rel.as_posix()), rel,
                       f"Audio not embedded: {why}; saved to {rel.as_posix()} beside the notebook and linked.")


def player_html(media: PlayerMedia) -> str:
    """The `<audio>` element for `media` ("" when there is no source)."""
    if media.src is None:
        return ""
    fallback = (f"This browser cannot play {escape(media.clip.mime_type)}; set "
                "nbaudio.display.options.player_format = &quot;mp3&quot;.")
    return (f'<audio controls preload="metadata" src="{escape(media.src)}" '
            f'style="width:100%;max-width:{options.waveform_px[0]}px;height:36px;display:block">{fallback}</audio>')
