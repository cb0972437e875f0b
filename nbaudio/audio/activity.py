"""Where a recording has sound worth transcribing, from its energy alone: frame levels, voiced
frames and stretches, and whether the two channels of a stereo clip hold different speech.

Energy, not a speech model: the client has none (it talks to any API), and what these answer is
"was there sound here that the transcript does not account for", which is cheap to ask of levels.
Levels are relative to each recording's own noise floor (a quiet room and a noisy phone line both
work); `VOICED_ABOVE_FLOOR_DB` was chosen on the AMI tuning excerpts against their reference
speech (experiments/flag_precision.py prints the agreement).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = ["FRAME_SECONDS", "VOICED_ABOVE_FLOOR_DB", "ChannelActivity", "channel_activity", "frame_levels",
           "voiced_frames", "voiced_spans"]

FRAME_SECONDS = 0.03  # one level per 30 ms: a syllable spans several
# A frame is voiced when it is this far above the recording's floor (its 10th-percentile level) ...
VOICED_ABOVE_FLOOR_DB = 12.0
FLOOR_PERCENTILE = 10
# ... and above this absolute level (dBFS): dither and the hiss of a silent file are not sound.
QUIETEST_VOICED_DB = -55.0
# Voiced frames closer than this are one stretch (the pauses inside a sentence).
JOIN_GAP_SECONDS = 0.3
# A channel "has a frame to itself" when it is voiced there and this much louder than the other:
# a phone line's far end bleeds in 20-40 dB down; two microphones in one room differ by a few dB.
OWN_FRAME_MARGIN_DB = 15.0
_BLOCK_SAMPLES = 1 << 20  # frames are levelled this many samples at a time


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


def voiced_frames(levels: np.ndarray, *, above_floor_db: float = VOICED_ABOVE_FLOOR_DB) -> np.ndarray:
    """Which frames (of `frame_levels`) stand out from the recording's noise floor."""
    import numpy as np

    if len(levels) == 0:
        return np.zeros(0, dtype=bool)
    floor = float(np.percentile(levels, FLOOR_PERCENTILE))
    return (levels > floor + above_floor_db) & (levels > QUIETEST_VOICED_DB)


def voiced_runs(voiced: np.ndarray, *, join_gap: float = JOIN_GAP_SECONDS) -> list[tuple[int, int]]:
    """(first, past-last) frame index of each stretch of `voiced` frames, pauses under `join_gap` s bridged."""
    import numpy as np

    edges = np.flatnonzero(np.diff(np.concatenate(([0], np.asarray(voiced, dtype=np.int8), [0]))))
    runs: list[tuple[int, int]] = []
    for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
        if runs and (a - runs[-1][1]) * FRAME_SECONDS < join_gap:
            runs[-1] = (runs[-1][0], b)
        else:
            runs.append((a, b))
    return runs


def voiced_spans(samples: np.ndarray, rate: int, *, above_floor_db: float = VOICED_ABOVE_FLOOR_DB,
                 join_gap: float = JOIN_GAP_SECONDS) -> list[tuple[float, float]]:
    """(start, end) seconds of the voiced stretches of mono `samples`, pauses under `join_gap` bridged."""
    voiced = voiced_frames(frame_levels(samples, rate), above_floor_db=above_floor_db)
    return [(a * FRAME_SECONDS, b * FRAME_SECONDS) for a, b in voiced_runs(voiced, join_gap=join_gap)]


@dataclass(frozen=True)
class ChannelActivity:
    """How the two channels of a stereo clip share its sound: seconds where each is voiced and
    clearly louder than the other (`own_seconds`), out of the seconds where either is voiced."""

    own_seconds: tuple[float, float]
    voiced_seconds: float

    @property
    def distinct_speech(self) -> bool:
        """Each channel has sound of its own for a while (at least 1 s and a tenth of the sound):
        one speaker per channel, as in a phone call recording. A mono file stored as stereo, and a
        room or music recording (the same sound in both, a few dB apart), have none."""
        return all(s >= max(1.0, 0.1 * self.voiced_seconds) for s in self.own_seconds)


def channel_activity(samples: np.ndarray, rate: int) -> ChannelActivity:
    """The ChannelActivity of `samples`, shape (frames, 2)."""

    levels = frame_levels(samples, rate)
    left, right = levels[:, 0], levels[:, 1]
    voiced_left, voiced_right = voiced_frames(left), voiced_frames(right)
    own_left = voiced_left & (left - right >= OWN_FRAME_MARGIN_DB)
    own_right = voiced_right & (right - left >= OWN_FRAME_MARGIN_DB)
    return ChannelActivity((float(own_left.sum()) * FRAME_SECONDS, float(own_right.sum()) * FRAME_SECONDS),
                           float((voiced_left | voiced_right).sum()) * FRAME_SECONDS)
