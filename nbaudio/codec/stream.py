"""Incremental audio encoding: feed float32 chunks (a sentence at a time), get bytes to send now.

This is what lets `/audio/speech` and chat streams start playing before the whole text is
synthesized. WAV is sent like OpenAI's streams: a header whose RIFF and data sizes are
0xFFFFFFFF (length unknown), then PCM. mp3, opus (Ogg) and aac (ADTS) are encoded with PyAV
into a sink that hands out whatever the muxer has written. FLAC is buffered to the end because
a FLAC header with an unknown length is rejected by libsndfile.

numpy is imported at the top: only the engine imports this module (`nbaudio.codec` does not).
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from .._wire.spec import PCM_SAMPLE_RATE
from .encode import encode
from .formats import OPUS_RATES
from .repair import STREAMING_SIZE
from .samples import as_float_samples, float_to_int16

__all__ = ["StreamEncoder", "output_rate", "streaming_wav_header"]

# Codec, container and the sample rate each format is produced at.
_AV = {"mp3": ("libmp3lame", "mp3"), "opus": ("libopus", "ogg"), "aac": ("aac", "adts")}


def output_rate(fmt: str, source_rate: int) -> int:
    """The sample rate `fmt` is produced at from audio at `source_rate`."""
    if fmt == "pcm":
        return PCM_SAMPLE_RATE  # the API's raw PCM is always 24 kHz
    if fmt == "opus" and source_rate not in OPUS_RATES:
        return 24000
    return source_rate


def streaming_wav_header(rate: int, channels: int = 1) -> bytes:
    """A 16-bit PCM WAV header whose RIFF and data sizes say "unknown" (what a stream starts with)."""
    block = 2 * channels
    return (b"RIFF" + struct.pack("<I", STREAMING_SIZE) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, 16)
            + b"data" + struct.pack("<I", STREAMING_SIZE))


class _Sink:
    def __init__(self) -> None:
        self.buf = bytearray()

    def write(self, data: bytes) -> int:
        self.buf.extend(data)
        return len(data)

    def take(self) -> bytes:
        out = bytes(self.buf)
        self.buf.clear()
        return out


class StreamEncoder:
    """Encode mono float32 audio at `source_rate` into `fmt`, chunk by chunk."""

    def __init__(self, fmt: str, source_rate: int) -> None:
        self.format = fmt
        self.source_rate = source_rate
        self.rate = output_rate(fmt, source_rate)
        self._resampler: Any = None
        if self.rate != source_rate:
            import soxr

            # A stream resampler keeps filter state across chunks (no clicks at sentence joins).
            self._resampler = soxr.ResampleStream(source_rate, self.rate, 1, dtype="float32")
        self._started = False
        self._pending: list[np.ndarray] = []  # flac: everything, encoded at close()
        self.frames = 0
        self._av: Any = None
        if fmt in _AV:
            import av

            codec, container = _AV[fmt]
            self._sink = _Sink()
            self._av = av.open(self._sink, mode="w", format=container)
            self._stream = self._av.add_stream(codec, rate=self.rate)
            self._stream.layout = "mono"
            if fmt == "mp3":
                self._stream.bit_rate = 64000  # plenty for speech

    @property
    def duration(self) -> float:
        return self.frames / self.rate

    def _resample(self, samples: np.ndarray, last: bool = False) -> np.ndarray:
        if self._resampler is None:
            return samples
        return self._resampler.resample_chunk(samples.astype(np.float32, copy=False), last=last)

    def feed(self, samples: np.ndarray) -> bytes:
        samples = self._resample(np.asarray(samples, dtype=np.float32))
        return self._encode(samples)

    def _encode(self, samples: np.ndarray) -> bytes:
        self.frames += len(samples)
        out = b""
        if self.format == "wav":
            if not self._started:
                out = streaming_wav_header(self.rate)
                self._started = True
            return out + float_to_int16(samples).tobytes()
        if self.format == "pcm":
            return float_to_int16(samples).tobytes()
        if self.format == "flac":
            self._pending.append(samples)
            return b""
        if len(samples) == 0:
            return b""
        import av

        frame = av.AudioFrame.from_ndarray(float_to_int16(samples)[None, :], format="s16", layout="mono")
        frame.sample_rate = self.rate
        for packet in self._stream.encode(frame):
            self._av.mux(packet)
        return self._sink.take()

    def close(self) -> bytes:
        """The rest: resampler tail, encoder flush, trailer (or the whole FLAC file)."""
        out = b""
        if self._resampler is not None:
            tail = self._resample(np.zeros(0, dtype=np.float32), last=True)
            if len(tail):
                out += self._encode(tail)
        if self.format == "wav" and not self._started:
            out += streaming_wav_header(self.rate)
            self._started = True
        if self.format == "flac":
            samples = np.concatenate(self._pending) if self._pending else np.zeros(1, dtype=np.float32)
            return out + encode(as_float_samples(samples), self.rate, "flac")
        if self._av is not None:
            for packet in self._stream.encode(None):
                self._av.mux(packet)
            self._av.close()
            self._av = None
            out += self._sink.take()
        return out

    def abort(self) -> None:
        """Release the encoder when a stream ends early."""
        if self._av is not None:
            try:
                self._av.close()
            except (OSError, ValueError):
                pass  # a half-written container may refuse its trailer; nothing is sent anymore
            self._av = None
