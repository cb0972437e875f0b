"""Which words of a turn still spoken are sent (nbaudio.server.realtime.stable_words): those two
successive decodes agree on, ending MARGIN_S before the audio decoded; the last decode settles the rest."""

from __future__ import annotations

from nbaudio.server.realtime.stable_words import MARGIN_S, Agreement, Word


def words(text: str, start: float = 0.0, step: float = 0.4) -> list[Word]:
    return [Word(" " + w, start + i * step, start + i * step + step - 0.05) for i, w in enumerate(text.split())]


def test_a_word_is_sent_once_two_decodes_agree_and_it_is_not_at_the_edge():
    a = Agreement()
    assert a.update(words("the cat"), 0.8) == []  # one decode: nothing is agreed yet
    # The second decode agrees on "the cat" but "cat" ends within MARGIN_S of the audio's end.
    assert [w.text for w in a.update(words("the cat sat"), 0.75 + MARGIN_S / 2)] == [" the"]
    assert [w.text for w in a.update(words("the cat sat on"), 1.6)] == [" cat"]
    assert a.text == "the cat"


def test_a_changed_word_stops_the_agreement_and_case_or_punctuation_do_not():
    a = Agreement()
    a.update(words("I scream, you"), 10.0)
    agreed = a.update(words("Ice cream you"), 10.0)
    assert agreed == []  # "I" ≠ "Ice": nothing after a disagreement is sent either
    assert [w.text for w in a.update(words("ice cream. You"), 10.0)] == [" ice", " cream.", " You"]


def test_the_last_decode_settles_the_rest_without_repeating_what_was_sent():
    a = Agreement()
    a.update(words("one two three"), 10.0)
    a.update(words("one two three four"), 10.0)
    assert a.text == "one two three"  # "four" was in one decode only
    # A decode that hears a stable word again, its time wobbling past the last stable end, adds
    # only what is new.
    rest = a.finish(words("three four five", start=1.1))
    assert [w.text for w in rest] == [" four", " five"] and a.text == "one two three four five"
