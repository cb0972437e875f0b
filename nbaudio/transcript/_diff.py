"""`TranscriptDiff`: a transcript against a reference (a text, or another system's transcript), word
by word after Whisper's normaliser (nbaudio.metrics): which words match, which were heard wrong
(substitutions), missed (deletions) or added (insertions), each at its time in the audio when the
transcript has word or segment times, so the view can play the audio from there.

Times reach the normalised words by a second alignment: each timed word (or segment) is normalised
on its own and its tokens matched to the whole text's tokens, which is what is scored, so the
counts are exactly those of `nbaudio.metrics.align` even where normalising word by word would
differ ("twenty five" is "25" as a whole, "20 5" word by word).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._wire.languages import language_code
from .._wire.text import shorten
from ..errors import InvalidInputError, MissingDependencyError
from ..metrics import Alignment, align, character_error_rate, normalize_words

if TYPE_CHECKING:
    from ..audio import AudioClip

__all__ = ["DiffWord", "TranscriptDiff", "timed_tokens", "transcript_diff"]

Span = tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class DiffWord:
    """One step of the diff: `op` (equal, substitute, delete, insert), the reference's word and the
    transcript's (None on the side that has none), and where in the audio it is (None when unknown):
    the transcript word's time, or for a missed word, the time between its neighbours."""

    op: str
    ref: str | None
    hyp: str | None
    start: float | None
    end: float | None


def _pieces(t: Any) -> list[tuple[str, float, float]]:
    words = t.all_words()
    if words:
        return [(w.word, w.start, w.end) for w in words]
    return [(s.text, s.start, s.end) for s in t.segments]


