"""A local reply that runs into max_tokens ends at its last full sentence, not mid-word (`TailCut`).

Where a sentence ends: . ! ? or … (with closing quotes or brackets) before the whitespace that
follows ("3.5" is none); a CJK full stop; or the end of a line, so a list, a poem or a line of
emoji is cut after its last whole line. A list item's number ("2." at a line's start) ends nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["TailCut", "sentence_ends"]

_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s)|[。！？][」』”’）]*|(?<=\S)(?=[ \t]*\n)")
_LAST_WORD = re.compile(r"\s+\S*$")
_LIST_NUMBER = re.compile(r"(?:^|\n)[ \t]*\d{1,3}[.)]$")
# Sent text kept to find a sentence end that straddles what was sent and what comes (`TailCut._open`).
_OPEN_KEEP = 200


def sentence_ends(text: str) -> list[int]:
    """The positions in `text` just after each sentence end (the whitespace after it comes later)."""
    return [m.end() for m in _SENTENCE_END.finditer(text)
            if not _LIST_NUMBER.search(text, max(0, m.end() - 8), m.end())]


def _whole_words(text: str, *, alone: bool) -> str:
    """`text` less its last word, which the cap may have cut short ("...and it's a wa"). Text with
    no space in it continues the word sent before it, and is kept; so is a last word that is all
    the reply has (`alone`)."""
    m = _LAST_WORD.search(text)
    if m is None:
        return text
    head = text[:m.start()]
    return head if head.strip() or not alone else text


class TailCut:
    """Passes a reply's text on, holding back what the cap may cut.

    Text from token `hold_from` on waits until its sentence ends, so a streamed reply's first words
    are not delayed (a non-streamed reply holds from token 0: nothing waits on it). When the cap
    cuts the reply (`finish(cut=True)`), the unfinished sentence is dropped; if that sentence began
    before the held text (longer than the window, already partly sent), the held text is kept to its
    last whole word instead, so the reply never stops mid-word. What is cut is counted in the usage
    all the same (the model did generate it) and the finish reason stays "length"."""

    def __init__(self, put: Callable[[str], None], hold_from: int) -> None:
        self._put, self._hold_from = put, hold_from
        self._held = ""
        self._open = ""  # the end of the sent text after its last sentence end (a sentence under way)
        self._said = False

    def put(self, text: str, count: int) -> None:
        """`text` of the reply so far, which has `count` tokens (counted by the model, not by chunks:
        one character may take several tokens)."""
        if count < self._hold_from and not self._held:
            self._send(text)
            return
        self._held += text
        self._release(self._open + self._held)

    def finish(self, *, cut: bool) -> None:
        """At the end: the held text, less its unfinished sentence when the cap cut it."""
        if not cut:
            self._send(self._held)
        elif self._held:
            self._release(self._open + self._held + " ")  # the reply's last character may end a sentence
            if self._held and (self._open.strip() or not self._said):  # mid-sentence, or nothing said yet
                self._send(_whole_words(self._held, alone=not self._said))
        self._held = ""

    def _release(self, text: str) -> None:
        """Send the held text up to the last sentence end in `text` (the open sentence, then the held text)."""
        ends = sentence_ends(text)
        if not ends:
            return
        cut = ends[-1] - len(self._open)
        if cut > 0:
            piece, self._held = self._held[:cut], self._held[cut:]
            self._put(piece)
            self._said = self._said or bool(piece.strip())
            self._open = ""
        else:
            self._open = self._open[ends[-1]:]

    def _send(self, text: str) -> None:
        if not text:
            return
        self._put(text)
        self._said = self._said or bool(text.strip())
        joined = self._open + text
        ends = sentence_ends(joined)
        self._open = (joined[ends[-1]:] if ends else joined)[-_OPEN_KEEP:]
