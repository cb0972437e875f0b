"""The HTML player: a compact copy of the clip, embedded as a data: URI or saved beside the notebook.

Speed (issue 16): the copy is made once per clip and kept on it (`AudioClip.cached`) and, across
clips with the same audio, in a small shared cache bounded in bytes (`clear_cache` empties it).
A clip that is already compact (MP3, Opus, AAC, WebM) is shown as it is under the default
`player_format="auto"`; under "auto" a player over `options.max_inline_bytes` is not encoded at
all: the clip's own file is written beside the notebook when browsers play it (WAV, FLAC and the
compact formats; headerless PCM becomes WAV, which costs no encode either). A format asked for
explicitly ("opus", "mp3", "wav") is what the file beside the notebook is (1 h of 16 kHz speech:
a 16.5 MB Opus file in ~7 s of CPU instead of a 115 MB WAV, which is over GitHub's file limit).
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .._wire.text import human_bytes
from ..audio import AudioClip
from ..codec import fast_opus, mime_type
from ..codec.formats import OPUS_RATES
from ..codec.ogg import stable_ogg
from ..errors import InvalidInputError, MissingDependencyError
from .markup import escape
from .settings import options

__all__ = ["PlayerMedia", "clear_cache", "codec_label", "player_clip", "player_html", "player_media"]

# Formats that are already small enough to hand to the browser as they are.
_COMPACT_FORMATS = ("opus", "ogg", "mp3", "aac", "m4a", "webm")
# What a player file beside the notebook may be as it is under "auto": formats browsers play.
_BROWSER_FORMATS = (*_COMPACT_FORMATS, "wav", "flac")
# Tried in order after the requested player format; WAV always works.
_FALLBACK_ORDER = ("opus", "mp3", "wav")
# Bytes per second per channel of a player copy (measured on speech; MP3 at soundfile's 0.5, Opus
# at ~36 kbit/s), to tell before encoding whether it will fit inline. 20 % margin on top.
_EST_BYTES_PER_S = {"opus": 4600, "mp3": 5300}
_EST_MARGIN = 1.2
# MPEG-1/2/2.5 layer III sample rates; the player copy goes up to the next one.
_MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
_CODEC_LABELS = {"opus": "Opus", "ogg": "Ogg Vorbis", "mp3": "MP3", "wav": "WAV", "aac": "AAC", "m4a": "AAC",
                 "webm": "WebM/Opus", "flac": "FLAC", "pcm": "PCM"}
# The shared cache of player copies, across clips with the same audio.
_SHARED_BYTES = 64 * 1024**2


def codec_label(fmt: str) -> str:
    """How captions name an audio format: "Opus", "Ogg Vorbis", "MP3" ... (the upper-cased name otherwise)."""
    return _CODEC_LABELS.get(fmt, fmt.upper())


def _snap_rate(rate: int, allowed: Sequence[int]) -> int:
    """The first of the ascending `allowed` rates at or above `rate` (the highest if none is)."""
    return next((r for r in allowed if r >= rate), allowed[-1])


class _SharedCopies:
    """Player copies by (audio digest, options), least recently used first, bounded in bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[tuple, tuple[bytes, str, int, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> tuple[bytes, str, int, int] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple, value: tuple[bytes, str, int, int]) -> None:
        size = len(value[0])
        if size > self.limit // 4:
            return  # one copy may not push out all the others
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old[0])
            self._items[key] = value
            self._bytes += size
            while self._bytes > self.limit:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped[0])

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    @property
    def nbytes(self) -> int:
        return self._bytes


_SHARED = _SharedCopies(_SHARED_BYTES)


def clear_cache() -> None:
    """Forget the player copies shared between clips (each clip keeps its own until it is dropped)."""
    _SHARED.clear()


def _first_format(wanted: str) -> str:
    """The codec tried first: the requested one; for "auto", Opus when PyAV's fast libopus is
    there, else MP3 (soundfile's MP3 encodes 2x faster than its Opus, and plays in every browser)."""
    if wanted != "auto":
        return wanted
    return "opus" if fast_opus() else "mp3"


def _player_is_clip(clip: AudioClip, wanted: str) -> bool:
    """Whether the player plays the clip's own bytes: "original", or a compact clip under "auto" or
    in the requested format (re-encoding compact audio only loses quality)."""
    if wanted == "original":
        return True
    return clip.format in _COMPACT_FORMATS and wanted in ("auto", clip.format)


def player_clip(clip: AudioClip) -> AudioClip:
    """The compact copy of `clip` that the HTML player embeds (see `options.player_format`),
    made once per clip and options, and shared between clips with the same audio."""
    wanted = options.player_format
    if _player_is_clip(clip, wanted):
        return clip  # already small; re-encoding would only lose quality
    cap = options.player_sample_rate
    key = ("player", wanted, cap, clip.format)
    return clip.cached(key, lambda: _shared_copy(clip, wanted, cap))


def _shared_copy(clip: AudioClip, wanted: str, cap: int | None) -> AudioClip:
    key = (clip.digest(), wanted, cap, clip.format)
    found = _SHARED.get(key)
    if found is not None:
        data, fmt, rate, channels = found
        return AudioClip(data, fmt, sample_rate=rate, channels=channels, name=clip.name)
    small = _encode_copy(clip, wanted, cap)
    if small is not clip:
        _SHARED.put(key, (small.data, small.format, small.sample_rate, small.channels))
    return small


