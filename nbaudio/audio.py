"""`AudioClip`: encoded audio bytes plus lazily decoded samples, and turning user input into one.

Decoding goes through soundfile (WAV, FLAC, MP3, OGG/Vorbis/Opus) and PyAV when it is
installed (AAC, M4A/MP4, WebM). Headerless PCM is the API's s16le mono at 24 kHz unless
told otherwise. WAV written by streaming servers carries 0xFFFFFFFF as RIFF and data sizes
(the relay example starts `UklGRv////9XQVZF`); those sizes are set from the real length
before decoding.
"""

from __future__ import annotations

import base64
import io
import numbers
import os
import re
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, NamedTuple

from .errors import AudioDecodeError, AudioTooLongError, InvalidInputError, MissingDependencyError
from .spec import MIME_TYPES, PCM_SAMPLE_RATE

if TYPE_CHECKING:
    import numpy as np

__all__ = ["AudioClip", "as_audio_clip", "sniff_format", "guess_format", "float_to_int16", "AudioInput", "OPUS_RATES",
           "decode_mono", "MAX_DECODED_BYTES"]

# What `audio=` arguments accept.
AudioInput = Any  # str | os.PathLike | bytes | BinaryIO | AudioClip | tuple[np.ndarray, int]

_SOUNDFILE_FORMATS = {"wav": "WAV", "flac": "FLAC", "mp3": "MP3", "ogg": "OGG", "opus": "OGG"}
_AV_FORMATS = {"aac", "m4a", "mp4", "webm"}
_KNOWN_FORMATS = set(_SOUNDFILE_FORMATS) | _AV_FORMATS | {"pcm"}
_FORMAT_ALIASES = {"pcm16": "pcm", "wave": "wav", "oga": "ogg", "mpeg": "mp3", "mpga": "mp3", "weba": "webm"}
# Opus only runs at these rates; anything else is resampled before encoding.
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
_STREAMING_SIZE = 0xFFFFFFFF
# Speech-friendly MP3 bitrate for soundfile (0 = best .. 1 = smallest).
_MP3_COMPRESSION = 0.5
# Decoded samples are float32, and compressed audio can expand a thousandfold (a FLAC of silence:
# 130 kB for 10 hours), so decoding stops at this many bytes of samples (about 9 h of 16 kHz mono,
# 1.5 h of 48 kHz stereo). Raise it for longer recordings on a machine with the memory.
MAX_DECODED_BYTES = 2 * 1024**3
_BLOCK_FRAMES = 1 << 16


def _normalise_format(fmt: str | None) -> str | None:
    if fmt is None:
        return None
    f = fmt.lower().lstrip(".")
    return _FORMAT_ALIASES.get(f, f)


def sniff_format(data: bytes, *, strict: bool = False) -> str | None:
    """The container/codec of encoded audio bytes, from their magic numbers, or None.

    `strict` skips the MPEG/ADTS frame-sync guess (two bytes `FF Ex`), which raw PCM can match
    by chance: use it when the bytes are expected to be headerless PCM.
    """
    head = bytes(data[:64])
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "opus" if b"OpusHead" in head else "ogg"
    if head[:3] == b"ID3":
        return "mp3"
    if not strict and len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        # ADTS (AAC) has layer bits 00; MPEG audio layer III has 01.
        return "aac" if (head[1] & 0x06) == 0 else "mp3"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    return None


def guess_format(data: bytes, name: str | None = None) -> str | None:
    """The format from the bytes, else raw PCM when the file name says .pcm/.raw, else None."""
    fmt = sniff_format(data)
    if fmt is None and name and Path(name).suffix.lower() in (".pcm", ".raw"):
        return "pcm"
    return fmt


