"""Where a recording has sound, and where that sound is voiced like speech, from the samples alone:
frame levels, sounding and voiced frames and their stretches, and whether the two channels of a
stereo clip hold different sound.

No speech model: the client has none (it talks to any API), and the questions here ("is there
sound the transcript does not account for", "is there text where nothing was said") are answered
well enough by two classic measures. A frame *sounds* when its level stands out from the
recording's own noise floor (a quiet room and a noisy phone line both work); it is *voiced* when it
sounds and repeats itself at a voice's pitch (its autocorrelation peaks at a lag of 2.5-14 ms, 70-400
Hz), which doors, paper and keyboards do not. On the AMI tuning excerpts against their reference
speech (experiments/flag_precision.py --vad): sounding frames are speech 81% of the time (70% of
the speech found), voiced frames 96% (36% found: unvoiced consonants and pauses are not voiced).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = ["FRAME_SECONDS", "SOUNDING_ABOVE_FLOOR_DB", "VOICING_THRESHOLD", "ChannelActivity", "channel_activity",
           "frame_levels", "frame_voicing", "runs", "sounding_frames", "sounding_spans", "voiced_frames"]

FRAME_SECONDS = 0.03  # one level per 30 ms: a syllable spans several
# A frame sounds when it is this far above the recording's floor (its 10th-percentile level) ...
SOUNDING_ABOVE_FLOOR_DB = 12.0
FLOOR_PERCENTILE = 10
# ... and above this absolute level (dBFS): dither and the hiss of a silent file are not sound.
QUIETEST_SOUNDING_DB = -55.0
# A sounding frame is voiced when its normalised autocorrelation peaks above this at a pitch lag.
VOICING_THRESHOLD = 0.4
PITCH_HZ = (70.0, 400.0)
# Frames closer than this are one stretch (the pauses inside a sentence).
JOIN_GAP_SECONDS = 0.3
# A channel "has a frame to itself" when it sounds there and is this much louder than the other:
# a phone line's far end bleeds in 20-40 dB down; two microphones in one room differ by a few dB.
OWN_FRAME_MARGIN_DB = 15.0
_BLOCK_SAMPLES = 1 << 20  # frames are worked out this many samples at a time


def frame_levels(samples: np.ndarray, rate: int, frame_seconds: float = FRAME_SECONDS) -> np.ndarray:
    """The RMS level (dBFS) of each `frame_seconds` frame (a last part frame dropped): shape (frames,)
    for mono `samples`, (frames, channels) for (samples, channels). Worked out a block at a time, so
    an hour of stereo needs no second copy of itself."""
    import numpy as np

    win = max(1, int(round(frame_seconds * rate)))
    n = len(samples) // win
    framed = samples[: n * win].reshape(n, win, *samples.shape[1:])  # a view: no copy
    power = np.empty((n, *samples.shape[1:]), dtype=np.float64)
    step = max(1, _BLOCK_SAMPLES // win)
    for a in range(0, n, step):
        block = framed[a:a + step].astype(np.float64)
        power[a:a + step] = np.einsum("ij...,ij...->i...", block, block) / win
    return (10.0 * np.log10(power + 1e-12)).astype(np.float32)


def sounding_frames(levels: np.ndarray, *, above_floor_db: float = SOUNDING_ABOVE_FLOOR_DB) -> np.ndarray:
    """Which frames (of `frame_levels`) stand out from the recording's noise floor."""
    import numpy as np

    if len(levels) == 0:
        return np.zeros(0, dtype=bool)
    floor = float(np.percentile(levels, FLOOR_PERCENTILE))
    return (levels > floor + above_floor_db) & (levels > QUIETEST_SOUNDING_DB)


def frame_voicing(samples: np.ndarray, rate: int, frame_seconds: float = FRAME_SECONDS) -> np.ndarray:
    """Each frame's peak normalised autocorrelation at a pitch lag (0-1: how much it repeats itself at
    a voice's pitch), of mono `samples`. Differenced first, so rumble and hum below the voice do not count."""
    import numpy as np

    win = max(1, int(round(frame_seconds * rate)))
    n = len(samples) // win
    lo, hi = max(1, int(rate / PITCH_HZ[1])), min(win - 1, int(rate / PITCH_HZ[0]))
    out = np.zeros(n, dtype=np.float32)
    if hi <= lo:
        return out
    step = max(1, _BLOCK_SAMPLES // win)
    for a in range(0, n, step):
        block = np.diff(samples[a * win:min(n, a + step) * win].reshape(-1, win).astype(np.float64), axis=1)
        block -= block.mean(axis=1, keepdims=True)
        power = np.abs(np.fft.rfft(block, 2 * win, axis=1)) ** 2
        ac = np.fft.irfft(power, axis=1)[:, : hi + 1]
        out[a:a + len(block)] = ac[:, lo:hi + 1].max(axis=1) / (ac[:, 0] + 1e-12)
    return out


def voiced_frames(samples: np.ndarray, rate: int) -> np.ndarray:
    """Which frames of mono `samples` sound and are voiced like speech."""
    return sounding_frames(frame_levels(samples, rate)) & (frame_voicing(samples, rate) > VOICING_THRESHOLD)


def runs(frames: np.ndarray, *, join_gap: float = JOIN_GAP_SECONDS) -> list[tuple[int, int]]:
    """(first, past-last) frame index of each stretch of true `frames`, pauses under `join_gap` s bridged."""
    import numpy as np

    edges = np.flatnonzero(np.diff(np.concatenate(([0], np.asarray(frames, dtype=np.int8), [0]))))
    out: list[tuple[int, int]] = []
    for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        if out and (a - out[-1][1]) * FRAME_SECONDS < join_gap:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def sounding_spans(samples: np.ndarray, rate: int, *, join_gap: float = JOIN_GAP_SECONDS) -> list[tuple[float, float]]:
    """(start, end) seconds of the sounding stretches of mono `samples`, pauses under `join_gap` bridged."""
    sounding = sounding_frames(frame_levels(samples, rate))
    return [(a * FRAME_SECONDS, b * FRAME_SECONDS) for a, b in runs(sounding, join_gap=join_gap)]


@dataclass(frozen=True)
class ChannelActivity:
    """How the two channels of a stereo clip share its sound: seconds where each sounds and is
    clearly louder than the other (`own_seconds`), out of the seconds where either sounds."""

    own_seconds: tuple[float, float]
    sounding_seconds: float

    @property
    def distinct_speech(self) -> bool:
        """Each channel has sound of its own for a while (at least 1 s and a tenth of the sound):
        one speaker per channel, as in a phone call recording. A mono file stored as stereo, and a
        room or music recording (the same sound in both, a few dB apart), have none."""
        return all(s >= max(1.0, 0.1 * self.sounding_seconds) for s in self.own_seconds)


def channel_activity(samples: np.ndarray, rate: int) -> ChannelActivity:
    """The ChannelActivity of `samples`, shape (frames, 2)."""
    levels = frame_levels(samples, rate)
    left, right = levels[:, 0], levels[:, 1]
    sounding_left, sounding_right = sounding_frames(left), sounding_frames(right)
    own_left = sounding_left & (left - right >= OWN_FRAME_MARGIN_DB)
    own_right = sounding_right & (right - left >= OWN_FRAME_MARGIN_DB)
    return ChannelActivity((float(own_left.sum()) * FRAME_SECONDS, float(own_right.sum()) * FRAME_SECONDS),
                           float((sounding_left | sounding_right).sum()) * FRAME_SECONDS)
