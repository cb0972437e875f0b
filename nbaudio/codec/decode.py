"""Encoded bytes to samples, block by block and bounded: headers can lie and compressed audio
can expand a thousandfold (a FLAC of silence: 130 kB for 10 hours), so every decode stops at a
limit, checked against the header first and against the decoded content as it goes.

soundfile decodes WAV, FLAC, MP3 and Ogg; PyAV (FFmpeg) the rest, and what soundfile refuses.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NamedTuple

from .._wire.spec import PCM_SAMPLE_RATE
from .._wire.text import human_bytes
from ..errors import AudioDecodeError, AudioTooLongError, MissingDependencyError
from .formats import AV_FORMATS, SOUNDFILE_FORMATS
from .repair import flac_declared_total, flac_with_known_length

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Blocks", "BLOCK_FRAMES", "check_header", "open_blocks", "bounded", "too_long", "decode", "decode_mono"]

# Frames per block handed out by `open_blocks` (1 MB of float32 stereo).
BLOCK_FRAMES = 1 << 16


class Blocks(NamedTuple):
    """Encoded audio opened for decoding: its rate, channels, the frame count its header
    declares (None when unknown; it may lie) and an iterator of float32 (frames, channels) blocks."""

    rate: int
    channels: int
    declared: int | None
    blocks: Iterator[np.ndarray]


# Bytes of the audio's start shown in a message: enough to see what it is (RIFF, ID3, "{", "<html"),
# too few to hold a recognisable piece of an API key a server might have put there.
_SHOWN_BYTES = 8


def _described(data: bytes, fmt: str) -> str:
    """Audio bytes for a message: "the WAV audio (12,345 bytes, starting b'RIFF$\\x00\\x00\\x00')"."""
    return f"the {fmt.upper()} audio ({len(data):,} bytes, starting {data[:_SHOWN_BYTES]!r})"


def _said(exc: BaseException) -> str:
    """What a decoder said, without the in-memory file it read from (libsndfile's "Error opening
    <_io.BytesIO object at 0x7f…>: ", FFmpeg's errno and "'<none>'" tell a person nothing)."""
    import soundfile as sf

    if isinstance(exc, sf.LibsndfileError):
        return exc.error_string.rstrip(".")
    strerror = getattr(exc, "strerror", None)  # FFmpegError (PyAV) and OSError
    return strerror if isinstance(strerror, str) and strerror else str(exc)


def check_header(data: bytes, fmt: str, name: str | None = None) -> None:
    """Raise a clear AudioDecodeError unless libsndfile reads the header of `data` (one of
    SOUNDFILE_FORMATS), and for WAV/FLAC, unless the header counts some samples. Nothing is decoded."""
    import soundfile as sf

    try:
        info = sf.info(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        what = f"{name!r}" if name else _described(data, fmt)
        raise AudioDecodeError(f"{what} cannot be read ({_said(exc)}); the file may be corrupt or truncated") from None
    if info.frames == 0 and fmt in ("wav", "flac"):
        raise AudioDecodeError(f"{name or 'the audio'} has a header but no samples (0 frames)")


def open_blocks(data: bytes, fmt: str, sample_rate: int | None, channels: int | None) -> Blocks:
    """`data` (in the normalised format `fmt`) opened for decoding block by block; `sample_rate` and
    `channels` are those of headerless PCM. AudioDecodeError when it cannot be opened."""
    import numpy as np

    if not data:
        raise AudioDecodeError("audio is empty (0 bytes)")
    if fmt == "pcm":
        ch = channels or 1
        raw = np.frombuffer(data, dtype="<i2", count=(len(data) // (2 * ch)) * ch).reshape(-1, ch)
        blocks = (raw[i : i + BLOCK_FRAMES].astype(np.float32) / 32768.0 for i in range(0, len(raw), BLOCK_FRAMES))
        return Blocks(sample_rate or PCM_SAMPLE_RATE, ch, len(raw), blocks)
    if fmt not in SOUNDFILE_FORMATS:
        return open_blocks_av(data, fmt)
    import soundfile as sf

    unknown_length = fmt == "flac" and flac_declared_total(data) == 0
    if unknown_length:
        known = flac_with_known_length(data)
        if known is None:
            return _open_flac_of_unknown_length_av(data)
        data = known
    try:
        f = sf.SoundFile(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        if fmt in ("mp3", "ogg", "opus"):
            try:
                return open_blocks_av(data, fmt)
            except (AudioDecodeError, MissingDependencyError):
                pass
        raise AudioDecodeError(
            f"cannot decode {_described(data, fmt)} ({_said(exc)}); the file may be corrupt or truncated") from None
    # libsndfile reports an unknown length (FLAC total_samples 0) as INT64_MAX. A length nbaudio
    # filled in from the last frame is not the header's word: the decode is bounded by content.
    declared = f.frames if 0 <= f.frames < 1 << 48 and not unknown_length else None

    def blocks() -> Iterator[np.ndarray]:
        with f:
            while True:
                try:
                    block = f.read(BLOCK_FRAMES, dtype="float32", always_2d=True)
                except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
                    raise AudioDecodeError(f"cannot decode {_described(data, fmt)} ({_said(exc)}); the file may be "
                                           "corrupt or truncated") from None
                if not len(block):
                    return
                yield block

    return Blocks(int(f.samplerate), int(f.channels), declared, blocks())


def _open_flac_of_unknown_length_av(data: bytes) -> Blocks:
    """A FLAC that declares no length and whose last frame is not intact: libsndfile cannot read it
    to the end, FFmpeg (PyAV) can."""
    try:
        return open_blocks_av(data, "flac")
    except MissingDependencyError:
        raise MissingDependencyError(
            "this FLAC does not declare its length (as when written to a pipe) and its last frame is cut "
            "off, which soundfile cannot decode; pip install av, or re-encode it to a file "
            "(e.g. `ffmpeg -i in.flac out.flac`)") from None


def open_blocks_av(data: bytes, fmt: str) -> Blocks:
    """`data` opened with PyAV (FFmpeg); MissingDependencyError when PyAV is not installed."""
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
        raise AudioDecodeError(f"cannot decode {_described(data, fmt)} ({_said(exc)}); the file may be "
                               "corrupt") from None
    stream = next((s for s in container.streams if s.type == "audio"), None)
    if stream is None:
        container.close()
        raise AudioDecodeError(f"the {fmt} data has no audio stream")
    rate = stream.codec_context.sample_rate
    ch = stream.codec_context.channels or 1
    declared = None
    if stream.duration and stream.time_base and rate:
        declared = int(stream.duration * stream.time_base * rate)

    def blocks() -> Iterator[np.ndarray]:
        with container:
            try:
                for frame in container.decode(stream):
                    arr = frame.to_ndarray()
                    if arr.dtype.kind in "iu":
                        arr = arr.astype(np.float32) / float(np.iinfo(arr.dtype).max)
                    arr = arr.T if frame.format.is_planar else arr.reshape(-1, len(frame.layout.channels))
                    yield arr.astype(np.float32, copy=False)
            except av.error.FFmpegError as exc:  # type: ignore[attr-defined]
                raise AudioDecodeError(f"cannot decode {_described(data, fmt)} ({_said(exc)}); the file may be "
                                       "corrupt") from None

    return Blocks(int(rate), int(ch), declared, blocks())


def too_long(what: str, seconds: float, limit: str, how: str) -> AudioTooLongError:
    """'<what> 10.0 h of audio; <limit>. <how>'."""
    hours = f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds:.0f} s"
    return AudioTooLongError(f"{what} {hours} of audio; {limit}. {how}")


def bounded(opened: Blocks, max_frames: int,
            refuse: Callable[[int, str], AudioTooLongError]) -> Iterator[np.ndarray]:
    """`opened.blocks`, never past `max_frames`: raises `refuse(frames, "declares")` at once when
    the header declares more, and `refuse(frames, "holds more than")` as soon as the decoded
    content goes past it (headers can lie; a FLAC may not declare a length at all)."""
    if opened.declared is not None and opened.declared > max_frames:
        opened.blocks.close()
        raise refuse(opened.declared, "declares")

    def blocks() -> Iterator[np.ndarray]:
        n = 0
        for block in opened.blocks:
            n += len(block)
            if n > max_frames:
                opened.blocks.close()
                raise refuse(n, "holds more than")
            yield block

    return blocks()


def decode(data: bytes, fmt: str, sample_rate: int | None, channels: int | None, *, max_bytes: int,
           fix: str) -> tuple[np.ndarray, int, int]:
    """(samples, rate, channels): all samples as float32 (frames,) or (frames, channels), stopping at
    `max_bytes` of them: a file whose header or content goes past it raises AudioTooLongError, whose
    message ends with `fix` (what the caller can do about it). `sample_rate`/`channels` are those of
    headerless PCM."""
    import numpy as np

    opened = open_blocks(data, fmt, sample_rate, channels)
    rate, ch = opened.rate, opened.channels
    max_frames = max_bytes // (4 * ch)

    def refuse(frames: int, verb: str) -> AudioTooLongError:
        return too_long(f"the {fmt.upper()} audio {verb}", frames / rate,
                        f"decoded that is over {human_bytes(max_bytes)} of samples ({ch} ch at {rate} Hz), "
                        "more than nbaudio decodes at once", fix)

    blocks = bounded(opened, max_frames, refuse)
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
    if n == 0 and fmt in AV_FORMATS:
        raise AudioDecodeError(f"the {fmt} data decodes to no audio")
    return arr, rate, ch


def decode_mono(data: bytes, fmt: str, target_rate: int, *, max_seconds: float, sample_rate: int | None = None,
                channels: int | None = None) -> np.ndarray:
    """The audio as mono float32 at `target_rate`, decoded, mixed down and resampled block by block,
    so memory stays at the size of the result. Audio longer than `max_seconds` (by its header, or
    found while decoding, e.g. a FLAC that decompresses to gigabytes) raises AudioTooLongError.
    `sample_rate`/`channels` are those of headerless PCM."""
    import numpy as np
    import soxr

    fix = "Split it into shorter parts and send them one by one."
    limit = f"the limit is {max_seconds:g} s"
    opened = open_blocks(data, fmt, sample_rate, channels)
    rate = opened.rate
    verbs = {"declares": "the audio header declares", "holds more than": "the audio holds more than"}
    blocks = bounded(opened, int(max_seconds * rate),
                     lambda frames, verb: too_long(verbs[verb], frames / rate, limit, fix))
    stream = soxr.ResampleStream(rate, target_rate, 1, dtype="float32") if rate != target_rate else None
    parts: list[np.ndarray] = []
    for block in blocks:
        mono = block[:, 0] if block.shape[1] == 1 else block.mean(axis=1)
        parts.append(stream.resample_chunk(np.ascontiguousarray(mono)) if stream else mono.copy())
    if stream is not None:
        parts.append(stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True))
    return np.concatenate(parts).astype(np.float32, copy=False) if parts else np.zeros(0, dtype=np.float32)
