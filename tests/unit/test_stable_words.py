"""Which words of a turn still spoken are sent (nbaudio.server.realtime.stable_words): those a decode
agrees on with one at least GAP_S of audio earlier, ending MARGIN_S before the audio decoded, that
Whisper is not unsure of (MIN_PROBABILITY); the last decode settles the rest."""

from __future__ import annotations

import pytest

from nbaudio.server.realtime import stable_words
from nbaudio.server.realtime.stable_words import Agreement, Word


@pytest.fixture
def successive(monkeypatch):
    """LocalAgreement-2 as whisper_streaming has it: each decode against the one just before it."""
    monkeypatch.setattr(stable_words, "GAP_S", 0.0)
    monkeypatch.setattr(stable_words, "MIN_PROBABILITY", 0.0)
    monkeypatch.setattr(stable_words, "MARGIN_S", 0.5)


def words(text: str, start: float = 0.0, step: float = 0.4) -> list[Word]:
    return [Word(" " + w, start + i * step, start + i * step + step - 0.05) for i, w in enumerate(text.split())]


def test_a_word_is_sent_once_two_decodes_agree_and_it_is_not_at_the_edge(successive):
    a = Agreement()
    assert a.update(words("the cat"), 0.8) == []  # one decode: nothing is agreed yet
    # The second decode agrees on "the cat" but "cat" ends within MARGIN_S of the audio's end.
    assert [w.text for w in a.update(words("the cat sat"), 0.75 + stable_words.MARGIN_S / 2)] == [" the"]
    assert [w.text for w in a.update(words("the cat sat on"), 1.6)] == [" cat"]
    assert a.text == "the cat"


def test_a_changed_word_stops_the_agreement_and_case_or_punctuation_do_not(successive):
    a = Agreement()
    a.update(words("I scream, you"), 10.0)
    agreed = a.update(words("Ice cream you"), 10.0)
    assert agreed == []  # "I" ≠ "Ice": nothing after a disagreement is sent either
    assert [w.text for w in a.update(words("ice cream. You"), 10.0)] == [" ice", " cream.", " You"]


def test_the_last_decode_settles_the_rest_without_repeating_what_was_sent(successive):
    a = Agreement()
    a.update(words("one two three"), 10.0)
    a.update(words("one two three four"), 10.0)
    assert a.text == "one two three"  # "four" was in one decode only
    # A decode that hears a stable word again, its time wobbling past the last stable end, adds
    # only what is new.
    rest = a.finish(words("three four five", start=1.1))
    assert [w.text for w in rest] == [" four", " five"] and a.text == "one two three four five"


def test_a_word_agrees_only_with_a_decode_far_enough_back(monkeypatch):
    """Two decodes of nearly the same audio agree on the same wrong word too often: the earlier
    one a word is checked against has at least GAP_S less audio, whatever the step."""
    monkeypatch.setattr(stable_words, "GAP_S", 0.6)
    monkeypatch.setattr(stable_words, "MARGIN_S", 0.3)
    monkeypatch.setattr(stable_words, "MIN_PROBABILITY", 0.0)
    a = Agreement()
    assert a.update(words("the cat"), 1.0) == []
    assert a.update(words("the cat sat"), 1.3) == []  # only 0.3 s after the first: not a check
    assert [w.text for w in a.update(words("the cat sat on"), 1.6)] == [" the", " cat"]  # against 1.0


def test_a_word_whisper_is_unsure_of_waits_for_the_turns_end(monkeypatch):
    monkeypatch.setattr(stable_words, "GAP_S", 0.0)
    monkeypatch.setattr(stable_words, "MIN_PROBABILITY", 0.3)
    unsure = [Word(w.text, w.start, w.end, 0.1 if w.text == " cat" else 0.9) for w in words("the cat sat on the")]
    a = Agreement()
    a.update(unsure, 10.0)
    assert [w.text for w in a.update(unsure, 10.0)] == [" the"]  # "cat" and all after it wait
    assert [w.text for w in a.finish(unsure)] == [" cat", " sat", " on", " the"]


def test_a_decode_long_in_coming_keeps_the_earlier_one_it_is_checked_against(monkeypatch):
    """Under load a decode may come seconds after the last: the next is still checked against the
    latest decode GAP_S back, however old (it was dropped after 2 s once)."""
    monkeypatch.setattr(stable_words, "GAP_S", 0.6)
    monkeypatch.setattr(stable_words, "MARGIN_S", 0.3)
    monkeypatch.setattr(stable_words, "MIN_PROBABILITY", 0.0)
    a = Agreement()
    assert a.update(words("the cat sat"), 1.0) == []
    assert [w.text for w in a.update(words("the dog sat on"), 4.0)] == [" the"]  # "dog" ≠ "cat"
    # 4.3 is too near 4.0, so the check is against 1.0 again, which says "cat sat" too.
    assert [w.text for w in a.update(words("the cat sat on the"), 4.3)] == [" cat", " sat"]
