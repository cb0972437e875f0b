"""The local model's reply cut by max_tokens ends at its last full sentence (nbaudio.server.models.tail_cut.TailCut)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from nbaudio.server.models.tail_cut import TailCut, sentence_ends


def _run(tokens: list[str], hold_from: int, *, cut: bool) -> tuple[list[str], str]:
    sent: list[str] = []
    tail = TailCut(sent.append, hold_from)
    for count, token in enumerate(tokens, 1):
        tail.put(token, count)
    tail.finish(cut=cut)
    return sent, "".join(sent)


LOOP = ["Sound", " is", " a", " wave.", " It", " travels", " through", " air.", " Sound", " can", " be", " a"]


def test_a_reply_cut_by_the_cap_ends_at_its_last_sentence():
    sent, text = _run(LOOP, hold_from=3, cut=True)
    assert text == "Sound is a wave. It travels through air."
    assert sent[:2] == ["Sound", " is"]  # before the window, tokens go out as they come (streaming stays live)


def test_a_reply_that_stopped_by_itself_is_kept_whole():
    _, text = _run(LOOP, hold_from=3, cut=False)
    assert text == "".join(LOOP)


def test_a_cut_reply_with_no_full_sentence_keeps_its_whole_words():
    _, text = _run(["Paris", " is", " the"], hold_from=0, cut=True)
    assert text == "Paris is"  # " the" may be the start of " theatre": the cap cut the last word
    _, text = _run(["Hello"], hold_from=0, cut=True)
    assert text == "Hello"  # all there is


def test_numbers_and_abbreviations_without_a_space_do_not_end_a_sentence():
    _, text = _run(["It", " is", " 3.", "5", " metres", " long", " and"], hold_from=0, cut=True)
    assert text == "It is 3.5 metres long"  # no sentence end at "3." (no space follows): whole words


def test_a_sentence_that_ends_with_the_last_token_is_kept():
    _, text = _run(["Bees", " make", " honey", ".", " They", " also", " make", " wax", "."], hold_from=0, cut=True)
    assert text == "Bees make honey. They also make wax."


def test_lines_end_like_sentences_and_list_numbers_do_not():
    tokens = ["Bees", " make", ":", "\n", "1", ".", " Hon", "ey", "\n", "2", ".", " Wax", "\n", "3", ".", " Prop"]
    _, text = _run(tokens, hold_from=0, cut=True)
    assert text == "Bees make:\n1. Honey\n2. Wax"
    _, text = _run(["🐝🐝", "\n", "🌼", "🌼", "\n", "🐝"], hold_from=0, cut=True)
    assert text == "🐝🐝\n🌼🌼"
    _, text = _run(["蜜蜂", "酿", "蜜", "。", "它们", "也"], hold_from=0, cut=True)
    assert text == "蜜蜂酿蜜。"


def test_a_sentence_longer_than_the_window_ends_on_a_whole_word():
    """The window opened mid-sentence (at "B|ees"): what was sent cannot be taken back, so the reply
    keeps the held words but the last, instead of stopping at the token where the window opened."""
    tokens = ["It", " rains", ".", " B", "ees", " are", " also", " incredibly", " effic"]
    sent, text = _run(tokens, hold_from=5, cut=True)
    assert text == "It rains. Bees are also incredibly"
    assert "".join(sent[:4]) == "It rains. B"  # before the window: as they come


def test_a_sentence_end_split_between_sent_and_held_text_is_found():
    # "honey." went out before the window; the space after it is the window's first token.
    _, text = _run(["Bees", " make", " honey", ".", " They", " dance", " and"], hold_from=5, cut=True)
    assert text == "Bees make honey."


PIECES = ["Bees", " make", " honey", ".", " wax", "!", " 3.", "5", "\n", "\n\n", "1", ". ", " and", " it", "'s",
          " a", " wa", "ve", "?", " 蜜", "。", "🐝", "…", '"', " (", ")", "  ", ":", " B", "ees"]


@settings(max_examples=200, deadline=None)
@given(tokens=st.lists(st.sampled_from(PIECES), min_size=1, max_size=60), hold_from=st.integers(-5, 70),
       cut=st.booleans())
def test_any_reply_goes_out_in_order_and_a_cut_falls_at_a_sentence_or_word_end(tokens, hold_from, cut):
    sent, text = _run(tokens, hold_from, cut=cut)
    whole = "".join(tokens)
    early = [t for count, t in enumerate(tokens, 1) if count < hold_from]
    assert sent[:len(early)] == early  # before the window: as they come, nothing held
    if not cut:
        assert text == whole
        return
    assert whole.startswith(text) and (text.strip() or not whole.strip())
    rest = whole[len(text):]
    assert not rest or rest[0].isspace() or len(text) in sentence_ends(whole + " "), (text, rest)
