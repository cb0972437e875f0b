"""What `audio=` arguments accept, read and checked before an `AudioClip` is built from them:
encoded bytes, a file path, a binary file object, `(samples, sample_rate)`. Each refusal says what
to pass instead.

Here, below `nbaudio.audio`, because nothing in it needs the clip: `AudioClip`'s constructors and
`as_audio_clip` call these and build the clip from what they return.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .codec import (
    KNOWN_FORMATS,
    as_float_samples,
    check_sample_rate,
    guess_format,
    normalise_format,
    repair_streaming_wav,
    sniff_format,
    unknown_format_message,
)
from .errors import AudioDecodeError, InvalidInputError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["checked_bytes", "read_audio_file", "checked_samples", "checked_format", "save_target", "checked_path",
           "read_binary_file", "samples_and_rate"]

_URL_RE = re.compile(r"^[a-z][a-z0-9+.-]+:/", re.IGNORECASE)  # also "https:/x" (a URL through Path)
_TEXT_MODE = "Use open(path, 'rb') (binary), or pass the path itself"


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
    p = Path(path).expanduser()
    if not p.exists():
        raise InvalidInputError(f"audio file not found: {str(p)!r}; check the path (relative to {os.getcwd()!r})")
    if p.is_dir():
        raise InvalidInputError(f"{str(p)!r} is a folder, not an audio file")
    data = p.read_bytes()
    if not data:
        raise AudioDecodeError(f"audio file {str(p)!r} is empty (0 bytes); record or export it again")
    fmt = normalise_format(format) or guess_format(data, p.name)
    if fmt is None:
        raise AudioDecodeError(unknown_format_message(data, p.name))
    return data, fmt, p.name


def checked_samples(samples: Any, sample_rate: Any, format: str) -> tuple[np.ndarray, int, str]:
    """(float samples, rate, format) for `AudioClip.from_array`: float in [-1, 1] or int16 samples,
    a positive whole number of Hz, a known format."""
    arr = as_float_samples(samples)
    try:
        rate = int(sample_rate)
    except (TypeError, ValueError):
        raise InvalidInputError(f"sample_rate must be a positive integer, not {sample_rate!r}") from None
    if rate <= 0 or rate != sample_rate:
        raise InvalidInputError(f"sample_rate must be a positive integer number of Hz, not {sample_rate!r}")
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


def save_target(path: str | os.PathLike, format: str | None, current: str) -> tuple[Path, str]:
    """(path, format) `AudioClip.save` writes: the format from `format`, else the suffix, else the
    clip's own (`current`); a path without a suffix gets the format's."""
    p = Path(path).expanduser()
    fmt = normalise_format(format) or normalise_format(p.suffix) or current
    if fmt not in KNOWN_FORMATS:
        raise InvalidInputError(f"cannot save as {p.suffix!r}; use one of {', '.join(sorted(KNOWN_FORMATS))}")
    if not p.suffix:
        p = p.with_suffix("." + ("ogg" if fmt == "opus" else fmt))
    return p, fmt


def checked_path(value: str | os.PathLike, param: str) -> str | bytes:
    """The path an `audio=` str / PathLike names; text, an empty string and URLs are refused."""
    s = os.fspath(value)
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
