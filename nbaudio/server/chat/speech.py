"""The assistant's words as speech: sentence by sentence, each in the voice its language needs,
and where a streamed reply may start speaking before its first sentence is complete."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

from ..._wire.spec import PCM_SAMPLE_RATE
from ...audio import AudioClip
from ...codec import resample
from ...longform import complete_sentences, split_sentences
from ..engine import Engine
from ..voices import plan_voice

__all__ = ["synthesize", "speak_all", "first_phrase", "FIRST_PHRASE_WORDS", "FIRST_PHRASE_MAX_WORDS", "SpeakingPace",
           "speech_samples"]

# A streamed reply starts speaking at its first phrase of a few words instead of waiting for the
# first whole sentence (often a third of a short reply): after a comma or dash, or before a word
# that opens a clause or the predicate ("The capital of France | is Paris."; English; other
# languages wait for the sentence). The first audio comes about twice as soon, at the cost of one
# phrase-final intonation (docs/benchmarks.md); before the verb, piper made the phrase's speech in
# 0.69 s instead of the sentence's 1.07 s on loaded cores.
_PHRASE_END = re.compile(r"(?<=[,;:\u2013\u2014])\s+|\s+(?=(?:and|but|or|so|because|that|which|who|when|while|"
                         r"where|if|with|is|are|was|were|has|have|had|will|would|can|could)\s)")
# The first phrase may be short ("Once upon a time,", "Well, yes,"): its speech is made sooner, and
# the rest of the sentence is ready long before it has played (piper made "Once upon a time," in
# 0.53 s and "Once upon a time, there was a dragon named Erebo" in 1.75 s on loaded cores). Later,
# a long sentence is cut into clauses of LATER_PHRASE_WORDS or more, which sound less choppy.
FIRST_PHRASE_WORDS = 3
LATER_PHRASE_WORDS = 5
# A phrase longer than this is not waited for: a story's "The dragon who guarded the mountain of
# gold was a legendary creature with scales" has no clause boundary until its 12th word, and its
# speech takes as long again to make, so the reply stayed silent for seconds on a loaded machine.
# Such a run of words is cut before a word that often opens a new part of it (a verb, a
# preposition: "…of gold | was a…"), or at the limit.
FIRST_PHRASE_MAX_WORDS = 10
_SOFT_START = frozenset("is was were are had has have will would could can in on at from near into over under "
                        "through after before during across between behind beyond around along against without "
                        "upon for to there".split())
_WORD = re.compile(r"\S+(?=\s)")  # a word known to be whole: whitespace follows it
# Later in a reply, a sentence this long is spoken clause by clause, so the next piece of speech is
# ready before the one playing ends.
LONG_SENTENCE_WORDS = 20


def first_phrase(text: str, least: int = FIRST_PHRASE_WORDS) -> tuple[str, str]:
    """(the first phrase, the rest), or ("", text) while none is ready: at least `least` words up
    to a clause boundary, at most `FIRST_PHRASE_MAX_WORDS`."""
    for m in _PHRASE_END.finditer(text):
        words = len(text[: m.start()].split())
        if words > FIRST_PHRASE_MAX_WORDS:
            break
        if words >= least:
            return text[: m.end()], text[m.end():]
    words = list(_WORD.finditer(text))
    if len(words) <= FIRST_PHRASE_MAX_WORDS:
        return "", text
    cut = FIRST_PHRASE_MAX_WORDS
    for n in range(least, FIRST_PHRASE_MAX_WORDS + 1):  # a phrase of n words, words[n] after it
        if words[n].group().lower().strip("\"'(") in _SOFT_START:
            cut = n
    return text[: words[cut].start()], text[words[cut].start():]


class SpeakingPace:
    """When to speak a reply whose text is still streaming: its first phrase as soon as it exists
    (`first_phrase`), then each whole sentence (a long one clause by clause); the rest at the end.
    One home for the chat stream (routes/chat.py) and Realtime responses (realtime/responder.py)."""

    def __init__(self) -> None:
        self.pending = ""
        self.started = False

    def feed(self, delta: str) -> str:
        """The text to speak now that `delta` arrived ("" when nothing is ready yet)."""
        ready, self.pending = complete_sentences(self.pending + delta)
        if not ready and not self.started:
            ready, self.pending = first_phrase(self.pending)
        elif not ready and len(self.pending.split()) >= LONG_SENTENCE_WORDS:
            ready, self.pending = first_phrase(self.pending, LATER_PHRASE_WORDS)
        self.started = self.started or bool(ready)
        return ready

    def rest(self) -> str:
        """What is left to speak when the text has ended ("" when only whitespace is)."""
        rest, self.pending = self.pending, ""
        return rest if rest.strip() else ""


def synthesize(engine: Engine, voice: str, text: str) -> Iterator[tuple[np.ndarray, int]]:
    """(samples, rate) per sentence, each sentence in the voice its language needs."""
    for sentence in split_sentences(text):
        plan = plan_voice(engine, voice, sentence, 1.0, param="audio.voice")
        for audio in plan.synthesize(sentence):
            yield audio, plan.rate


def speech_samples(engine: Engine, voice: str, speed: float, text: str, rate: int, param: str) -> list[np.ndarray]:
    """`text` as float samples at `rate`, a piece per sentence, each in the voice its language needs
    (`param` names the voice setting in the error of a voice that does not exist)."""
    out = []
    for sentence in split_sentences(text):
        plan = plan_voice(engine, voice, sentence, speed, param=param)
        out += [resample(audio, plan.rate, rate) for audio in plan.synthesize(sentence)]
    return out


def speak_all(engine: Engine, voice: str, text: str, fmt: str) -> tuple[str, float]:
    """The whole answer as base64 audio in `fmt` (a chat audio format), and its length in seconds."""
    rate = None
    parts = []
    for audio, r in synthesize(engine, voice, text or "…"):
        if rate is None:
            rate = r
        parts.append(audio if r == rate else resample(audio, r, rate))
    if not parts:
        rate, parts = PCM_SAMPLE_RATE, [np.zeros(PCM_SAMPLE_RATE // 10, dtype=np.float32)]
    samples = np.concatenate(parts)
    clip = AudioClip.from_array(samples, rate, format="wav")
    encoded = clip.encode("pcm" if fmt == "pcm16" else fmt)
    return encoded.to_base64(), len(samples) / rate
