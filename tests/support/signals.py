"""Synthetic signals for the tests and the display benchmark (no TTS engine needed): one home for
tones (float32 samples, PCM16 bytes, WAV bytes) and speech-like audio."""

from __future__ import annotations

import numpy as np


def _sine(seconds: float, rate: int, freq: float, amp: float) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return amp * np.sin(2 * np.pi * freq * t)  # float64


def tone(seconds: float = 1.0, rate: int = 24000, freq: float = 440.0, amp: float = 0.5) -> np.ndarray:
    """A sine of `freq` Hz and peak `amp`: float32 samples, shape (frames,)."""
    return _sine(seconds, rate, freq, amp).astype(np.float32)


def tone_pcm16(seconds: float = 1.0, rate: int = 24000, freq: float = 440.0, amp: float = 0.5) -> bytes:
    """The same sine as headerless s16le mono (the API's `pcm`): scaled by 32767, truncated."""
    return (_sine(seconds, rate, freq, amp) * 32767).astype("<i2").tobytes()


def tone_wav(seconds: float = 1.0, rate: int = 24000, freq: float = 440.0, amp: float = 0.5) -> bytes:
    """The same sine as a 16-bit WAV, as nbaudio encodes it (`AudioClip.from_array(...).data`)."""
    from nbaudio import AudioClip

    return AudioClip.from_array(tone(seconds, rate, freq, amp), rate, format="wav").data


def _formant_gain(freq: np.ndarray, formants: np.ndarray, bandwidths: tuple[float, ...]) -> np.ndarray:
    """Spectral envelope: a sum of resonance peaks at the formants (rows: formants)."""
    gain = np.zeros_like(freq)
    for f, bw, level in zip(formants, bandwidths, (1.0, 0.6, 0.3), strict=True):
        gain += level / (1.0 + ((freq - f) / bw) ** 2)
    return gain


def voiced_speech(seconds: float = 5.0, rate: int = 24000, seed: int = 0) -> np.ndarray:
    """A speech-like signal made by additive synthesis: harmonics of a wandering pitch
    (90-170 Hz) shaped by three formants that move from syllable to syllable, syllables of
    0.12-0.3 s with short pauses between words, and a little breath noise. It compresses like
    speech, unlike a pure tone or white noise."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    t = np.arange(n) / rate
    # Syllable plan: (start, length, F1, F2, F3) with pauses after every few syllables.
    env = np.zeros(n, dtype=np.float64)
    f1 = np.full(n, 500.0)
    f2 = np.full(n, 1500.0)
    f3 = np.full(n, 2500.0)
    pos = 0.05
    while pos < seconds:
        for _ in range(int(rng.integers(2, 6))):
            length = float(rng.uniform(0.12, 0.3))
            a, b = int(pos * rate), min(n, int((pos + length) * rate))
            if a >= n:
                break
            shape = np.sin(np.linspace(0.0, np.pi, b - a)) ** 0.7
            env[a:b] = shape * rng.uniform(0.5, 1.0)
            f1[a:b] = rng.uniform(300, 850)
            f2[a:b] = rng.uniform(900, 2300)
            f3[a:b] = rng.uniform(2400, 3200)
            pos += length + float(rng.uniform(0.0, 0.04))
        pos += float(rng.uniform(0.15, 0.5))  # a pause between words
    f0 = 130 + 30 * np.sin(2 * np.pi * 0.7 * t) + 10 * np.sin(2 * np.pi * 2.3 * t + 1.0)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    formants = np.stack([f1, f2, f3])
    voiced = np.zeros(n)
    for k in range(1, 30):
        voiced += _formant_gain(k * f0, formants, (80.0, 120.0, 160.0)) * np.sin(k * phase)
    voiced *= env
    noise = rng.standard_normal(n) * 0.01 * (env > 0.05)
    out = voiced / (np.abs(voiced).max() + 1e-9) * 0.6 + noise
    return out.astype(np.float32)
