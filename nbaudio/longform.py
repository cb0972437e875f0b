"""Input longer than one request allows: text split at sentences, audio split at silences."""

from __future__ import annotations

import re
import string
from collections.abc import Collection, Sequence

from ._wire.spec import KNOWN_SPEAKER_MAX_SECONDS, KNOWN_SPEAKER_MIN_SECONDS
from .audio import AudioClip
from .transcript import Transcript

__all__ = ["split_sentences", "complete_sentences", "split_text", "split_audio", "MAX_PIECE_SECONDS",
           "UPLOAD_PIECE_RATE", "speaker_references", "carried_speaker_label"]

# Sentence (and clause: ; :) ends in Latin and CJK punctuation, keeping the punctuation with its
# sentence, and paragraph breaks. Shared by client-side splitting and the engine's TTS.
_SENTENCE_END = re.compile(r"(?<=[.!?;:。！？…])[\"'”’)\]]*\s+|(?<=[。！？])|\n\s*\n")
# Pieces of a long upload: 16 kHz mono 16-bit WAV is 32 kB/s, so 10 minutes is ~19 MB (< 25 MB).
UPLOAD_PIECE_RATE = 16000
MAX_PIECE_SECONDS = 600.0
# Look this far back from a piece's end for the quietest moment to cut at.
SILENCE_SEARCH_SECONDS = 30.0
SILENCE_WINDOW_SECONDS = 0.05


def split_sentences(text: str) -> list[str]:
    """The sentences (and clauses ending in ; or :) of `text`, stripped, punctuation kept."""
    return [s for s in (p.strip() for p in _SENTENCE_END.split(text)) if s]


def complete_sentences(text: str) -> tuple[str, str]:
    """(the finished sentences at the start of `text`, the unfinished rest): for text that is still arriving."""
    cut = 0
    for m in _SENTENCE_END.finditer(text):
        cut = m.end()
    return text[:cut], text[cut:]


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at sentence ends, then at words, then hard."""
    if len(text) <= limit:
        return [text]
    parts = [p for sentence in split_sentences(text) for p in _split_long(sentence, limit)]
    return _pack(parts, limit)


def _split_long(sentence: str, limit: int) -> list[str]:
    """A sentence over the limit, cut at spaces (and a space-less run over the limit, cut hard)."""
    if len(sentence) <= limit:
        return [sentence]
    words = [w[i : i + limit] for w in sentence.split() for i in range(0, len(w), limit)]
    return _pack(words, limit)


def _pack(parts: list[str], limit: int) -> list[str]:
    """Join consecutive parts with spaces, greedily, into pieces of at most `limit` characters."""
    pieces: list[str] = []
    current = ""
    for part in parts:
        if current and len(current) + 1 + len(part) > limit:
            pieces.append(current)
            current = part
        else:
            current = f"{current} {part}" if current else part
    if current:
        pieces.append(current)
    return pieces


def split_audio(clip: AudioClip, max_seconds: float | None = None) -> list[tuple[float, AudioClip]]:
    """(offset seconds, piece) covering the clip, each at most `max_seconds`, cut at quiet moments.

    Pieces are 16 kHz mono WAV so each fits an upload.
    """
    import numpy as np

    max_seconds = max_seconds or MAX_PIECE_SECONDS
    mono = clip.mono().resample(UPLOAD_PIECE_RATE)
    samples = mono.samples
    rate = UPLOAD_PIECE_RATE
    total = len(samples)
    max_len = int(max_seconds * rate)
    win = max(1, int(SILENCE_WINDOW_SECONDS * rate))
    pieces = []
    start = 0
    while start < total:
        end = min(total, start + max_len)
        if end < total:
            lo = max(start + max_len // 2, end - int(SILENCE_SEARCH_SECONDS * rate))
            region = samples[lo:end]
            n = len(region) // win
            if n > 0:
                energy = (region[: n * win].reshape(n, win) ** 2).mean(axis=1)
                end = lo + int(np.argmin(energy)) * win + win // 2
        piece = samples[start:end]
        pieces.append((start / rate, AudioClip.from_array(piece, rate, format="wav")))
        start = end
    return pieces


# ---- speakers across the pieces of a long upload ------------------------------------------------
# A diarizing server labels speakers per request, so piece 2's "A" need not be piece 1's. The client
# sends each speaker heard so far with the next pieces as a known speaker (a stretch of that speaker
# alone, cut from the piece it was heard in), and maps the labels that come back. What this can and
# cannot guarantee: it is the server that matches voices to references, so consistency is as good
# as its matching; the API takes 4 known speakers, so a fifth speaker (or one who never speaks 2 s
# without a pause in a piece) gets a new label in each piece it is heard in.


def speaker_references(piece: AudioClip, t: Transcript, *, exclude: Collection[str] = (),
                       limit: int = 4) -> dict[str, AudioClip]:
    """{label: a 2-10 s clip of that speaker} for up to `limit` speakers of `t` not in `exclude`:
    each speaker's longest segment in `piece` (times relative to the piece), cut to at most 10 s.
    Speakers whose every segment is under 2 s are left out (the API refuses shorter references)."""
    out: dict[str, AudioClip] = {}
    for label in t.speakers:
        if len(out) >= limit:
            break
        if label in exclude:
            continue
        longest = max(t.segments_for(label), key=lambda s: s.end - s.start)
        if longest.end - longest.start < KNOWN_SPEAKER_MIN_SECONDS:
            continue
        end = min(longest.end, longest.start + KNOWN_SPEAKER_MAX_SECONDS)
        out[label] = piece.slice(longest.start, end).encode("wav")
    return out


def carried_speaker_label(label: str, given: Sequence[str], prefix: str, used: Collection[str]) -> str:
    """The label in the joined transcript for `label` as one piece's server answered it.

    A name the caller gave stays; `prefix + X` (a speaker carried from an earlier piece as a
    reference) is X again; anything else is a speaker new to this piece: its own label when no
    earlier piece used it, else the first capital letter (then "S27", ...) not yet used."""
    if label in given:
        return label
    if label.startswith(prefix) and label[len(prefix):]:
        return label[len(prefix):]
    if label not in used:
        return label
    letters = list(string.ascii_uppercase) + [f"S{i}" for i in range(27, 1000)]
    return next(x for x in letters if x not in used)
