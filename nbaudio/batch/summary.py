"""A batch's summary (inputs, hours, errors, languages, speakers, throughput, WER against the
references) and how the results show: text/plain, and HTML with every value escaped.

Works on rows as dicts, so it serves the DataFrame (frame.py) and the plain list of rows that
transcribe_many returns without pandas alike.
"""

from __future__ import annotations

import html
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .._wire.text import plural, shorten
from ..metrics import align, normalizer_name
from ..pricing import money
from .runner import RunStats

__all__ = ["SCALE_OUT", "BatchRows", "Summary", "add_wer", "render_bundle", "summarize"]

WORST_SHOWN = 5  # rows listed under "worst WER"
TABLE_ROWS = 20  # rows shown in the display's table (the data holds them all)
SHOWN_COLUMNS = ("source", "duration", "language", "text", "speakers", "flags", "wer", "cost", "elapsed", "error")
SCALE_OUT = ("to scale out, pip install 'nbaudio[batch]' and pass executor=dask_client.get_executor() "
             "(a dask.distributed Client), or any concurrent.futures.Executor")


@dataclass
class Summary:
    task: str
    inputs: int
    done: int
    errors: int
    seconds: float  # of audio
    languages: Counter
    speakers: int  # distinct speaker labels over the diarized rows
    diarized: int  # rows with speakers
    stats: RunStats
    wer: float | None = None  # over all words of the references
    worst: list[tuple[str, float]] = field(default_factory=list)  # (source, wer), worst first
    note: str | None = None
    flags: int = 0  # Transcript.flags over all rows: stretches not to trust
    flagged: int = 0  # rows with at least one
    flag_kinds: Counter = field(default_factory=Counter)
    cost: str | None = None  # what the run cost, summed over the rows ("unknown" parts said)
    wer_normalizer: str | None = None

    @property
    def throughput(self) -> float:
        """Inputs done in this run per second of wall time."""
        fresh = self.done - self.stats.resumed
        return fresh / self.stats.wall if self.stats.wall > 0 else 0.0

    def lines(self) -> list[str]:
        s = self.stats
        head = f"{self.task}: {self.done}/{self.inputs} inputs, {plural(self.errors, 'error')}"
        if self.seconds:
            head += f", {_span(self.seconds)} of audio"
        if s.interrupted:
            head += " (interrupted: run again to go on)"
        out = [head]
        if self.languages:
            out.append("languages: " + ", ".join(f"{k} {v}" for k, v in self.languages.most_common()))
        if self.flags:
            kinds = ", ".join(f"{k} {n}" for k, n in self.flag_kinds.most_common())
            out.append(f"flags: {self.flags} in {plural(self.flagged, 'row')} ({kinds}): the rows' flag_kinds "
                       "say which; transcript.flags of each says where")
        if self.speakers:
            out.append(f"speakers: {self.speakers} distinct labels in {plural(self.diarized, 'diarized row')}")
        speed = f"throughput: {self.throughput:.2f} inputs/s over {s.wall:.1f} s"
        if s.audio_seconds and s.wall:
            speed += f" ({s.audio_seconds / s.wall:.1f} s of audio per second)"
        out.append(speed + f"; concurrency {s.lowest_concurrency}-{s.concurrency}, {s.requests} requests, "
                   f"{s.retries} retried, {s.throttled} throttled")
        if s.resumed:
            out.append(f"resumed: {s.resumed} rows from the results file, not redone")
        if self.wer is not None:
            worst = "; ".join(f"{shorten(src, 40)} {w:.0%}" for src, w in self.worst)
            out.append(f"WER overall {self.wer:.1%}" + (f"; worst: {worst}" if worst else "")
                       + (f" (after {self.wer_normalizer})" if self.wer_normalizer else ""))
        if self.cost:
            out.append(f"cost: {self.cost}")
        if self.note:
            out.append(self.note)
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return f"<Summary {self.lines()[0]}>"


def _span(seconds: float) -> str:
    """'42 s', '12.5 min', '3.20 h'."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 7200 else f"{seconds / 3600:.2f} h"


def add_wer(rows: list[dict[str, Any]], references: Sequence[str | None]) -> None:
    """Put each row's `reference`, `wer` and `reference_words` (None where there is no reference or
    no text), scored in the row's language (nbaudio.metrics: Whisper's normaliser, jiwer's counts)."""
    for row, ref in zip(rows, references, strict=True):
        row["reference"] = ref
        text = row.get("text")
        if ref is not None and isinstance(text, str):
            scored = align(ref, text, row.get("language") if isinstance(row.get("language"), str) else None)
            row["wer"], row["reference_words"] = scored.error_rate, len(scored.reference)
        else:
            row["wer"] = row["reference_words"] = None


