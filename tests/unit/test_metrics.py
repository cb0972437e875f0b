"""nbaudio.metrics: the alignment behind WER is a real edit script (applied to the reference it gives
the hypothesis), its counts are jiwer's, and the normaliser is Whisper's."""

from __future__ import annotations

import builtins

import jiwer
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbaudio import metrics
from nbaudio.errors import InvalidInputError, MissingDependencyError

# Small vocabularies make matches, substitutions and repeats all likely.
WORDS = st.lists(st.sampled_from(["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "to", "it"]), max_size=14)


def _apply(a: metrics.Alignment) -> list[str]:
    """The hypothesis rebuilt from the reference by the edits alone (checking each equal/substituted/
    deleted word is the reference's next one, in order)."""
    out: list[str] = []
    ref_at = 0
    for e in a.edits:
        if e.op in ("equal", "substitute", "delete"):
            assert e.ref_index == ref_at and e.ref == a.reference[ref_at], e
            ref_at += 1
        if e.op == "equal":
            assert e.hyp == e.ref
            out.append(e.ref)
        elif e.op in ("substitute", "insert"):
            assert e.op == "insert" or e.hyp != e.ref
            out.append(e.hyp)
    assert ref_at == len(a.reference)
    return out


@settings(max_examples=300, deadline=None)
@given(WORDS, WORDS)
def test_the_edits_turn_the_reference_into_the_hypothesis(ref, hyp):
    a = metrics.align(" ".join(ref), " ".join(hyp))
    assert list(a.reference) == ref and list(a.hypothesis) == hyp
    assert _apply(a) == hyp
    assert [e.hyp_index for e in a.edits if e.hyp_index is not None] == list(range(len(hyp)))


@settings(max_examples=300, deadline=None)
@given(WORDS, WORDS)
def test_the_counts_are_jiwers(ref, hyp):
    a = metrics.align(" ".join(ref), " ".join(hyp))
    if ref:
        out = jiwer.process_words(" ".join(ref), " ".join(hyp))
        assert (a.hits, a.substitutions, a.deletions, a.insertions) == (
            out.hits, out.substitutions, out.deletions, out.insertions)
        assert a.error_rate == pytest.approx(out.wer)
    else:
        assert a.insertions == len(hyp) and a.error_rate == float(bool(hyp))
    # the errors are the least number of edits (Levenshtein over words)
    assert a.errors == _distance(ref, hyp)


def _distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row = row, [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (r != h))
    return row[-1]


def test_whispers_english_normaliser_is_the_one_used():
    assert metrics.normalize("Don't! It's the colour, Mr. Smith.") == "do not it is the color mister smith"
    assert metrics.word_error_rate("I don't know.", "i do not know") == 0.0
    assert metrics.word_error_rate("twenty five dollars", "$25") == 0.0  # numbers as digits, both sides
    assert "English normaliser" in metrics.normalizer_name("english") and "basic" in metrics.normalizer_name("de")


def test_other_languages_keep_their_diacritics_and_chinese_counts_characters():
    assert metrics.normalize("Ça va, très BIEN !", "fr").split() == ["ça", "va", "très", "bien"]
    assert metrics.word_error_rate("très bien", "tres bien", "fr") == 0.5
    a = metrics.align("今天天气很好", "今天天气不好", "zh")
    assert len(a.reference) == 6 and a.substitutions == 1 and a.error_rate == pytest.approx(1 / 6)
    assert "by characters" in metrics.normalizer_name("zh")


def test_character_error_rate():
    assert metrics.character_error_rate("the cat", "the bat") == pytest.approx(1 / 7)
    assert metrics.character_error_rate("", "") == 0.0 and metrics.character_error_rate("", "x") == 1.0


def test_empty_sides():
    assert metrics.align("", "").edits == () and metrics.word_error_rate("", "") == 0.0
    assert metrics.word_error_rate("...", "hello") == 1.0  # nothing left to say after normalising
    assert metrics.word_error_rate("one two", "") == 1.0


def test_bad_input_is_an_nbaudio_error():
    with pytest.raises(InvalidInputError):
        metrics.word_error_rate(None, "x")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        metrics.word_error_rate("x", "x", language=3)  # type: ignore[arg-type]


def test_without_jiwer_the_error_says_what_to_install(monkeypatch):
    real_import = builtins.__import__

    def no_jiwer(name, *args, **kwargs):
        if name == "jiwer":
            raise ImportError("no jiwer here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_jiwer)
    with pytest.raises(MissingDependencyError, match=r"nbaudio\[compare\]"):
        metrics.word_error_rate("a b", "a c")


def test_term_recall_counts_the_terms_said_and_heard_after_normalising():
    ref = "Grafana alerts went to the Kubernetes team, and Grafana paged the on-call."
    tr = metrics.term_recall(ref, "grafana alerts went to the kubernetes team and graph on a paged", ["Grafana",
                             "Kubernetes", "Jenkins", "on-call", "Grafana"])
    # Grafana twice (heard once), Kubernetes once, on-call once (heard not), Jenkins never said: not counted
    assert (tr.said, tr.heard, tr.missed) == (4, 2, ("Grafana", "on-call")) and tr.recall == 0.5
    assert str(tr) == "2/4"
    # a term of several words counts where its words stand in a row; case and punctuation do not count
    assert metrics.term_recall("the Northern Marianas office", "The northern Marianas, office.",
                               ["Northern Marianas"]).recall == 1.0
    assert metrics.term_recall("the Northern Marianas office", "the Marianas northern office",
                               ["Northern Marianas"]).recall == 0.0
    none = metrics.term_recall("nothing here", "nothing here", ["Grafana"])
    assert none.said == 0 and none.recall is None and str(none) == "none said"
    with pytest.raises(InvalidInputError):
        metrics.term_recall("a", "a", "Grafana")
