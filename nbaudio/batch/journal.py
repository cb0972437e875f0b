"""The results file of a batch: JSON Lines, one line per finished input, appended as it finishes.

Why JSON Lines and not Parquet: a Parquet file cannot be appended to (its index is written
last), so keeping one current means rewriting it after every input, and a kill during a
rewrite loses the file; it would also need pyarrow. An appended line is in the operating
system's hands once written and flushed, so a killed kernel or worker loses only the inputs
that were in flight, and a line cut short by a kill is recognised (it does not parse) and
ignored. For Parquet, convert at the end: `pandas.read_json(path, lines=True).to_parquet(...)`.

A batch's promise is that a failure is a row, never an exception, and finished work is never
lost. So the file is opened before the first request (a folder that cannot be written, a path
under a file, is an InvalidInputError then, not a raw OSError after the work), and a write that
fails later (a full disk) stops the journal, not the batch: the rows stay in memory and are
returned, and a warning says which row the file stops after.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path
from typing import IO, Any

from .._wire.fields import parse_json
from .._wire.user_files import folder_reason, os_reason, shown_path, user_path
from ..errors import InvalidInputError

__all__ = ["NOT_JOURNALED", "Journal", "ResultsNotWrittenWarning", "check_results_path"]

log = logging.getLogger("nbaudio")
SUFFIXES = (".jsonl", ".ndjson")
NOT_JOURNALED = frozenset({"clip"})  # speak_many's AudioClip: the file at `path` holds it
_LABEL_CHARS = 80  # of an input's name in the warning that says where the file stops


def check_results_path(path: str | os.PathLike) -> Path:
    """The results file as a Path; InvalidInputError for what cannot be appended to."""
    p = user_path(path, "results")
    if p.suffix.lower() not in SUFFIXES:
        why = (" Parquet cannot be appended to, so a run that is killed would lose it;"
               if p.suffix.lower() == ".parquet" else "")
        raise InvalidInputError(f"results={str(path)!r}: use a .jsonl file (one line per input, appended as each "
                                f"finishes).{why} convert at the end with pandas.read_json(path, lines=True)",
                                param="results")
    try:
        kind = "a folder" if p.is_dir() else "a pipe or socket" if p.is_fifo() or p.is_socket() else None
    except OSError as exc:  # a name too long, a loop of links
        raise _unusable(p, exc) from None
    if kind is not None:  # a pipe: opening it would wait for a reader
        raise InvalidInputError(f"results={str(path)!r} is {kind}; name a .jsonl file", param="results")
    return p


def _unusable(path: Path, exc: OSError) -> InvalidInputError:
    return InvalidInputError(f"results={shown_path(path)} cannot be used: {folder_reason(path.parent, exc)}. Name a "
                             ".jsonl file in a folder you can write to (nothing was sent)", param="results")


class Journal:
    """Rows already finished (`load`) and new ones appended (`append`) to one JSONL file."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = check_results_path(path)
        self._fh: IO[str] | None = None
        self.written = 0  # rows this run wrote
        self.last_written: str | None = None  # the input of the last row written, as its row shows it
        self.failure: OSError | None = None  # the write that stopped the journal

    def load(self) -> dict[str, dict[str, Any]]:
        """{key: row}, the last line of each key winning (a failed input retried later)."""
        rows: dict[str, dict[str, Any]] = {}
        if not self.path.is_file():
            return rows
        try:
            with self.path.open(encoding="utf-8", errors="replace") as fh:
                lines = list(fh)
        except OSError as exc:
            raise _unusable(self.path, exc) from None
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = parse_json(line)
            except ValueError:
                # A kill in the middle of a write leaves the last line cut short: that input is redone.
                log.info("%s line %d is incomplete; its input will be done again", self.path, number)
                continue
            if isinstance(row, dict) and isinstance(row.get("key"), str):
                rows[row["key"]] = row
        return rows

    def open(self) -> None:
        """Open the file for appending (its folder made if need be): done before the first request,
        so a location that cannot be written is an InvalidInputError before any work is done."""
        if self._fh is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            cut_short = self.path.is_file() and self.path.stat().st_size and not self._ends_with_newline()
            self._fh = self.path.open("a", encoding="utf-8")
            if cut_short:  # start on a line of our own, after a line a kill cut short
                self._fh.write("\n")
        except OSError as exc:
            raise _unusable(self.path, exc) from None

    def append(self, key: str, row: dict[str, Any]) -> None:
        """Write one finished row and flush it (the OS has it then, even if this process is killed).
        After a write failed, nothing more is written: the rows are the caller's (in memory)."""
        if self.failure is not None:
            return
        self.open()
        assert self._fh is not None
        kept = {k: v for k, v in row.items() if k not in NOT_JOURNALED}
        try:
            self._fh.write(json.dumps({"key": key, **kept}, ensure_ascii=False, default=str) + "\n")
            self._fh.flush()
        except OSError as exc:
            self._stopped(exc, f"writing the row of {_label(key, row)!r}")
            return
        self.written += 1
        self.last_written = _label(key, row)

    def _stopped(self, exc: OSError, doing: str) -> None:
        self.failure = exc
        after = (f"after the row of {self.last_written!r} ({self.written} rows written by this run)"
                 if self.last_written is not None else "before any row of this run")
        warnings.warn(f"results file {shown_path(self.path)}: {doing} failed ({os_reason(exc)}), "
                      f"so the file stops {after}. Every row is kept in memory and returned; running again with "
                      "this results= redoes the rows the file lacks", ResultsNotWrittenWarning, stacklevel=2)

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"

    def close(self) -> None:
        if self._fh is None:
            return
        fh, self._fh = self._fh, None
        try:
            fh.close()  # flushes what a failed write left in the buffer: it may fail again
        except OSError as exc:
            if self.failure is None:
                self._stopped(exc, "closing it")

    def __repr__(self) -> str:
        return f"<Journal {self.path}>"


class ResultsNotWrittenWarning(UserWarning):
    """A batch's results file could not be written to; the rows are in the returned result."""


def _label(key: str, row: dict[str, Any]) -> str:
    """The input a row is of, as its row shows it (its path, or the text spoken); a long one is cut
    in the middle, so a path keeps its file name."""
    text = " ".join(str(row.get("source") or row.get("text") or key).split())
    return text if len(text) <= _LABEL_CHARS else f"{text[:_LABEL_CHARS // 2]}…{text[-_LABEL_CHARS // 2:]}"
