"""`AudioClip`: encoded audio bytes plus lazily decoded samples, and turning user input into one.

The bytes <-> samples work is `nbaudio.codec`'s (soundfile, and PyAV when installed for AAC,
M4A/MP4, WebM), and the checks on what users pass are `nbaudio.audio._args`'s; this module holds
the value type, what `audio=` arguments accept and the decode limit users can raise. Headerless
PCM is the API's s16le mono at 24 kHz unless told otherwise.
WAV written by streaming servers carries 0xFFFFFFFF as RIFF and data sizes; those sizes are set
from the real length before decoding.
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, TypeVar, Union

from .._wire.spec import PCM_SAMPLE_RATE
from .._wire.text import human_bytes
from ..codec import (
    OPUS_RATES,
    SOUNDFILE_FORMATS,
    check_sample_rate,
    decode,
    float_to_int16,
    guess_format,
    mime_type,
    resample,
    sniff_format,
    wav_info,
    write_file,
)
from ..codec import decode_mono as decode_mono_bytes
from ..codec import encode as encode_samples
from ..codec.decode import check_header, too_long
from ..errors import AudioDecodeError, InvalidInputError
from ._args import (
    checked_bytes,
    checked_channels,
    checked_clips,
    checked_format,
    checked_path,
    checked_samples,
    read_audio_file,
    read_binary_file,
    samples_and_rate,
    save_target,
    slice_frames,
    unwritable,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# sniff_format, guess_format, float_to_int16, resample, check_sample_rate and OPUS_RATES live in
# nbaudio.codec; they stay importable from here, where notebooks and the engine found them.
__all__ = ["AudioClip", "as_audio_clip", "sniff_format", "guess_format", "float_to_int16", "AudioInput", "OPUS_RATES",
           "decode_mono", "resample", "check_sample_rate"]

_DECODE_LIMIT_FIX = ("Cut it into parts first (e.g. `sox in.flac part.flac trim 0 3600`), or raise "
                     "nbaudio.audio.MAX_DECODED_BYTES if this machine has the memory.")
# Values derived from a clip and kept on it (`AudioClip.cached`): display copies, waveform images.
_MEMO_KEYS = 8
_MEMO_LOCK = threading.Lock()  # one for all clips: held only to look up or store, never while making
_T = TypeVar("_T")


class AudioClip:
    """Audio as encoded bytes (`data`, `format`) with samples decoded on first use.

    Build one with `AudioClip.from_file(path)`, `AudioClip.from_array(samples, rate)`,
    `AudioClip.from_bytes(data)` or `AudioClip.from_base64(text)`.
    """

    # `cost`: what making it cost (nbaudio.pricing.Cost), set by speak(); None for audio not made by a call.
    __slots__ = ("_data", "format", "_samples", "_sample_rate", "_channels", "name", "_memo", "cost", "__weakref__")

    def __init__(
        self,
        data: bytes,
        format: str | None = None,
        *,
        sample_rate: int | None = None,
        channels: int | None = None,
        name: str | None = None,
    ) -> None:
        data, fmt = checked_bytes(data, format, name)
        self._data: bytes | None = data
        self.format = fmt
        self._samples = None
        self._sample_rate = check_sample_rate(sample_rate) if sample_rate is not None else (
            PCM_SAMPLE_RATE if fmt == "pcm" else None)
        self._channels = checked_channels(channels) if channels is not None else (1 if fmt == "pcm" else None)
        self.name = name
        self._memo: dict[Hashable, Any] | None = None
        self.cost: Any = None

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_bytes(
        cls, data: bytes, format: str | None = None, *, sample_rate: int | None = None, name: str | None = None
    ) -> AudioClip:
        return cls(data, format, sample_rate=sample_rate, name=name)

    @classmethod
    def from_base64(cls, text: str, format: str | None = None, *, sample_rate: int | None = None) -> AudioClip:
        try:
            data = base64.b64decode(text, validate=False)
        except (ValueError, TypeError) as exc:
            raise AudioDecodeError(f"audio data is not valid base64: {exc}") from None
        return cls(data, format, sample_rate=sample_rate)

    @classmethod
    def from_file(cls, path: str | os.PathLike, format: str | None = None) -> AudioClip:
        data, fmt, name = read_audio_file(path, format)
        return cls(data, fmt, name=name)

    @classmethod
    def from_array(cls, samples: Any, sample_rate: int, *, format: str = "wav", name: str | None = None) -> AudioClip:
        """A clip from samples: float in [-1, 1] or int16, shape (frames,) or (frames, channels)."""
        import numpy as np

        arr, rate, fmt = checked_samples(samples, sample_rate, format)
        # No bytes to hand to __init__ yet: a bare instance of this class, filled in here.
        clip: AudioClip = cls.__new__(cls)
        clip._data = None  # encoded on first use of .data
        clip.format = fmt
        clip._samples = np.ascontiguousarray(arr, dtype=np.float32)
        clip._sample_rate = rate
        clip._channels = 1 if arr.ndim == 1 else arr.shape[1]
        clip.name = name
        clip._memo = None
        clip.cost = None
        return clip

    @classmethod
    def concatenate(cls, clips: Iterable[AudioClip], *, format: str | None = None) -> AudioClip:
        """Join clips end to end (resampled to the first clip's rate), in the first clip's format."""
        import numpy as np

        clips = checked_clips(clips, AudioClip)
        rate = clips[0].sample_rate
        channels = max(c.channels for c in clips)
        parts = []
        for c in clips:
            s = c.resample(rate).samples if c.sample_rate != rate else c.samples
            if s.ndim == 1 and channels > 1:
                s = np.repeat(s[:, None], channels, axis=1)
            parts.append(s)
        fmt = format or clips[0].format
        return cls.from_array(np.concatenate(parts), rate, format=fmt, name=clips[0].name)

    # ---- encoded view ---------------------------------------------------------------------
    @property
    def data(self) -> bytes:
        """The encoded bytes, in `format`."""
        if self._data is None:
            self._data = encode_samples(self.samples, self.sample_rate, self.format)
        return self._data

    @property
    def is_encoded(self) -> bool:
        """Whether the encoded bytes exist (a clip made from samples encodes them on first use of `data`)."""
        return self._data is not None

    @property
    def mime_type(self) -> str:
        return mime_type(self.format)

    @property
    def nbytes(self) -> int:
        return len(self.data)

    def to_base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    def cached(self, key: Hashable, make: Callable[[], _T]) -> _T:
        """`make()` once per `key` for this clip, kept on the clip (the display's player copy and
        waveform image): showing the same clip again reuses it. The newest 8 keys are kept. Safe
        from several threads (the display encodes the player while it draws the waveform); `make`
        runs outside the lock."""
        with _MEMO_LOCK:
            memo = self._memo
            if memo is None:
                memo = self._memo = {}
            if key in memo:
                memo[key] = value = memo.pop(key)  # most recently used last
                return value
        value = make()
        with _MEMO_LOCK:
            memo[key] = value
            while len(memo) > _MEMO_KEYS:
                del memo[next(iter(memo))]
        return value

    def digest(self) -> str:
        """SHA-1 (hex) of the audio: of the encoded bytes when there are any, else of the samples,
        sample rate and channels. Computed once per clip; equal audio gives equal digests."""
        return self.cached(("digest", self.format), self._digest)

    def _digest(self) -> str:
        import hashlib

        if self._data is not None:
            return hashlib.sha1(self._data).hexdigest()
        h = hashlib.sha1(f"{self.sample_rate}:{self.channels}:".encode())
        import numpy as np

        h.update(memoryview(np.ascontiguousarray(self.samples)).cast("B"))
        return h.hexdigest()

    # ---- decoded view ---------------------------------------------------------------------
    @property
    def is_decoded(self) -> bool:
        """Whether the samples are in memory already (from_array, or read once); reading
        `samples`, `frames` or `duration` of compressed audio decodes it."""
        return self._samples is not None

    def _decode(self) -> None:
        if self._samples is None:
            from . import MAX_DECODED_BYTES  # the public setting, as it is now (a user may raise it)

            self._samples, rate, ch = decode(self._data or b"", self.format, self._sample_rate, self._channels,
                                             max_bytes=MAX_DECODED_BYTES, fix=_DECODE_LIMIT_FIX)
            self._sample_rate, self._channels = rate, ch

    @property
    def samples(self) -> np.ndarray:
        """float32 samples in [-1, 1]: shape (frames,) for mono, (frames, channels) otherwise."""
        self._decode()
        return self._samples

    @property
    def sample_rate(self) -> int:
        if self._sample_rate is None:
            self._decode()
        return self._sample_rate

    @property
    def channels(self) -> int:
        if self._channels is None:
            self._decode()
        return self._channels

    @property
    def frames(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.frames / self.sample_rate

    def validate(self) -> AudioClip:
        """Check cheaply (header only where possible) that the bytes are decodable audio.

        Raises AudioDecodeError with a clear message; returns the clip otherwise.
        """
        if self._samples is not None or self.format == "pcm":
            if self.frames == 0:
                raise AudioDecodeError("the audio has no samples (0 frames)")
            return self
        if self.format in SOUNDFILE_FORMATS:
            check_header(self.data, self.format, self.name)
            return self
        self._decode()  # PyAV formats: decode to be sure
        return self

    def mono(self) -> AudioClip:
        if self.channels == 1:
            return self
        return AudioClip.from_array(self.samples.mean(axis=1), self.sample_rate, format=self.format, name=self.name)

    def resample(self, sample_rate: int) -> AudioClip:
        """The clip at another sample rate (soxr, high quality)."""
        sample_rate = check_sample_rate(sample_rate)
        if sample_rate == self.sample_rate:
            return self
        return AudioClip.from_array(
            resample(self.samples, self.sample_rate, sample_rate), sample_rate, format=self.format, name=self.name
        )

    def slice(self, start: float = 0.0, end: float | None = None) -> AudioClip:
        """The part between `start` and `end` seconds (None: to the end); times outside the clip
        are taken as its start or end."""
        a, b = slice_frames(start, end, self.sample_rate, self.frames)
        return AudioClip.from_array(self.samples[a:b], self.sample_rate, format=self.format, name=self.name)

    # ---- conversion ---------------------------------------------------------------------
    def encode(self, format: str, *, sample_rate: int | None = None) -> AudioClip:
        """The same audio in another format (and optionally another sample rate)."""
        fmt = checked_format(format)
        if fmt == "pcm":
            sample_rate = sample_rate or PCM_SAMPLE_RATE
        if fmt == self.format and sample_rate in (None, self.sample_rate) and self._data is not None:
            return self
        src = self.resample(sample_rate) if sample_rate and sample_rate != self.sample_rate else self
        samples = src.samples if fmt != "pcm" else src.mono().samples
        clip = AudioClip(encode_samples(samples, src.sample_rate, fmt), fmt, sample_rate=src.sample_rate,
                         channels=1 if samples.ndim == 1 else samples.shape[1], name=self.name)
        if fmt in ("wav", "pcm", "flac"):
            clip._samples = samples  # lossless: keep the decoded view
        return clip

    def to_wav(self) -> bytes:
        """16-bit PCM WAV bytes with correct header sizes."""
        if self.format == "wav" and self._data is not None:
            return self._data
        return encode_samples(self.samples, self.sample_rate, "wav")

    def save(self, path: str | os.PathLike, format: str | None = None) -> Path:
        """Write the clip; the format comes from `format` or the file's suffix (converted if needed)."""
        p, fmt = save_target(path, format, self.format)
        data = None if fmt in ("wav", "flac") and (self._data is None or fmt != self.format) else (
            self.data if fmt == self.format else self.encode(fmt).data)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data or b"")  # also where soundfile would open it, and say less about why not
        except OSError as exc:
            raise unwritable(p, exc) from None
        if data is None:
            write_file(self.samples, self.sample_rate, fmt, p)  # block by block: no bytes in memory
        return p

    # ---- display --------------------------------------------------------------------------
    def describe(self) -> str:
        """'wav 1.50 s 24000 Hz mono 72.0 kB': what is known without decoding (the length of
        compressed audio is only known once decoded)."""
        bits = [self.format]
        facts = self._known_facts()
        if facts is not None:
            rate, channels, frames = facts
            bits += [f"{frames / rate:.2f} s", f"{rate} Hz", "mono" if channels == 1 else f"{channels} ch"]
        if self._data is not None:
            bits.append(human_bytes(len(self._data)))
        return " ".join(bits)

    def _known_facts(self) -> tuple[int, int, int] | None:
        """(rate, channels, frames) from the samples, the PCM size or the WAV header, or None."""
        if self._samples is not None:
            return self._sample_rate, self._channels, len(self._samples)
        if self._data is not None and self.format == "pcm":
            return self._sample_rate, self._channels, len(self._data) // (2 * self._channels)
        if self._data is not None and self.format == "wav":
            return wav_info(self._data)
        return None

    def __repr__(self) -> str:
        name = f" {self.name!r}" if self.name else ""
        return f"<AudioClip{name} {self.describe()}>"

    def __len__(self) -> int:
        return self.frames

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AudioClip):
            return NotImplemented
        return self.format == other.format and self.data == other.data

    __hash__ = None  # mutable caches; not hashable

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        from ..display import mimebundle

        return mimebundle(self, include=include, exclude=exclude)

    def plot(self, ax=None, **kw):
        """Waveform (min/max envelope) on a matplotlib Axes, which is returned."""
        from ..display import plot_waveform

        return plot_waveform(self, ax=ax, **kw)


