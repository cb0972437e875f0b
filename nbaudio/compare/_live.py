"""A speech grid as it fills in: in a notebook, one output under a display id (IPython's
update_display: no widget, so a saved notebook keeps it), shown with every cell waiting and
updated as each clip arrives. Its last update is the finished grid, so the grid returned at the
end of that same cell does not show a second copy.

While other calls run, an arriving cell shows its figures and what was heard only: its player's
compact copy (an Opus encode) and its waveform take CPU that the calls need, on a notebook's few
cores and, with the embedded engine, in the same process (measured in benchmarks/bench_compare.py).
They are made once no more than one call is left running, for every cell that has arrived, while
that call runs: after it answers, only its own cell is left to make."""

from __future__ import annotations

from typing import Any

from ..progress import in_kernel
from ._speech_view import Rendered, render_cell, speech_bundle

# A SpeechComparison (_speech imports this module).
SpeechComparison = Any

__all__ = ["LiveGrid", "show"]


def _cell_number() -> int | None:
    """The number of the notebook cell running now (IPython's execution count), None outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    ip = get_ipython()
    return None if ip is None else ip.execution_count


class LiveGrid:
    """The grid's live output: `live` None shows it in a Jupyter kernel only, True wherever IPython's
    display goes, False nowhere."""

    def __init__(self, grid: SpeechComparison, live: bool | None) -> None:
        self.grid = grid
        self.rendered: Rendered = {}  # label -> (cell HTML, notes)
        self.with_player: set[str] = set()  # the labels whose rendered cell has its player, made once
        self.handle: Any = None
        if in_kernel() if live is None else live:
            from IPython.display import display

            self.handle = display(self.bundle(), raw=True, display_id=True)  # None without an IPython shell

    def bundle(self) -> dict[str, str]:
        return speech_bundle(self.grid, rendered=self.rendered)

    def update(self, label: str) -> None:
        if self.handle is None:
            return
        running = sum(r is None for r in self.grid.runs)
        if running <= 1:
            self._players()
        else:
            self.rendered[label] = render_cell(self.grid, self.grid.labels.index(label), player=False)
        self.handle.update(self.bundle(), raw=True)

    def _players(self) -> None:
        """Every arrived cell with its player and waveform (each made once)."""
        for index, (label, run) in enumerate(zip(self.grid.labels, self.grid.runs, strict=True)):
            if run is not None and label not in self.with_player:
                self.rendered[label] = render_cell(self.grid, index)
                self.with_player.add(label)

    def close(self) -> None:
        if self.handle is None:
            return
        self._players()  # a grid stopped early (an interrupt) shows what arrived, playable
        self.handle.update(self.bundle(), raw=True)
        if self.grid.finished:
            self.grid.shown_live_in = _cell_number()


def show(grid: SpeechComparison) -> None:
    """`_ipython_display_`: the grid, unless the live output of the cell running now shows it already."""
    from IPython.display import display

    if grid.shown_live_in is not None and grid.shown_live_in == _cell_number():
        grid.shown_live_in = None  # shown once; displaying it again on purpose shows it again
        return
    display(speech_bundle(grid), raw=True)
