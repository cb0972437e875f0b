"""`make demo`: run the quickstart notebook on the embedded engine and write it as HTML.

    python -m nbaudio.demo [--notebook notebooks/01_quickstart.ipynb] [--out build]

Prints the path of the HTML file. Needs nbclient, nbconvert and ipykernel (the `[test]`
extra). The notebook runs in a fresh kernel of this Python, in a scratch copy of its folder,
so nothing in the source tree changes. The remote-API variables are removed from the kernel's
environment (`--use-env` keeps them), so the demo always shows the engine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ._wire.text import shorten
from .backend import REMOTE_ENV  # variables that would point the client at a remote API

DEFAULT_NOTEBOOK = Path("notebooks") / "01_quickstart.ipynb"
CELL_TIMEOUT = 600  # seconds for one cell; the first model loads happen inside a cell


def engine_env(keep_remote: bool = False) -> dict[str, str]:
    """This process's environment for a kernel: without the remote-API variables (unless kept)."""
    env = dict(os.environ)
    if not keep_remote:
        for name in REMOTE_ENV:
            env.pop(name, None)
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    # An engine in the kernel, not the machine's shared one: a one-off run leaves no process behind.
    env.setdefault("NBAUDIO_ENGINE", "kernel")
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # quiets a debugger warning on kernel start
    return env


def _cell_title(cell: Any) -> str:
    """The first line of a code cell, shortened, for the progress line."""
    first = next((line for line in cell.source.splitlines() if line.strip()), "")
    return shorten(first, 60)


def execute(path: str | Path, *, cwd: str | Path | None = None, keep_remote: bool = False,
            timeout: int = CELL_TIMEOUT, progress: bool = False) -> Any:
    """Run every cell of the notebook at `path` in a fresh kernel of this Python; return the notebook.

    Cells run with `cwd` as the working directory (default: the notebook's folder). With
    `progress`, each code cell prints a line as it starts and how long it took. Raises
    `nbclient.exceptions.CellExecutionError` when a cell fails.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    code_cells = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    started: dict[int, float] = {}

    def on_start(cell: Any, cell_index: int) -> None:
        if cell.cell_type != "code":
            return
        started[cell_index] = time.perf_counter()
        n = code_cells.index(cell_index) + 1
        print(f"  cell {n}/{len(code_cells)}: {_cell_title(cell)}", flush=True)

    def on_done(cell: Any, cell_index: int, execute_reply: Any) -> None:
        if cell_index not in started:
            return
        took = time.perf_counter() - started[cell_index]
        if took >= 2:
            print(f"    ... {took:.0f} s", flush=True)

    hooks = {"on_cell_start": on_start, "on_cell_executed": on_done} if progress else {}
    # The stock "python3" kernel: jupyter_client runs its `python` as this interpreter.
    client = NotebookClient(nb, kernel_name="python3", timeout=timeout, record_timing=False, allow_errors=False,
                            resources={"metadata": {"path": str(cwd or path.parent)}}, **hooks)
    client.execute(env=engine_env(keep_remote))
    return nb


def to_html(nb: Any) -> str:
    """The executed notebook as a standalone HTML page (scripts kept, so players seek on click)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(nb)
    return body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nbaudio.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebook", default=str(DEFAULT_NOTEBOOK), help="notebook to run (default: %(default)s)")
    parser.add_argument("--out", default="build", help="folder for the HTML (default: %(default)s)")
    parser.add_argument("--use-env", action="store_true",
                        help="keep NBAUDIO_*/OPENAI_* variables (run against the remote API they name)")
    args = parser.parse_args(argv)
    src = Path(args.notebook)
    if not src.is_file():
        print(f"demo: no notebook at {src}", file=sys.stderr)
        return 2
    try:
        import nbclient  # noqa: F401
        import nbconvert  # noqa: F401
    except ImportError as exc:
        print(f"demo: {exc.name} is missing; install the test extra: pip install -e '.[test]'", file=sys.stderr)
        return 2
    from nbclient.exceptions import CellExecutionError

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    html_path = out / (src.stem.split("_", 1)[-1] + ".html")  # 01_quickstart.ipynb -> quickstart.html
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nbaudio-demo-") as scratch:
        work = Path(scratch) / src.name
        shutil.copy2(src, work)
        print(f"Running {src} on the {'configured API' if args.use_env else 'embedded engine'} (the first cells "
              "that use the engine load its models: up to a minute):", flush=True)
        try:
            nb = execute(work, keep_remote=args.use_env, progress=True)
        except CellExecutionError as exc:
            print(f"demo: a cell failed:\n{exc}", file=sys.stderr)
            return 1
        html_path.write_text(to_html(nb), encoding="utf-8")
    print(f"Ran {len(nb.cells)} cells in {time.perf_counter() - started:.0f} s. The rendered notebook:")
    print(html_path.resolve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
