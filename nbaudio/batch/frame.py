"""The DataFrame transcribe_many / speak_many return: a pandas DataFrame that also carries the
batch's `summary` and shows it above the rows. Imported only when pandas is installed."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .summary import SHOWN_COLUMNS, TABLE_ROWS, Summary, render_bundle

__all__ = ["BatchFrame"]


class BatchFrame(pd.DataFrame):
    """A DataFrame with `summary` (nbaudio.batch.summary.Summary). Anything derived from it
    (a filter, a copy) is a plain DataFrame: the summary describes the whole batch only."""

    _metadata = ["summary"]
    summary: Summary

    @property
    def _constructor(self) -> type[pd.DataFrame]:
        return pd.DataFrame

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        cols = [c for c in SHOWN_COLUMNS if c in self.columns]
        text = pd.DataFrame(self[cols]).to_string(max_rows=TABLE_ROWS, max_colwidth=60)
        return render_bundle(self.summary, self.to_dict("records"), text)
