"""Which Whisper hears which part of a recording.

The recording is cut into windows at pauses (models/stt_windows.py). Unless the request names a
language, the multilingual model detects each window's language, so a recording that goes from
English to German keeps both halves: the English-only model (tiny.en by default, fast) hears only
windows detected as English, every other window goes to the multilingual one (base) with its
language given. Translation always goes to the multilingual model, window language by window
language, and so does every window when the request names it (`whisper-base`): the engine's two
Whisper models can be compared by name.

No speech is dropped silently. Whisper's beam search sometimes leaves out a sentence it finds hard
(a window's first, most often: the hypothesis without it scores better per token), or ends a
window after its first sentence (faster-whisper then skips to the window's end); the segment
times, guessed, run over the gap. Word times (aligned to the audio) do not: every window is
decoded with them, and a stretch of UNHEARD_SECONDS of speech or more (Silero VAD) that no word
reaches is decoded again on its own, up to MAX_RETRIES levels deep; and a window whose text stops
mid-sentence on a stretched word (faster-whisper dropped an unfinished last sentence and, with word
times, seeks past it) has its last segment decoded again. Words are returned only when asked for.

A window whose detection is unsure (probability under LANGUAGE_MIN_PROBABILITY, or no speech in
it) takes the language of the nearest sure window before it (after it, for the first ones): a
short "OK" or a cough does not get its own language. The response's one `language` is the
language of most of the speech; each segment carries its own (`SttSegment.language`).

A recording of one window (up to 30 s: a Realtime turn, a short clip) is heard by the English model
first, and kept without the language pass when the English model's own scores are sure
(ENGLISH_SURE_LOGPROB); when they are not, the language pass decides as above.
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
from .models.heap import release_free_heap
from .models.stt import SAMPLE_RATE, SttRequest, SttSegment, WhisperEngine
from .models.stt_windows import Plan, Window, plan_windows

__all__ = ["transcribe", "settle_languages", "unheard", "LANGUAGE_MIN_PROBABILITY", "UNHEARD_SECONDS"]

# Below this, a window's detected language is a guess (tuning clips: every window of real speech
# in the tuning set was detected at 0.7 or more; see tests/fixtures/real_speech/README.md).
LANGUAGE_MIN_PROBABILITY = 0.5
# Speech no word reaches that is decoded again (`unheard`): at least this much of it, further than
# HEARD_MARGIN_SECONDS from any word (aligned word times are off by a few tenths of a second).
UNHEARD_SECONDS = 1.0
HEARD_MARGIN_SECONDS = 0.3
MAX_RETRIES = 1
# A word aligned longer than this at the end of a window's text that stops mid-sentence was
# stretched over the speech of a sentence faster-whisper dropped as unfinished (`_cut_short`).
LONGEST_WORD_SECONDS = 1.0
# A one-window recording (a Realtime turn, a short clip) is decoded by the English model first and
# kept when its average log probability per token is at least this: the multilingual model's
# language pass (a base encoder pass, longer than tiny.en's whole decode of a 3 s turn) is then
# skipped. experiments/english_first.py, first 3 s of each real-speech clip: on the tuning clips
# English scored -0.64 or more and every other language -0.74 or less; on the reported clips
# 5 of 7 English ones passed (the other 2 only go through detection as before) and 0 of 21 others.
ENGLISH_SURE_LOGPROB = -0.64
SENTENCE_ENDS = (".", "?", "!", "…", "。", "？", "！", "\"", "”", "»")


def transcribe(engine: Engine, req: SttRequest) -> tuple[Iterator[SttSegment], dict[str, Any]]:
    """(segments, decoded lazily window by window; {"language", "duration"}) for a request.

    A model that fails to load is a 503. `meta["language"]` is Whisper's code of the language of
    most of the speech (by window duration)."""
    plan = plan_windows(req.samples, vad=req.vad)
    release_free_heap()  # what Silero's pass over the recording freed
    duration = len(req.samples) / SAMPLE_RATE
    try:
        first, sure = _english_first(engine, req, plan)
        languages = ["en"] if sure else _window_languages(engine, req, plan.windows)
        if languages != ["en"]:
            first = None  # the English model's text of speech in another language
        models = [_model(engine, req, lang) for lang in languages]
    except WeightError as exc:
        raise model_unavailable("speech-to-text model", exc) from None
    meta = {"language": _main_language(plan.windows, languages), "duration": duration}
    return _decode(req, plan, languages, models, first), meta


def _english_first(engine: Engine, req: SttRequest, plan: Plan) -> tuple[list[SttSegment] | None, bool]:
    """(a one-window recording's segments from the English model, whether its own scores say it
    heard English: ENGLISH_SURE_LOGPROB); (None, False) when the request is not one for it."""
    if req.language or req.task != "transcribe" or req.multilingual or len(plan.windows) != 1 \
            or not plan.windows[0].speech:
        return None, False
    english = engine.models.whisper("en")
    if english.multilingual:  # a configured multilingual "English" model detects by itself
        return None, False
    w = plan.windows[0]
    segs = _heard(english, req, "en", req.prompt, (w.start, w.end), plan.speech, MAX_RETRIES)
    tokens = sum(len(s.tokens) for s in segs)
    return segs, bool(tokens) and sum(s.avg_logprob * len(s.tokens) for s in segs) / tokens >= ENGLISH_SURE_LOGPROB


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


def _model(engine: Engine, req: SttRequest, language: str) -> WhisperEngine:
    english = language == "en" and req.task == "transcribe" and not req.multilingual
    return engine.models.whisper("en" if english else "multi")


def _main_language(windows: list[Window], languages: list[str]) -> str:
    seconds: dict[str, float] = {}
    for w, lang in zip(windows, languages, strict=True):
        seconds[lang] = seconds.get(lang, 0.0) + (w.duration if w.speech else 0.0)
    return max(seconds, key=lambda lang: seconds[lang])


def _decode(req: SttRequest, plan: Plan, languages: list[str], models: list[WhisperEngine],
            first: list[SttSegment] | None) -> Iterator[SttSegment]:
    next_id, previous = 0, ""
    for i, (w, lang, model) in enumerate(zip(plan.windows, languages, models, strict=True)):
        prompt = req.prompt if i == 0 else None  # the prompt is for the start of the recording
        heard = first if i == 0 and first is not None else \
            _heard(model, req, lang, prompt, (w.start, w.end), plan.speech, MAX_RETRIES)
        release_free_heap()  # else what each window frees stays resident and grows over a piece (heap.py)
        for seg in heard:
            if not req.words:
                seg.words = []  # asked for internally, to see what was heard
            if loops.same_words(previous, seg.text) or loops.repeats_the_end(previous, seg.text):
                continue  # the previous segment, or its last phrase, again: a loop (loops.py)
            seg.id, next_id, previous = next_id, next_id + 1, seg.text
            yield seg


def _heard(model: WhisperEngine, req: SttRequest, language: str, prompt: str | None, span: tuple[float, float],
           speech: list[tuple[float, float]], retries: int) -> list[SttSegment]:
    """The segments of `span`, and of each stretch of speech in it that no word reached, decoded again."""
    start, end = span
    part = replace(req, samples=_cut(req.samples, start, end), language=language, prompt=prompt, words=True)
    segments, _ = model.segments(part, [(0.0, end - start)], offset=start)
    segs = list(segments)
    if retries and _cut_short(segs):
        # Decode the last segment's stretch again: its text, unfinished, with more words is kept.
        again = _heard(model, req, language, None, (segs[-1].start, end), speech, 0)
        if len(" ".join(s.text for s in again).split()) > len(segs[-1].text.split()):
            segs[-1:] = again
    if retries:
        for stretch in unheard(speech, segs, start, end):
            segs += _heard(model, req, language, None, stretch, speech, retries - 1)
        segs.sort(key=lambda s: s.start)
    return segs


def _cut_short(segs: list[SttSegment]) -> bool:
    """The window's text stops mid-sentence on a word stretched over speech: faster-whisper dropped
    the unfinished last segment of a pass and, with word times, went on after that word's end."""
    if not segs or not segs[-1].words or segs[-1].text.rstrip().endswith(SENTENCE_ENDS):
        return False
    last = segs[-1].words[-1]
    return last["end"] - last["start"] > LONGEST_WORD_SECONDS


