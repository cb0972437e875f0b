"""Server VAD: where speech starts and stops in a stream of 24 kHz audio, with the Silero VAD
model that faster-whisper ships (its ONNX file, run with onnxruntime; no download).

Silero scores 32 ms windows (512 samples at 16 kHz), each seeing the 64 samples before it; faster-
whisper runs it with its recurrent state reset for every call, so scoring new windows one call at
a time, each with the window before it as context, gives the same scores as one pass over
everything. Turns follow OpenAI's server_vad: speech starts after MIN_SPEECH_MS above `threshold`
(reported `prefix_padding_ms` earlier) and stops after `silence_duration_ms` below it (with
Silero's own hysteresis of 0.15), the reported end including that silence. After PAUSE_MS of that
silence the detector also says "paused" (and "resumed" if speech comes back before the turn ends),
so the session can start transcribing while it waits to know that the turn is over. With
semantic_vad the words of that transcript set how long this pause must last (`end_after`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..._wire.realtime import SAMPLE_RATE
from .config import SemanticVad, ServerVad

__all__ = ["TurnDetector", "Turn", "load_vad"]

_VAD_RATE = 16000
_WINDOW = 512  # samples at 16 kHz: 32 ms
_WINDOW_MS = _WINDOW * 1000 // _VAD_RATE
MIN_SPEECH_MS = 64  # two windows: a click or a breath does not start a turn
PAUSE_MS = 128  # silence after which transcribing the turn so far is worth a guess (4 windows)
_HYSTERESIS = 0.15


@functools.lru_cache(maxsize=1)
def load_vad() -> Any:
    """The Silero model (one per process; onnxruntime sessions may run from several threads)."""
    from faster_whisper.vad import get_vad_model

    return get_vad_model()


@dataclass
class Turn:
    """A VAD edge: "started" at `ms` (prefix padding included), "stopped" at `ms` (silence included),
    or, inside a turn, "paused" (speech ended at `ms`, the turn may be over) and "resumed"."""

    kind: str
    ms: int


class TurnDetector:
    """Feed it pcm16 at 24 kHz as it arrives; `feed()` returns the turn edges it found. Not
    thread-safe: one session feeds it, one call at a time (the call may run in a worker thread)."""

    def __init__(self, vad: ServerVad | SemanticVad) -> None:
        import soxr

        self.vad = vad
        self._resampler = soxr.ResampleStream(SAMPLE_RATE, _VAD_RATE, 1, dtype="float32")
        self._context = np.zeros(_WINDOW, dtype=np.float32)
        self._rest = np.zeros(0, dtype=np.float32)
        self._windows = 0  # windows scored since the session's audio began
        self.speaking = False
        self._run = 0  # consecutive windows on the other side of the threshold
        self._wait_ms: int | None = None  # the silence that ends this pause's turn, once its words are known

    def feed(self, pcm: bytes) -> list[Turn]:
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        self._rest = np.concatenate([self._rest, self._resampler.resample_chunk(samples)])
        n = len(self._rest) // _WINDOW
        if n == 0:
            return []
        block, self._rest = self._rest[:n * _WINDOW], self._rest[n * _WINDOW:]
        scores = np.asarray(load_vad()(np.concatenate([self._context, block]))).reshape(-1)[1:]
        self._context = block[-_WINDOW:]
        turns = []
        for p in scores:
            self._windows += 1
            turn = self._step(float(p))
            if turn is not None:
                turns.append(turn)
        return turns

    def _step(self, p: float) -> Turn | None:
        now_ms = self._windows * _WINDOW_MS
        if not self.speaking:
            self._run = self._run + 1 if p >= self.vad.threshold else 0
            if self._run * _WINDOW_MS >= MIN_SPEECH_MS:
                self.speaking, self._run = True, 0
                start = now_ms - MIN_SPEECH_MS
                return Turn("started", max(0, start - self.vad.prefix_padding_ms))
            return None
        paused = self._run * _WINDOW_MS >= PAUSE_MS
        if p >= self.vad.threshold:
            self._run, self._wait_ms = 0, None
            return Turn("resumed", now_ms) if paused else None
        if p < max(0.01, self.vad.threshold - _HYSTERESIS) or self._run:  # as Silero: between the two
            self._run += 1                                                  # thresholds silence goes on
        if self._run * _WINDOW_MS >= (self._wait_ms or self.vad.silence_duration_ms):
            self.speaking, self._run, self._wait_ms = False, 0, None
            return Turn("stopped", now_ms)
        if not paused and self._run * _WINDOW_MS >= PAUSE_MS:
            return Turn("paused", now_ms - self._run * _WINDOW_MS)
        return None

    def end_after(self, silence_ms: int) -> Turn | None:
        """This pause ends the turn after `silence_ms` of silence (semantic turn detection, once the
        words are known): "stopped" now if it has lasted that long already, else None."""
        if not self.speaking or self._run * _WINDOW_MS < PAUSE_MS:
            return None  # the speaker went on meanwhile: that decision was about an earlier pause
        self._wait_ms = silence_ms
        if self._run * _WINDOW_MS < silence_ms:
            return None
        self.speaking, self._run, self._wait_ms = False, 0, None
        return Turn("stopped", self._windows * _WINDOW_MS)

    def reset(self) -> None:
        """Forget a turn in progress (the buffer was cleared or committed by hand)."""
        self.speaking, self._run, self._wait_ms = False, 0, None
