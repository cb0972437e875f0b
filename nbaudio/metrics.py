"""Word and character error rates, and the word alignment behind them: the one home of how nbaudio
scores a transcript against a reference (the demo, the notebooks, `transcribe_many(references=)`,
`Transcript.diff`, `nbaudio.compare_transcripts` and the tests all use it).

The normaliser is Whisper's (the package `whisper-normalizer`, the normaliser Whisper's papers and
the Open ASR Leaderboard score with): for English, `EnglishTextNormalizer` (lower case, punctuation
off, British spellings to American, numbers as digits, contractions spelled out: "Don't!" -> "do
not"); for every other language, `BasicTextNormalizer` (lower case, punctuation and symbols to
spaces, diacritics kept). Languages written without spaces between words (CHARACTER_LANGUAGES)
are scored by characters, as AISHELL is. The edit counts and the alignment are jiwer's.

jiwer and whisper-normalizer are `pip install 'nbaudio[compare]'` (imported on first use).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from ._wire.languages import language_code
from .errors import InvalidInputError, MissingDependencyError

__all__ = ["CHARACTER_LANGUAGES", "Alignment", "Edit", "TermRecall", "align", "character_error_rate", "error_counts",
           "normalize", "normalize_words", "normalizer_name", "require_scoring", "term_recall", "word_error_rate"]

# Written without spaces between words: scored by characters (CER), as AISHELL is.
CHARACTER_LANGUAGES = ("zh", "ja", "th", "yue")
_INSTALL = "pip install 'nbaudio[compare]'"
EDIT_OPS = ("equal", "substitute", "delete", "insert")


def _code(language: str | None) -> str:
    """Whisper's code for a code or a verbose_json name ("english" -> "en"); None is English."""
    if language is None:
        return "en"
    if not isinstance(language, str):
        raise InvalidInputError(f"language must be a code such as 'en', not {type(language).__name__}",
                                param="language")
    return language_code(language) or language.strip().lower()


@functools.cache
def _normalizer(english: bool) -> Callable[[str], str]:
    try:
        if english:
            from whisper_normalizer.english import EnglishTextNormalizer

            return EnglishTextNormalizer()
        from whisper_normalizer.basic import BasicTextNormalizer

        return BasicTextNormalizer()
    except ImportError:
        raise MissingDependencyError(f"scoring transcripts needs whisper-normalizer and jiwer: {_INSTALL}") from None


def _jiwer():
    try:
        import jiwer
    except ImportError:
        raise MissingDependencyError(f"scoring transcripts needs jiwer and whisper-normalizer: {_INSTALL}") from None
    return jiwer


def require_scoring() -> None:
    """MissingDependencyError, saying what to install, unless jiwer and whisper-normalizer import."""
    _jiwer()
    _normalizer(True)


def normalizer_name(language: str | None = "en") -> str:
    """Which normaliser scores `language`, in words (shown beside every WER nbaudio reports)."""
    code = _code(language)
    which = "English" if code == "en" else "basic"
    unit = ", by characters" if code in CHARACTER_LANGUAGES else ""
    return f"Whisper's {which} normaliser (whisper-normalizer){unit}"


def normalize(text: str, language: str | None = "en") -> str:
    """`text` as it is scored: Whisper's English normaliser for English, its basic one otherwise."""
    if not isinstance(text, str):
        raise InvalidInputError(f"text to score must be a string, not {type(text).__name__}")
    return _normalizer(_code(language) == "en")(text)


def normalize_words(text: str, language: str | None = "en") -> list[str]:
    """The tokens `text` is scored by: its normalised words, or its characters for CHARACTER_LANGUAGES."""
    normal = normalize(text, language)
    if _code(language) in CHARACTER_LANGUAGES:
        return list(normal.replace(" ", ""))
    return normal.split()


@dataclass(frozen=True, slots=True)
class Edit:
    """One step of an alignment: `equal` (the same token), `substitute` (ref said, hyp heard instead),
    `delete` (ref said, nothing heard) or `insert` (heard, not said); the indices are the tokens'
    places in Alignment.reference / .hypothesis (None for the side that has no token)."""

    op: str
    ref: str | None
    hyp: str | None
    ref_index: int | None
    hyp_index: int | None


@dataclass(frozen=True)
class Alignment:
    """The reference and hypothesis tokens after normalising, and the edits that turn one into the other."""

    reference: tuple[str, ...]
    hypothesis: tuple[str, ...]
    edits: tuple[Edit, ...]
    language: str

    def count(self, op: str) -> int:
        return sum(1 for e in self.edits if e.op == op)

    @property
    def hits(self) -> int:
        return self.count("equal")

    @property
    def substitutions(self) -> int:
        return self.count("substitute")

    @property
    def deletions(self) -> int:
        return self.count("delete")

    @property
    def insertions(self) -> int:
        return self.count("insert")

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def error_rate(self) -> float:
        """errors / reference tokens (WER, or CER for CHARACTER_LANGUAGES); an empty reference
        scores 0 against an empty hypothesis and 1 against anything else."""
        n = len(self.reference)
        return self.errors / n if n else float(self.errors > 0)

    @property
    def normalizer(self) -> str:
        return normalizer_name(self.language)


