"""Where not to trust a transcript: `Flag`s found from what the response carries (the decoder's
numbers per segment, word probabilities, segment languages) and from the audio's energy.

The thresholds start from Whisper's own (openai/whisper `transcribe()`): it treats a window as
silence when no_speech_prob > 0.6, and decodes again at a higher temperature when the text's
gzip compression ratio is over 2.4 (a loop: the same words over and over) or its mean token
log-probability under -1.0. A segment that still comes back past one of them is what Whisper
itself would not have trusted. A word is unsure under exp(-1.0) = 0.37, the probability of a token
at that same log-probability. What the energy adds (text over a stretch with no sound, sound with
no text) uses nbaudio.audio.activity's voiced frames.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._wire.languages import language_code
from .._wire.text import format_clock, shorten
from ..errors import AudioDecodeError

if TYPE_CHECKING:
    import numpy as np

    from ..audio import AudioClip
    from ._segments import Segment

__all__ = ["FLAG_KINDS", "Flag", "find_flags"]

NO_SPEECH_THRESHOLD = 0.6  # Whisper's no_speech_threshold
COMPRESSION_RATIO_THRESHOLD = 2.4  # Whisper's compression_ratio_threshold
LOGPROB_THRESHOLD = -1.0  # Whisper's logprob_threshold
WORD_PROBABILITY_THRESHOLD = math.exp(LOGPROB_THRESHOLD)
UNSURE_WORDS_SHARE = 0.25  # a segment is flagged when this share of its words (at least one) is unsure
# The audio (nbaudio.audio.activity): a segment with text over less than this share of voiced frames
# is text over silence or noise ...
SILENT_VOICED_SHARE = 0.1
# Segment times are loose: a short segment can sit in the pause beside its words, so only segments
# this long are judged (on AMI's tuning part the one wrong "silent" flag was a 0.44 s "Right.").
SILENT_MIN_SECONDS = 1.0
# ... and a sounding stretch this long, with this much voice in it, this little covered by segments,
# is speech that came back empty.
MISSED_MIN_SECONDS = 1.0
MISSED_MIN_VOICED = 0.5
MISSED_MAX_COVERED = 0.2
MISSED_JOIN_GAP = 0.3  # seconds: pauses shorter than this are inside one stretch
ANALYSIS_RATE = 16000
REPEAT_MIN_WORDS = 3  # a segment repeating the one before is a loop only past a short reply ("yes. yes.")

# Each kind, as the view counts it.
FLAG_KINDS = {
    "no_speech": "maybe made up over silence",
    "silent": "text over silence",
    "repetition": "repetitive text",
    "repeated": "repeats the segment before",
    "low_confidence": "low confidence",
    "unsure_words": "unsure words",
    "language": "another language",
    "missed_speech": "sound with no text",
}

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


@dataclass(frozen=True, slots=True)
class Flag:
    """A stretch of a transcript not to trust: `kind` (one of FLAG_KINDS), `start`/`end` seconds,
    `reason` in words, the `value` that tripped it, and the index of its `segment` in
    `transcript.segments` (None for sound no segment covers)."""

    kind: str
    start: float
    end: float
    reason: str
    value: float | str | None = None
    segment: int | None = None

    def short(self) -> str:
        """'0:12.3 repetition' (the text/plain form)."""
        return f"{format_clock(self.start, decimals=1)} {self.kind}"

    def __repr__(self) -> str:
        return f"<Flag {self.kind} {self.start:.2f}-{self.end:.2f} s: {self.reason}>"


def find_flags(segments: Sequence[Segment], *, language: str | None, audio: AudioClip | None,
               logprobs: list[dict[str, Any]] | None = None, duration: float | None = None) -> list[Flag]:
    """The flags of a transcript's `segments`, in time order. `language`: the one asked for (or else
    the transcript's), segments in another are flagged; `audio`: the clip, for the energy checks;
    `logprobs`: json's token log-probabilities, judged as a whole when there are no segments."""
    expected = language_code(language) if language else None
    flags: list[Flag] = []
    previous: list[str] | None = None
    for i, seg in enumerate(segments):
        words = _WORD.findall(seg.text.lower())
        if words:
            flags.extend(_decoder_flags(i, seg))
            flags.extend(_word_flags(i, seg))
            flags.extend(_language_flags(i, seg, expected))
            if previous == words and len(words) >= REPEAT_MIN_WORDS:
                flags.append(Flag("repeated", seg.start, seg.end, f"the same words as the segment before: "
                                  f"{shorten(seg.text.strip(), 40)!r}", seg.text.strip(), i))
        previous = words
    if not segments and logprobs:
        flags.extend(_token_flags(logprobs, duration))
    if audio is not None:
        flags.extend(_energy_flags(segments, audio))
    return sorted(flags, key=lambda f: (f.start, f.segment if f.segment is not None else -1))


