"""What `audio=` arguments accept, read and checked before an `AudioClip` is built from them:
encoded bytes, a file path, a binary file object, `(samples, sample_rate)`. Each refusal says what
to pass instead.
`AudioClip`'s constructors and `as_audio_clip` call these and build the clip from what they return.
"""

from __future__ import annotations

import io
import numbers
import os
import re
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

from .._wire.user_files import folder_reason, read_regular_file, shown_path, user_path
from ..codec import (
    KNOWN_FORMATS,
    as_float_samples,
    check_sample_rate,
    guess_format,
    normalise_format,
    repair_streaming_wav,
    sniff_format,
    unknown_format_message,
)
from ..errors import AudioDecodeError, InvalidInputError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["checked_bytes", "read_audio_file", "checked_samples", "checked_format", "save_target", "checked_path",
           "read_binary_file", "samples_and_rate", "checked_channels", "checked_clips", "slice_frames", "unwritable"]

MAX_CHANNELS = 64  # more than any real recording; a clip's channels are checked against it

_URL_RE = re.compile(r"^[a-z][a-z0-9+.-]+:/", re.IGNORECASE)  # also "https:/x" (a URL through Path)
_TEXT_MODE = "Use open(path, 'rb') (binary), or pass the path itself"
_Clip = TypeVar("_Clip")


