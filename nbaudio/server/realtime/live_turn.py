"""One turn of a transcription session while it is spoken: its audio decoded again each time it has
grown by STEP_S (faster-whisper, words with times), the words two decodes agree on sent at once
(stable_words.py) as provisional words, and when it ends one decode of all of it gives the final
transcript.

A decode does not start from the turn's beginning but at a pause or clause end at least
CONTEXT_WORDS stable words before the last one (`anchor`), with the stable text before that as
Whisper's prompt, and its encoder sees only that audio (short_window.py): the stable words are
sent already, so decoding them again would only make each decode longer as the turn goes on
(quadratic in the turn's length). The words of the context it hears again are dropped by
stable_words.py. The last decode is of the whole turn, with the full transcription's beam search
and checks: the quick decodes make the deltas fast, this one makes the completed transcript right
(benchmarks/NOTES.md, "Caption lag").

Decodes run in worker threads, one at a time per turn (a decode still running when the audio has
grown again is not joined by another: the next starts when it ends, on all the audio there is
then, never on a backlog). A turn that goes on past MAX_TURN_S without a pause is cut at the end
of its last stable word (transcription.py commits that part).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..._wire.realtime import BYTES_PER_MS, SAMPLE_RATE
from ...codec import resample
from ..api_errors import model_unavailable
from ..catalog.weights import WeightError
from ..engine import Engine
from ..models.stt import SAMPLE_RATE as WHISPER_RATE
from ..models.stt import SttRequest
from ..transcribe import transcribe
from .short_window import MAX_SECONDS, greedy_words
from .stable_words import Agreement, Word

__all__ = ["LiveTurn", "decode_words", "STEP_S", "MAX_TURN_S", "logprobs_of", "words_of"]

STEP_S = 0.3  # new audio after which the turn is decoded again (a word is checked against one GAP_S back)
MAX_TURN_S = 15.0  # a turn longer than this is cut at its last stable word
_MIN_DECODE_S = 0.5  # less audio than this holds no word worth a hypothesis
SHORT_WINDOW_S = MAX_SECONDS  # a quick decode of up to this much audio runs the encoder on it alone
DETECT_S = 2.0  # without a session language, quick decodes wait until Whisper found it on this much audio
CONTEXT_WORDS = 2  # stable words a decode hears again: Whisper starts better a few words before the new ones
_PAUSE_S = 0.15  # a gap this long between two stable words is a place a decode may start
_CLAUSE_ENDS = ".,;:?!"
_PROMPT_WORDS = 40  # stable words before the anchor given as the prompt (Whisper takes ~220 tokens)


def decode_words(engine: Engine, pcm: bytes, language: str | None, prompt: str | None, *,
                 quick: bool = False) -> tuple[list[Word], str]:
    """(the words of pcm16 at 24 kHz with their times, the language Whisper decoded it in).

    `quick` (a hypothesis of a turn still spoken, in a known language): one greedy pass of the
    model over the audio, without the checks and second passes of a whole transcription, which
    the decode of the finished turn has, and without padding the audio to Whisper's 30 s."""
    samples = resample(np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0, SAMPLE_RATE, WHISPER_RATE)
    if not quick or not language:
        segments, meta = transcribe(engine, SttRequest(samples, language=language, prompt=prompt, words=True))
        return [Word(w["word"], float(w["start"]), float(w["end"]), float(w.get("probability", 1.0)))
                for s in list(segments) for w in s.words], str(meta.get("language") or "")
    try:
        whisper = engine.models.whisper("en" if language == "en" else "multi")
    except WeightError as exc:
        raise model_unavailable("speech-to-text model", exc) from None
    with whisper.slots:
        if len(samples) <= SHORT_WINDOW_S * WHISPER_RATE:  # the encoder on this audio only (short_window.py)
            return greedy_words(whisper.model, samples, language, prompt), language
        gen, _ = whisper.model.transcribe(samples, language=language if whisper.multilingual else None, beam_size=1,
                                          word_timestamps=True, condition_on_previous_text=False,
                                          initial_prompt=prompt or None)
        words = [Word(w.word, float(w.start), float(w.end), float(w.probability)) for s in gen for w in s.words or ()]
    return words, language


def logprobs_of(words: list[Word]) -> list[dict[str, Any]]:
    """`logprobs` for words: one entry per word, Whisper's word probability as a natural log."""
    return [{"token": w.text, "logprob": math.log(max(w.probability, 1e-12)), "bytes": list(w.text.encode("utf-8"))}
            for w in words]


def words_of(words: list[Word]) -> list[dict[str, Any]]:
    """The words of a completed event (nbaudio's `words`: seconds from the start of the item's audio)."""
    return [{"word": w.text.strip(), "start": round(w.start, 3), "end": round(w.end, 3)} for w in words]


