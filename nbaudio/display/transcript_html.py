"""A transcript's view: its audio with segment bands, a summary line, and a table of timed segments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..text import format_clock, plural
from ..transcript import Transcript
from .clip_html import clip_block
from .markup import MUTED, escape, speaker_color, wrap
from .settings import options

__all__ = ["transcript_html"]


def _ts(t: float, hours: bool, text: str | None = None) -> str:
    """A time the player script makes seek its unit's player (`.nbaudio-ts[data-t]`)."""
    label = text if text is not None else format_clock(t, hours=hours)
    return f'<span class="nbaudio-ts" data-t="{t:.3f}">{escape(label)}</span>'


def _words_html(words: Sequence[Any], hours: bool) -> str:
    items = []
    for w in words:
        title = f"{w.start:.2f}–{w.end:.2f} s" + (f", p={w.probability:.2f}" if w.probability is not None else "")
        items.append(f'<span class="nbaudio-ts" data-t="{w.start:.3f}" title="{escape(title)}" '
                     'style="white-space:nowrap">'
                     f'<small style="color:#888">{escape(format_clock(w.start, hours=hours))}</small>&nbsp;'
                     f"{escape(w.word.strip())}</span>")
    return (f'<details><summary style="{MUTED}">{plural(len(words), "word")}</summary>'
            f'<div style="line-height:1.8">{" ".join(items)}</div></details>')


def _table(t: Transcript) -> str:
    segs = t.segments
    hours = bool(segs) and max(s.end for s in segs) >= 3600
    speakers = t.speakers
    head_speaker = "<th style=\"text-align:left\">speaker</th>" if speakers else ""
    rows = []
    for s in segs[: options.max_rows]:
        who = ""
        if speakers:
            colour = speaker_color(speakers, s.speaker) if s.speaker else "#888"
            who = (f'<td style="white-space:nowrap;color:{colour};font-weight:600;text-align:left;vertical-align:top">'
                   f'{escape(s.speaker or "")}</td>')
        words = _words_html(s.words, hours) if s.words else ""
        stamp = f"{format_clock(s.start, hours=hours)}–{format_clock(s.end, hours=hours)}"
        rows.append(
            f'<tr class="nbaudio-seg" data-start="{s.start:.3f}" data-end="{s.end:.3f}">'
            f'<td style="white-space:nowrap;font-variant-numeric:tabular-nums;text-align:left;vertical-align:top">'
            f"{_ts(s.start, hours, stamp)}</td>{who}"
            f'<td style="text-align:left;vertical-align:top">{escape(s.text.strip())}{words}</td></tr>'
        )
    if len(segs) > options.max_rows:
        span = 3 if speakers else 2
        rows.append(f'<tr><td colspan="{span}" style="{MUTED};text-align:left">… {len(segs) - options.max_rows} more '
                    "segments (nbaudio.display.options.max_rows); see transcript.to_dataframe() or to_srt()</td></tr>")
    return ('<table style="border-collapse:collapse;margin-top:4px;width:100%">'
            f'<thead><tr><th style="text-align:left">time</th>{head_speaker}'
            '<th style="text-align:left">text</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _meta(t: Transcript) -> str:
    bits = ["translation" if t.task == "translate" else "transcript"]
    if t.language:
        bits.append(f"language {t.language}")
    if t.duration is not None:
        bits.append(format_clock(t.duration, decimals=1))
    if t.segments:
        bits.append(plural(len(t.segments), "segment"))
    words = t.all_words()
    if words:
        bits.append(plural(len(words), "word"))
    if t.speakers:
        bits.append(plural(len(t.speakers), "speaker"))
    return f'<div style="{MUTED}">{escape(" · ".join(bits))}</div>'


def transcript_html(t: Transcript, notes: list[str]) -> str:
    """The whole output of a Transcript; notes for the plain-text output go to `notes`."""
    parts = []
    if t.audio is not None:
        parts.append(clip_block(t.audio, segments=t.segments or None, notes=notes))
    parts.append(_meta(t))
    if t.segments:
        parts.append(_table(t))
    else:
        parts.append(f'<div style="white-space:pre-wrap">{escape(t.text)}</div>')
        words = t.all_words()
        if words:
            parts.append(_words_html(words, bool(words) and words[-1].end >= 3600))
    return wrap("".join(parts), "transcript", unit=t.audio is not None)