def summarize(task: str, rows: list[dict[str, Any]], stats: RunStats, note: str | None = None) -> Summary:
    errors = sum(1 for r in rows if r.get("error"))
    seconds = sum(r.get("duration") or 0.0 for r in rows if not r.get("error"))
    languages = Counter(r["language"] for r in rows if r.get("language"))
    speakers = {sp for r in rows for sp in (r.get("speakers") or ())}
    diarized = sum(1 for r in rows if r.get("speakers"))
    summary = Summary(task, stats.inputs, len(rows), errors, seconds, languages, len(speakers), diarized, stats,
                      note=note)
    counts = [_count(r.get("flags")) for r in rows]
    summary.flags, summary.flagged = sum(counts), sum(1 for n in counts if n)
    for r in rows:
        summary.flag_kinds.update(_kinds(r.get("flag_kinds")))
    scored = [r for r in rows if r.get("wer") is not None]
    if scored:
        words = [_count(r.get("reference_words")) for r in scored]
        summary.wer = sum(r["wer"] * n for r, n in zip(scored, words, strict=True)) / max(1, sum(words))
        worst = sorted(scored, key=lambda r: -r["wer"])[:WORST_SHOWN]
        summary.worst = [(str(r.get("source") or r.get("text")), r["wer"]) for r in worst if r["wer"] > 0]
        languages = {r.get("language") for r in scored}
        summary.wer_normalizer = normalizer_name(languages.pop()) if len(languages) == 1 else "Whisper's normalisers"
    summary.cost = _cost_line(rows)
    return summary


def _cost_line(rows: list[dict[str, Any]]) -> str | None:
    """'$0.0123', '$0.0123 (+ 2 rows unknown)', 'free (local)', 'unknown'; None when no row says."""
    done = [r for r in rows if not r.get("error") and "cost" in r]
    if not done:
        return None
    if all(r.get("cost") == "free (local)" for r in done):
        return "free (local)"
    known = [r["cost_usd"] for r in done if not _missing(r.get("cost_usd"))]
    if not known:
        return "unknown"
    unknown = len(done) - len(known)
    return money(sum(known)) + (f" (+ {plural(unknown, 'row')} unknown: no usage or no price)" if unknown else "")


def _count(value: Any) -> int:
    """A row's flag count (a results file or a DataFrame may hold it as a float, or NaN)."""
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value else 0


def _kinds(value: Any) -> Counter:
    """A row's `flag_kinds` ("no_speech 2, silent 1") as a Counter."""
    out: Counter = Counter()
    if isinstance(value, str):
        for part in value.split(","):
            kind, _, n = part.strip().rpartition(" ")
            if kind and n.isdigit():
                out[kind] += int(n)
    return out


def _missing(value: Any) -> bool:
    # pandas keeps a missing value of a float or text column as NaN, not None
    return value is None or (isinstance(value, float) and math.isnan(value))


def _wer_key(row: dict[str, Any]) -> float:
    wer = row.get("wer")
    return -1.0 if _missing(wer) else float(wer)


def _cell(value: Any) -> str:
    if _missing(value):
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return shorten(str(value), 80)


def render_bundle(summary: Summary, rows: list[dict[str, Any]], table_text: str) -> dict[str, str]:
    """{"text/plain", "text/html"} for the results: the summary, then the rows (worst WER first
    when there are references). `table_text` is the plain rendering of all rows."""
    if summary.wer is not None:
        rows = sorted(rows, key=_wer_key, reverse=True)
    cols = [c for c in SHOWN_COLUMNS if any(c in r for r in rows)]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(r.get(c)))}</td>" for c in cols) + "</tr>"
                   for r in rows[:TABLE_ROWS])
    more = (f"<p style='color:#888'>{len(rows) - TABLE_ROWS} more rows (all are in the data)</p>"
            if len(rows) > TABLE_ROWS else "")
    lines = "".join(f"<div>{html.escape(line)}</div>" for line in summary.lines())
    page = (f"<div class='nbaudio-batch'><div style='margin-bottom:0.5em'>{lines}</div>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}</div>")
    return {"text/plain": str(summary) + "\n\n" + table_text, "text/html": page}


class BatchRows(list):
    """The rows of a batch as a list of dicts (what transcribe_many returns without pandas),
    with `summary` and the same display as the DataFrame."""

    summary: Summary

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        text = "\n".join(" | ".join(_cell(r.get(c)) for c in SHOWN_COLUMNS if c in r) for r in self[:TABLE_ROWS])
        return render_bundle(self.summary, list(self), text)

    def __repr__(self) -> str:
        return f"<BatchRows {self.summary.lines()[0]}>"
