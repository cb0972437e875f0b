"""Where the engine cuts a recording into Whisper's 30-second windows: in pauses, never in a word.

Left to itself, faster-whisper starts each window where the previous one's last timestamp fell.
Whisper's timestamps are guesses (tiny.en's often land a few hundredths of a second after the
next sentence has begun), and a window that starts inside a word makes Whisper skip the whole
sentence it belongs to, while the next segment's start time, set to the window's start, hides the
gap: a 140 s lecture lost "It shapes our landscapes by carving valleys and canyons." that way
(tests/engine/test_engine_real_speech.py checks for such losses on recordings of people). Whisper
only keeps such a sentence when it is fed the text before it (`condition_on_previous_text`),
which the engine turns off because it lets one hallucination seed the next (stt.py).

So the engine plans the windows itself and hands them to faster-whisper (`clip_timestamps`): each
window ends in the middle of a pause that Silero VAD (faster-whisper's copy) hears, the longest
one with a bonus for lateness (LATE_BONUS), and only when 30 seconds hold no pause at all, in the
middle of the quietest 50 ms. The windows tile the recording, so no audio
goes unheard; with `vad=True` (chunking_strategy) stretches of MIN_GAP_SECONDS without speech are
left out, as faster-whisper's own VAD filter does. The same windows are the unit of language
detection (languages.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

__all__ = ["Window", "Plan", "plan_windows", "speech_regions", "WINDOW_SECONDS"]

SAMPLE_RATE = 16000
WINDOW_SECONDS = 30.0  # what Whisper hears at once
# A window is at least this long unless the recording ends: fewer, fuller windows decode best.
MIN_WINDOW_SECONDS = 10.0
# A window ends in its longest pause, each second further into the window counting as this much
# more pause: of two equal pauses the later one (fuller windows decode best), but a 1 s pause
# 12 s in (a speaker taking over, perhaps in another language) before a 0.3 s one 29 s in.
LATE_BONUS = 0.02
# Pauses shorter than this are not heard as pauses (between most words there are none).
MIN_PAUSE_MS = 100
# With vad=True: silence this long is left out of the windows (faster-whisper's VAD default, 2 s),
# and speech keeps this much margin on each side (faster-whisper's 400 ms).
MIN_GAP_SECONDS = 2.0
SPEECH_PAD_SECONDS = 0.4
_QUIET_FRAME = 800  # 50 ms: the unit of the quietest-moment search
_VAD_WINDOW = 512  # Silero's window at 16 kHz: 32 ms
_VAD_CONTEXT = 64  # samples before each window that Silero hears with it
# Windows Silero scores per call (~32 s): each call's copies and workspace stay a few MB.
VAD_BLOCK_WINDOWS = 1000


@dataclass(frozen=True)
class Window:
    """Seconds from the start of the recording; `speech` is False when VAD heard nobody in it."""

    start: float
    end: float
    speech: bool = True

    @property
    def duration(self) -> float:
        return self.end - self.start


def speech_regions(samples: np.ndarray) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of speech, split at pauses of MIN_PAUSE_MS or more.

    The same regions as faster-whisper's `get_speech_timestamps` with these options (speech_pad 0,
    no longest speech), scored a block at a time: it scores the whole recording in one call, whose
    padded copy, context-joined copy and ONNX workspace took +220 MB of peak memory for a
    10-minute piece (benchmarks/bench_memory.py). Silero scores each 32 ms window from that window
    and the 64 samples before it, so block scores are the one-pass scores (realtime/vad.py relies
    on the same)."""
    from faster_whisper.vad import VadOptions

    opts = VadOptions(min_silence_duration_ms=MIN_PAUSE_MS, speech_pad_ms=0)
    neg = opts.neg_threshold if opts.neg_threshold is not None else max(opts.threshold - 0.15, 0.01)
    min_silence = SAMPLE_RATE * MIN_PAUSE_MS // 1000
    min_speech = SAMPLE_RATE * opts.min_speech_duration_ms / 1000
    regions: list[tuple[float, float]] = []
    start: int | None = None
    silent_since = 0  # where the current dip under `neg` began (0: not in one)
    for i, p in enumerate(_speech_probabilities(samples)):
        at = _VAD_WINDOW * i
        if p >= opts.threshold:
            silent_since = 0
            if start is None:
                start = at
            continue
        if start is None or p >= neg:
            continue
        silent_since = silent_since or at
        if at - silent_since >= min_silence:  # a pause long enough: the speech before it is a region
            if silent_since - start > min_speech:
                regions.append((start / SAMPLE_RATE, silent_since / SAMPLE_RATE))
            start, silent_since = None, 0
    if start is not None and len(samples) - start > min_speech:
        regions.append((start / SAMPLE_RATE, len(samples) / SAMPLE_RATE))
    return regions


