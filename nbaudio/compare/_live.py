"""A speech grid as it fills in: in a notebook, one output under a display id (IPython's
update_display: no widget, so a saved notebook keeps it), shown with every cell waiting and
updated as each clip arrives, each cell rendered once, when it arrives. Its last update is the
finished grid, so the grid returned at the end of that same cell does not show a second copy."""

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
        self.rendered: Rendered = {}  # label -> (cell HTML, notes), made once per cell
        self.handle: Any = None
        if in_kernel() if live is None else live:
            from IPython.display import display

            self.handle = display(self.bundle(), raw=True, display_id=True)  # None without an IPython shell

    def bundle(self) -> dict[str, str]:
        return speech_bundle(self.grid, rendered=self.rendered)

    def update(self, label: str) -> None:
        if self.handle is None:
            return
        index = self.grid.labels.index(label)
        self.rendered[label] = render_cell(self.grid, index)
        self.handle.update(self.bundle(), raw=True)

    def close(self) -> None:
        if self.handle is None:
            return
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
