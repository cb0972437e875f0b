"""A greedy Whisper decode of a few seconds of audio whose encoder sees only those seconds.

faster-whisper's `transcribe` pads every window to Whisper's 30 s before the encoder, so a decode of
2 s costs as much encoder time as one of 30 s: with tiny.en on two shared cores the encoder is
about three quarters of a decode of a turn still spoken (benchmarks/NOTES.md, "Caption lag").
CTranslate2 takes shorter inputs, so here the encoder gets the audio's own frames and a short
stretch of silence after them (Whisper was trained on windows that end in padding); the text is
decoded greedily without timestamp tokens and the words are aligned to the audio by faster-
whisper's cross-attention alignment, as its `transcribe` does. A decode of 3 s of speech by
tiny.en takes about a fifth of the time; its words are a little less often right (benchmarks/
NOTES.md, "Caption lag": stable_words.GAP_S checks a word against a decode 0.6 s back for that).
Only for hypotheses: the decode of a finished turn is the full transcription's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .stable_words import Word

__all__ = ["greedy_words", "MAX_SECONDS"]

MAX_SECONDS = 28.0  # longer audio needs Whisper's windows: the caller decodes it the padded way
_TRAILING_SILENCE_FRAMES = 100  # 1 s of padding after the audio (100 Mel frames a second)
_PREPEND = "\"'“¿([{-"  # faster-whisper's defaults: punctuation joined to the word after / before
_APPEND = "\"'.。,，!！?？:：”)]}、"


def greedy_words(model: Any, samples: np.ndarray, language: str, prompt: str | None) -> list[Word]:
    """The words of `samples` (16 kHz mono float32, at most MAX_SECONDS) by a faster-whisper
    `WhisperModel`, with times in seconds from their start."""
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_suppressed_tokens

    features = model.feature_extractor(samples)  # not padded to 30 s (no chunk_length: nothing shared changes)
    content = features.shape[-1] - 1  # the last frame is of the extractor's own padding
    frames = content + _TRAILING_SILENCE_FRAMES + (content % 2)  # the encoder halves the frames
    padded = np.zeros((features.shape[0], frames), np.float32)
    padded[:, :content] = features[:, :content]
    encoded = model.encode(padded)
    tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe",
                          language=language if model.model.is_multilingual else "en")
    previous = tokenizer.encode(" " + prompt.strip()) if prompt and prompt.strip() else []
    seconds = content / 100
    prompt_tokens = model.get_prompt(tokenizer, previous, without_timestamps=True)
    result = model.model.generate(
        # CTranslate2 counts the prompt in max_length: the text may add this much (a loop of repeats ends soon)
        encoded, [prompt_tokens], beam_size=1,
        max_length=min(model.max_length, len(prompt_tokens) + min(model.max_length // 2, int(8 * seconds) + 16)),
        suppress_blank=True, suppress_tokens=get_suppressed_tokens(tokenizer, [-1]))[0]
    tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
    if not tokens:
        return []
    segments = [[{"seek": 0, "start": 0.0, "end": seconds, "tokens": tokens}]]
    model.add_word_timestamps(segments, tokenizer, encoded, content, _PREPEND, _APPEND, 0.0)
    return [Word(w["word"], float(w["start"]), float(w["end"]), float(w["probability"]))
            for w in segments[0][0].get("words") or ()]
