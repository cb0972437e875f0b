"""Which Whisper hears which part of a recording.

The recording is cut into windows at pauses (models/stt_windows.py). Unless the request names a
language, the multilingual model detects each window's language, so a recording that goes from
English to German keeps both halves: the English-only model (tiny.en by default, fast) hears only
windows detected as English, every other window goes to the multilingual one (base) with its
language given. Translation always goes to the multilingual model, window language by window
language.

No speech is dropped silently: Whisper sometimes ends a window early (an end-of-text after the
first sentence, most often where a pause or another voice follows), and faster-whisper then skips
to the window's end. After each window the speech VAD heard after its last segment is decoded
again from the pause before it, when there is UNHEARD_SECONDS of it or more.

A window whose detection is unsure (probability under LANGUAGE_MIN_PROBABILITY, or no speech in
it) takes the language of the nearest sure window before it (after it, for the first ones): a
short "OK" or a cough does not get its own language. The response's one `language` is the
language of most of the speech; each segment carries its own (`SttSegment.language`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np

from .api_errors import model_unavailable
from .catalog.weights import WeightError
from .engine import Engine
from .models import loops
from .models.stt import SAMPLE_RATE, SttRequest, SttSegment, WhisperEngine
from .models.stt_windows import Plan, Window, pause_before, plan_windows

__all__ = ["transcribe", "settle_languages", "LANGUAGE_MIN_PROBABILITY", "UNHEARD_SECONDS"]

# Below this, a window's detected language is a guess (tuning clips: every window of real speech
# in the tuning set was detected at 0.7 or more; see tests/fixtures/real_speech/README.md).
LANGUAGE_MIN_PROBABILITY = 0.5
# Speech after a window's last segment that is decoded again (`_unheard`): at least this much of
# it, starting this long after the segment's end (Whisper's end times run early by up to ~0.5 s),
# at most MAX_RETRIES times per window.
UNHEARD_SECONDS = 1.0
HEARD_MARGIN_SECONDS = 0.5
MAX_RETRIES = 2


def transcribe(engine: Engine, req: SttRequest) -> tuple[Iterator[SttSegment], dict[str, Any]]:
    """(segments, decoded lazily window by window; {"language", "duration"}) for a request.

    A model that fails to load is a 503. `meta["language"]` is Whisper's code of the language of
    most of the speech (by window duration)."""
    plan = plan_windows(req.samples, vad=req.vad)
    duration = len(req.samples) / SAMPLE_RATE
    try:
        languages = _window_languages(engine, req, plan.windows)
        models = [_model(engine, req.task, lang) for lang in languages]
    except WeightError as exc:
        raise model_unavailable("speech-to-text model", exc) from None
    meta = {"language": _main_language(plan.windows, languages), "duration": duration}
    return _decode(req, plan, languages, models), meta


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


def _model(engine: Engine, task: str, language: str) -> WhisperEngine:
    return engine.models.whisper("en" if language == "en" and task == "transcribe" else "multi")


def _main_language(windows: list[Window], languages: list[str]) -> str:
    seconds: dict[str, float] = {}
    for w, lang in zip(windows, languages, strict=True):
        seconds[lang] = seconds.get(lang, 0.0) + (w.duration if w.speech else 0.0)
    return max(seconds, key=lambda lang: seconds[lang])


def _decode(req: SttRequest, plan: Plan, languages: list[str], models: list[WhisperEngine]) -> Iterator[SttSegment]:
    next_id, previous = 0, ""
    for i, (w, lang, model) in enumerate(zip(plan.windows, languages, models, strict=True)):
        start, prompt = w.start, req.prompt if i == 0 else None  # the prompt is for the start of the recording
        for _attempt in range(MAX_RETRIES + 1):
            last_end = start
            for seg in _window(model, req, lang, prompt, start, w.end):
                last_end = max(last_end, seg.end)
                if loops.same_words(previous, seg.text):
                    continue  # the previous segment again: a loop (loops.py)
                seg.id, next_id, previous = next_id, next_id + 1, seg.text
                yield seg
            start = _unheard(plan.speech, last_end, w.end)
            if start is None:
                break
            prompt = None


def _window(model: WhisperEngine, req: SttRequest, language: str, prompt: str | None, start: float,
            end: float) -> Iterator[SttSegment]:
    part = replace(req, samples=_cut(req.samples, start, end), language=language, prompt=prompt)
    segments, _ = model.segments(part, [(0.0, end - start)], offset=start)
    return segments


def _unheard(speech: list[tuple[float, float]], heard_to: float, end: float) -> float | None:
    """Where to decode again when VAD heard UNHEARD_SECONDS of speech or more in (heard_to, end]
    that no segment reached (starting after `heard_to` + HEARD_MARGIN_SECONDS), else None."""
    later = [(s, min(e, end)) for s, e in speech if s >= heard_to + HEARD_MARGIN_SECONDS and s < end]
    if sum(e - s for s, e in later) < UNHEARD_SECONDS:
        return None
    return pause_before(speech, later[0][0])


def _cut(samples: np.ndarray, start: float, end: float) -> np.ndarray:
    return samples[int(round(start * SAMPLE_RATE)):int(round(end * SAMPLE_RATE))]