def _encode_copy(clip: AudioClip, wanted: str, cap: int | None) -> AudioClip:
    target = clip.sample_rate if cap is None else min(clip.sample_rate, cap)
    first = _first_format(wanted)
    order = [first] + [f for f in _FALLBACK_ORDER if f != first]
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
    nbytes: int | None = None  # size of the player's bytes (None: the clip's)
    format: str | None = None  # format of the player's bytes (None: the clip's)

    @property
    def label(self) -> str:
        c = self.clip
        size = c.nbytes if self.nbytes is None else self.nbytes
        return f"{codec_label(self.format or c.format)} {c.sample_rate / 1000:g} kHz, {human_bytes(size)}"

    @property
    def mime_type(self) -> str:
        return mime_type(self.format or self.clip.format)


def player_media(clip: AudioClip) -> PlayerMedia:
    """The player copy of `clip`, inline when it fits `options.max_inline_bytes`, else saved beside
    the notebook. Kept on the clip: displaying it again costs neither an encode nor a write."""
    cap = options.max_inline_bytes
    key = ("media", options.player_format, options.player_sample_rate, cap, options.media_dir, os.getcwd(),
           clip.format, clip.name)
    media = clip.cached(key, lambda: _player_media(clip, cap))
    if media.saved_to is not None and not media.saved_to.is_file():
        media = _player_media(clip, cap)  # the file was removed: write it again
    return media


def _player_media(clip: AudioClip, cap: int | None) -> PlayerMedia:
    wanted = options.player_format
    if cap is not None and _save_original(clip, wanted, cap):
        return _save_beside_notebook(clip, cap)
    small = player_clip(clip)
    if cap is None or small.nbytes <= cap:
        return PlayerMedia(small, f"data:{small.mime_type};base64,{small.to_base64()}")
    return _save_beside_notebook(small, cap)


def _save_original(clip: AudioClip, wanted: str, cap: int) -> bool:
    """Whether the player will be over `cap` and the clip's own audio can be its file (no encode):
    under "auto" any format browsers play; a format asked for explicitly only when the clip is in it."""
    if _player_is_clip(clip, wanted):
        return False  # the player is the clip anyway
    own = "wav" if clip.format == "pcm" else clip.format  # headerless PCM is written as WAV
    if wanted == "auto":
        if own not in _BROWSER_FORMATS:
            return False
    elif own != wanted:
        return False  # the reader asked for this codec: encode to it, whatever the size
    first = _first_format(wanted)
    if first == "wav":
        estimate = clip.frames * clip.channels * 2.0
    else:
        estimate = clip.duration * clip.channels * _EST_BYTES_PER_S[first] / _EST_MARGIN
    return estimate > cap


def _save_beside_notebook(clip: AudioClip, cap: int) -> PlayerMedia:
    fmt = "wav" if clip.format == "pcm" else clip.format  # headerless PCM is written as WAV
    ext = "ogg" if fmt == "opus" else fmt
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(clip.name).stem)[:40] if clip.name else "clip"
    # named by content: displaying the same clip again reuses the file
    name = f"{stem or 'clip'}-{clip.digest()[:12]}.{ext}"
    rel = Path(options.media_dir) / name
    try:
        if clip.is_encoded and fmt == clip.format:
            size = len(clip.data)
            if not (rel.is_file() and rel.stat().st_size == size):
                rel.parent.mkdir(parents=True, exist_ok=True)
                tmp = rel.with_name(rel.name + ".part")
                tmp.write_bytes(clip.data)
                tmp.replace(rel)
        else:
            if not rel.is_file():
                tmp = rel.with_name(rel.name + ".part." + fmt)
                clip.save(tmp, fmt)  # WAV of the samples, block by block (no bytes held)
                tmp.replace(rel)
            size = rel.stat().st_size
    except (OSError, InvalidInputError) as exc:  # AudioClip.save says why it could not write as the latter
        why = f"it is over nbaudio.display.options.max_inline_bytes ({human_bytes(cap)})"
        return PlayerMedia(clip, None, None,
                           f"Audio not embedded: {why}, and saving it to {rel.as_posix()} failed ({exc}).")
    why = f"{human_bytes(size)} is over nbaudio.display.options.max_inline_bytes ({human_bytes(cap)})"
    return PlayerMedia(clip, quote(rel.as_posix()), rel,
                       f"Audio not embedded: {why}; saved to {rel.as_posix()} beside the notebook and linked.",
                       nbytes=size, format=fmt)


def player_html(media: PlayerMedia) -> str:
    """The `<audio>` element for `media` ("" when there is no source)."""
    if media.src is None:
        return ""
    fallback = (f"This browser cannot play {escape(media.mime_type)}; set "
                "nbaudio.display.options.player_format = &quot;mp3&quot;.")
    return (f'<audio controls preload="metadata" src="{escape(media.src)}" '
            f'style="width:100%;max-width:{options.waveform_px[0]}px;height:36px;display:block">{fallback}</audio>')
