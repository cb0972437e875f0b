"""A transcript's view: its audio with segment bands, a summary line, and a table of timed segments.

Where scripts run (a trusted notebook) player.js makes the times seek the player, highlights the
segment being played and keeps it in view inside the table's scrolled box, and adds a search box
over the rows. Where they do not (an untrusted notebook, GitHub, nbviewer) the output says so in
one line (an element the script removes), and when the player's audio is a file beside the
notebook, each segment's time is a link to that file at a media fragment (`#t=start,end`). The
fragment works where the output is a web page (nbconvert's HTML: the browser's own media page
plays from that moment); untrusted JupyterLab opens a local link itself, in its own audio tab from
the start (it drops the fragment), so the hint says to trust the notebook instead of promising a seek.

At most `options.max_rows` segments are rows at first (laying out more froze JupyterLab for
longer: 1800 rows of a 1 h transcript 4.3 s against 1.7 s for 1000); up to
`options.max_hidden_rows` more ride along unrendered, for the script to add when a search or the
playback reaches them (see `_table`). When there are more, a line above the rows says how many
show and how to see the rest.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .._wire.text import format_clock, plural
from ..transcript import Flag, Transcript
from .clip_html import clip_block
from .flags_html import flag_mark, flags_by_segment, flags_line
from .markup import MUTED, escape, wrap
from .settings import options
from .speakers_html import (
    UNLABELLED_COLOR,
    legend_html,
    legend_id,
    speaker_colors,
    speakers_script,
    swatch,
    talk_time_bar,
)

__all__ = ["transcript_html"]

# The table scrolls inside a box this tall (a long transcript does not flood the page).
ROWS_MAX_HEIGHT = "24em"
# From this many rows on, the script adds a search box over them.
SEARCH_FROM_ROWS = 8
# The player's source when it is a file (not a data: URI): the target of the times' links.
_AUDIO_SRC = re.compile(r'<audio\b[^>]*\bsrc="(?!data:)([^"]+)"')
_NOSCRIPT = ("Scripts are off (untrusted notebook, GitHub, nbviewer), so clicking a time does not seek the player. "
             "To seek, trust the notebook (JupyterLab: Trust Notebook in the command palette; or jupyter trust "
             "NAME.ipynb) or re-run the cell.{linked}")
_NOSCRIPT_LINKED = " In a notebook exported to HTML (nbconvert) a time opens the audio file at that moment."


def _ts(t: float, hours: bool, text: str | None = None, *, href: str | None = None) -> str:
    """A time the player script makes seek its unit's player (`.nbaudio-ts[data-t]`).

    With `href` (already escaped) it is a link there too, for where scripts do not run.
    """
    label = escape(text if text is not None else format_clock(t, hours=hours))
    if href is not None:
        return (f'<a class="nbaudio-ts" data-t="{t:.3f}" href="{href}" target="_blank" '
                f'title="the audio file from this time (in exported HTML)">{label}</a>')
    return f'<span class="nbaudio-ts" data-t="{t:.3f}">{label}</span>'


def _fragment(src: str | None, start: float, end: float) -> str | None:
    """`src` (an escaped URL) at the media fragment start–end, or None without a file to link."""
    if src is None:
        return None
    return f"{src.split('#', 1)[0]}#t={max(0.0, start):.2f},{max(start, end):.2f}"


def _words_html(words: Sequence[Any], hours: bool) -> str:
    items = []
    for w in words:
        title = f"{w.start:.2f}–{w.end:.2f} s" + (f", p={w.probability:.2f}" if w.probability is not None else "")
        # the &nbsp; keeps a word with its time (no per-word nowrap style: 28 bytes a word)
        items.append(f'<span class="nbaudio-ts" data-t="{w.start:.3f}" title="{escape(title)}">'
                     f'<small style="color:#888">{escape(format_clock(w.start, hours=hours))}</small>&nbsp;'
                     f"{escape(w.word.strip())}</span>")
    return (f'<details><summary style="{MUTED}">{plural(len(words), "word")}</summary>'
            f'<div style="line-height:1.8">{" ".join(items)}</div></details>')


# Table headers stay visible while the rows scroll under them (where CSS is kept).
_TH = 'style="text-align:left;position:sticky;top:0;background:var(--jp-layout-color0,#fff)"'
# The time and speaker columns are as wide as their content, the text takes the rest. JupyterLab lays
# out output tables with `table-layout: fixed`, where a column is as wide as its first row says (a
# `width:1%` column shrank to nothing there and the times ran over the text), so the header cells
# give their width, in em (its sanitizer drops `ch` in untrusted notebooks); a digit is ~0.6 em.
_TH_NARROW = ('style="text-align:left;position:sticky;top:0;background:var(--jp-layout-color0,#fff);'
              'width:{width:.1f}em;white-space:nowrap"')
_EM_PER_CHAR = 0.6
_TD_NARROW = "white-space:nowrap;text-align:left;vertical-align:top;padding-right:0.8em"


def _row(s: Any, hours: bool, colours: dict[str, str] | None, src: str | None, flags: list[Flag] | None) -> str:
    """One segment's `<tr>`; `colours` by speaker when the transcript has speakers; `flags`: its flags."""
    who = attrs = ""
    if colours is not None:
        colour = colours.get(s.speaker or "", UNLABELLED_COLOR)
        # the speaker is said in words too (the label), never by colour alone
        who = (f'<td style="{_TD_NARROW};font-weight:600">{swatch(colour)}{escape(s.speaker or "")}</td>')
        attrs = (f' data-speaker="{escape(s.speaker or "")}" '
                 f'style="box-shadow:inset 4px 0 0 {colour}"')
    words = _words_html(s.words, hours) if s.words else ""
    stamp = f"{format_clock(s.start, hours=hours)}–{format_clock(s.end, hours=hours)}"
    return (f'<tr class="nbaudio-seg" data-start="{s.start:.3f}" data-end="{s.end:.3f}"{attrs}>'
            f'<td style="{_TD_NARROW};font-variant-numeric:tabular-nums;padding-left:8px">'
            f"{_ts(s.start, hours, stamp, href=_fragment(src, s.start, s.end))}</td>{who}"
            f'<td style="text-align:left;vertical-align:top">{flag_mark(flags) if flags else ""}'
            f"{escape(s.text.strip())}{words}</td></tr>")