def unheard(speech: list[tuple[float, float]], segs: list[SttSegment], start: float,
            end: float) -> list[tuple[float, float]]:
    """Stretches of (start, end) where VAD hears UNHEARD_SECONDS of speech or more and no word of
    `segs` lies (each word's span widened by HEARD_MARGIN_SECONDS), to decode again."""
    heard = sorted((w["start"] - HEARD_MARGIN_SECONDS, w["end"] + HEARD_MARGIN_SECONDS)
                   for s in segs for w in (s.words or [{"start": s.start, "end": s.end}]))
    pieces: list[tuple[float, float]] = []
    for s, e in speech:
        s, e = max(s, start), min(e, end)
        for h0, h1 in heard:  # what of [s, e] no word covers
            if h1 <= s or h0 >= e:
                continue
            if h0 > s:
                pieces.append((s, h0))
            s = max(s, h1)
            if s >= e:
                break
        if e > s:
            pieces.append((s, e))
    stretches: list[list[float]] = []  # pieces with no heard word between them, and their speech
    for s, e in pieces:
        if stretches and not any(stretches[-1][1] <= h0 < s or stretches[-1][1] < h1 <= s for h0, h1 in heard):
            stretches[-1][1], stretches[-1][2] = e, stretches[-1][2] + e - s
        else:
            stretches.append([s, e, e - s])
    return [(max(start, s - HEARD_MARGIN_SECONDS), min(end, e + HEARD_MARGIN_SECONDS))
            for s, e, talk in stretches if talk >= UNHEARD_SECONDS]


def _cut(samples: np.ndarray, start: float, end: float) -> np.ndarray:
    return samples[int(round(start * SAMPLE_RATE)):int(round(end * SAMPLE_RATE))]
