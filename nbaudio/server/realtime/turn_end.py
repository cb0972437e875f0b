"""Semantic turn detection (`turn_detection: {"type": "semantic_vad", "eagerness": ...}`): how long
a pause must last before the user's turn is over, decided by what they said so far.

The session transcribes the turn so far as soon as the speaker pauses (session.py); the words
decide the wait. A turn whose words end a sentence ("…of France?") is over after a short silence;
one that ends on a word that promises more ("…and", "um", a comma) waits up to the eagerness's
longest wait, as OpenAI documents it (8 s, 4 s and 2 s for low, medium and high); words that say
neither ("…the red car") wait in between. Until the words are known the "unsure" wait applies, so
a slow transcription never ends a turn sooner than that.
"""

from __future__ import annotations

import re

__all__ = ["EAGERNESS", "ending", "silence_ms"]

# Silence (ms) after the last speech before the turn ends: (complete, unsure, incomplete).
# "high" answers after a finished sentence about as soon as the pause is known to be one; the
# incomplete waits are OpenAI's documented maximum timeouts.
_WAITS = {"high": (200, 500, 2000), "medium": (300, 800, 4000), "low": (600, 1500, 8000)}
EAGERNESS = ("low", "medium", "high", "auto")  # auto is medium, as OpenAI says

# Last words after which a speaker goes on: conjunctions, fillers, articles, prepositions and
# other words that cannot end an English sentence.
_GOES_ON = frozenset("""
and but or nor so because since although though unless until if then than that which who whom whose
when while where whereas as like um uh er erm hmm mm uhm ah eh the a an my your his her its our their
this these those to of in on at for from with by about into onto over under between through is are
was were am be been being do does did have has had will would could should can may might must not
""".split())
_SENTENCE_END = re.compile(r"[.!?。！？][\"'”’)\]]*$")
_TRAILING_ON = re.compile(r"(?:\.\.\.|…|[,;:\-–—])[\"'”’)\]]*$")


def ending(text: str) -> str:
    """"complete", "incomplete" or "unsure": what the words of a turn so far say about its end."""
    text = text.strip()
    if not text:
        return "unsure"
    if _TRAILING_ON.search(text):
        return "incomplete"
    last = re.sub(r"[^\w']", "", text.split()[-1].lower())
    if last in _GOES_ON:
        return "incomplete"
    return "complete" if _SENTENCE_END.search(text) else "unsure"


def silence_ms(eagerness: str, kind: str = "unsure") -> int:
    """The silence that ends a turn whose words say `kind` ("complete", "unsure", "incomplete")."""
    complete, unsure, incomplete = _WAITS["medium" if eagerness == "auto" else eagerness]
    return {"complete": complete, "unsure": unsure, "incomplete": incomplete}[kind]