def _table(t: Transcript, flags: list[Flag], src: str | None = None, *, scripted: bool = False) -> str:
    """The segment table in its scrolled box; `src` is the player's file URL (escaped), if it has one;
    `scripted`: the output has a player, so player.js runs where scripts do.

    The first `options.max_rows` segments are rows. The next `options.max_hidden_rows` are rows too,
    but inside an inert `<script type="text/x-nbaudio-rows">` (no parsing into the page, no layout,
    and JupyterLab does not resolve their links): player.js puts them in the table when a search,
    playback past the last row, or a click on the caption needs them. Where scripts do not run (or
    are stripped: untrusted JupyterLab, GitHub) only the first rows show and the caption says so.
    """
    segs = t.segments
    hours = bool(segs) and max(s.end for s in segs) >= 3600
    speakers = t.speakers
    colours = speaker_colors(speakers) if speakers else None
    # "0:00.00–0:02.40" plus the row's padding; a speaker's name plus its swatch.
    time_width = (len(format_clock(max((s.end for s in segs), default=0.0), hours=hours)) * 2 + 3) * _EM_PER_CHAR
    speaker_width = (max(8, max((len(name) for name in speakers), default=0) + 4)) * _EM_PER_CHAR
    head_speaker = f"<th {_TH_NARROW.format(width=speaker_width)}>speaker</th>" if speakers else ""
    shown = min(len(segs), options.max_rows)
    kept = min(len(segs), shown + options.max_hidden_rows) if scripted and shown else shown
    flagged = flags_by_segment(flags)
    rows = [_row(s, hours, colours, src, flagged.get(i)) for i, s in enumerate(segs[:shown])]
    head = attrs = later = ""
    if len(segs) > shown:
        span = 3 if speakers else 2
        rows.append(f'<tr class="nbaudio-rows-more"><td colspan="{span}" style="{MUTED};text-align:left">'
                    f"… {len(segs) - shown} more segments not shown; {escape(_see_more(len(segs)))}</td></tr>")
        last = format_clock(segs[shown - 1].end, hours=hours) if shown else "0:00"
        head = (f'<div class="nbaudio-rows-cap" style="{MUTED}">first {shown} of {len(segs)} segments shown '
                f"(to {escape(last)}); {escape(_see_more(len(segs)))}</div>")
        attrs = f' data-total="{len(segs)}" data-kept="{kept}"'
        if kept > shown:
            # escaped text holds no "<", so no "</script" can end this early
            hidden = "".join(_row(segs[i], hours, colours, src, flagged.get(i)) for i in range(shown, kept))
            later = f'<script type="text/x-nbaudio-rows" class="nbaudio-later">{hidden}</script>'
    search = ' data-search="1"' if shown >= SEARCH_FROM_ROWS else ""
    return (f'{head}<div class="nbaudio-rows"{search}{attrs} style="max-height:{ROWS_MAX_HEIGHT};overflow-y:auto;'
            'position:relative;margin-top:4px">'
            '<table style="border-collapse:collapse;width:100%;table-layout:auto">'
            f'<thead><tr><th {_TH_NARROW.format(width=time_width)}>time</th>{head_speaker}<th {_TH}>text</th></tr>'
            '</thead>'
            f"<tbody>{''.join(rows)}</tbody></table>{later}</div>")