def _speech_probabilities(samples: np.ndarray) -> Iterator[float]:
    """Silero's speech probability of each 32 ms window, as faster-whisper's `SileroVADModel` scores
    a whole recording (zero-padded to whole windows plus one, each window with the 64 samples
    before it, the recurrent state carried from window to window), VAD_BLOCK_WINDOWS per call."""
    from faster_whisper.vad import get_vad_model

    session = get_vad_model().session
    padded = len(samples) + _VAD_WINDOW - len(samples) % _VAD_WINDOW
    step = VAD_BLOCK_WINDOWS * _VAD_WINDOW
    h = c = np.zeros((1, 1, 128), dtype=np.float32)
    before = np.zeros((1, _VAD_CONTEXT), dtype=np.float32)
    for a in range(0, padded, step):
        block = np.asarray(samples[a:a + step], dtype=np.float32)
        windows = np.pad(block, (0, min(step, padded - a) - len(block))).reshape(-1, _VAD_WINDOW)
        context = np.concatenate([before, windows[:-1, -_VAD_CONTEXT:]])
        out, h, c = session.run(None, {"input": np.concatenate([context, windows], 1), "h": h, "c": c})
        before = windows[-1:, -_VAD_CONTEXT:]
        yield from np.asarray(out).reshape(-1).tolist()


@dataclass(frozen=True)
class Plan:
    """The windows to decode, in order, and the speech VAD heard ((start, end) seconds)."""

    windows: list[Window]
    speech: list[tuple[float, float]]


def plan_windows(samples: np.ndarray, *, vad: bool = False) -> Plan:
    """Where to cut `samples` (16 kHz mono) into windows, and where VAD hears speech."""
    total = len(samples) / SAMPLE_RATE
    regions = speech_regions(samples)
    spans = _speech_spans(regions, total) if vad else [(0.0, total)]
    windows: list[Window] = []
    for a, b in spans:
        inside = [(max(s, a), min(e, b)) for s, e in regions if e > a and s < b]
        for start, end in _cut_span(samples, a, b, _pauses(inside)):
            heard = any(s < end and e > start for s, e in inside)
            windows.append(Window(round(start, 3), round(end, 3), heard))
    if not windows:  # vad=True and nobody speaks: one window, so that there is a language to report
        windows.append(Window(0.0, round(total, 3), False))
    return Plan(windows, regions)


def _speech_spans(regions: list[tuple[float, float]], total: float) -> list[tuple[float, float]]:
    """Speech regions padded by SPEECH_PAD_SECONDS and joined across gaps under MIN_GAP_SECONDS."""
    spans: list[list[float]] = []
    for s, e in regions:
        s, e = max(0.0, s - SPEECH_PAD_SECONDS), min(total, e + SPEECH_PAD_SECONDS)
        if spans and s - spans[-1][1] < MIN_GAP_SECONDS:
            spans[-1][1] = max(spans[-1][1], e)
        else:
            spans.append([s, e])
    return [(s, e) for s, e in spans]


def _pauses(regions: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """(middle, length) of each pause between consecutive speech regions."""
    return [((e + s2) / 2, s2 - e) for (_, e), (s2, _) in zip(regions, regions[1:], strict=False) if s2 > e]


def _cut_span(samples: np.ndarray, a: float, b: float,
              pauses: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out = []
    while b - a > WINDOW_SECONDS:
        limit = a + WINDOW_SECONDS
        near = [(n + LATE_BONUS * (m - a), m) for m, n in pauses if a + MIN_WINDOW_SECONDS <= m <= limit]
        cut = max(near)[1] if near else _quietest(samples, a + MIN_WINDOW_SECONDS, limit)
        out.append((a, cut))
        a = cut
    out.append((a, b))
    return out


def _quietest(samples: np.ndarray, lo: float, hi: float) -> float:
    """The middle of the quietest 50 ms in [lo, hi] seconds."""
    i, j = int(lo * SAMPLE_RATE), int(hi * SAMPLE_RATE)
    n = (j - i) // _QUIET_FRAME
    if n <= 0:
        return hi
    energy = (samples[i:i + n * _QUIET_FRAME].reshape(n, _QUIET_FRAME) ** 2).mean(axis=1)
    return (i + int(np.argmin(energy)) * _QUIET_FRAME + _QUIET_FRAME // 2) / SAMPLE_RATE
