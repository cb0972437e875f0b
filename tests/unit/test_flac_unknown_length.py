"""FLAC of unknown length (issue 14, bug 9): what an encoder writing to a pipe produces.

`ffmpeg -i in.wav -f flac -` cannot seek back to fill in STREAMINFO, so total_samples stays 0
("unknown"). libsndfile decodes the frames of such a file but fails at its end with "Internal
psf_fseek() failed"; ffmpeg and faster-whisper decode it. The files here are made the two ways a
pipe writer makes them: PyAV (FFmpeg's own FLAC muxer, the code `ffmpeg -f flac -` runs) writing
to a non-seekable file object, and a soundfile-written FLAC with STREAMINFO's total-samples field
set to 0, byte for byte what that muxer leaves there.
"""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest

import nbaudio
from nbaudio.audio import AudioClip, decode_mono
from nbaudio.errors import AudioDecodeError, MissingDependencyError
from tests.support.data import SENTENCES

TOTAL_MASK = (1 << 36) - 1  # STREAMINFO total samples: the low 36 bits of bytes 18..25


class _Pipe(io.RawIOBase):
    """A write-only, non-seekable sink, like the stdout of `ffmpeg ... -f flac -`."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, b) -> int:
        self.buf += bytes(b)
        return len(b)


def declared_total(flac: bytes) -> int:
    assert flac[:4] == b"fLaC" and flac[4] & 0x7F == 0  # STREAMINFO comes first
    return int.from_bytes(flac[18:26], "big") & TOTAL_MASK


def piped_flac(pcm16: np.ndarray, rate: int) -> bytes:
    """FLAC as FFmpeg's muxer writes it to a pipe (PyAV on a non-seekable sink)."""
    import av

    sink = _Pipe()
    with av.open(sink, mode="w", format="flac") as out:
        stream = out.add_stream("flac", rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(pcm16[None, :], format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    data = bytes(sink.buf)
    assert declared_total(data) == 0  # what makes it "unknown length"
    return data


def zeroed_flac(samples: np.ndarray, rate: int, subtype: str = "PCM_16") -> bytes:
    """A soundfile-written FLAC with total_samples set to 0, as a pipe writer leaves it."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, samples, rate, format="FLAC", subtype=subtype)
    data = bytearray(buf.getvalue())
    packed = int.from_bytes(data[18:26], "big") & ~TOTAL_MASK
    data[18:26] = packed.to_bytes(8, "big")
    assert declared_total(bytes(data)) == 0
    return bytes(data)


def noise(frames: int, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(frames) * 3000).astype(np.int16)


@pytest.mark.parametrize("rate,frames", [(16000, 16000 * 3), (44100, 4609), (48000, 96007), (8000, 1152 * 7)])
def test_client_decodes_a_piped_flac(rate, frames):
    pcm = noise(frames)
    clip = AudioClip(piped_flac(pcm, rate))
    assert clip.format == "flac" and clip.sample_rate == rate and clip.frames == frames
    np.testing.assert_allclose(clip.samples, pcm / 32768.0, atol=1e-6)  # lossless: the same samples
    assert clip.validate() is clip


@pytest.mark.parametrize("channels,subtype", [(1, "PCM_16"), (2, "PCM_24")])
def test_client_decodes_a_flac_whose_length_was_zeroed(channels, subtype):
    samples = np.random.default_rng(1).uniform(-0.5, 0.5, (30001, channels)).astype(np.float32)
    clip = AudioClip(zeroed_flac(samples if channels > 1 else samples[:, 0], 44100, subtype))
    assert clip.frames == 30001 and clip.channels == channels
    assert abs(clip.duration - 30001 / 44100) < 1e-9


def test_client_core_needs_no_pyav_for_it(monkeypatch):
    """The client's core has soundfile and numpy only: the decode must not lean on PyAV."""
    data = piped_flac(noise(20000), 16000)
    monkeypatch.setitem(sys.modules, "av", None)  # `import av` now raises ImportError
    assert AudioClip(data).frames == 20000
    # A piped FLAC that was cut off mid-frame has no intact last frame to take the length from:
    # without PyAV that is a clear "install av" message, not psf_fseek().
    with pytest.raises(MissingDependencyError, match="pip install av") as info:
        _ = AudioClip(data[:-300]).samples  # decoding raises
    assert "psf_fseek" not in str(info.value)


def test_engine_decoding_of_a_piped_flac():
    pcm = noise(48000 * 2)
    out = decode_mono(AudioClip(piped_flac(pcm, 48000)), 16000, max_seconds=60)
    assert out.dtype == np.float32 and abs(len(out) - 16000 * 2) <= 2


def test_a_corrupt_flac_of_unknown_length_is_still_a_clear_error():
    data = bytearray(piped_flac(noise(20000), 16000))
    data[-2000:-1000] = bytes(1000)  # frames overwritten: neither soundfile nor FFmpeg can read it all
    with pytest.raises(AudioDecodeError, match="corrupt"):
        _ = AudioClip(bytes(data)).samples  # decoding raises


def test_engine_transcribes_a_piped_flac_upload(engine, speech_clips):
    """Over HTTP, through nbaudio's client: the words of a FLAC that came out of a pipe."""
    speech = AudioClip(speech_clips[SENTENCES[3]])
    pcm = (np.clip(speech.mono().samples, -1, 1) * 32767).astype(np.int16)
    flac = piped_flac(pcm, speech.sample_rate)
    text = nbaudio.Client(engine.base_url, max_retries=0).transcribe(flac, response_format="verbose_json")
    assert "library" in text.text.lower() and "lunch" in text.text.lower(), text.text
    assert abs(text.duration - speech.duration) < 0.1
