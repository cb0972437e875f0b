"""`batch_diffs`: a `transcribe_many(..., references=...)` run as word diffs, worst rows first: each
row's transcript against its reference with the errors marked, and for the worst rows whose source
is a file, a player the words play from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..audio import AudioClip
from ..errors import AudioDecodeError, InvalidInputError
from ..metrics import require_scoring
from ..transcript import Transcript, TranscriptDiff, Word, transcript_diff

__all__ = ["PLAYERS", "BatchDiffs", "batch_diffs"]

# Rows shown with a player (each embeds its audio): the worst ones; the rest show their words only.
PLAYERS = 5


def _rows(results: Any) -> list[dict[str, Any]]:
    if hasattr(results, "to_dict") and hasattr(results, "columns"):  # a DataFrame (transcribe_many's)
        return results.to_dict("records")
    if isinstance(results, Iterable) and not isinstance(results, (str, bytes, Mapping)):
        rows = list(results)
        if all(isinstance(r, Mapping) for r in rows):
            return [dict(r) for r in rows]
    raise InvalidInputError("batch_diffs takes what transcribe_many(..., references=...) returned "
                            f"(a DataFrame or a list of dict rows), not {type(results).__name__}", param="results")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)  # pandas keeps a gap as NaN


def _transcript(row: dict[str, Any]) -> Transcript:
    words = row.get("words")
    timed = [Word(str(w.get("word", "")), float(w["start"]), float(w["end"])) for w in words
             if isinstance(w, Mapping) and "start" in w and "end" in w] if isinstance(words, list) else []
    language = row.get("language") if isinstance(row.get("language"), str) else None
    return Transcript(text=str(row.get("text") or ""), words=timed, language=language)


def _audio(source: Any) -> AudioClip | None:
    if not isinstance(source, str) or not Path(source).is_file():
        return None
    try:
        return AudioClip.from_file(source)
    except (AudioDecodeError, InvalidInputError, OSError):
        return None


@dataclass(eq=False)
class BatchDiffs:
    """Each scored row's source and TranscriptDiff, worst WER first (`items`)."""

    items: list[tuple[str, TranscriptDiff]]
    unscored: int

    def __len__(self) -> int:
        return len(self.items)

    def __str__(self) -> str:
        head = f"{len(self.items)} rows, worst WER first"
        if self.items:
            head += f"; scored after {self.items[0][1].alignment.normalizer}"
        if self.unscored:
            head += f"; {self.unscored} rows without a reference or a transcript left out"
        return "\n".join([head] + [f"{source} (WER {d.wer:.1%}): {d.marked_text()}" for source, d in self.items])

    def __repr__(self) -> str:
        return f"<BatchDiffs {len(self.items)} rows, worst WER first>"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        from ..display.diff_html import diff_body
        from ..display.markup import MUTED, escape, wrap

        notes: list[str] = []
        parts = [f'<div style="{MUTED}">{escape(str(self).splitlines()[0])}</div>']
        for source, d in self.items:
            body = diff_body(d, notes, audio=d.audio is not None)
            parts.append(f'<div class="nbaudio-unit" style="margin:8px 0;padding-left:8px;border-left:3px solid #ccc">'
                         f"<div><b>{escape(source)}</b></div>{body}</div>")
        html = wrap("".join(parts), "batch-diffs", unit=False)
        return {"text/html": html, "text/plain": str(self) + ("\n" + "\n".join(notes) if notes else "")}


def batch_diffs(results: Any, *, limit: int | None = 20, players: int = PLAYERS) -> BatchDiffs:
    """The rows of a `transcribe_many(..., references=...)` run as word diffs against their references,
    worst WER first (`limit` rows, None for all); the first `players` rows whose source is a file
    get a player, and their words play it from their times. Needs `nbaudio[compare]`."""
    require_scoring()
    rows = _rows(results)
    scored = [r for r in rows if not _missing(r.get("reference")) and isinstance(r.get("text"), str)]
    diffs = []
    for r in scored:
        t = _transcript(r)
        d = transcript_diff(t, str(r["reference"]), hypothesis_label=str(r.get("source") or "row"))
        diffs.append((str(r.get("source") or "row"), d))
    diffs.sort(key=lambda item: -item[1].wer)
    if limit is not None:
        diffs = diffs[:limit]
    for source, d in diffs[:players]:
        d.audio = _audio(source)
    return BatchDiffs(diffs, len(rows) - len(scored))