def checked_bytes(data: Any, format: str | None, name: str | None) -> tuple[bytes, str]:
    """(bytes, format) for encoded audio: the format given or sniffed, a streaming WAV's sizes set."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidInputError(
            f"AudioClip data must be bytes, not {type(data).__name__}; "
            "use AudioClip.from_file(path) or AudioClip.from_array(samples, sample_rate)"
        )
    data = bytes(data)
    fmt = normalise_format(format) or sniff_format(data)
    if fmt is None:
        raise AudioDecodeError(unknown_format_message(data, name))
    if fmt not in KNOWN_FORMATS:
        raise InvalidInputError(
            f"unknown audio format {format!r}; use one of {', '.join(sorted(KNOWN_FORMATS))}", param="format"
        )
    if fmt == "wav":
        data = repair_streaming_wav(data)
    return data, fmt


def read_audio_file(path: str | os.PathLike, format: str | None) -> tuple[bytes, str, str]:
    """(bytes, format, file name) of an audio file; the format given, else sniffed or from the suffix."""
    p = user_path(path, "path")
    data = read_regular_file(p, "audio file")
    if not data:
        raise AudioDecodeError(f"audio file {shown_path(p)} is empty (0 bytes); record or export it again")
    fmt = normalise_format(format) or guess_format(data, p.name)
    if fmt is None:
        raise AudioDecodeError(unknown_format_message(data, p.name))
    return data, fmt, p.name


def checked_samples(samples: Any, sample_rate: Any, format: str) -> tuple[np.ndarray, int, str]:
    """(float samples, rate, format) for `AudioClip.from_array`: float in [-1, 1] or int16 samples,
    a positive whole number of Hz, a known format."""
    arr = as_float_samples(samples)
    rate = check_sample_rate(sample_rate)
    fmt = normalise_format(format)
    if fmt not in KNOWN_FORMATS:
        raise InvalidInputError(f"unknown audio format {format!r}", param="format")
    return arr, rate, fmt


def checked_format(format: str) -> str:
    """The format `AudioClip.encode` is asked for, normalised (".WAV" -> "wav"), if it is a known one."""
    fmt = normalise_format(format)
    if fmt not in KNOWN_FORMATS:
        raise InvalidInputError(f"unknown audio format {format!r}; use one of {', '.join(sorted(KNOWN_FORMATS))}")
    return fmt


def checked_channels(channels: Any) -> int:
    """A number of channels given with encoded bytes: a whole number from 1 to MAX_CHANNELS."""
    if not isinstance(channels, numbers.Integral) or isinstance(channels, bool) or not 0 < channels <= MAX_CHANNELS:
        raise InvalidInputError(f"channels must be a whole number from 1 to {MAX_CHANNELS}, not {channels!r}",
                                param="channels")
    return int(channels)


def checked_clips(clips: Any, clip_type: type[_Clip]) -> list[_Clip]:
    """The clips `AudioClip.concatenate` joins: an iterable of at least one clip of `clip_type`."""
    try:
        clips = list(clips)
    except TypeError:
        raise InvalidInputError(f"concatenate takes a list of AudioClips, not {type(clips).__name__}",
                                param="clips") from None
    if not clips:
        raise InvalidInputError("concatenate needs at least one clip", param="clips")
    for i, clip in enumerate(clips):
        if not isinstance(clip, clip_type):
            raise InvalidInputError(f"concatenate takes AudioClips; clips[{i}] is a {type(clip).__name__} (make one "
                                    "with AudioClip.from_file(path) or AudioClip.from_array(samples, rate))",
                                    param="clips")
    return clips


def slice_frames(start: Any, end: Any, rate: int, frames: int) -> tuple[int, int]:
    """The frames [a, b) `AudioClip.slice(start, end)` keeps: seconds, clamped to the clip (so
    -inf and inf mean its start and end); NaN, text and an empty span are refused."""
    bounds = []
    for name, value in (("start", start), ("end", end)):
        if value is None and name == "end":
            bounds.append(frames)
            continue
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or value != value:  # NaN != NaN
            raise InvalidInputError(f"slice {name} must be a number of seconds, not {value!r}", param=name)
        # As Python numbers: NumPy would multiply an int8 by the rate in int8 (and overflow); an int
        # is not made a float (10**400 would overflow one); an inf is clamped below.
        at = (int(value) if isinstance(value, numbers.Integral) else float(value)) * rate
        bounds.append(0 if at <= 0 else frames if at >= frames else int(round(at)))
    a, b = bounds
    if b <= a:
        raise InvalidInputError(f"slice({start!r}, {end!r}) of a {frames / rate:.3f} s clip is empty: give an end "
                                "after the start, within the clip", param="end")
    return a, b


def unwritable(path: Path, exc: OSError) -> InvalidInputError:
    """The error for a file that could not be written (a missing or read-only folder, a full disk)."""
    return InvalidInputError(f"could not write {shown_path(path)}: {folder_reason(path.parent, exc)}", param="path")


def save_target(path: str | os.PathLike, format: str | None, current: str) -> tuple[Path, str]:
    """(path, format) `AudioClip.save` writes: the format from `format`, else the suffix, else the
    clip's own (`current`); a path without a suffix gets the format's."""
    p = user_path(path, "path")
    fmt = normalise_format(format) or normalise_format(p.suffix) or current
    if fmt not in KNOWN_FORMATS:
        raise InvalidInputError(f"cannot save as {p.suffix!r}; use one of {', '.join(sorted(KNOWN_FORMATS))}")
    if not p.suffix:
        p = p.with_suffix("." + ("ogg" if fmt == "opus" else fmt))
    return p, fmt


def checked_path(value: str | os.PathLike, param: str) -> str | bytes:
    """The path an `audio=` str / PathLike names; text, an empty string and URLs are refused."""
    s = os.fspath(value)
    if isinstance(s, str) and "\0" in s:
        raise InvalidInputError(f"{param} contains a NUL character, which no file name can hold", param=param)
    if isinstance(s, str) and not s.strip():
        raise InvalidInputError(f"{param} is an empty path", param=param)
    if isinstance(s, str) and "\n" in s:
        raise InvalidInputError(f"{param} looks like text, not a path; pass an audio file path", param=param)
    if isinstance(s, str) and _URL_RE.match(s.strip()):
        raise InvalidInputError(
            f"{param} is a URL ({s.strip()[:80]!r}); nbaudio does not fetch URLs. Download it first and pass the "
            "bytes or the saved file, e.g. requests.get(url, timeout=60).content", param=param)
    return s


def read_binary_file(f: IO[bytes], param: str) -> tuple[bytes, str | None, str | None]:
    """(bytes, format, name) read from a file object opened in binary mode; text mode is refused."""
    if isinstance(f, io.TextIOBase):  # reading it would decode audio bytes as text and fail
        raise InvalidInputError(f"{param} is a text-mode file. {_TEXT_MODE}", param=param)
    try:
        data = f.read()
    except UnicodeDecodeError:
        raise InvalidInputError(f"{param} is a text-mode file. {_TEXT_MODE}", param=param) from None
    if isinstance(data, str):
        raise InvalidInputError(f"{param} is a text-mode file. {_TEXT_MODE}", param=param)
    name = os.path.basename(getattr(f, "name", "") or "") or None
    if not data:
        raise AudioDecodeError(f"{param} file {name or ''} is empty (0 bytes)".replace("  ", " "))
    return data, guess_format(data, name), name


def samples_and_rate(value: tuple, param: str) -> tuple[Any, int]:
    """(samples, rate) from `(samples, sample_rate)` or `(sample_rate, samples)` (scipy's order)."""
    if len(value) != 2:
        raise InvalidInputError(f"{param} as a tuple must be (samples, sample_rate)", param=param)
    samples, rate = value
    if isinstance(samples, (int, float)) and not isinstance(rate, (int, float)):
        samples, rate = rate, samples  # (rate, samples), as scipy.io.wavfile.read returns
    return samples, check_sample_rate(rate, f"{param}'s sample rate")
