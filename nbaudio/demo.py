"""`make demo`: run the quickstart notebook on the embedded engine and write it as HTML.

    python -m nbaudio.demo [--notebook notebooks/01_quickstart.ipynb] [--out build] [--chat-build STATUS]

Prints the path of the HTML file. Needs nbclient, nbconvert and ipykernel (the `[demo]`
extra). The notebook runs in a fresh kernel of this Python, in a scratch copy of its folder,
so nothing in the source tree changes. The remote-API variables are removed from the kernel's
environment (`--use-env` keeps them), so the demo always shows the engine.

On a first install the chat model's library (llama-cpp-python) may still be compiling in the
background (tools/install.py; STATUS is the JSON file its worker writes, with the lock it holds
while it runs). A cell that fails because that library is missing then does not end the demo:
the page is written with every cell before it and a note that the chat part follows, the demo
waits for the compile, runs the cell again in the same kernel and goes on to the end.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ._wire.text import shorten
from .backend import REMOTE_ENV  # variables that would point the client at a remote API
from .server.catalog.packages import LLAMA_CPP  # facts only: the chat library's name

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


# Called with (the notebook so far, the index of the cell that failed, its CellExecutionError);
# returns True when the cell failed for want of a package that is now installed (it runs again).
ChatWait = Callable[[Any, int, Any], bool]


def execute(path: str | Path, *, cwd: str | Path | None = None, keep_remote: bool = False,
            timeout: int = CELL_TIMEOUT, progress: bool = False, chat_wait: ChatWait | None = None) -> Any:
    """Run every cell of the notebook at `path` in a fresh kernel of this Python; return the notebook.

    Cells run with `cwd` as the working directory (default: the notebook's folder). With
    `progress`, each code cell prints a line as it starts and how long it took. A cell that fails
    is run again if `chat_wait` says so (the chat library it lacked is installed now). Raises
    `nbclient.exceptions.CellExecutionError` when a cell fails.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    class Client(NotebookClient):
        async def async_execute_cell(self, cell: Any, cell_index: int, execution_count: int | None = None,
                                     store_history: bool = True) -> Any:
            try:
                return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
            except CellExecutionError as error:
                if chat_wait is None:
                    raise
                self.set_widgets_metadata()  # the widgets shown so far, for a page written meanwhile
                if not chat_wait(self.nb, cell_index, error):
                    raise
                return await super().async_execute_cell(cell, cell_index, None, store_history)

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
    client = Client(nb, kernel_name="python3", timeout=timeout, record_timing=False, allow_errors=False,
                    resources={"metadata": {"path": str(cwd or path.parent)}}, **hooks)
    client.execute(env=engine_env(keep_remote))
    return nb


def to_html(nb: Any) -> str:
    """The executed notebook as a standalone HTML page (scripts kept, so players seek on click)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(nb)
    return body


# ---- the chat library still compiling (tools/install.py's worker) ----------------------------

def chat_build_status(status_path: Path) -> dict[str, Any] | None:
    """The worker's status (state building/installed/failed, log, lock, started), or None when no
    build was ever started for this environment."""
    try:
        return json.loads(status_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def waits_for_build(error: Any, status: dict[str, Any]) -> bool:
    """Whether a cell's error names a package the build installs (the engine's 503 names what it lacks)."""
    names = [m.group() for r in status.get("requirements") or [LLAMA_CPP.distribution]
             if (m := re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", r))]
    return any(name in str(getattr(error, "evalue", "")) for name in names)


def chat_build_running(status: dict[str, Any]) -> bool:
    import fcntl

    with open(status["lock"], "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    return False


def compile_progress(log_path: str | Path) -> str:
    """"file 31 of 78" from the last ninja line of the build log, or "" when it has none yet."""
    try:
        with open(log_path, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 65536))
            tail = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    steps = re.findall(r"^\s*\[(\d+)/(\d+)\]", tail, flags=re.MULTILINE)
    return f"file {steps[-1][0]} of {steps[-1][1]}" if steps else ""


def wait_for_chat_build(status_path: Path, say: Callable[[str], None], poll: float = 1.0,
                        every: float = 30.0) -> dict[str, Any]:
    """Wait while the worker holds its lock, saying how far it is every `every` seconds; its final status."""
    status = chat_build_status(status_path) or {}
    last = time.monotonic()
    while status and chat_build_running(status):
        if time.monotonic() - last >= every:
            last = time.monotonic()
            done = compile_progress(status["log"])
            say(f"... llama.cpp still compiling ({_minutes(time.time() - status['started'])}"
                f"{', ' + done if done else ''}; log: {status['log']})")
        time.sleep(poll)
    return chat_build_status(status_path) or {}


def _minutes(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m} min {s:02d} s" if m else f"{s} s"


CHAT_FOLLOWS = ("**The chat part follows.** Every cell above ran on the embedded engine. The cells below need "
                "the local chat model's library, llama-cpp-python, which is still compiling (started {started}; "
                "progress in `{log}`). `make demo` runs them as soon as it is installed and rewrites this page: "
                "reload it in a few minutes.")
CHAT_FAILED = ("**The chat part could not run:** llama-cpp-python, the local chat model's library, did not build "
               "(the end of `{log}` says why). Every cell above ran; run `make demo` again once the cause is fixed.")


def partial_page(nb: Any, index: int, note: str) -> str:
    """The notebook as HTML with its cells before `index` as they ran, then `note`, then the rest
    without outputs (they have not run here)."""
    import nbformat

    page = copy.deepcopy(nb)
    for cell in page.cells[index:]:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    page.cells.insert(index, nbformat.v4.new_markdown_cell("> " + note))
    return to_html(page)


def chat_waiter(status_path: Path, html_path: Path, started: float) -> ChatWait:
    """What `execute` does when a cell fails: nothing (the error stands) unless the error names a
    package of a build started for this environment; then write the page so far, wait for the
    build, and say whether to run the cell again."""

    def wait(nb: Any, index: int, error: Any) -> bool:
        status = chat_build_status(status_path)
        if status is None or not waits_for_build(error, status):
            return False
        if chat_build_running(status):
            when = time.strftime("%H:%M", time.localtime(status["started"]))
            html_path.write_text(partial_page(nb, index, CHAT_FOLLOWS.format(started=when, log=status["log"])),
                                 encoding="utf-8")
            print(f"The page so far (every part but the chat, {time.perf_counter() - started:.0f} s):\n"
                  f"{html_path.resolve()}\nThe chat model's library is still compiling; the chat cells run once "
                  "it is installed.", flush=True)
            status = wait_for_chat_build(status_path, lambda line: print(line, flush=True))
        if status.get("state") == "installed":
            print("  llama-cpp-python is installed: running the chat part", flush=True)
            return True
        html_path.write_text(partial_page(nb, index, CHAT_FAILED.format(log=status.get("log", "?"))),
                             encoding="utf-8")
        print(f"demo: llama-cpp-python did not build; the end of {status.get('log')} says why. The page "
              f"without the chat part: {html_path.resolve()}", file=sys.stderr)
        return False

    return wait


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nbaudio.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebook", default=str(DEFAULT_NOTEBOOK), help="notebook to run (default: %(default)s)")
    parser.add_argument("--out", default="build", help="folder for the HTML (default: %(default)s)")
    parser.add_argument("--use-env", action="store_true",
                        help="keep NBAUDIO_*/OPENAI_* variables (run against the remote API they name)")
    parser.add_argument("--chat-build", metavar="STATUS",
                        help="status file of a llama-cpp-python build to wait for (tools/install.py writes it)")
    args = parser.parse_args(argv)
    src = Path(args.notebook)
    if not src.is_file():
        print(f"demo: no notebook at {src}", file=sys.stderr)
        return 2
    try:
        import nbclient  # noqa: F401
        import nbconvert  # noqa: F401
    except ImportError as exc:
        print(f"demo: {exc.name} is missing; install the demo extra: pip install -e '.[demo]'", file=sys.stderr)
        return 2
    from nbclient.exceptions import CellExecutionError

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    html_path = out / (src.stem.split("_", 1)[-1] + ".html")  # 01_quickstart.ipynb -> quickstart.html
    started = time.perf_counter()
    chat_wait = chat_waiter(Path(args.chat_build), html_path, started) if args.chat_build else None
    with tempfile.TemporaryDirectory(prefix="nbaudio-demo-") as scratch:
        work = Path(scratch) / src.name
        shutil.copy2(src, work)
        print(f"Running {src} on the {'configured API' if args.use_env else 'embedded engine'} (the first cells "
              "that use the engine load its models: up to a minute):", flush=True)
        try:
            nb = execute(work, keep_remote=args.use_env, progress=True, chat_wait=chat_wait)
        except CellExecutionError as exc:
            print(f"demo: a cell failed:\n{exc}", file=sys.stderr)
            return 1
        html_path.write_text(to_html(nb), encoding="utf-8")
    print(f"Ran {len(nb.cells)} cells in {time.perf_counter() - started:.0f} s. The rendered notebook:")
    print(html_path.resolve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
