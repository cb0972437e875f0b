"""`Transcript`: parsed from every transcription response format and rendered back to each of
them (the engine renders with the same code the client parses with).
Its pieces, `Segment` and `Word`, are in _segments, SRT / WebVTT cues in _subtitles."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .._wire.fields import MAX_SECONDS, Place, meta_number, meta_text, objects_field, parse_json
from .._wire.spec import TRANSCRIPTION_FORMATS
from .._wire.text import plural, shorten
from ..errors import APIResponseError, InvalidInputError, MissingDependencyError
from ..speakers import SpeakerStats, check_speaker_names, renamed_label, speaker_order, speaker_stats
from ._flags import Flag, find_flags
from ._segments import Segment, Word, attach_words, clamp_span, diarized_segment_id, segment_from_dict, word_from_dict
from ._speaker_edits import labelled_segments, merged_speakers, reassigned_segments, split_at_speakers, with_all_words
from ._subtitles import looks_like_cues, parse_cues, srt_text, vtt_body, vtt_text
from ._wrapped import unwrap_events, unwrap_text_body

if TYPE_CHECKING:
    from ..audio import AudioClip
    from ..pricing import Cost
    from ._diff import TranscriptDiff

__all__ = ["Transcript"]


@dataclass(slots=True, eq=False)
class Transcript:
    """A transcription or translation: text plus whatever timing the response carried.

    `audio` is the clip that was transcribed (kept by `transcribe()` so both display together).
    """

    text: str
    language: str | None = None
    duration: float | None = None
    segments: list[Segment] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    logprobs: list[dict[str, Any]] | None = None
    usage: dict[str, Any] | None = None
    task: str = "transcribe"
    audio: AudioClip | None = None
    raw: Any = None
    # A server's warning about this result (the local engine's: "translates French poorly"), shown beside it.
    warning: str | None = None
    # The language= the transcript was asked in (transcribe() sets it): segments in another are flagged.
    requested_language: str | None = None
    # The model asked for, and what the call cost (nbaudio.pricing.Cost: "unknown" when the usage or
    # the price is not known); transcribe() sets both, a transcript read from a body has neither.
    model: str | None = None
    cost: Cost | None = None

    # ---- parsing ----------------------------------------------------------------------
    @classmethod
    def from_response(
        cls, body: str | bytes | dict, response_format: str = "json", *, task: str = "transcribe"
    ) -> Transcript:
        """Parse a response body in any `response_format` (json, text, srt, vtt, verbose_json, diarized_json)."""
        if isinstance(body, bytes):
            body = body.decode("utf-8", errors="replace")
        if isinstance(body, dict):
            return cls._from_json(body, response_format, task)
        fmt = response_format
        stripped = body.lstrip("\ufeff \n\r\t")
        # Some servers answer JSON whatever was asked, others text; trust the body.
        if stripped.startswith("{"):
            try:
                data = parse_json(stripped)
            except ValueError as exc:
                if fmt in ("json", "verbose_json", "diarized_json"):
                    raise APIResponseError(f"transcription response is not valid JSON: {exc}") from None
            else:
                if isinstance(data, dict):
                    return cls._from_json(data, fmt, task)
        if fmt in ("json", "verbose_json", "diarized_json") and not stripped:
            raise APIResponseError("transcription response is empty")
        if stripped.startswith("WEBVTT") or fmt == "vtt":
            return cls.from_vtt(body, task=task)
        if fmt == "srt" or looks_like_cues(body):
            return cls.from_srt(body, task=task)
        return cls(text=body.strip(), task=task, raw=body)

    @classmethod
    def _from_json(cls, data: dict[str, Any], response_format: str, task: str) -> Transcript:
        # LiteLLM answers srt/vtt as {"text": "<the srt body>"}, and a streamed transcription as
        # {"text": "<the SSE events>"}: parse the inner body as what it is.
        events = unwrap_events(data)
        if events is not None:
            return cls.from_dict(events, task=task)
        inner = unwrap_text_body(data, response_format)
        if inner is None:
            return cls.from_dict(data, task=task)
        t = cls.from_response(inner, response_format, task=task)
        t.usage = data.get("usage") if isinstance(data.get("usage"), dict) else None
        return t

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, task: str = "transcribe") -> Transcript:
        """A Transcript from a JSON transcription body. Its text, segments and words must be what the
        API promises (else APIResponseError naming the field); language, duration, usage, logprobs and
        task are dropped when they are not (see nbaudio._wire.fields)."""
        if "text" not in data or not isinstance(data.get("text"), str):
            keys = ", ".join(map(str, data)) or "none"
            raise APIResponseError(f"transcription response has no 'text' field (keys: {keys})")
        place = Place("the transcription")
        words = [word_from_dict(w, at) for w, at in objects_field(data, "words", place)]
        segments = [segment_from_dict(s, i, at) for i, (s, at) in enumerate(objects_field(data, "segments", place))]
        if words and segments and not any(s.words for s in segments):
            attach_words(segments, words)
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else None
        duration = data.get("duration")
        if duration is None and usage is not None and usage.get("type") == "duration":
            duration = usage.get("seconds")
        duration = meta_number(duration)
        logprobs = data.get("logprobs")
        return cls(
            text=data["text"],
            language=meta_text(data.get("language")),
            duration=duration if duration is not None and 0 <= duration <= MAX_SECONDS else None,
            segments=segments,
            words=words,
            logprobs=logprobs if isinstance(logprobs, list) else None,
            usage=usage,
            task=meta_text(data.get("task")) or task,
            raw=data,
            warning=data["warning"] if isinstance(data.get("warning"), str) else None,
        )

    @classmethod
    def from_srt(cls, text: str, *, task: str = "transcribe") -> Transcript:
        return cls._from_cues(text, task=task)

    @classmethod
    def from_vtt(cls, text: str, *, task: str = "transcribe") -> Transcript:
        return cls._from_cues(vtt_body(text), task=task, raw=text)

    @classmethod
    def _from_cues(cls, text: str, *, task: str, raw: str | None = None) -> Transcript:
        segments = parse_cues(text)
        full = " ".join(s.text for s in segments)
        return cls(text=full, segments=segments, task=task, raw=raw if raw is not None else text,
                   duration=segments[-1].end if segments else None)

    # ---- derived ----------------------------------------------------------------------
    @property
    def flags(self) -> list[Flag]:
        """Where not to trust this transcript, in time order (nbaudio.transcript.Flag: kind, start, end,
        reason, value, segment index): segments the decoder itself doubted (no-speech probability,
        compression ratio, log-probability past Whisper's thresholds), unsure words, segments in
        another language than asked, a segment repeating the one before, and with `audio`, text over
        silence and sound that came back with no text. Computed from the segments each time it is read."""
        return find_flags(self.segments, language=self.requested_language or self.language, audio=self.audio,
                          logprobs=self.logprobs, duration=self.duration)

    @property
    def speakers(self) -> list[str]:
        """Speaker labels in order of first appearance (diarized output)."""
        return speaker_order(self.segments)

    def by_speaker(self) -> dict[str, SpeakerStats]:
        """{speaker: SpeakerStats(talk_time, turns, segments, words, share)}, in order of first appearance."""
        return speaker_stats(self.segments)

    def segments_for(self, speaker: str) -> list[Segment]:
        """The segments `speaker` said, in order (an unknown name raises, listing the speakers)."""
        if speaker not in self.speakers:
            listed = ", ".join(map(repr, self.speakers)) or "none: not a diarized transcript"
            raise InvalidInputError(f"{speaker!r} is not a speaker of this transcript (its speakers: {listed})",
                                    param="speaker")
        return [s for s in self.segments if s.speaker == speaker]

    def rename_speakers(self, mapping: dict[str, str]) -> Transcript:
        """A copy with speaker labels renamed, e.g. `{"A": "Alice", "B": "Bob"}`; two labels given
        the same name become one speaker. The audio is shared, not copied."""
        names = check_speaker_names(mapping, self.speakers)
        segs = [replace(s, speaker=renamed_label(s.speaker, names), words=list(s.words)) for s in self.segments]
        return replace(self, segments=segs, words=list(self.words))

    def with_speakers(self, turns: Any, *, split: bool | None = None) -> Transcript:
        """A copy whose segments are labelled from who-spoke-when `turns` ((start, end, speaker) tuples),
        such as `Client.diarize()` gives: `Client.relabel()` re-diarizes a transcript this way without
        transcribing it again. With `split` (the default when the segments have word times) segments
        are cut where the speaker changes; else each goes whole to the speaker who talks most in it."""
        segments = self.segments
        if self.words:  # every top-level word in a segment (attach_words drops those outside all of them)
            segments = with_all_words(segments, self.words)
        if split is None:
            split = any(s.words for s in segments)
        segs = split_at_speakers(segments, turns) if split else labelled_segments(segments, turns)
        return replace(self, segments=segs, words=[] if split else list(self.words))

    def reassign(self, segment: int, speaker: str) -> Transcript:
        """A copy in which `segments[segment]` is said by `speaker` (one already there or a new name):
        the fix for one turn diarization gave to the wrong voice."""
        return replace(self, segments=reassigned_segments(self.segments, segment, speaker), words=list(self.words))

    def merge_speakers(self, keep: str, *others: str) -> Transcript:
        """A copy in which the segments of `others` are said by `keep`, e.g. `merge_speakers("A", "C")` when
        diarization heard one person as two. (`rename_speakers` names them; this keeps one of the labels.)"""
        return replace(self, segments=merged_speakers(self.segments, keep, *others), words=list(self.words))

    def diff(self, reference: str | Transcript, *, language: str | None = None) -> TranscriptDiff:
        """This transcript against `reference` (the text that was said, or another transcript): its
        words aligned after Whisper's normaliser, substitutions, deletions and insertions marked,
        WER and CER; in a notebook each word plays the audio from its time. Needs `nbaudio[compare]`."""
        from ._diff import transcript_diff

        return transcript_diff(self, reference, language=language, hypothesis_label=self.model or "transcript")

    def all_words(self) -> list[Word]:
        """Word timestamps, from the top level or gathered from the segments."""
        if self.words:
            return list(self.words)
        return [w for s in self.segments for w in s.words]

    def shifted(self, offset: float) -> Transcript:
        """A copy with every time moved by `offset` seconds (for pieces of a longer file)."""
        segs = [
            replace(s, start=s.start + offset, end=s.end + offset,
                    words=[replace(w, start=w.start + offset, end=w.end + offset) for w in s.words])
            for s in self.segments
        ]
        words = [replace(w, start=w.start + offset, end=w.end + offset) for w in self.words]
        return replace(self, segments=segs, words=words)

    @classmethod
    def join(cls, pieces: Iterable[tuple[float, Transcript]], *, audio: AudioClip | None = None) -> Transcript:
        """One transcript from pieces at offsets (seconds) in a longer file.

        Each piece's times are kept within the piece (its duration, when known, and the next
        piece's offset): a server's segments can run past the end of the audio it was sent, and
        joined as they are they would overlap the next piece's.
        """
        ordered = sorted(pieces, key=lambda p: p[0])
        segments: list[Segment] = []
        words: list[Word] = []
        texts, langs, logprobs = [], [], []
        duration = 0.0
        task = "transcribe"
        for i, (offset, t) in enumerate(ordered):
            limits = [offset + t.duration] if t.duration else []
            if i + 1 < len(ordered):
                limits.append(ordered[i + 1][0])
            elif audio is not None:
                limits.append(audio.duration)
            s = _clamped(t.shifted(offset), offset, min(limits) if limits else None)
            for seg in s.segments:
                seg.id = len(segments)
                segments.append(seg)
            words.extend(s.words)
            if t.text.strip():
                texts.append(t.text.strip())
            if t.language:
                langs.append(t.language)
            if t.logprobs:
                logprobs.extend(t.logprobs)
            duration = max(duration, offset + (t.duration or 0.0))
            task = t.task
        return cls(
            text=" ".join(texts), language=max(set(langs), key=langs.count) if langs else None,
            duration=audio.duration if audio is not None else (duration or None), segments=segments, words=words,
            logprobs=logprobs or None, task=task, audio=audio,
        )

    # ---- rendering --------------------------------------------------------------------
    def to_dict(self, response_format: str = "verbose_json") -> dict[str, Any]:
        """The JSON body of `json`, `verbose_json` or `diarized_json`."""
        if response_format == "json":
            d: dict[str, Any] = {"text": self.text}
            if self.logprobs is not None:
                d["logprobs"] = self.logprobs
            if self.usage is not None:
                d["usage"] = self.usage
            return d
        if response_format == "diarized_json":
            d = {
                "task": "transcribe", "duration": self.duration or 0.0, "text": self.text,
                "segments": [
                    {"type": "transcript.text.segment", "id": diarized_segment_id(s.id), "start": s.start, "end": s.end,
                     "text": s.text, "speaker": s.speaker or "A"}
                    for s in self.segments
                ],
            }
            if self.usage is not None:
                d["usage"] = self.usage
            return d
        if response_format != "verbose_json":
            raise InvalidInputError(f"{response_format!r} is not a JSON transcription format")
        d = {"task": self.task, "language": self.language or "", "duration": self.duration or 0.0, "text": self.text}
        if self.words:
            d["words"] = [w.to_dict() for w in self.words]
        d["segments"] = [s.to_dict() for s in self.segments]
        if self.usage is not None:
            d["usage"] = self.usage
        return d

    def render(self, response_format: str) -> tuple[str, str]:
        """(body, media type) for a response in `response_format`."""
        if response_format not in TRANSCRIPTION_FORMATS:
            raise InvalidInputError(f"unknown response_format {response_format!r}; "
                                    f"use one of {', '.join(TRANSCRIPTION_FORMATS)}")
        if response_format == "text":
            return self.text + "\n", "text/plain; charset=utf-8"
        if response_format == "srt":
            return self.to_srt(), "text/plain; charset=utf-8"
        if response_format == "vtt":
            return self.to_vtt(), "text/vtt; charset=utf-8"
        return json.dumps(self.to_dict(response_format), ensure_ascii=False), "application/json"

    def _cues(self) -> list[Segment]:
        if self.segments:
            return self.segments
        if self.text:
            return [Segment(id=0, start=0.0, end=self.duration or 0.0, text=self.text)]
        return []

    def to_srt(self) -> str:
        """SubRip subtitles, one cue per segment."""
        return srt_text(self._cues())

    def to_vtt(self) -> str:
        """WebVTT subtitles, one cue per segment (speakers as <v> voice spans)."""
        return vtt_text(self._cues())

    def to_dataframe(self):
        """Segments as a pandas DataFrame (start, end, duration, speaker, text); pandas is optional."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("to_dataframe() needs pandas, which nbaudio does not install: "
                                         "pip install pandas") from None
        return pd.DataFrame(
            [{"start": s.start, "end": s.end, "duration": s.end - s.start, "speaker": s.speaker,
              "text": s.text.strip()} for s in self._cues()],
            columns=["start", "end", "duration", "speaker", "text"],
        )

    # ---- display ----------------------------------------------------------------------
    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        bits = [repr(shorten(self.text))]
        if self.language:
            bits.append(self.language)
        if self.duration is not None:
            bits.append(f"{self.duration:.2f} s")
        if self.segments:
            bits.append(plural(len(self.segments), "segment"))
        if self.words:
            bits.append(plural(len(self.words), "word"))
        if self.warning:
            bits.append("(with a warning: see .warning)")
        flags = self.flags
        if flags:
            shown = ", ".join(f.short() for f in flags[:3]) + (", ..." if len(flags) > 3 else "")
            bits.append(f"{plural(len(flags), 'flag')} ({shown}: see .flags)")
        return f"<Transcript {' '.join(bits)}>"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        from ..display import mimebundle

        return mimebundle(self, include=include, exclude=exclude)


def _clamped(t: Transcript, lo: float, hi: float | None) -> Transcript:
    """`t` with every start and end moved into [lo, hi] (start <= end); changed in place."""
    def clamp(x: Segment | Word) -> None:
        x.start, x.end = clamp_span(x.start, x.end, lo, hi)

    for seg in t.segments:
        clamp(seg)
        for w in seg.words:
            clamp(w)
    for w in t.words:
        clamp(w)
    return t