@dataclass
class LiveTurn:
    """A turn being spoken: `item_id`, where its audio starts (bytes into the session's audio) and
    its agreed words. `send(turn, words)` is called with each run of newly stable words."""

    item_id: str
    start: int
    send: Callable[[LiveTurn, list[Word]], None]
    agreement: Agreement = field(default_factory=Agreement)
    decoded: int = 0  # bytes of the turn's audio the last decode started with
    decodes: int = 0  # decodes of this turn so far, and the seconds of audio they took in
    decoded_seconds: float = 0.0
    decoding: asyncio.Task | None = None
    ended: bool = False  # committed: later decodes of the running kind are of no use
    sent_any: bool = False  # a delta went out (the first is sent without its leading space)
    language: str = ""  # when the session gave none: the language Whisper found, on `language_seconds` of audio
    language_seconds: float = 0.0

    def wants_decode(self, have: int) -> bool:
        """Whether `have` bytes of the turn's audio are worth another decode now."""
        return (not self.ended and self.decoding is None and have >= _MIN_DECODE_S * 1000 * BYTES_PER_MS
                and have - self.decoded >= STEP_S * 1000 * BYTES_PER_MS)

    def anchor(self) -> tuple[int, str]:
        """(where the next decode starts, in bytes into the turn; the stable text before it, its prompt):
        the end of the latest stable word, CONTEXT_WORDS or more before the last, that is followed by
        a pause or ends a clause. Not just any word's end: Whisper's word times are a few hundredths
        of a second off, and audio that starts inside a word is decoded badly (it may give no more
        than the rest of that word)."""
        stable = self.agreement.stable
        for k in range(len(stable) - CONTEXT_WORDS, 0, -1):
            word, after = stable[k - 1], stable[k]
            if after.start - word.end >= _PAUSE_S or word.text.rstrip()[-1:] in _CLAUSE_ENDS:
                at = int(word.end * 1000) * BYTES_PER_MS
                return at, "".join(w.text for w in stable[max(0, k - _PROMPT_WORDS):k]).strip()
        return 0, ""

    def _known_language(self, language: str | None) -> str | None:
        """The session's language, else the one Whisper found once it had DETECT_S of audio to go
        on (on the first half second French came back as English); None: a decode must find it
        (a whole transcription, not a quick one)."""
        return language or (self.language if self.language_seconds >= DETECT_S else None)

    async def _decode_from_anchor(self, engine: Engine, pcm: bytes, language: str | None,
                                  prompt: str | None) -> list[Word]:
        """A quick decode's words of the turn's audio `pcm` from the anchor on, with times from the turn's start."""
        at, said = self.anchor()
        at = min(at, max(0, len(pcm) - int(_MIN_DECODE_S * 1000) * BYTES_PER_MS))
        offset = at / (1000 * BYTES_PER_MS)
        seconds = (len(pcm) - at) / (1000 * BYTES_PER_MS)
        self.decodes += 1
        self.decoded_seconds += seconds
        known = self._known_language(language)
        words, heard = await asyncio.to_thread(
            decode_words, engine, pcm[at:], known, " ".join(p for p in (prompt, said) if p) or None,
            quick=known is not None)
        if not known and heard and seconds >= self.language_seconds:
            self.language, self.language_seconds = heard, seconds
        return [Word(w.text, w.start + offset, w.end + offset, w.probability) for w in words]

    async def decode(self, engine: Engine, pcm: bytes, language: str | None, prompt: str | None) -> None:
        """Decode the turn so far (`pcm`, all of its audio now) and send what became stable."""
        self.decoded = len(pcm)
        try:
            words = await self._decode_from_anchor(engine, pcm, language, prompt)
        finally:
            self.decoding = None
        if not self.ended:
            agreed = self.agreement.update(words, len(pcm) / (1000 * BYTES_PER_MS))
            if agreed:
                self.send(self, agreed)

    async def finish(self, engine: Engine, pcm: bytes, language: str | None, prompt: str | None) -> list[Word]:
        """The turn ended with `pcm`: wait for a decode under way; send the words not sent yet from a
        quick decode from the anchor at once (when the language is known: they are the turn's last
        words, which would otherwise wait for the slow decode below); then decode the whole turn
        (the full transcription, with its beam search and checks) and send as deltas any words it
        has after those. Returns the whole decode's words, the turn's final transcript. It may
        differ from what the deltas added up to: they are the quick decodes' best guess, this one
        hears all of the turn at once (the hosted models' completed transcript is the final one in
        the same way)."""
        if self.decoding is not None:
            await asyncio.gather(self.decoding, return_exceptions=True)  # its stable words go out first
        self.ended = True
        if self._known_language(language):
            rest = self.agreement.finish(await self._decode_from_anchor(engine, pcm, language, prompt))
            if rest:
                self.send(self, rest)
        self.decodes += 1
        self.decoded_seconds += len(pcm) / (1000 * BYTES_PER_MS)
        words, heard = await asyncio.to_thread(decode_words, engine, pcm, language, prompt)  # none: found on all of it
        self.language = heard or self.language
        rest = self.agreement.finish(words)
        if rest:
            self.send(self, rest)
        return words

    def cut_point(self, have: int) -> int | None:
        """Where to cut a turn that has gone on too long (bytes into the turn, at the end of its last
        stable word), or None while it may go on."""
        if have < MAX_TURN_S * 1000 * BYTES_PER_MS or not self.agreement.stable:
            return None
        cut = int(self.agreement.stable_end * 1000) * BYTES_PER_MS
        return cut if cut >= _MIN_DECODE_S * 1000 * BYTES_PER_MS else None
