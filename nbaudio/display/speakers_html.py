"""Who spoke when, shown: speaker colours, the legend (with each speaker's talk time) and the talk-time bar.

Colours are Okabe and Ito's palette ("Color Universal Design", 2008), chosen to stay distinct for
readers with any common colour-vision deficiency. The legend and the bar are static HTML, readable
where scripts do not run (GitHub, nbviewer); where they do, speakers.js makes a click on a legend
entry show only that speaker's rows (several can be chosen; a second click lets the speaker go).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from .._wire.text import format_clock
from ..speakers import SpeakerStats
from .markup import MUTED, escape, script_text

__all__ = ["SPEAKER_PALETTE", "speaker_colors", "legend_html", "talk_time_bar", "speakers_script"]

# Okabe-Ito without black: blue, orange, bluish green, vermillion, reddish purple, sky blue, yellow.
SPEAKER_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")
# Past seven speakers colours repeat; the legend's names and each row's label still tell them apart.
UNLABELLED_COLOR = "#999999"
_ROOT_PLACEHOLDER = "NBAUDIO_LEGEND_ID"


def speaker_colors(speakers: Sequence[str]) -> dict[str, str]:
    """{speaker: colour} by order of first appearance."""
    return {who: SPEAKER_PALETTE[i % len(SPEAKER_PALETTE)] for i, who in enumerate(speakers)}


def swatch(colour: str) -> str:
    """A small square of `colour` (with a border, so yellow shows on white)."""
    return (f'<span aria-hidden="true" style="display:inline-block;width:0.8em;height:0.8em;background:{colour};'
            'border:1px solid rgba(0,0,0,0.35);border-radius:2px;vertical-align:-0.05em;margin-right:0.3em">'
            "</span>")


def legend_html(stats: dict[str, SpeakerStats], colours: dict[str, str], legend_id: str) -> str:
    """One entry per speaker: colour, name, talk time and share, turns (the script makes them filters)."""
    items = []
    for who, s in stats.items():
        title = (f"{who}: {format_clock(s.talk_time, decimals=1)} ({s.share:.0%} of the talk time), "
                 f"{s.turns} turns, {s.words} words")
        items.append(
            f'<span class="nbaudio-spk" data-speaker="{escape(who)}" title="{escape(title)}" '
            'style="display:inline-block;margin:0 0.9em 2px 0;padding:1px 4px;border-radius:3px;'
            'white-space:nowrap">'
            f'{swatch(colours[who])}<b>{escape(who)}</b> '
            f'<span style="{MUTED}">{escape(format_clock(s.talk_time, decimals=1))} · {s.share:.0%}</span></span>')
    return f'<div class="nbaudio-legend" id="{legend_id}" style="margin:4px 0 2px 0">{"".join(items)}</div>'


def talk_time_bar(stats: dict[str, SpeakerStats], colours: dict[str, str]) -> str:
    """A bar split by each speaker's share of the talk time."""
    parts = []
    for who, s in stats.items():
        if s.share <= 0:
            continue
        label = f"{who}: {s.share:.0%}"
        parts.append(f'<div title="{escape(label)}" style="width:{s.share * 100:.2f}%;background:{colours[who]}">'
                     "</div>")
    return ('<div class="nbaudio-talkbar" role="img" aria-label="talk time by speaker" '
            'style="display:flex;height:6px;width:100%;max-width:720px;border-radius:3px;overflow:hidden;'
            f'margin:2px 0 4px 0;background:#eee">{"".join(parts)}</div>')


def legend_id(stats: dict[str, SpeakerStats], rows_html: str) -> str:
    """An id from the content (the same transcript gives the same HTML every time)."""
    digest = hashlib.sha1((repr(list(stats)) + rows_html).encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"nbaudio-legend-{digest}"


def speakers_script(legend: str) -> str:
    """The `<script>` that makes the legend with id `legend` filter its transcript's rows."""
    return f"<script>{script_text('speakers.js').replace(_ROOT_PLACEHOLDER, legend)}</script>"
