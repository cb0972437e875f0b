"""Where not to trust a transcript, shown: a mark on each flagged segment's row (its reasons as the
tooltip; a click plays from the segment's start, like the times) and a line above the table that
counts the flags by kind and lists the stretches of sound no segment covers, each a time to click.

Static HTML: where scripts do not run the marks and their tooltips still show.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from .._wire.text import format_clock, plural
from ..transcript import FLAG_KINDS, Flag
from .markup import MUTED, escape

__all__ = ["FLAG_COLOR", "flag_mark", "flags_by_segment", "flags_line"]

FLAG_COLOR = "#b45309"  # the warning colour the view already uses
MARK = "⚑"
LISTED = 8  # stretches with no segment named in the line; the rest are counted


def flags_by_segment(flags: Sequence[Flag]) -> dict[int, list[Flag]]:
    """{segment index: its flags}."""
    out: dict[int, list[Flag]] = {}
    for f in flags:
        if f.segment is not None:
            out.setdefault(f.segment, []).append(f)
    return out


def flag_mark(flags: Sequence[Flag]) -> str:
    """The mark at the start of a flagged segment's text: its reasons in the tooltip, said in words
    for screen readers too; a click plays from the segment's start."""
    reasons = "; ".join(dict.fromkeys(f.reason for f in flags))
    kinds = " ".join(dict.fromkeys(f.kind for f in flags))
    return (f'<span class="nbaudio-ts nbaudio-flag" data-t="{flags[0].start:.3f}" data-kinds="{escape(kinds)}" '
            f'title="{escape("not to trust: " + reasons + " (click to listen)")}" '
            f'aria-label="{escape("flagged: " + reasons)}" style="color:{FLAG_COLOR};margin-right:0.3em">'
            f"{MARK}</span>")


def flags_line(flags: Sequence[Flag], hours: bool) -> str:
    """The line above the table: the flags counted by kind, then the stretches no segment covers."""
    if not flags:
        return ""
    counts = Counter(f.kind for f in flags)
    kinds = ", ".join(f"{n} {FLAG_KINDS.get(kind, kind)}" for kind, n in counts.most_common())
    loose = [f for f in flags if f.segment is None]
    times = "".join(
        f' <span class="nbaudio-ts" data-t="{f.start:.3f}" title="{escape(f.reason + " (click to listen)")}">'
        f"{escape(format_clock(f.start, hours=hours, decimals=1))}</span>" for f in loose[:LISTED])
    more = escape(f" and {len(loose) - LISTED} more") if len(loose) > LISTED else ""
    where = f"; not transcribed:{times}{more}" if loose else ""
    return (f'<div class="nbaudio-flags" style="{MUTED}"><span style="color:{FLAG_COLOR}">{MARK}</span> '
            f'{escape(plural(len(flags), "flag"))} ({escape(kinds)}){where}; see transcript.flags</div>')
