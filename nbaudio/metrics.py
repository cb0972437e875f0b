"""Measures for speech round trips (used by the demo, the classroom notebook and the tests)."""

from __future__ import annotations

import re

__all__ = ["word_error_rate", "normalize_words"]

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def normalize_words(text: str) -> list[str]:
    """Lower-case words without punctuation ("Don't!" -> ["don't"])."""
    return _WORD.findall(text.lower())


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, case and punctuation ignored."""
    ref, hyp = normalize_words(reference), normalize_words(hypothesis)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1] / max(1, len(ref))