def decode_mono(clip: AudioClip, sample_rate: int, *, max_seconds: float) -> np.ndarray:
    """The clip as mono float32 at `sample_rate`, decoded, mixed down and resampled block by block,
    so memory stays at the size of the result. Audio longer than `max_seconds` (by its header, or
    found while decoding, e.g. a FLAC that decompresses to gigabytes) raises AudioTooLongError."""
    if clip.is_decoded:  # from_array, or displayed: only mix and resample
        mono = clip.mono().samples
        if len(mono) > max_seconds * clip.sample_rate:
            raise too_long("the audio is", len(mono) / clip.sample_rate, f"the limit is {max_seconds:g} s",
                           "Split it into shorter parts and send them one by one.")
        return resample(mono, clip.sample_rate, sample_rate)
    # Not decoded, so the bytes are there (reading .data encodes nothing). Only headerless PCM needs
    # its rate and channels told, and a PCM clip knows them without decoding.
    pcm = clip.format == "pcm"
    return decode_mono_bytes(clip.data, clip.format, sample_rate, max_seconds=max_seconds,
                             sample_rate=clip.sample_rate if pcm else None, channels=clip.channels if pcm else None)


class HasClip(Protocol):
    """Something holding a recording as `.clip` (a Recorder)."""

    @property
    def clip(self) -> AudioClip | None: ...