def float_to_int16(samples: "np.ndarray") -> "np.ndarray":
    """float samples in [-1, 1] as little-endian int16 (clipped, rounded)."""
    import numpy as np

    return (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2")


def _looks_like_text(data: bytes) -> bool:
    sample = bytes(data[:512])
    if not sample:
        return False
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError:
        return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable / len(text) > 0.95


def _fix_streaming_wav(data: bytes) -> bytes:
    """Set RIFF/data chunk sizes that streaming servers leave as 0xFFFFFFFF (or too large)."""
    if len(data) < 12:
        return data
    riff_size = struct.unpack_from("<I", data, 4)[0]
    buf = None
    if riff_size != len(data) - 8:
        buf = bytearray(data)
        struct.pack_into("<I", buf, 4, len(data) - 8)
    pos = 12
    while pos + 8 <= len(data):
        cid = data[pos : pos + 4]
        size = struct.unpack_from("<I", data, pos + 4)[0]
        if cid == b"data":
            real = len(data) - pos - 8
            if size == _STREAMING_SIZE or size > real:
                buf = buf if buf is not None else bytearray(data)
                struct.pack_into("<I", buf, pos + 4, real - (real % 2))
            break
        pos += 8 + size + (size & 1)
    return bytes(buf) if buf is not None else data


def _crc_table(poly: int, bits: int) -> tuple[int, ...]:
    top, mask = 1 << (bits - 1), (1 << bits) - 1
    table = []
    for byte in range(256):
        crc = byte << (bits - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly) & mask if crc & top else (crc << 1) & mask
        table.append(crc)
    return tuple(table)


_FLAC_CRC8 = _crc_table(0x07, 8)  # frame header
_FLAC_CRC16 = _crc_table(0x8005, 16)  # whole frame
_FLAC_TOTAL_MASK = (1 << 36) - 1
# The last frame of a FLAC is this close to its end (a frame of 65535 samples of 8 channels of
# 32-bit audio stored verbatim is 2 MB).
_FLAC_LAST_FRAME_WINDOW = 2 * 1024 * 1024 + 1024


def _flac_declared_total(data: bytes) -> int | None:
    """STREAMINFO's total_samples (0 means unknown), or None when the bytes do not start with one."""
    if len(data) < 42 or data[:4] != b"fLaC" or data[4] & 0x7F != 0 or int.from_bytes(data[5:8], "big") != 34:
        return None
    return int.from_bytes(data[18:26], "big") & _FLAC_TOTAL_MASK


def _flac_last_frame_end(data: bytes, audio_start: int, fixed_block: int) -> int | None:
    """The number of samples up to the end of the frame that ends exactly at the end of `data`
    (its header CRC-8 and whole-frame CRC-16 both check, so a sync pattern inside audio data is not
    taken for it), or None when there is no such frame."""
    end = len(data)
    lo = max(audio_start, end - _FLAC_LAST_FRAME_WINDOW)
    hi = end - 2
    checks = 0  # whole-frame CRCs computed: bounded, so crafted bytes cannot make this slow
    while checks < 8:
        p = data.rfind(b"\xff", lo, hi)
        if p < 0:
            return None
        hi = p
        head = data[p : p + 16]
        if len(head) < 6 or head[1] not in (0xF8, 0xF9) or head[3] & 1:
            continue
        block_code, rate_code, channel_code = head[2] >> 4, head[2] & 0x0F, head[3] >> 4
        if block_code == 0 or rate_code == 15 or channel_code > 10:
            continue
        # The frame (or sample) number, coded like UTF-8: the count of leading 1 bits of the first
        # byte is the length (none: one byte), up to 7 bytes for 36 bits.
        first = head[4]
        ones = 8 - (first ^ 0xFF).bit_length()
        if ones in (1, 8):  # a continuation byte (10xxxxxx) or 0xFF cannot lead
            continue
        length = max(1, ones)
        if len(head) < 4 + length:
            continue
        number = first & (0xFF >> (ones + 1))
        tail = head[5 : 4 + length]
        if any(b & 0xC0 != 0x80 for b in tail):
            continue
        for b in tail:
            number = number << 6 | (b & 0x3F)
        q = 4 + length
        if block_code == 1:
            block = 192
        elif block_code <= 5:
            block = 576 << (block_code - 2)
        elif block_code in (6, 7):
            size = 1 if block_code == 6 else 2
            if len(head) < q + size:
                continue
            block = int.from_bytes(head[q : q + size], "big") + 1
            q += size
        else:
            block = 256 << (block_code - 8)
        q += {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
        if len(head) <= q:
            continue
        crc = 0
        for b in head[:q]:
            crc = _FLAC_CRC8[crc ^ b]
        if crc != head[q]:
            continue
        channels = channel_code + 1 if channel_code < 8 else 2
        if end - p > block * channels * 4 + 1024:  # more bytes than a frame of this size can hold
            continue
        checks += 1
        crc = 0
        for b in data[p : end - 2]:
            crc = ((crc << 8) & 0xFFFF) ^ _FLAC_CRC16[(crc >> 8) ^ b]
        if crc != int.from_bytes(data[end - 2 :], "big"):
            continue
        # Blocking strategy bit: 1 = variable block sizes (the number is the first sample's),
        # 0 = fixed (the number counts frames of the stream's block size).
        start = number if head[1] & 1 else number * fixed_block
        return start + block
    return None


def _flac_with_known_length(data: bytes) -> bytes | None:
    """A FLAC that declares an unknown length (STREAMINFO total_samples 0, what an encoder writing to
    a pipe leaves, e.g. `ffmpeg -f flac -`: it cannot seek back to fill it in) with the real length
    set from its last frame; None when that frame is not intact at the end (a cut-off stream).

    libsndfile decodes such a file's frames but needs the exact length: with 0, or any other wrong
    number, its seek to the end fails ("Internal psf_fseek() failed"), measured with 1.2.2.
    """
    if _flac_declared_total(data) != 0:
        return None
    pos = 4
    while True:  # metadata blocks, STREAMINFO first; the last has the top bit of its type set
        if pos + 4 > len(data):
            return None
        last, length = data[pos] & 0x80, int.from_bytes(data[pos + 1 : pos + 4], "big")
        pos += 4 + length
        if last:
            break
    fixed_block = int.from_bytes(data[10:12], "big")  # max block size = every block's but the last when fixed
    total = _flac_last_frame_end(data, pos, fixed_block)
    if total is None or not 0 < total <= _FLAC_TOTAL_MASK:
        return None
    buf = bytearray(data)
    packed = (int.from_bytes(buf[18:26], "big") & ~_FLAC_TOTAL_MASK) | total
    buf[18:26] = packed.to_bytes(8, "big")
    return bytes(buf)


class AudioClip:
    """Audio as encoded bytes (`data`, `format`) with samples decoded on first use.

    Build one with `AudioClip.from_file(path)`, `AudioClip.from_array(samples, rate)`,
    `AudioClip.from_bytes(data)` or `AudioClip.from_base64(text)`.
    """

    __slots__ = ("_data", "format", "_samples", "_sample_rate", "_channels", "name", "__weakref__")

    def __init__(
        self,
        data: bytes,
        format: str | None = None,
        *,
        sample_rate: int | None = None,
        channels: int | None = None,
        name: str | None = None,
    ) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidInputError(
                f"AudioClip data must be bytes, not {type(data).__name__}; "
                "use AudioClip.from_file(path) or AudioClip.from_array(samples, sample_rate)"
            )
        data = bytes(data)
        fmt = _normalise_format(format) or sniff_format(data)
        if fmt is None:
            raise AudioDecodeError(_unknown_format_message(data, name))
        if fmt not in _KNOWN_FORMATS:
            raise InvalidInputError(
                f"unknown audio format {format!r}; use one of {', '.join(sorted(_KNOWN_FORMATS))}", param="format"
            )
        if fmt == "wav":
            data = _fix_streaming_wav(data)
        self._data: bytes | None = data
        self.format = fmt
        self._samples = None
        self._sample_rate = sample_rate if sample_rate else (PCM_SAMPLE_RATE if fmt == "pcm" else None)
        self._channels = channels if channels else (1 if fmt == "pcm" else None)
        self.name = name

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_bytes(
        cls, data: bytes, format: str | None = None, *, sample_rate: int | None = None, name: str | None = None
    ) -> "AudioClip":
        return cls(data, format, sample_rate=sample_rate, name=name)

    @classmethod
    def from_base64(cls, text: str, format: str | None = None, *, sample_rate: int | None = None) -> "AudioClip":
        try:
            data = base64.b64decode(text, validate=False)
        except (ValueError, TypeError) as exc:
            raise AudioDecodeError(f"audio data is not valid base64: {exc}") from None
        return cls(data, format, sample_rate=sample_rate)

    @classmethod
    def from_file(cls, path: str | os.PathLike, format: str | None = None) -> "AudioClip":
        p = Path(path).expanduser()
        if not p.exists():
            raise InvalidInputError(f"audio file not found: {str(p)!r}; check the path (relative to {os.getcwd()!r})")
        if p.is_dir():
            raise InvalidInputError(f"{str(p)!r} is a folder, not an audio file")
        data = p.read_bytes()
        if not data:
            raise AudioDecodeError(f"audio file {str(p)!r} is empty (0 bytes); record or export it again")
        fmt = _normalise_format(format) or guess_format(data, p.name)
        if fmt is None:
            raise AudioDecodeError(_unknown_format_message(data, p.name))
        return cls(data, fmt, name=p.name)

    @classmethod
    def from_array(cls, samples: Any, sample_rate: int, *, format: str = "wav", name: str | None = None) -> "AudioClip":
        """A clip from samples: float in [-1, 1] or int16, shape (frames,) or (frames, channels)."""
        import numpy as np

        arr = _as_float_samples(samples)
        try:
            rate = int(sample_rate)
        except (TypeError, ValueError):
            raise InvalidInputError(f"sample_rate must be a positive integer, not {sample_rate!r}") from None
        if rate <= 0 or rate != sample_rate:
            raise InvalidInputError(f"sample_rate must be a positive integer number of Hz, not {sample_rate!r}")
        fmt = _normalise_format(format)
        if fmt not in _KNOWN_FORMATS:
            raise InvalidInputError(f"unknown audio format {format!r}", param="format")
        clip = cls.__new__(cls)
        clip._data = None  # encoded on first use of .data
        clip.format = fmt
        clip._samples = np.ascontiguousarray(arr, dtype=np.float32)
        clip._sample_rate = rate
        clip._channels = 1 if arr.ndim == 1 else arr.shape[1]
        clip.name = name
        return clip

    @classmethod
    def concatenate(cls, clips: Iterable["AudioClip"], *, format: str | None = None) -> "AudioClip":
        """Join clips end to end (resampled to the first clip's rate), in the first clip's format."""
        import numpy as np

        clips = list(clips)
        if not clips:
            raise InvalidInputError("concatenate needs at least one clip")
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
            self._data = _encode(self.samples, self.sample_rate, self.format)
        return self._data

    @property
    def mime_type(self) -> str:
        return MIME_TYPES.get(self.format, "application/octet-stream")

    @property
    def nbytes(self) -> int:
        return len(self.data)

    def to_base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    # ---- decoded view ---------------------------------------------------------------------
    def _decode(self) -> None:
        if self._samples is None:
            self._samples, rate, ch = _decode(self._data or b"", self.format, self._sample_rate, self._channels)
            self._sample_rate, self._channels = rate, ch

    @property
    def samples(self) -> "np.ndarray":
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

    def validate(self) -> "AudioClip":
        """Check cheaply (header only where possible) that the bytes are decodable audio.

        Raises AudioDecodeError with a clear message; returns the clip otherwise.
        """
        if self._samples is not None or self.format == "pcm":
            if self.frames == 0:
                raise AudioDecodeError("the audio has no samples (0 frames)")
            return self
        if self.format in _SOUNDFILE_FORMATS:
            import soundfile as sf

            try:
                info = sf.info(io.BytesIO(self.data))
            except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
                what = f"{self.name!r}" if self.name else f"the {self.format.upper()} audio"
                raise AudioDecodeError(f"{what} cannot be read ({exc}); the file may be corrupt or truncated") from None
            if info.frames == 0 and self.format in ("wav", "flac"):
                raise AudioDecodeError(f"{self.name or 'the audio'} has a header but no samples (0 frames)")
            return self
        self._decode()  # PyAV formats: decode to be sure
        return self

    def mono(self) -> "AudioClip":
        if self.channels == 1:
            return self
        return AudioClip.from_array(self.samples.mean(axis=1), self.sample_rate, format=self.format, name=self.name)

    def resample(self, sample_rate: int) -> "AudioClip":
        """The clip at another sample rate (soxr, high quality)."""
        sample_rate = check_sample_rate(sample_rate)
        if sample_rate == self.sample_rate:
            return self
        return AudioClip.from_array(
            resample(self.samples, self.sample_rate, sample_rate), sample_rate, format=self.format, name=self.name
        )

    def slice(self, start: float = 0.0, end: float | None = None) -> "AudioClip":
        """The part between `start` and `end` seconds."""
        a = max(0, int(round(start * self.sample_rate)))
        b = self.frames if end is None else min(self.frames, int(round(end * self.sample_rate)))
        return AudioClip.from_array(self.samples[a:b], self.sample_rate, format=self.format, name=self.name)

    # ---- conversion ---------------------------------------------------------------------
    def encode(self, format: str, *, sample_rate: int | None = None) -> "AudioClip":
        """The same audio in another format (and optionally another sample rate)."""
        fmt = _normalise_format(format)
        if fmt not in _KNOWN_FORMATS:
            raise InvalidInputError(f"unknown audio format {format!r}; use one of {', '.join(sorted(_KNOWN_FORMATS))}")
        if fmt == "pcm":
            sample_rate = sample_rate or PCM_SAMPLE_RATE
        if fmt == self.format and sample_rate in (None, self.sample_rate) and self._data is not None:
            return self
        src = self.resample(sample_rate) if sample_rate and sample_rate != self.sample_rate else self
        samples = src.samples if fmt != "pcm" else src.mono().samples
        clip = AudioClip(_encode(samples, src.sample_rate, fmt), fmt, sample_rate=src.sample_rate,
                         channels=1 if samples.ndim == 1 else samples.shape[1], name=self.name)
        if fmt in ("wav", "pcm", "flac"):
            clip._samples = samples  # lossless: keep the decoded view
        return clip

    def to_wav(self) -> bytes:
        """16-bit PCM WAV bytes with correct header sizes."""
        if self.format == "wav" and self._data is not None:
            return self._data
        return _encode(self.samples, self.sample_rate, "wav")

    def to_pcm16(self, sample_rate: int = PCM_SAMPLE_RATE) -> bytes:
        """Headerless s16le mono bytes (the API's `pcm`)."""
        return self.encode("pcm", sample_rate=sample_rate).data

    def save(self, path: str | os.PathLike, format: str | None = None) -> Path:
        """Write the clip; the format comes from `format` or the file's suffix (converted if needed)."""
        p = Path(path).expanduser()
        fmt = _normalise_format(format) or _normalise_format(p.suffix) or self.format
        if fmt not in _KNOWN_FORMATS:
            raise InvalidInputError(f"cannot save as {p.suffix!r}; use one of {', '.join(sorted(_KNOWN_FORMATS))}")
        if not p.suffix:
            p = p.with_suffix("." + ("ogg" if fmt == "opus" else fmt))
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(self.data if fmt == self.format else self.encode(fmt).data)
        return p

    # ---- display --------------------------------------------------------------------------
    def _describe(self) -> str:
        bits = [self.format]
        if self._samples is not None or (self._data is not None and self.format in ("wav", "pcm")):
            try:
                bits.append(f"{self.duration:.2f} s")
                bits.append(f"{self.sample_rate} Hz")
                bits.append("mono" if self.channels == 1 else f"{self.channels} ch")
            except AudioDecodeError:
                bits.append("undecodable")
        if self._data is not None:
            bits.append(_human_bytes(len(self._data)))
        return " ".join(bits)

    def __repr__(self) -> str:
        name = f" {self.name!r}" if self.name else ""
        return f"<AudioClip{name} {self._describe()}>"

    def __len__(self) -> int:
        return self.frames

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AudioClip):
            return NotImplemented
        return self.format == other.format and self.data == other.data

    __hash__ = None  # mutable caches; not hashable

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        from .display import mimebundle

        return mimebundle(self, include=include, exclude=exclude)

    def plot(self, ax=None, **kw):
        """Waveform (min/max envelope) on a matplotlib Axes, which is returned."""
        from .display import plot_waveform

        return plot_waveform(self, ax=ax, **kw)


def _human_bytes(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


def _unknown_format_message(data: bytes, name: str | None) -> str:
    what = f"{name!r}" if name else "these bytes"
    if not data:
        return f"{what}: audio is empty (0 bytes)"
    if _looks_like_text(data):
        return (f"{what} looks like text, not audio; pass an audio file (wav, mp3, flac, ogg, m4a, webm) "
                "or give the format of raw PCM with format='pcm'")
    return (f"cannot tell the audio format of {what} (no WAV/FLAC/MP3/OGG/M4A/WebM header); "
            "pass format='...' if it is raw PCM, or convert it to WAV")


def _as_float_samples(samples: Any) -> "np.ndarray":
    import numpy as np

    try:
        arr = np.asarray(samples)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"samples must be a numeric array: {exc}") from None
    if arr.dtype.kind not in "iuf":
        raise InvalidInputError(f"samples must be numeric (float or int16), not dtype {arr.dtype}")
    if arr.ndim == 2 and arr.shape[0] < arr.shape[1] and arr.shape[0] <= 8:
        arr = arr.T  # (channels, frames) -> (frames, channels), as librosa/torch hand them out
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim not in (1, 2) or arr.size == 0:
        raise InvalidInputError(f"samples must be a non-empty 1-D (mono) or 2-D (frames, channels) array, got shape {arr.shape}")
    if arr.dtype.kind in "iu":
        info = np.iinfo(arr.dtype)
        arr = arr.astype(np.float32) / float(max(abs(info.min), info.max))
    arr = arr.astype(np.float32, copy=False)
    if not np.isfinite(arr).all():
        raise InvalidInputError("samples contain NaN or infinity; clean them (e.g. numpy.nan_to_num) first")
    return arr


def resample(samples: "np.ndarray", rate_in: int, rate_out: int) -> "np.ndarray":
    """Resample float32 samples with soxr."""
    import numpy as np
    import soxr

    if rate_in == rate_out:
        return samples
    return np.asarray(soxr.resample(samples, rate_in, rate_out), dtype=np.float32)


class _Blocks(NamedTuple):
    """Encoded audio opened for decoding: its rate, channels, the frame count its header
    declares (None when unknown; it may lie) and an iterator of float32 (frames, channels) blocks."""

    rate: int
    channels: int
    declared: int | None
    blocks: Iterator["np.ndarray"]


def _open_blocks(data: bytes, fmt: str, sample_rate: int | None, channels: int | None) -> _Blocks:
    import numpy as np

    if not data:
        raise AudioDecodeError("audio is empty (0 bytes)")
    if fmt == "pcm":
        ch = channels or 1
        raw = np.frombuffer(data, dtype="<i2", count=(len(data) // (2 * ch)) * ch).reshape(-1, ch)
        blocks = (raw[i : i + _BLOCK_FRAMES].astype(np.float32) / 32768.0 for i in range(0, len(raw), _BLOCK_FRAMES))
        return _Blocks(sample_rate or PCM_SAMPLE_RATE, ch, len(raw), blocks)
    if fmt not in _SOUNDFILE_FORMATS:
        return _open_blocks_av(data, fmt)
    import soundfile as sf

    unknown_length = fmt == "flac" and _flac_declared_total(data) == 0
    if unknown_length:
        known = _flac_with_known_length(data)
        if known is None:
            return _open_flac_of_unknown_length_av(data)
        data = known
    try:
        f = sf.SoundFile(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        if fmt in ("mp3", "ogg", "opus"):
            try:
                return _open_blocks_av(data, fmt)
            except (AudioDecodeError, MissingDependencyError):
                pass
        raise AudioDecodeError(f"cannot decode {fmt.upper()} audio ({exc}); the file may be corrupt or truncated") from None
    # libsndfile reports an unknown length (FLAC total_samples 0) as INT64_MAX. A length nbaudio
    # filled in from the last frame is not the header's word: the decode is bounded by content.
    declared = f.frames if 0 <= f.frames < 1 << 48 and not unknown_length else None

    def blocks() -> Iterator["np.ndarray"]:
        with f:
            while True:
                try:
                    block = f.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)
                except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
                    raise AudioDecodeError(f"cannot decode {fmt.upper()} audio ({exc}); the file may be corrupt "
                                           "or truncated") from None
                if not len(block):
                    return
                yield block

    return _Blocks(int(f.samplerate), int(f.channels), declared, blocks())


def _open_flac_of_unknown_length_av(data: bytes) -> _Blocks:
    """A FLAC that declares no length and whose last frame is not intact: libsndfile cannot read it
    to the end, FFmpeg (PyAV) can."""
    try:
        return _open_blocks_av(data, "flac")
    except MissingDependencyError:
        raise MissingDependencyError(
            "this FLAC does not declare its length (as when written to a pipe) and its last frame is cut "
            "off, which soundfile cannot decode; pip install av, or re-encode it to a file "
            "(e.g. `ffmpeg -i in.flac out.flac`)") from None


def _open_blocks_av(data: bytes, fmt: str) -> _Blocks:
    import numpy as np

    try:
        import av
    except ImportError:
        raise MissingDependencyError(
            f"decoding {fmt.upper()} audio needs PyAV: pip install av  (or convert the file to WAV, MP3 or FLAC)"
        ) from None
    try:
        container = av.open(io.BytesIO(data))
    except av.error.FFmpegError as exc:  # type: ignore[attr-defined]
        raise AudioDecodeError(f"cannot decode {fmt} audio ({exc}); the file may be corrupt") from None
    stream = next((s for s in container.streams if s.type == "audio"), None)
    if stream is None:
        container.close()
        raise AudioDecodeError(f"the {fmt} data has no audio stream")
    rate = stream.codec_context.sample_rate
    ch = stream.codec_context.channels or 1
    declared = None
    if stream.duration and stream.time_base and rate:
        declared = int(stream.duration * stream.time_base * rate)

    def blocks() -> Iterator["np.ndarray"]:
        with container:
            try:
                for frame in container.decode(stream):
                    arr = frame.to_ndarray()
                    if arr.dtype.kind in "iu":
                        arr = arr.astype(np.float32) / float(np.iinfo(arr.dtype).max)
                    arr = arr.T if frame.format.is_planar else arr.reshape(-1, len(frame.layout.channels))
                    yield arr.astype(np.float32, copy=False)
            except av.error.FFmpegError as exc:  # type: ignore[attr-defined]
                raise AudioDecodeError(f"cannot decode {fmt} audio ({exc}); the file may be corrupt") from None

    return _Blocks(int(rate), int(ch), declared, blocks())


def _too_long(what: str, seconds: float, limit: str, how: str) -> AudioTooLongError:
    hours = f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds:.0f} s"
    return AudioTooLongError(f"{what} {hours} of audio; {limit}. {how}")


def _bounded(opened: _Blocks, max_frames: int,
             too_long: "Callable[[int, str], AudioTooLongError]") -> Iterator["np.ndarray"]:
    """`opened.blocks`, never past `max_frames`: raises `too_long(frames, "declares")` at once when
    the header declares more, and `too_long(frames, "holds more than")` as soon as the decoded
    content goes past it (headers can lie; a FLAC may not declare a length at all)."""
    if opened.declared is not None and opened.declared > max_frames:
        opened.blocks.close()
        raise too_long(opened.declared, "declares")

    def blocks() -> Iterator["np.ndarray"]:
        n = 0
        for block in opened.blocks:
            n += len(block)
            if n > max_frames:
                opened.blocks.close()
                raise too_long(n, "holds more than")
            yield block

    return blocks()


def _decode(data: bytes, fmt: str, sample_rate: int | None, channels: int | None, max_bytes: int | None = None):
    """All samples as float32 (frames,) or (frames, channels), stopping at `max_bytes` of them
    (default MAX_DECODED_BYTES): a file whose header or content goes past it raises AudioTooLongError."""
    import numpy as np

    opened = _open_blocks(data, fmt, sample_rate, channels)
    rate, ch = opened.rate, opened.channels
    limit = max_bytes if max_bytes is not None else MAX_DECODED_BYTES
    max_frames = limit // (4 * ch)
    fix = ("Cut it into parts first (e.g. `sox in.flac part.flac trim 0 3600`), or raise "
           "nbaudio.audio.MAX_DECODED_BYTES if this machine has the memory.")

    def too_long(frames: int, verb: str) -> AudioTooLongError:
        return _too_long(f"the {fmt.upper()} audio {verb}", frames / rate,
                         f"decoded that is over {_human_bytes(limit)} of samples ({ch} ch at {rate} Hz), "
                         "more than nbaudio decodes at once", fix)

    blocks = _bounded(opened, max_frames, too_long)
    # Fill a buffer of the declared size (no copy at the end); grow past it only if the header lied.
    out = np.empty((opened.declared or 0, ch), dtype=np.float32)
    extra: list[np.ndarray] = []
    n = 0
    for block in blocks:
        room = max(0, min(len(block), len(out) - n))
        out[n : n + room] = block[:room]
        if room < len(block):
            extra.append(block[room:])
        n += len(block)
    arr = np.concatenate([out, *extra]) if extra else out[:n]  # extra only once `out` is full
    if n and n < len(out) // 2:
        arr = arr.copy()  # the header promised far more: do not keep the big buffer alive
    if ch == 1:
        arr = arr[:, 0]
    if n == 0 and fmt in _AV_FORMATS:
        raise AudioDecodeError(f"the {fmt} data decodes to no audio")
    return arr, rate, ch


def decode_mono(clip: "AudioClip", sample_rate: int, *, max_seconds: float) -> "np.ndarray":
    """The clip as mono float32 at `sample_rate`, decoded, mixed down and resampled block by block,
    so memory stays at the size of the result. Audio longer than `max_seconds` (by its header, or
    found while decoding, e.g. a FLAC that decompresses to gigabytes) raises AudioTooLongError."""
    import numpy as np
    import soxr

    fix = "Split it into shorter parts and send them one by one."
    limit = f"the limit is {max_seconds:g} s"
    if clip._samples is not None:
        mono = clip.mono().samples
        if len(mono) > max_seconds * clip.sample_rate:
            raise _too_long("the audio is", len(mono) / clip.sample_rate, limit, fix)
        return resample(mono, clip.sample_rate, sample_rate)
    opened = _open_blocks(clip._data or b"", clip.format, clip._sample_rate, clip._channels)
    rate = opened.rate
    verbs = {"declares": "the audio header declares", "holds more than": "the audio holds more than"}
    blocks = _bounded(opened, int(max_seconds * rate),
                      lambda frames, verb: _too_long(verbs[verb], frames / rate, limit, fix))
    stream = soxr.ResampleStream(rate, sample_rate, 1, dtype="float32") if rate != sample_rate else None
    parts: list[np.ndarray] = []
    for block in blocks:
        mono = block[:, 0] if block.shape[1] == 1 else block.mean(axis=1)
        parts.append(stream.resample_chunk(np.ascontiguousarray(mono)) if stream else mono.copy())
    if stream is not None:
        parts.append(stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True))
    return np.concatenate(parts).astype(np.float32, copy=False) if parts else np.zeros(0, dtype=np.float32)


def _encode(samples: "np.ndarray", rate: int, fmt: str) -> bytes:
    import numpy as np

    if fmt == "pcm":
        return float_to_int16(samples if samples.ndim == 1 else samples.mean(axis=1)).tobytes()
    if fmt in _AV_FORMATS:
        return _encode_av(samples, rate, fmt)
    import soundfile as sf

    buf = io.BytesIO()
    kw: dict[str, Any] = {}
    if fmt == "wav":
        kw = {"format": "WAV", "subtype": "PCM_16"}
    elif fmt == "flac":
        kw = {"format": "FLAC", "subtype": "PCM_16"}
    elif fmt == "mp3":
        kw = {"format": "MP3", "subtype": "MPEG_LAYER_III", "compression_level": _MP3_COMPRESSION}
    elif fmt in ("opus", "ogg"):
        kw = {"format": "OGG", "subtype": "OPUS" if fmt == "opus" else "VORBIS"}
        if fmt == "opus" and rate not in OPUS_RATES:
            samples, rate = resample(samples, rate, 48000), 48000
    try:
        sf.write(buf, np.clip(samples, -1.0, 1.0), rate, **kw)
    except (sf.LibsndfileError, TypeError, ValueError) as exc:
        raise MissingDependencyError(
            f"this soundfile/libsndfile cannot write {fmt}: {exc}; upgrade soundfile (pip install -U soundfile)"
        ) from None
    return buf.getvalue()


def _encode_av(samples: "np.ndarray", rate: int, fmt: str) -> bytes:
    try:
        import av
    except ImportError:
        raise MissingDependencyError(f"encoding {fmt.upper()} needs PyAV: pip install av") from None
    container_fmt = {"aac": "adts", "m4a": "ipod", "mp4": "mp4", "webm": "webm"}[fmt]
    codec = "libopus" if fmt == "webm" else "aac"
    if codec == "libopus" and rate not in OPUS_RATES:
        samples, rate = resample(samples, rate, 48000), 48000
    mono = samples if samples.ndim == 1 else samples.mean(axis=1)
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container_fmt) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        pcm = float_to_int16(mono)
        frame = av.AudioFrame.from_ndarray(pcm[None, :], format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


MAX_SAMPLE_RATE = 768_000  # Hz; above any real audio, and soxr's output for more would be huge
_URL_RE = re.compile(r"^[a-z][a-z0-9+.-]+:/", re.IGNORECASE)  # also "https:/x" (a URL through Path)


def check_sample_rate(rate: Any, param: str = "sample_rate") -> int:
    """A whole positive number of Hz up to MAX_SAMPLE_RATE, or a clear InvalidInputError."""
    whole = isinstance(rate, numbers.Integral) or (isinstance(rate, numbers.Real) and float(rate).is_integer())
    if isinstance(rate, bool) or type(rate).__name__ == "bool_" or not whole:
        raise InvalidInputError(f"{param} must be a whole number of Hz such as 16000 or 24000, not {rate!r}",
                                param=param)
    if not 0 < rate <= MAX_SAMPLE_RATE:
        raise InvalidInputError(f"{param}={rate} is out of range: it must be positive, at most {MAX_SAMPLE_RATE} Hz",
                                param=param)
    return int(rate)


def as_audio_clip(audio: AudioInput, *, param: str = "audio") -> AudioClip:
    """Turn any accepted audio argument into an AudioClip, or raise a clear InvalidInputError.

    Accepted: a path (str / PathLike), bytes, a binary file object, an AudioClip,
    or `(samples, sample_rate)`.
    """
    if isinstance(audio, AudioClip):
        return audio
    if audio is None:
        raise InvalidInputError(f"{param} is required: pass a path, bytes, a file, an AudioClip or (samples, sample_rate)", param=param)
    if isinstance(audio, (str, os.PathLike)):
        s = os.fspath(audio)
        if isinstance(s, str) and not s.strip():
            raise InvalidInputError(f"{param} is an empty path", param=param)
        if isinstance(s, str) and "\n" in s:
            raise InvalidInputError(f"{param} looks like text, not a path; pass an audio file path", param=param)
        if isinstance(s, str) and _URL_RE.match(s.strip()):
            raise InvalidInputError(
                f"{param} is a URL ({s.strip()[:80]!r}); nbaudio does not fetch URLs. Download it first and pass the "
                "bytes or the saved file, e.g. requests.get(url, timeout=60).content", param=param)
        return AudioClip.from_file(s)
    if isinstance(audio, (bytes, bytearray, memoryview)):
        if not len(audio):
            raise AudioDecodeError(f"{param} is empty (0 bytes)")
        return AudioClip(bytes(audio))
    if isinstance(audio, tuple):
        if len(audio) != 2:
            raise InvalidInputError(f"{param} as a tuple must be (samples, sample_rate)", param=param)
        samples, rate = audio
        if isinstance(samples, (int, float)) and not isinstance(rate, (int, float)):
            samples, rate = rate, samples  # (rate, samples), as scipy.io.wavfile.read returns
        return AudioClip.from_array(samples, check_sample_rate(rate, f"{param}'s sample rate"))
    if hasattr(audio, "read"):
        text_mode = "Use open(path, 'rb') (binary), or pass the path itself"
        if isinstance(audio, io.TextIOBase):  # reading it would decode audio bytes as text and fail
            raise InvalidInputError(f"{param} is a text-mode file. {text_mode}", param=param)
        try:
            data = audio.read()
        except UnicodeDecodeError:
            raise InvalidInputError(f"{param} is a text-mode file. {text_mode}", param=param) from None
        if isinstance(data, str):
            raise InvalidInputError(f"{param} is a text-mode file. {text_mode}", param=param)
        name = os.path.basename(getattr(audio, "name", "") or "") or None
        if not data:
            raise AudioDecodeError(f"{param} file {name or ''} is empty (0 bytes)".replace("  ", " "))
        return AudioClip(data, guess_format(data, name), name=name)
    clip = getattr(audio, "clip", None)  # recorders, replies
    if isinstance(clip, AudioClip):
        return clip
    audio_attr = getattr(audio, "audio", None)
    if isinstance(audio_attr, AudioClip):
        return audio_attr
    raise InvalidInputError(
        f"{param} must be a path, bytes, a binary file, an AudioClip or (samples, sample_rate), not {type(audio).__name__}",
        param=param,
    )
