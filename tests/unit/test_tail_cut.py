"""The local model's reply cut by max_tokens ends at its last full sentence (nbaudio.server.llm.TailCut)."""

from __future__ import annotations

from nbaudio.server.llm import TailCut


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


def test_a_cut_reply_with_no_full_sentence_keeps_what_there_is():
    _, text = _run(["Paris", " is", " the"], hold_from=0, cut=True)
    assert text == "Paris is the"


def test_numbers_and_abbreviations_without_a_space_do_not_end_a_sentence():
    _, text = _run(["It", " is", " 3.", "5", " metres", " long", " and"], hold_from=0, cut=True)
    assert text == "It is 3.5 metres long and"  # no sentence end at "3." (no space follows): nothing to cut at

