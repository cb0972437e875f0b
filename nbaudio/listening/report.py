"""The static output beside a listening test's widget: text/plain and HTML (every value escaped),
so a saved notebook keeps the ratings without the widget's state.

While the test runs it shows the progress and the ratings so far, folded away and without the
systems' names: the output is in the page the listener is using, and the blind test must stay
blind until the end (the seed's plan says which system each trial and position was:
`plan_trials(systems, items, kind, seed)`). Once finished: the summary, and every rating with its system.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..display.markup import MUTED, escape
from ..errors import MissingDependencyError
from .results import columns
from .stats import LEVEL, summary_rows

__all__ = ["Progress", "report_bundle"]

_KIND_NAMES = {"mos": "MOS, 1–5", "ab": "A/B preference"}
_CELL = "padding:2px 8px;text-align:left;border-bottom:1px solid rgba(128,128,128,0.3)"


@dataclass(frozen=True)
class Progress:
    kind: str
    seed: int
    done: int  # trials answered
    total: int
    rows: Sequence[Mapping[str, Any]]


def report_bundle(p: Progress) -> dict[str, str]:
    """{"text/plain", "text/html"} for where the test stands."""
    finished = p.done >= p.total
    head = (f"Listening test ({_KIND_NAMES[p.kind]}, seed {p.seed}): "
            + (f"finished, {p.done} of {p.total} trials" if finished else f"{p.done} of {p.total} trials answered"))
    names = columns(p.kind) if finished else [c for c in columns(p.kind) if c != "system"]
    table = [[_value(name, row[name]) for name in names] for row in p.rows]
    plain, html = [head], [f"<div><b>{escape(head)}</b></div>"]
    if finished and p.rows:
        try:
            summary_names, summary = _summary_table(p.kind, p.rows)
        except MissingDependencyError as exc:  # what to install for the summary; the ratings still show
            plain.append(str(exc))
            html.append(f'<div style="{MUTED}">{escape(exc)}</div>')
        else:
            plain.append(_text_table(summary_names, summary))
            html.append(_html_table(summary_names, summary))
    if p.rows:
        label = (f"all {len(p.rows)} ratings" if finished
                 else f"the {len(p.rows)} ratings so far (systems named when the test is finished)")
        plain += [label + ":", _text_table(names, table)]
        html.append(f'<details><summary style="{MUTED};cursor:pointer">{escape(label)}</summary>'
                    f"{_html_table(names, table)}</details>")
    return {"text/plain": "\n".join(plain),
            "text/html": f'<div class="nbaudio nbaudio-listening-results">{"".join(html)}</div>'}


def _summary_table(kind: str, rows: Sequence[Mapping[str, Any]]) -> tuple[list[str], list[list[str]]]:
    level = f"{LEVEL:.0%} interval"
    summary = summary_rows(rows, kind)
    if kind == "mos":
        return (["system", "ratings", "mean", level],
                [[s["system"], str(s["ratings"]), f"{s['mean']:.2f}", _span(s["low"], s["high"], "{:.2f}")]
                 for s in summary])
    return (["system", "preferred over", "trials", "share", level],
            [[s["system"], s["versus"], str(s["trials"]), f"{s['share']:.0%}", _span(s["low"], s["high"], "{:.0%}")]
             for s in summary])


def _span(low: float, high: float, fmt: str) -> str:
    if math.isnan(low):
        return "– (one rating)"
    return f"{fmt.format(low)} – {fmt.format(high)}"


def _value(name: str, value: Any) -> str:
    if name == "seconds":
        return f"{value:.1f}"
    if name == "preferred":
        return "yes" if value else "no"
    return str(value)


def _text_table(names: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max([len(name), *(len(row[i]) for row in rows)]) for i, name in enumerate(names)]
    lines = ["  ".join(name.ljust(w) for name, w in zip(names, widths, strict=True))]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def _html_table(names: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f'<th style="{_CELL}">{escape(n)}</th>' for n in names)
    body = "".join("<tr>" + "".join(f'<td style="{_CELL}">{escape(c)}</td>' for c in row) + "</tr>" for row in rows)
    return (f'<table style="border-collapse:collapse;margin:4px 0"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")
