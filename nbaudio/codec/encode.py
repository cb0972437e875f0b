"""Samples to encoded bytes: soundfile for WAV/FLAC/MP3/Ogg, PyAV (FFmpeg) for AAC/M4A/MP4/WebM."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from ..errors import MissingDependencyError
from .formats import AV_FORMATS, OPUS_RATES
from .samples import float_to_int16, resample

if TYPE_CHECKING:
    import numpy as np

__all__ = ["encode"]

# Speech-friendly MP3 bitrate for soundfile (0 = best .. 1 = smallest).
_MP3_COMPRESSION = 0.5
_SOUNDFILE_KW: dict[str, dict[str, Any]] = {
    "wav": {"format": "WAV", "subtype": "PCM_16"},
    "flac": {"format": "FLAC", "subtype": "PCM_16"},
    "mp3": {"format": "MP3", "subtype": "MPEG_LAYER_III", "compression_level": _MP3_COMPRESSION},
    "opus": {"format": "OGG", "subtype": "OPUS"},
    "ogg": {"format": "OGG", "subtype": "VORBIS"},
}
_AV_CONTAINERS = {"aac": "adts", "m4a": "ipod", "mp4": "mp4", "webm": "webm"}


def encode(samples: np.ndarray, rate: int, fmt: str) -> bytes:
    """float32 samples (frames,) or (frames, channels) at `rate` as `fmt` bytes (16-bit where the
    format has a bit depth; mono for pcm and the PyAV formats; Opus resampled to 48 kHz when `rate`
    is not one Opus runs at)."""
    import numpy as np

    if fmt == "pcm":
        return float_to_int16(samples if samples.ndim == 1 else samples.mean(axis=1)).tobytes()
    if fmt in AV_FORMATS:
        return _encode_av(samples, rate, fmt)
    import soundfile as sf

    buf = io.BytesIO()
    kw = _SOUNDFILE_KW.get(fmt, {})
    if fmt == "opus" and rate not in OPUS_RATES:
        samples, rate = resample(samples, rate, 48000), 48000
    try:
        sf.write(buf, np.clip(samples, -1.0, 1.0), rate, **kw)
    except (sf.LibsndfileError, TypeError, ValueError) as exc:
        raise MissingDependencyError(
            f"this soundfile/libsndfile cannot write {fmt}: {exc}; upgrade soundfile (pip install -U soundfile)"
        ) from None
    return buf.getvalue()


def _encode_av(samples: np.ndarray, rate: int, fmt: str) -> bytes:
    try:
        import av
    except ImportError:
        raise MissingDependencyError(f"encoding {fmt.upper()} needs PyAV: pip install av") from None
    container_fmt = _AV_CONTAINERS[fmt]
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
