"""Which Whisper hears which part of a recording.

The recording is cut into windows at pauses (models/stt_windows.py). Unless the request names a
language, the multilingual model detects each window's language, so a recording that goes from
English to German keeps both halves: the English-only model (tiny.en by default, fast) hears only
windows detected as English, every other window goes to the multilingual one (base) with its
language given. Consecutive windows of one language are decoded together, in one faster-whisper
call. Translation always goes to the multilingual model, window language by window language.

A window whose detection is unsure (probability under LANGUAGE_MIN_PROBABILITY, or no speech in
it) takes the language of the nearest sure window before it (after it, for the first ones): a
short "OK" or a cough does not get its own language. The response's one `language` is the
language of most of the speech; each segment carries its own (`SttSegment.language`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .api_errors import model_unavailable
from .catalog.weights import WeightError
from .engine import Engine
from .models.stt import SAMPLE_RATE, SttRequest, SttSegment, WhisperEngine
from .models.stt_windows import Window, plan_windows

__all__ = ["transcribe", "settle_languages", "LANGUAGE_MIN_PROBABILITY"]

# Below this, a window's detected language is a guess (tuning clips: every window of real speech
# in the tuning set was detected at 0.7 or more; see tests/fixtures/real_speech/README.md).
LANGUAGE_MIN_PROBABILITY = 0.5


@dataclass
class _Run:
    """Consecutive windows decoded together: one model, one language."""

    model: WhisperEngine
    language: str
    windows: list[Window]

    @property
    def start(self) -> float:
        return self.windows[0].start

    @property
    def end(self) -> float:
        return self.windows[-1].end


def transcribe(engine: Engine, req: SttRequest) -> tuple[Iterator[SttSegment], dict[str, Any]]:
    """(segments, decoded lazily window by window; {"language", "duration"}) for a request.

    A model that fails to load is a 503. `meta["language"]` is Whisper's code of the language of
    most of the speech (by window duration)."""
    windows = plan_windows(req.samples, vad=req.vad)
    duration = len(req.samples) / SAMPLE_RATE
    try:
        languages = _window_languages(engine, req, windows)
        runs = _runs(engine, req.task, windows, languages)
    except WeightError as exc:
        raise model_unavailable("speech-to-text model", exc) from None
    meta = {"language": _main_language(windows, languages), "duration": duration}
    return _decode(runs, req), meta


def _window_languages(engine: Engine, req: SttRequest, windows: list[Window]) -> list[str]:
    if req.language:
        return [req.language] * len(windows)
    multi = engine.models.whisper("multi")
    detected: list[tuple[str, float] | None] = []
    for w in windows:
        if not w.speech:
            detected.append(None)
            continue
        detected.append(multi.detect_language(_cut(req.samples, w.start, w.end)))
    if all(d is None for d in detected):  # nobody speaking anywhere: as before, one guess from the start
        detected[0] = multi.detect_language(req.samples)
    return settle_languages(detected)


def settle_languages(detected: list[tuple[str, float] | None]) -> list[str]:
    """Each window's language: its own when sure, else the nearest sure window's (earlier first).

    `detected` holds (code, probability) per window, None where nothing was heard; when no window
    is sure, the most probable detection counts for all."""
    sure = [d[0] if d is not None and d[1] >= LANGUAGE_MIN_PROBABILITY else None for d in detected]
    if all(s is None for s in sure):
        best = max((d for d in detected if d is not None), key=lambda d: d[1])
        return [best[0]] * len(detected)
    out: list[str] = []
    for i, lang in enumerate(sure):
        if lang is None:
            lang = next((s for s in reversed(sure[:i]) if s), None) or next(s for s in sure[i:] if s)
        out.append(lang)
    return out


def _runs(engine: Engine, task: str, windows: list[Window], languages: list[str]) -> list[_Run]:
    runs: list[_Run] = []
    for w, lang in zip(windows, languages, strict=True):
        if runs and runs[-1].language == lang:
            runs[-1].windows.append(w)
            continue
        which = "en" if lang == "en" and task == "transcribe" else "multi"
        runs.append(_Run(engine.models.whisper(which), lang, [w]))
    return runs


def _main_language(windows: list[Window], languages: list[str]) -> str:
    seconds: dict[str, float] = {}
    for w, lang in zip(windows, languages, strict=True):
        seconds[lang] = seconds.get(lang, 0.0) + (w.duration if w.speech else 0.0)
    return max(seconds, key=lambda lang: seconds[lang])


def _decode(runs: list[_Run], req: SttRequest) -> Iterator[SttSegment]:
    next_id = 0
    for i, run in enumerate(runs):
        part = replace(req, samples=_cut(req.samples, run.start, run.end), language=run.language,
                       prompt=req.prompt if i == 0 else None)  # the prompt is for the start of the recording
        windows = [(w.start - run.start, w.end - run.start) for w in run.windows]
        segments, _ = run.model.segments(part, windows, offset=run.start)
        for seg in segments:
            seg.id, next_id = next_id, next_id + 1
            yield seg


def _cut(samples: np.ndarray, start: float, end: float) -> np.ndarray:
    return samples[int(round(start * SAMPLE_RATE)):int(round(end * SAMPLE_RATE))]
