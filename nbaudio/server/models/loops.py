"""Whisper's repetition loops, found and cut, so a transcript says what was heard once.

Whisper can fall into a loop on audio it finds hard (synthetic or noisy speech, music): the same
phrase again and again inside a segment ("I will not let you go, I will not let you go, I will
not let you go.") or the same segment several times in a row. faster-whisper's own guards
(compression-ratio fallback, `no_repeat_ngram_size`) either miss short loops or forbid phrases
that people really repeat, so the engine decodes normally and then cuts what is a loop by these
rules, chosen so that ordinary repetition survives:

- inside a segment: a phrase of 2..MAX_PHRASE_WORDS words said MIN_PHRASE_REPEATS times or more
  in a row, or one word MIN_WORD_REPEATS times or more, keeps only its last copy (which carries
  the sentence's final punctuation). "No, no." and a phrase said twice for emphasis stay.
- across segments: a segment of MIN_SEGMENT_WORDS words or more whose words equal the previous
  kept segment's is dropped, and so is one that only says again, once or more, the phrase the
  previous kept segment ends with ("…I will not let you go," then "I will not let you go").
Words are compared in lower case without punctuation.
"""

from __future__ import annotations

import re

__all__ = ["loop_spans", "cut_spans", "keep_pieces", "same_words", "repeats_the_end", "MAX_PHRASE_WORDS"]

MAX_PHRASE_WORDS = 12
MIN_PHRASE_REPEATS = 3
MIN_WORD_REPEATS = 5
MIN_SEGMENT_WORDS = 3

_WORD = re.compile(r"\S+")
_NOT_WORD = re.compile(r"[\W_]+")


def _norm(word: str) -> str:
    return _NOT_WORD.sub("", word.lower())


def normalized_words(text: str) -> list[str]:
    return [w for w in (_norm(m.group()) for m in _WORD.finditer(text)) if w]


def same_words(a: str, b: str) -> bool:
    """True when `b` repeats `a` as a loop would: the same words, at least MIN_SEGMENT_WORDS of them."""
    wa = normalized_words(a)
    return len(wa) >= MIN_SEGMENT_WORDS and wa == normalized_words(b)


def repeats_the_end(previous: str, text: str) -> bool:
    """True when `text` is nothing but copies of a phrase (2..MAX_PHRASE_WORDS words) that
    `previous` ends with: a loop that went on into the next segment."""
    words, before = normalized_words(text), normalized_words(previous)
    for k in range(2, min(MAX_PHRASE_WORDS, len(words)) + 1):
        phrase = words[:k]
        if len(words) % k == 0 and words == phrase * (len(words) // k) and before[-k:] == phrase:
            return True
    return False


def loop_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of `text` that are repeated copies of a phrase (to be removed), in order."""
    matches = [(m.start(), _norm(m.group())) for m in _WORD.finditer(text)]
    matches = [(start, w) for start, w in matches if w]
    words = [w for _, w in matches]
    spans: list[tuple[int, int]] = []
    i, n = 0, len(words)
    while i < n:
        best: tuple[int, int] | None = None  # (phrase length, copies)
        for k in range(1, min(MAX_PHRASE_WORDS, (n - i) // 2) + 1):
            phrase = words[i:i + k]
            copies = 1
            while words[i + copies * k:i + (copies + 1) * k] == phrase:
                copies += 1
            need = MIN_WORD_REPEATS if k == 1 else MIN_PHRASE_REPEATS
            if copies >= need and (best is None or k * copies > best[0] * best[1]):
                best = (k, copies)
        if best is None:
            i += 1
            continue
        k, copies = best
        last_copy = i + k * (copies - 1)
        spans.append((matches[i][0], matches[last_copy][0]))  # drop every copy but the last
        i += k * copies
    return spans


def cut_spans(text: str, spans: list[tuple[int, int]]) -> str:
    out, pos = [], 0
    for start, end in spans:
        out.append(text[pos:start])
        pos = end
    out.append(text[pos:])
    return "".join(out)


def keep_pieces(pieces: list[str]) -> list[bool]:
    """For text split into pieces (words, tokens): False for each piece that starts inside a loop copy."""
    spans = loop_spans("".join(pieces))
    keep, pos = [], 0
    for piece in pieces:
        at = pos + len(piece) - len(piece.lstrip())  # where the piece's word begins
        keep.append(not any(start <= at < end for start, end in spans))
        pos += len(piece)
    return keep
