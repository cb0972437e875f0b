"""Progress for multi-request work: a bar in notebooks and terminals, nothing when not interactive.

In a notebook the bar is a small HTML output under a display id, updated in place; when it
closes, that output becomes one line of text with the final state ("speak: 3/3 in 4.2 s", or where
it stopped). A saved notebook so keeps neither a stale "0%" text fallback (what a tqdm widget
leaves: its text/plain is the state when it was first shown) nor any widget models. Terminals get
tqdm's bar, which clears itself.
"""

from __future__ import annotations

import html
import sys
import time
from typing import Any

__all__ = ["progress", "NotebookBar", "in_kernel", "REDRAW_S"]

# The notebook bar redraws at most this often (one display update per redraw).
REDRAW_S = 0.2


def in_kernel() -> bool:
    """Whether this runs in a Jupyter kernel (where a bar is an output that updates in place)."""
    try:
        from IPython import get_ipython

        ip = get_ipython()
    except ImportError:
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def _tty() -> bool:
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


class NotebookBar:
    """A progress bar drawn as HTML in the cell's output; it ends as a line of text (see the module)."""

    def __init__(self, total: int, desc: str) -> None:
        from IPython.display import display

        self.total, self.desc, self.n = total, desc, 0
        self._started = self._drawn = time.monotonic()
        self._handle: Any = display(self._bundle(), raw=True, display_id=True)

    def _bundle(self) -> dict[str, str]:
        text = f"{self.desc}: {self.n}/{self.total}"
        return {"text/plain": text,
                "text/html": (f'<div style="color:#888;font-size:0.85em">{html.escape(self.desc)} '
                              f'<progress max="{self.total}" value="{self.n}" '
                              f'style="width:12em;vertical-align:middle"></progress> {self.n}/{self.total}</div>')}

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if self._handle is not None and (now - self._drawn >= REDRAW_S or self.n >= self.total):
            self._drawn = now
            self._handle.update(self._bundle(), raw=True)

    def close(self) -> None:
        handle, self._handle = self._handle, None
        if handle is None:
            return
        done = f"{self.n}/{self.total}" if self.n >= self.total else f"stopped at {self.n}/{self.total}"
        handle.update({"text/plain": f"{self.desc}: {done} in {time.monotonic() - self._started:.1f} s"}, raw=True)

    def __enter__(self) -> NotebookBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress(total: int, desc: str) -> Any:
    """A bar in a notebook (NotebookBar) or a terminal (tqdm), else a bar that draws nothing."""
    if total > 1 and in_kernel():
        return NotebookBar(total, desc)
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, disable=total <= 1 or not _tty(), leave=False)
