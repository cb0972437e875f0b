"""How a TranscriptComparison shows: text/plain always (the table, then each system's marked
words), and HTML with every value escaped: the recording's player once at the top, the table, and
each system's words against the reference; every word with a time plays that player from there
(player.js, the whole output being one player unit)."""

from __future__ import annotations

from typing import Any

from .._wire.text import shorten
from ..display.clip_html import clip_block
from ..display.diff_html import diff_words_html, legend_html
from ..display.markup import MUTED, escape, wrap

# The comparison (a _transcripts.TranscriptComparison) is typed Any here: that module imports this one.
TranscriptComparison = Any

__all__ = ["comparison_bundle", "comparison_html", "comparison_text", "table_html"]

_HEAD = ("system", "WER", "CER", "S / D / I", "seconds", "cost", "")
_TD = "text-align:left;padding:2px 10px 2px 0;vertical-align:top"


def _pct(value: Any) -> str:
    return "" if value is None else f"{value:.1%}"


def _cells(row: dict[str, Any]) -> list[str]:
    sdi = ("" if row["substitutions"] is None
           else f"{row['substitutions']} / {row['deletions']} / {row['insertions']}")
    secs = "" if row["seconds"] is None else f"{row['seconds']:.2f}"
    note = row["error"] or ("" if row["words_timed"] in (None, True) else "no word times")
    return [row["system"], _pct(row["wer"]), _pct(row["cer"]), sdi, secs, row["cost"] or "", note]


def _caption(cmp: TranscriptComparison) -> str:
    against = "the reference" if cmp.reference is not None else f"{cmp.baseline or 'the first system'}"
    how = "one at a time" if cmp.concurrency == 1 else "at the same time (seconds include their sharing)"
    return (f"{len(cmp.runs)} systems against {against}, scored after {cmp.normalizer}; "
            f"S / D / I: words substituted / missed / added; run {how}")


def comparison_text(cmp: TranscriptComparison) -> str:
    rows = [_cells(r) for r in cmp.rows()]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(_HEAD)]
    lines = [_caption(cmp), "  ".join(h.ljust(w) for h, w in zip(_HEAD, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    if cmp.reference is not None:
        lines.append(f"reference: {shorten(cmp.reference, 200)}")
    for label, d in cmp.diffs.items():
        lines.append(f"{label}: {d.marked_text()}")
    return "\n".join(lines)


def table_html(head: tuple[str, ...], rows: list[dict[str, Any]], cells: Any) -> str:
    """A table of `rows` (dicts with "wer" and "error"), each row's texts `cells(row)` (the WER
    second), the best WER in bold and errors in amber, every value escaped."""
    scored = [r["wer"] for r in rows if r["wer"] is not None]
    best = min(scored) if scored else None
    head_html = "".join(f'<th style="{_TD}">{escape(h)}</th>' for h in head)
    body = []
    for r in rows:
        texts = [escape(c) for c in cells(r)]
        if best is not None and r["wer"] == best:
            texts[1] = f"<b>{texts[1]}</b>"
        if r["error"]:
            texts[-1] = f'<span style="color:#b45309">{texts[-1]}</span>'
        body.append("<tr>" + "".join(f'<td style="{_TD}">{c}</td>' for c in texts) + "</tr>")
    return (f'<table style="border-collapse:collapse;margin:4px 0"><thead><tr>{head_html}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def comparison_html(cmp: TranscriptComparison, notes: list[str], *, head: str | None = None) -> str:
    """The recording's player, `head` (the caption and the table, unless given: a view built on
    this one says it its own way), the reference and each system's words against it."""
    block = clip_block(cmp.audio, notes=notes)
    playable = "<audio" in block
    if head is None:
        head = f'<div style="{MUTED}">{escape(_caption(cmp))}</div>' + table_html(_HEAD, cmp.rows(), _cells)
    parts = [block, head]
    if cmp.reference is not None:
        parts.append(f'<div style="margin-top:6px"><b>reference</b> <span style="{MUTED}">(as given)</span>: '
                     f"{escape(cmp.reference)}</div>")
    if cmp.diffs:
        parts.append(legend_html())
    for label, d in cmp.diffs.items():
        parts.append(f'<div style="margin-top:8px"><b>{escape(label)}</b> <span style="{MUTED}">WER '
                     f"{d.wer:.1%} against {escape(d.reference_label)}</span></div>")
        parts.append(diff_words_html(d.words, playable=playable))
    for r in cmp.runs:
        if cmp.baseline == r.system.label and cmp.reference is None:
            parts.append(f'<div style="margin-top:8px"><b>{escape(r.system.label)}</b> '
                         f'<span style="{MUTED}">(what the others are compared with)</span>: '
                         f"{escape(r.result.text)}</div>")
    return wrap("".join(parts), "compare", unit=True)


def comparison_bundle(cmp: TranscriptComparison, include: Any = None, exclude: Any = None) -> dict[str, str]:
    notes: list[str] = []
    bundle: dict[str, str] = {}
    if (include is None or "text/html" in include) and not (exclude is not None and "text/html" in exclude):
        bundle["text/html"] = comparison_html(cmp, notes)
    bundle["text/plain"] = comparison_text(cmp) + ("\n" + "\n".join(notes) if notes else "")
    return bundle
