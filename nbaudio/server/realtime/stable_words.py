"""Which words of a turn still being spoken are stable enough to send as transcription deltas.

The turn's audio is decoded again every time it has grown by a step (transcription.py); each
decode is a hypothesis of the whole turn so far, and its last words change as more audio comes.
A word is taken as stable (sent as a delta) when the newest decode and an earlier one agree on it
and on every word before it (LocalAgreement, as whisper_streaming does: Macháček, Dabre and Bojar,
"Turning Whisper into Real-Time Transcription System", 2023), it ends at least MARGIN_S before
the end of the audio decoded (Whisper's last word before a cut is the one most often wrong or cut
in two), and Whisper gave it a probability of at least MIN_PROBABILITY. The earlier decode is the
latest one with at least GAP_S less audio, not simply the one before: two decodes of nearly the
same audio agree on the same wrong word too often, and decoding every STEP_S (live_turn.py) while
checking against GAP_S back gets the words out sooner than decoding every GAP_S. Words are
compared without case or punctuation ("Paris," and "Paris." agree); the newer decode's spelling is
the one sent. When the turn ends, its last decode settles the rest (`finish`); the completed
transcript is that whole decode, which may correct a stable word. Times are seconds from the start
of the turn's audio. How the four settings were chosen: benchmarks/NOTES.md, "Caption lag".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Word", "Agreement", "MARGIN_S"]

MARGIN_S = 0.3
MIN_PROBABILITY = 0.3  # a word Whisper is less sure of than this waits for the turn's end
GAP_S = 0.6  # the earlier decode a word must agree with has at least this much less audio
_OVERLAP_WORDS = 5  # a decode from a later anchor may repeat this many stable words; they are not new
_EARLY_S = 0.1  # a new word may start this much before the end of the last stable one (Whisper's times wobble)


@dataclass(frozen=True)
class Word:
    """One word as Whisper gave it (`text` with its leading space) and its probability."""

    text: str
    start: float
    end: float
    probability: float = 1.0

    @property
    def key(self) -> str:
        """What two decodes must agree on: the word without case or punctuation."""
        return re.sub(r"[^\w']", "", self.text.lower())


@dataclass
class Agreement:
    """The stable words of one turn so far; `update()` with each decode, `finish()` with the last."""

    stable: list[Word] = field(default_factory=list)
    _earlier: list[tuple[float, list[Word]]] = field(default_factory=list)  # (decoded_until, words) of past decodes

    @property
    def stable_end(self) -> float:
        return self.stable[-1].end if self.stable else 0.0

    def _after_stable(self, words: list[Word]) -> list[Word]:
        """A decode's words that come after the stable ones (by time, then without a repeat of the
        stable tail: a decode from a later anchor hears its last words again)."""
        new = [w for w in words if w.key and w.start >= self.stable_end - _EARLY_S]
        for n in range(min(_OVERLAP_WORDS, len(self.stable), len(new)), 0, -1):
            if [w.key for w in self.stable[-n:]] == [w.key for w in new[:n]]:
                return new[n:]
        return new

    def update(self, words: list[Word], decoded_until: float) -> list[Word]:
        """Take a decode of the turn's first `decoded_until` seconds; return the words that became
        stable with it (in order, to send now)."""
        new = self._after_stable(words)
        # The latest decode with at least GAP_S less audio; those before it can never be that again
        # (a later decode has more audio still), so they go.
        k = next((i for i in range(len(self._earlier) - 1, -1, -1) if self._earlier[i][0] <= decoded_until - GAP_S),
                 None)
        before = self._after_stable(self._earlier[k][1]) if k is not None else []
        agreed = []
        for was, now in zip(before, new, strict=False):
            if was.key != now.key or now.end > decoded_until - MARGIN_S or now.probability < MIN_PROBABILITY:
                break
            agreed.append(now)
        self.stable += agreed
        self._earlier = self._earlier[k or 0:] + [(decoded_until, words)]
        return agreed

    def finish(self, words: list[Word]) -> list[Word]:
        """Take a last decode of the turn: its words after the stable ones are stable too."""
        rest = self._after_stable(words)
        self.stable += rest
        self._earlier = []
        return rest

    @property
    def text(self) -> str:
        return "".join(w.text for w in self.stable).strip()