def _see_more(total: int) -> str:
    return (f"to show all, set nbaudio.display.options.max_rows = {total} and display it again "
            "(or see transcript.to_dataframe(), to_srt())")


def _noscript_hint(linked: bool) -> str:
    """The line shown only where scripts do not run: player.js removes every `.nbaudio-noscript`.

    `linked`: the times are links to the player's file (what they do depends on where the page is).
    """
    text = escape(_NOSCRIPT.format(linked=_NOSCRIPT_LINKED if linked else ""))
    return f'<div class="nbaudio-noscript" style="{MUTED};font-style:italic">{text}</div>'


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
    if t.cost is not None:
        bits.append(f"{t.model or 'cost'}: {t.cost}")
    return f'<div style="{MUTED}">{escape(" · ".join(bits))}</div>'


def _speakers(t: Transcript, table: str) -> tuple[str, str]:
    """(the legend with the talk-time bar, the legend's filter script) of a diarized transcript, else ("", "")."""
    stats = t.by_speaker()
    if not stats:
        return "", ""
    colours = speaker_colors(list(stats))
    lid = legend_id(stats, table)
    return legend_html(stats, colours, lid) + talk_time_bar(stats, colours), speakers_script(lid)


def transcript_html(t: Transcript, notes: list[str]) -> str:
    """The whole output of a Transcript; notes for the plain-text output go to `notes`."""
    parts = []
    src = None
    player = False
    if t.audio is not None:
        block = clip_block(t.audio, segments=t.segments or None, notes=notes)
        parts.append(block)
        found = _AUDIO_SRC.search(block)
        src = found.group(1) if found else None
        player = "<audio" in block
        if "<audio" in block and (t.segments or t.all_words()):
            parts.append(_noscript_hint(src is not None and bool(t.segments)))
    parts.append(_meta(t))
    if t.warning:
        notes.append(f"warning: {t.warning}")
        parts.append(f'<div style="color:#b45309">⚠ {escape(t.warning)}</div>')
    flags = t.flags
    parts.append(flags_line(flags, (t.duration or 0.0) >= 3600))
    if t.segments:
        table = _table(t, flags, src, scripted=player)
        legend, script = _speakers(t, table)
        parts.extend((legend, table, script))  # the script after the rows it wires (a page runs it as parsed)
    else:
        parts.append(f'<div style="white-space:pre-wrap">{escape(t.text)}</div>')
        words = t.all_words()
        if words:
            parts.append(_words_html(words, bool(words) and words[-1].end >= 3600))
    return wrap("".join(parts), "transcript", unit=t.audio is not None)