def timed_tokens(t: Any, language: str | None) -> list[Span]:
    """The (start, end) of each token of `normalize_words(t.text)`, or None where no time is known."""
    tokens = normalize_words(t.text, language)
    pieces = _pieces(t)
    if not pieces:
        return [None] * len(tokens)
    piece_tokens: list[str] = []
    spans: list[tuple[float, float]] = []
    for text, start, end in pieces:
        for token in normalize_words(text, language):
            piece_tokens.append(token)
            spans.append((start, end))
    out: list[Span] = [None] * len(tokens)
    matcher = difflib.SequenceMatcher(None, piece_tokens, tokens, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("equal", "replace") and i2 > i1:
            for k, j in enumerate(range(j1, j2)):  # a replaced run shares its pieces' times in order
                out[j] = spans[min(i1 + k * (i2 - i1) // max(1, j2 - j1), i2 - 1)]
    last: Span = None
    for j, span in enumerate(out):  # tokens only the whole text has: their neighbour's time
        if span is None:
            out[j] = last or next((s for s in out[j:] if s is not None), None)
        last = out[j]
    return out


def _between(before: Span, after: Span) -> Span:
    """Where a missed word was: from the end of the word before it to the start of the one after."""
    if before is None and after is None:
        return None
    start = before[1] if before is not None else after[0]
    end = after[0] if after is not None else before[1]
    return (min(start, end), max(start, end))


def _words(a: Alignment, hyp_times: list[Span], ref_times: list[Span] | None) -> list[DiffWord]:
    out: list[DiffWord] = []
    for n, e in enumerate(a.edits):
        if e.hyp_index is not None:
            span = hyp_times[e.hyp_index]
        elif ref_times is not None and e.ref_index is not None and ref_times[e.ref_index] is not None:
            span = ref_times[e.ref_index]
        else:
            before = next((hyp_times[x.hyp_index] for x in reversed(a.edits[:n]) if x.hyp_index is not None), None)
            after = next((hyp_times[x.hyp_index] for x in a.edits[n + 1:] if x.hyp_index is not None), None)
            span = _between(before, after)
        out.append(DiffWord(e.op, e.ref, e.hyp, *(span if span is not None else (None, None))))
    return out


@dataclass(eq=False)
class TranscriptDiff:
    """A transcript against a reference: `alignment` (nbaudio.metrics.Alignment: tokens and edits),
    `words` (the edits with times), `wer`, `cer`, the audio to play them from, and the two sides' labels.

    Shows as the transcript's words with the errors marked (HTML: each word plays the audio from its
    time; text/plain: `[said→heard]`, `{-missed-}`, `{+added+}`)."""

    alignment: Alignment
    words: list[DiffWord]
    cer: float
    audio: AudioClip | None = None
    reference_label: str = "reference"
    hypothesis_label: str = "transcript"

    @property
    def wer(self) -> float:
        """Word error rate (by characters for CHARACTER_LANGUAGES): errors / reference tokens."""
        return self.alignment.error_rate

    @property
    def counts(self) -> dict[str, int]:
        a = self.alignment
        return {"reference": len(a.reference), "hits": a.hits, "substitutions": a.substitutions,
                "deletions": a.deletions, "insertions": a.insertions}

    def summary(self) -> str:
        c = self.counts
        return (f"WER {self.wer:.1%} ({c['substitutions']} substituted, {c['deletions']} missed, "
                f"{c['insertions']} added of {c['reference']} reference words), CER {self.cer:.1%}; "
                f"{self.alignment.normalizer}")

    def marked_text(self) -> str:
        """The diff in plain text: matching words as they are, `[said→heard]`, `{-missed-}`, `{+added+}`."""
        parts = []
        for w in self.words:
            if w.op == "equal":
                parts.append(w.hyp)
            elif w.op == "substitute":
                parts.append(f"[{w.ref}→{w.hyp}]")
            elif w.op == "delete":
                parts.append(f"{{-{w.ref}-}}")
            else:
                parts.append(f"{{+{w.hyp}+}}")
        return " ".join(parts)

    def errors(self) -> list[DiffWord]:
        return [w for w in self.words if w.op != "equal"]

    def to_dataframe(self):
        """One row per step (op, reference, transcript, start, end); pandas is optional."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("to_dataframe() needs pandas: pip install pandas") from None
        return pd.DataFrame([{"op": w.op, "reference": w.ref, "transcript": w.hyp, "start": w.start, "end": w.end}
                             for w in self.words], columns=["op", "reference", "transcript", "start", "end"])

    def __str__(self) -> str:
        return f"{self.hypothesis_label} against {self.reference_label}: {self.summary()}\n{self.marked_text()}"

    def __repr__(self) -> str:
        return (f"<TranscriptDiff {self.hypothesis_label} vs {self.reference_label}: WER {self.wer:.1%}, "
                f"{shorten(self.marked_text(), 60)!r}>")

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        from ..display import mimebundle

        return mimebundle(self, include=include, exclude=exclude)


def _language(given: str | None, *transcripts: Any) -> str:
    if given is not None:
        return given
    for t in transcripts:
        code = language_code(getattr(t, "language", None))
        if code:
            return code
    return "en"


def transcript_diff(hypothesis: Any, reference: Any, *, language: str | None = None,
                    reference_label: str | None = None, hypothesis_label: str = "transcript") -> TranscriptDiff:
    """`hypothesis` (a Transcript) against `reference` (a text, or a Transcript: another system's, whose word times
    then place the words the hypothesis missed). The language is `language`, else the transcripts'
    (else English): it picks Whisper's normaliser (nbaudio.metrics)."""
    ref_text = getattr(reference, "text", reference)
    if not isinstance(ref_text, str):
        raise InvalidInputError(f"the reference must be a text or a Transcript, not {type(reference).__name__}",
                                param="reference")
    is_transcript = not isinstance(reference, str)
    code = _language(language, hypothesis, *([reference] if is_transcript else []))
    a = align(ref_text, hypothesis.text, code)
    ref_times = timed_tokens(reference, code) if is_transcript else None
    words = _words(a, timed_tokens(hypothesis, code), ref_times)
    return TranscriptDiff(a, words, character_error_rate(ref_text, hypothesis.text, code), audio=hypothesis.audio,
                          reference_label=reference_label or ("the other transcript" if is_transcript else "reference"),
                          hypothesis_label=hypothesis_label)
