"""A listening test's ratings as rows: their columns, as a DataFrame, and to and from a file.

One row per clip heard: trial (1-based, in the order played), item, system, position (1 = the
sample shown first, "A"), the answer — `rating` (1–5) in a MOS test, `preferred` (True/False) in
an A/B test — plays (how often the listener started that clip) and seconds (from the trial's
appearance to the answer, by the page's clock).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError, MissingDependencyError
from .stats import SUMMARY_COLUMNS, kind_of, summary_rows

__all__ = ["columns", "load_results", "save_results", "summarize", "to_dataframe"]

_SUFFIXES = (".csv", ".json")


def columns(kind: str) -> list[str]:
    return ["trial", "item", "system", "position", "rating" if kind == "mos" else "preferred", "plays", "seconds"]


def to_dataframe(rows: Sequence[Mapping[str, Any]], kind: str) -> Any:
    """The rows as a pandas DataFrame with the columns of `kind` (empty, with them, before any trial)."""
    pd = _pandas()
    return pd.DataFrame(list(rows), columns=columns(kind))


def summarize(results: Any, kind: str | None = None) -> Any:
    """The summary of `results` (a test's `.results`, `load_results(path)`, or a list of row dicts) as a
    DataFrame. MOS: system, ratings, mean, low, high (the 95 % t interval), best mean first. A/B:
    system, versus, trials, preferred, share, low, high (the 95 % Wilson interval), one row per pair
    with its more preferred system first. See nbaudio.listening.stats for the intervals."""
    rows = results.to_dict("records") if hasattr(results, "to_dict") else list(results)
    kind = kind or (kind_of(rows) if rows else None)
    if kind is None:
        raise InvalidInputError("no ratings to summarize yet: answer at least one trial")
    return _pandas().DataFrame(summary_rows(rows, kind), columns=SUMMARY_COLUMNS[kind])


def save_results(rows: Sequence[Mapping[str, Any]], path: str | os.PathLike, *, kind: str,
                 about: Mapping[str, Any]) -> Path:
    """Write the rows to `path`: .csv (the rows) or .json (the rows and `about`: kind, seed, prompt)."""
    target = Path(path)
    if target.suffix.lower() not in _SUFFIXES:
        raise InvalidInputError(f"save the results as .csv or .json, not {target.name!r}")
    names = columns(kind)
    if target.suffix.lower() == ".csv":
        with target.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=names)
            writer.writeheader()
            writer.writerows({k: row[k] for k in names} for row in rows)
    else:
        doc = {**about, "kind": kind, "rows": [{k: row[k] for k in names} for row in rows]}
        target.write_text(json.dumps(doc, indent=1, default=str), encoding="utf-8")
    return target


def load_results(path: str | os.PathLike) -> Any:
    """The ratings saved by `ListeningTest.save(path)` (.csv or .json) as a DataFrame; pass it to
    `nbaudio.listening.summarize` for the summary."""
    source = Path(path)
    if source.suffix.lower() not in _SUFFIXES:
        raise InvalidInputError(f"listening-test results are .csv or .json files, not {source.name!r}")
    pd = _pandas()
    if source.suffix.lower() == ".csv":
        return pd.read_csv(source)
    try:
        doc = json.loads(source.read_text(encoding="utf-8"))
        rows, kind = doc["rows"], doc["kind"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInputError(f"{source.name} is not a listening test's results ({exc}); save them with "
                                "test.save(path)") from None
    if kind not in ("mos", "ab") or not isinstance(rows, list):
        raise InvalidInputError(f"{source.name} is not a listening test's results; save them with test.save(path)")
    return pd.DataFrame(rows, columns=columns(kind))


def _pandas() -> Any:
    try:
        import pandas as pd
    except ImportError:
        raise MissingDependencyError("listening-test results as a DataFrame need pandas, which nbaudio does not "
                                     "install: pip install pandas (or use test.rows, a list of dicts)") from None
    return pd