class HasAudio(Protocol):
    """Something holding audio as `.audio` (a ChatReply, a Transcript)."""

    @property
    def audio(self) -> AudioClip | None: ...


# What `audio=` arguments accept (see `as_audio_clip`): a path, encoded bytes, a binary file, an
# AudioClip, (samples, sample_rate) or (sample_rate, samples), or an object holding a clip.
AudioInput = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes], AudioClip,
                   tuple["npt.ArrayLike", int], tuple[int, "npt.ArrayLike"], HasClip, HasAudio]


def as_audio_clip(audio: AudioInput, *, param: str = "audio") -> AudioClip:
    """Turn any accepted audio argument into an AudioClip, or raise a clear InvalidInputError.

    Accepted: a path (str / PathLike), bytes, a binary file object, an AudioClip,
    or `(samples, sample_rate)`.
    """
    if isinstance(audio, AudioClip):
        return audio
    if audio is None:
        raise InvalidInputError(
            f"{param} is required: pass a path, bytes, a file, an AudioClip or (samples, sample_rate)", param=param
        )
    if isinstance(audio, (str, os.PathLike)):
        return AudioClip.from_file(checked_path(audio, param))
    if isinstance(audio, (bytes, bytearray, memoryview)):
        if not len(audio):
            raise AudioDecodeError(f"{param} is empty (0 bytes)")
        return AudioClip(bytes(audio))
    if isinstance(audio, tuple):
        return AudioClip.from_array(*samples_and_rate(audio, param))
    if hasattr(audio, "read"):
        data, fmt, name = read_binary_file(audio, param)
        return AudioClip(data, fmt, name=name)
    clip = getattr(audio, "clip", None)  # recorders, replies
    if isinstance(clip, AudioClip):
        return clip
    audio_attr = getattr(audio, "audio", None)
    if isinstance(audio_attr, AudioClip):
        return audio_attr
    raise InvalidInputError(
        f"{param} must be a path, bytes, a binary file, an AudioClip or (samples, sample_rate), "
        f"not {type(audio).__name__}",
        param=param,
    )
