"""The results file of a batch: JSON Lines, one line per finished input, appended as it finishes.

Why JSON Lines and not Parquet: a Parquet file cannot be appended to (its index is written
last), so keeping one current means rewriting it after every input, and a kill during a
rewrite loses the file; it would also need pyarrow. An appended line is in the operating
system's hands once written and flushed, so a killed kernel or worker loses only the inputs
that were in flight, and a line cut short by a kill is recognised (it does not parse) and
ignored. For Parquet, convert at the end: `pandas.read_json(path, lines=True).to_parquet(...)`.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import IO, Any

from ..errors import InvalidInputError

__all__ = ["NOT_JOURNALED", "Journal", "check_results_path"]

log = logging.getLogger("nbaudio")
SUFFIXES = (".jsonl", ".ndjson")
NOT_JOURNALED = frozenset({"clip"})  # speak_many's AudioClip: the file at `path` holds it


def check_results_path(path: str | os.PathLike) -> Path:
    """The results file as a Path; InvalidInputError for what cannot be appended to."""
    p = Path(path).expanduser()
    if p.suffix.lower() not in SUFFIXES:
        why = (" Parquet cannot be appended to, so a run that is killed would lose it;"
               if p.suffix.lower() == ".parquet" else "")
        raise InvalidInputError(f"results={str(path)!r}: use a .jsonl file (one line per input, appended as each "
                                f"finishes).{why} convert at the end with pandas.read_json(path, lines=True)",
                                param="results")
    if p.is_dir():
        raise InvalidInputError(f"results={str(path)!r} is a folder; name a .jsonl file", param="results")
    return p


class Journal:
    """Rows already finished (`load`) and new ones appended (`append`) to one JSONL file."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = check_results_path(path)
        self._fh: IO[str] | None = None

    def load(self) -> dict[str, dict[str, Any]]:
        """{key: row}, the last line of each key winning (a failed input retried later)."""
        rows: dict[str, dict[str, Any]] = {}
        if not self.path.is_file():
            return rows
        with self.path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError:
                    # A kill in the middle of a write leaves the last line cut short: that input is redone.
                    log.info("%s line %d is incomplete; its input will be done again", self.path, number)
                    continue
                if isinstance(row, dict) and isinstance(row.get("key"), str):
                    rows[row["key"]] = row
        return rows

    def append(self, key: str, row: dict[str, Any]) -> None:
        """Write one finished row and flush it (the OS has it then, even if this process is killed)."""
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            cut_short = self.path.is_file() and self.path.stat().st_size and not self._ends_with_newline()
            self._fh = self.path.open("a", encoding="utf-8")
            if cut_short:  # start on a line of our own, after a line a kill cut short
                self._fh.write("\n")
        kept = {k: v for k, v in row.items() if k not in NOT_JOURNALED}
        self._fh.write(json.dumps({"key": key, **kept}, ensure_ascii=False, default=str) + "\n")
        self._fh.flush()

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __repr__(self) -> str:
        return f"<Journal {self.path}>"
