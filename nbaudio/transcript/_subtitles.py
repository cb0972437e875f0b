"""SubRip (SRT) and WebVTT: cues read into `Segment`s and segments written as cues (speakers as
"A: text" in SRT and as `<v A>` voice spans in WebVTT).

`Transcript.from_srt` / `from_vtt` / `to_srt` / `to_vtt` are built on these; the engine renders
with the same code the client parses with.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .._wire.text import format_timestamp, parse_timestamp
from ._segments import Segment

__all__ = ["looks_like_cues", "parse_cues", "vtt_body", "srt_text", "vtt_text"]

_CUE_RE = re.compile(
    r"(?P<start>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*(?P<end>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})[^\n]*\n(?P<text>.*?)(?:\n\s*\n|\Z)",
    re.DOTALL,
)
_VTT_VOICE_RE = re.compile(r"^<v(?:\.[^ >]*)?\s+([^>]+)>(.*?)(?:</v>)?$", re.DOTALL)


def looks_like_cues(text: str) -> bool:
    """Whether `text` holds at least one "00:00:01,000 --> 00:00:02,000" cue."""
    return _CUE_RE.search(text) is not None


def vtt_body(text: str) -> str:
    """A WebVTT file without its header block (the "WEBVTT" line and what follows it up to the first blank line)."""
    body = text.replace("\r\n", "\n")
    if body.lstrip("\ufeff").startswith("WEBVTT"):
        body = body.split("\n\n", 1)[1] if "\n\n" in body else ""
    return body


def parse_cues(text: str) -> list[Segment]:
    """One Segment per SRT / WebVTT cue, numbered from 0; a `<v Name>` voice span gives the speaker."""
    segments = []
    for i, m in enumerate(_CUE_RE.finditer(text.replace("\r\n", "\n") + "\n")):
        cue = m.group("text").strip()
        speaker = None
        v = _VTT_VOICE_RE.match(cue)
        if v:
            speaker, cue = _vtt_unescape(v.group(1).strip()), v.group(2).strip()
        segments.append(
            Segment(id=i, start=parse_timestamp(m.group("start")), end=parse_timestamp(m.group("end")),
                    text=cue, speaker=speaker)
        )
    return segments


def srt_text(cues: Iterable[Segment]) -> str:
    """SubRip subtitles, one cue per segment."""
    out = []
    for i, s in enumerate(cues, 1):
        text = s.text.strip()
        if s.speaker:
            text = f"{s.speaker}: {text}"
        out.append(f"{i}\n{format_timestamp(s.start)} --> {format_timestamp(s.end)}\n{text}\n")
    return "\n".join(out)


def vtt_text(cues: Iterable[Segment]) -> str:
    """WebVTT subtitles, one cue per segment (speakers as <v> voice spans)."""
    out = ["WEBVTT\n"]
    for s in cues:
        text = s.text.strip()
        if s.speaker:
            text = f"<v {_vtt_escape(s.speaker)}>{text}</v>"
        out.append(f"{format_timestamp(s.start, sep='.')} --> {format_timestamp(s.end, sep='.')}\n{text}\n")
    return "\n".join(out)


def _vtt_escape(name: str) -> str:
    """A speaker name inside `<v ...>`: WebVTT ends the tag at `>` and reads `&` as an entity."""
    return name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _vtt_unescape(name: str) -> str:
    return name.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