def _decoder_flags(i: int, seg: Segment) -> list[Flag]:
    out = []
    if seg.no_speech_prob > NO_SPEECH_THRESHOLD:
        out.append(Flag("no_speech", seg.start, seg.end, f"no-speech probability {seg.no_speech_prob:.2f} "
                        f"(over {NO_SPEECH_THRESHOLD:g}): possibly made up over silence or noise",
                        seg.no_speech_prob, i))
    if seg.compression_ratio > COMPRESSION_RATIO_THRESHOLD:
        out.append(Flag("repetition", seg.start, seg.end, f"compression ratio {seg.compression_ratio:.2f} (over "
                        f"{COMPRESSION_RATIO_THRESHOLD:g}): repetitive text", seg.compression_ratio, i))
    if seg.avg_logprob < LOGPROB_THRESHOLD:
        out.append(Flag("low_confidence", seg.start, seg.end, f"average log-probability {seg.avg_logprob:.2f} "
                        f"(under {LOGPROB_THRESHOLD:g})", seg.avg_logprob, i))
    return out


def _word_flags(i: int, seg: Segment) -> list[Flag]:
    rated = [w for w in seg.words if w.probability is not None]
    unsure = [w for w in rated if w.probability < WORD_PROBABILITY_THRESHOLD]
    if not unsure or len(unsure) < UNSURE_WORDS_SHARE * len(rated):
        return []
    listed = ", ".join(f"{shorten(w.word.strip(), 24)!r} {w.probability:.2f}" for w in unsure[:5])
    more = f" and {len(unsure) - 5} more" if len(unsure) > 5 else ""
    return [Flag("unsure_words", seg.start, seg.end, f"{len(unsure)} of {len(rated)} words under probability "
                 f"{WORD_PROBABILITY_THRESHOLD:.2f}: {listed}{more}", min(w.probability for w in unsure), i)]


def _language_flags(i: int, seg: Segment, expected: str | None) -> list[Flag]:
    said = language_code(seg.language) if seg.language else None
    if expected is None or said is None or said == expected:
        return []
    return [Flag("language", seg.start, seg.end, f"sounds like {seg.language}, not {expected}", seg.language, i)]


def _token_flags(logprobs: list[dict[str, Any]], duration: float | None) -> list[Flag]:
    values = [lp.get("logprob") for lp in logprobs if isinstance(lp, dict)]
    values = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
    if not values:
        return []
    mean = sum(values) / len(values)
    if mean >= LOGPROB_THRESHOLD:
        return []
    return [Flag("low_confidence", 0.0, duration or 0.0, f"average token log-probability {mean:.2f} (under "
                 f"{LOGPROB_THRESHOLD:g}) over the whole text", mean)]


def _energy_flags(segments: Sequence[Segment], audio: AudioClip) -> list[Flag]:
    import numpy as np

    from ..audio.activity import FRAME_SECONDS, runs

    try:
        sounding, voiced = audio.cached(("nbaudio-activity",), lambda: _activity(audio))
    except AudioDecodeError:  # e.g. AAC without PyAV: the server read it, we cannot
        return []
    n = len(sounding)
    covered = np.zeros(n, dtype=bool)
    flags = []
    for i, seg in enumerate(segments):
        a = min(n, max(0, int(seg.start / FRAME_SECONDS)))
        b = min(n, max(a, int(math.ceil(seg.end / FRAME_SECONDS))))
        covered[a:b] = True
        if seg.end - seg.start >= SILENT_MIN_SECONDS and _WORD.search(seg.text):
            share = float(voiced[a:b].mean()) if b > a else 0.0
            if share < SILENT_VOICED_SHARE:
                flags.append(Flag("silent", seg.start, seg.end, f"text where hardly anything sounds like a voice "
                                  f"({share:.0%} of it is voiced)", share, i))
    for a, b in runs(sounding, join_gap=MISSED_JOIN_GAP):
        seconds = (b - a) * FRAME_SECONDS
        voice = float(voiced[a:b].sum()) * FRAME_SECONDS
        if seconds >= MISSED_MIN_SECONDS and voice >= MISSED_MIN_VOICED and covered[a:b].mean() <= MISSED_MAX_COVERED:
            flags.append(Flag("missed_speech", a * FRAME_SECONDS, b * FRAME_SECONDS,
                              f"{seconds:.1f} s of sound ({voice:.1f} s of it voiced) that no segment covers: speech "
                              "may have come back empty", seconds))
    return flags


def _activity(audio: AudioClip) -> tuple[np.ndarray, np.ndarray]:
    """(sounding frames, voiced frames) of the clip mixed to mono at 16 kHz (enough for a voice's pitch)."""
    from ..audio.activity import frame_levels, sounding_frames, voiced_frames

    mono = audio.mono().resample(ANALYSIS_RATE) if audio.sample_rate > ANALYSIS_RATE else audio.mono()
    return sounding_frames(frame_levels(mono.samples, mono.sample_rate)), voiced_frames(mono.samples, mono.sample_rate)