def _edits(ref: list[str], hyp: list[str]) -> tuple[Edit, ...]:
    if not ref and not hyp:
        return ()
    out = _jiwer().process_words(" ".join(ref), " ".join(hyp))
    edits: list[Edit] = []
    for chunk in out.alignments[0]:
        r = range(chunk.ref_start_idx, chunk.ref_end_idx)
        h = range(chunk.hyp_start_idx, chunk.hyp_end_idx)
        if chunk.type in ("equal", "substitute"):
            edits.extend(Edit(chunk.type, ref[i], hyp[j], i, j) for i, j in zip(r, h, strict=True))
        elif chunk.type == "delete":
            edits.extend(Edit("delete", ref[i], None, i, None) for i in r)
        else:
            edits.extend(Edit("insert", None, hyp[j], None, j) for j in h)
    return tuple(edits)


def align(reference: str, hypothesis: str, language: str | None = "en") -> Alignment:
    """The token alignment of `hypothesis` against `reference` after normalising both (see the module)."""
    code = _code(language)
    ref, hyp = normalize_words(reference, code), normalize_words(hypothesis, code)
    return Alignment(tuple(ref), tuple(hyp), _edits(ref, hyp), code)


def error_counts(reference: str, hypothesis: str, language: str | None = "en") -> tuple[int, int]:
    """(edits, reference tokens): words, or characters for CHARACTER_LANGUAGES."""
    a = align(reference, hypothesis, language)
    return a.errors, len(a.reference)


def word_error_rate(reference: str, hypothesis: str, language: str | None = "en") -> float:
    """(substitutions + deletions + insertions) / reference words after Whisper's normaliser
    (characters for CHARACTER_LANGUAGES). Needs `nbaudio[compare]`."""
    return align(reference, hypothesis, language).error_rate


def character_error_rate(reference: str, hypothesis: str, language: str | None = "en") -> float:
    """Character edits / reference characters, spaces between words included, after normalising."""
    code = _code(language)
    ref, hyp = normalize(reference, code), normalize(hypothesis, code)
    if code in CHARACTER_LANGUAGES:
        ref, hyp = ref.replace(" ", ""), hyp.replace(" ", "")
    ref, hyp = " ".join(ref.split()), " ".join(hyp.split())
    if not ref:
        return float(bool(hyp))
    out = _jiwer().process_characters(ref, hyp)
    return (out.substitutions + out.deletions + out.insertions) / len(ref)


@dataclass(frozen=True)
class TermRecall:
    """Of the terms said in a reference (`said`, counting each time one is said), how many the
    hypothesis has (`heard`), and the terms said more often than heard (`missed`)."""

    said: int
    heard: int
    missed: tuple[str, ...]

    @property
    def recall(self) -> float | None:
        """heard / said; None when the reference says none of the terms (nothing to measure)."""
        return self.heard / self.said if self.said else None

    def __str__(self) -> str:
        return f"{self.heard}/{self.said}" if self.said else "none said"


def _occurrences(tokens: list[str], term: list[str]) -> int:
    """Non-overlapping places where `term`'s tokens stand in a row in `tokens`."""
    count, i, n = 0, 0, len(term)
    while n and i + n <= len(tokens):
        if tokens[i:i + n] == term:
            count, i = count + 1, i + n
        else:
            i += 1
    return count


def term_recall(reference: str, hypothesis: str, terms: list[str], language: str | None = "en") -> TermRecall:
    """How many of `terms` (names, jargon: a glossary) that `reference` says the hypothesis has too.
    Terms, reference and hypothesis are normalised as for WER (so "Grafana's" is not "Grafana", and
    case and punctuation do not count); a term of several words counts where they stand in a row; a
    term said twice and heard once is 1 of 2. Terms the reference does not say are not counted."""
    if isinstance(terms, str) or not all(isinstance(t, str) for t in terms):
        raise InvalidInputError("terms must be a list of strings (names, jargon), e.g. ['Kubernetes', 'Grafana']",
                                param="terms")
    code = _code(language)
    ref, hyp = normalize_words(reference, code), normalize_words(hypothesis, code)
    said = heard = 0
    missed = []
    for term in dict.fromkeys(terms):  # a term listed twice counts once
        words = normalize_words(term, code)
        in_ref = _occurrences(ref, words)
        got = min(in_ref, _occurrences(hyp, words))
        said, heard = said + in_ref, heard + got
        if got < in_ref:
            missed.append(term)
    return TermRecall(said, heard, tuple(missed))
