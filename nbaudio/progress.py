"""Progress for multi-request work: a bar in notebooks and terminals, nothing when not interactive."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["progress"]


def _interactive() -> bool:
    try:
        from IPython import get_ipython

        ip = get_ipython()
    except ImportError:
        ip = None
    if ip is not None and type(ip).__name__ == "ZMQInteractiveShell":
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def progress(total: int, desc: str) -> Any:
    """A tqdm bar (widget in Jupyter) when interactive, else a bar that draws nothing."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not _interactive() or total <= 1, leave=False)
