"""Transcripts as values: `Transcript` (read from every response format, written as SRT / WebVTT,
joined across pieces, by speaker) and its `Segment`s and `Word`s.

Inside: `_transcript` (Transcript), `_segments` (Segment, Word, their times), `_flags` (Flag: where
not to trust it), `_subtitles` (SRT and WebVTT cues), `_wrapped` (formats relays wrap in JSON or
events), `_speaker_edits` (speakers put on segments from who-spoke-when turns, and a person's fixes:
reassign, merge), `_diff` (TranscriptDiff: a transcript against a reference, word by word).
"""

from ._diff import DiffWord, TranscriptDiff, timed_tokens, transcript_diff
from ._flags import FLAG_KINDS, Flag
from ._segments import Segment, Word, clamp_span
from ._speaker_edits import speaker_at
from ._transcript import Transcript

__all__ = ["FLAG_KINDS", "DiffWord", "Flag", "Segment", "Transcript", "TranscriptDiff", "Word", "clamp_span",
           "speaker_at", "timed_tokens", "transcript_diff"]
