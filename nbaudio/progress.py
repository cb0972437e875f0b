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

__all__ = ["progress", "waiting", "NotebookBar", "Waiting", "in_kernel", "REDRAW_S", "WAIT_SHOWN_AFTER_S"]

# The notebook bar redraws at most this often (one display update per redraw).
REDRAW_S = 0.2
# A single request says it is still running once it has taken this long (quick ones show nothing).
WAIT_SHOWN_AFTER_S = 1.0


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


class Waiting:
    """One long request in a notebook: after WAIT_SHOWN_AFTER_S, a line saying what runs and for how
    long ("transcribe · 3:00 of audio · 12 s"), redrawn every second by a thread; it ends as one line
    of text ("transcribe: 3:00 of audio in 15.2 s", or "stopped after" on an error). Requests that
    end sooner show nothing."""

    def __init__(self, desc: str, detail: str = "") -> None:
        import threading

        self.desc, self.detail = desc, detail
        self._started = time.monotonic()
        self._handle: Any = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="nbaudio-waiting", daemon=True)
        self._thread.start()

    def _label(self) -> str:
        return f"{self.desc} · {self.detail}" if self.detail else self.desc

    def _bundle(self, seconds: float) -> dict[str, str]:
        text = f"{self._label()} · {seconds:.0f} s"
        return {"text/plain": text,
                "text/html": (f'<div style="color:#888;font-size:0.85em">{html.escape(self._label())} · '
                              f'<progress style="width:6em;vertical-align:middle"></progress> '
                              f'{seconds:.0f} s</div>')}

    def _run(self) -> None:
        from IPython.display import display

        if self._done.wait(WAIT_SHOWN_AFTER_S):
            return
        with self._lock:
            if self._done.is_set():
                return
            self._handle = display(self._bundle(time.monotonic() - self._started), raw=True, display_id=True)
        while not self._done.wait(1.0):
            with self._lock:
                if self._handle is not None:
                    self._handle.update(self._bundle(time.monotonic() - self._started), raw=True)

    def close(self, failed: bool = False) -> None:
        with self._lock:
            self._done.set()
            handle, self._handle = self._handle, None
        if handle is None:
            return
        seconds = time.monotonic() - self._started
        end = f"stopped after {seconds:.1f} s" if failed else f"in {seconds:.1f} s"
        detail = f"{self.detail} " if self.detail else ""
        handle.update({"text/plain": f"{self.desc}: {detail}{end}"}, raw=True)

    def __enter__(self) -> Waiting:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        self.close(failed=kind is not None)


class _NoWaiting:
    def __enter__(self) -> _NoWaiting:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def waiting(desc: str, detail: str = "") -> Any:
    """Around one request that may take long: a `Waiting` line in a notebook, nothing elsewhere."""
    return Waiting(desc, detail) if in_kernel() else _NoWaiting()
