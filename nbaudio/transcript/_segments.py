"""`Segment` and `Word`: the timed pieces of a transcript, their JSON shapes and one clamp rule;
the transcript and its SRT/VTT form both build on them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._wire.fields import Place, meta_count, meta_number, meta_text, objects_field, seconds_field, text_field
from .._wire.text import shorten

__all__ = ["Word", "Segment", "clamp_span", "word_from_dict", "segment_from_dict", "attach_words",
           "diarized_segment_id"]


@dataclass(slots=True)
class Word:
    word: str
    start: float
    end: float
    probability: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"word": self.word, "start": self.start, "end": self.end}
        if self.probability is not None:
            d["probability"] = self.probability
        return d

    def __repr__(self) -> str:
        return f"<Word {self.word!r} {self.start:.2f}-{self.end:.2f} s>"


@dataclass(slots=True)
class Segment:
    id: int | str
    start: float
    end: float
    text: str
    speaker: str | None = None
    words: list[Word] = field(default_factory=list)
    seek: int = 0
    tokens: list[int] = field(default_factory=list)
    temperature: float = 0.0
    avg_logprob: float = 0.0
    compression_ratio: float = 0.0
    no_speech_prob: float = 0.0
    # The language the segment was heard in (verbose_json's name, "german"), when the server says:
    # nbaudio's engine does, per segment, so a recording that changes language shows where.
    language: str | None = None

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        """The verbose_json TranscriptionSegment shape (plus `speaker` and `language` when known)."""
        d: dict[str, Any] = {
            "id": self.id if isinstance(self.id, int) else _index(self.id), "seek": self.seek,
            "start": self.start, "end": self.end, "text": self.text,
            "tokens": list(self.tokens), "temperature": self.temperature, "avg_logprob": self.avg_logprob,
            "compression_ratio": self.compression_ratio, "no_speech_prob": self.no_speech_prob,
        }
        if self.speaker is not None:
            d["speaker"] = self.speaker
        if self.language is not None:
            d["language"] = self.language
        return d

    def __repr__(self) -> str:
        who = f" {self.speaker}:" if self.speaker else ""
        return f"<Segment {self.start:.2f}-{self.end:.2f} s{who} {shorten(self.text, 40)!r}>"


def clamp_span(start: float, end: float, lo: float = 0.0, hi: float | None = None) -> tuple[float, float]:
    """(start, end) moved into [lo, hi] (no upper bound when hi is None), with start <= end.

    One rule for the engine (times within the audio) and `Transcript.join` (within each piece)."""
    start = max(lo, start) if hi is None else min(max(lo, start), hi)
    end = max(start, end) if hi is None else min(max(start, end), hi)
    return start, end


def word_from_dict(w: dict[str, Any], place: Place | None = None) -> Word:
    """A Word from a response's `{"word", "start", "end", "probability"}` (APIResponseError, naming the
    field, when one is not what the API promises: see nbaudio._wire.fields)."""
    place = place or Place("the transcription's word")
    return Word(word=text_field(w, "word", place) or "", start=seconds_field(w, "start", place),
                end=seconds_field(w, "end", place), probability=meta_number(w.get("probability")))


def segment_from_dict(s: dict[str, Any], index: int, place: Place | None = None) -> Segment:
    """A Segment from a response's verbose_json / diarized_json segment (`index` when it has no id).
    Its text, times, speaker and words must be what the API promises (else APIResponseError naming
    the field); the decoder's numbers (seek, tokens, avg_logprob...) are dropped when they are not."""
    place = place or Place("the transcription's segment")
    segment_id = s.get("id")
    if not isinstance(segment_id, str):
        segment_id = meta_count(segment_id)
    tokens = s.get("tokens")
    tokens = [meta_count(t) for t in tokens] if isinstance(tokens, list) else []
    return Segment(
        id=segment_id if segment_id is not None else index,
        start=seconds_field(s, "start", place),
        end=seconds_field(s, "end", place),
        text=text_field(s, "text", place) or "",
        speaker=text_field(s, "speaker", place),
        words=[word_from_dict(w, at) for w, at in objects_field(s, "words", place)],
        seek=meta_count(s.get("seek")) or 0,
        tokens=[] if None in tokens else tokens,
        temperature=meta_number(s.get("temperature")) or 0.0,
        avg_logprob=meta_number(s.get("avg_logprob")) or 0.0,
        compression_ratio=meta_number(s.get("compression_ratio")) or 0.0,
        no_speech_prob=meta_number(s.get("no_speech_prob")) or 0.0,
        language=meta_text(s.get("language")),
    )


def attach_words(segments: list[Segment], words: list[Word]) -> None:
    """Give each segment the top-level words that fall inside it (for display)."""
    i = 0
    for seg in segments:
        while i < len(words) and words[i].start < seg.end - 1e-6:
            if words[i].start >= seg.start - 0.05:
                seg.words.append(words[i])
            i += 1


def diarized_segment_id(segment_id: int | str) -> str:
    """diarized_json's string id ("seg_3") for any segment id."""
    return segment_id if isinstance(segment_id, str) and segment_id.startswith("seg_") else f"seg_{segment_id}"


def _index(segment_id: str) -> int:
    """verbose_json's integer id for a diarized one ("seg_3" -> 3)."""
    digits = "".join(c for c in str(segment_id) if c.isdigit())
    return int(digits) if digits else 0
