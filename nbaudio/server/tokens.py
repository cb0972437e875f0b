"""Token counts for `usage` where no model tokenizer applies.

Audio tokens follow OpenAI's published rate for its audio models: about one hour of audio
is 128k tokens (the audio guide's FAQ), i.e. ~35.6 tokens per second. Text counted without
a tokenizer uses OpenAI's rule of thumb of ~4 characters per token. Where a real tokenizer
exists (the LLM, Whisper) its count is used instead.
"""

from __future__ import annotations

import math

AUDIO_TOKENS_PER_SECOND = 128_000 / 3600


def audio_tokens(seconds: float) -> int:
    return int(math.ceil(max(0.0, seconds) * AUDIO_TOKENS_PER_SECOND))


def text_tokens_estimate(text: str) -> int:
    return int(math.ceil(len(text) / 4)) if text else 0
