"""`Segment` and `Word`: the timed pieces of a transcript, their JSON shapes and one clamp rule.

Here, below `nbaudio.transcript` (which re-exports them) and `nbaudio.subtitles`, so that both the
transcript and its SRT/VTT form build on the same two types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .text import shorten

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

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        """The verbose_json TranscriptionSegment shape (plus `speaker` when the segment has one)."""
        d: dict[str, Any] = {
            "id": self.id if isinstance(self.id, int) else _index(self.id), "seek": self.seek,
            "start": self.start, "end": self.end, "text": self.text,
            "tokens": list(self.tokens), "temperature": self.temperature, "avg_logprob": self.avg_logprob,
            "compression_ratio": self.compression_ratio, "no_speech_prob": self.no_speech_prob,
        }
        if self.speaker is not None:
            d["speaker"] = self.speaker
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


def word_from_dict(w: dict[str, Any]) -> Word:
    """A Word from a response's `{"word", "start", "end", "probability"}`."""
    return Word(word=str(w.get("word", "")), start=float(w.get("start", 0.0)), end=float(w.get("end", 0.0)),
                probability=w.get("probability"))


def segment_from_dict(s: dict[str, Any], index: int) -> Segment:
    """A Segment from a response's verbose_json / diarized_json segment (`index` when it has no id)."""
    return Segment(
        id=s.get("id", index),
        start=float(s.get("start", 0.0)),
        end=float(s.get("end", 0.0)),
        text=str(s.get("text", "")),
        speaker=s.get("speaker"),
        words=[word_from_dict(w) for w in s.get("words") or []],
        seek=int(s.get("seek", 0) or 0),
        tokens=list(s.get("tokens") or []),
        temperature=float(s.get("temperature", 0.0) or 0.0),
        avg_logprob=float(s.get("avg_logprob", 0.0) or 0.0),
        compression_ratio=float(s.get("compression_ratio", 0.0) or 0.0),
        no_speech_prob=float(s.get("no_speech_prob", 0.0) or 0.0),
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
