"""What the browser tests share: a JupyterLab server on loopback, Debian's Chromium, running cells in the page."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from nbaudio.backend import REMOTE_ENV
from tests.support import needs

CHROMIUM = Path("/usr/bin/chromium")
# Headless in a container: no sandbox (root), no GPU, no background traffic; audio may start without a click.
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--autoplay-policy=no-user-gesture-required", "--mute-audio")
SERVER_START_S = 90
# nbaudio's JupyterLab extension as built in this checkout (labextension/, `make labextension`): the
# labs of the tests load it from here, whatever copy the venv's install holds.
ROOT = Path(__file__).resolve().parents[2]
LABEXTENSIONS = ROOT / "share" / "jupyter" / "labextensions"
BUILD = ROOT / "build"  # screenshots


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_settings(user_settings: Path, extra: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Lab settings for a test: every cell in the DOM (no windowing), no news or update pop-ups;
    `extra`: more settings files (plugin id/file name -> settings)."""
    files = {
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                             "checkForUpdates": False},
    }
    files.update(extra or {})
    for rel, value in files.items():
        path = user_settings / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


@contextmanager
def jupyter_lab(root: Path, work: Path, *, env: Mapping[str, str] | None = None,
                args: Sequence[str] = (), app: str = "jupyterlab",
                settings: Mapping[str, Mapping[str, Any]] | None = None) -> Iterator[dict[str, Any]]:
    """A JupyterLab server on a free loopback port with a token, serving `work`; state under `root`.
    `app="notebook"` runs Notebook 7 instead (the same server, the classic-looking front end).

    The kernels see none of the remote-API variables, plus `env`; `settings` adds lab settings (see
    lab_settings). Yields url, token, dir, log, port.
    """
    needs.require("browser")
    import requests

    lab_settings(root / "settings", settings)
    port, token = free_port(), secrets.token_hex(16)
    kernel_env = {k: v for k, v in os.environ.items() if k not in REMOTE_ENV}
    kernel_env.update(JUPYTER_RUNTIME_DIR=str(root / "runtime"), JUPYTER_CONFIG_DIR=str(root / "config"),
                      PYDEVD_DISABLE_FILE_VALIDATION="1", **(env or {}))
    front = "LabApp" if app == "jupyterlab" else "JupyterNotebookApp"
    cmd = [sys.executable, "-m", app, "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
           f"--{front}.user_settings_dir={root / 'settings'}", f"--{front}.workspaces_dir={root / 'workspaces'}",
           f"--{front}.expose_app_in_browser=True", f"--{front}.extra_labextensions_path={LABEXTENSIONS}",
           "--ServerApp.open_browser=False",
           "--ServerApp.shutdown_no_activity_timeout=900", "--MappingKernelManager.cull_idle_timeout=0", *args]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI containers run as root
    log_path = root / "lab.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(cmd, cwd=work, env=kernel_env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_S
    try:
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"JupyterLab exited ({proc.returncode}):\n{log_path.read_text()[-3000:]}")
            try:
                if requests.get(f"{url}/api/status", params={"token": token}, timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"JupyterLab did not answer in {SERVER_START_S} s:\n"
                                     f"{log_path.read_text()[-3000:]}")
            time.sleep(0.3)
        yield {"url": url, "token": token, "dir": work, "log": log_path, "port": port}
    finally:
        proc.send_signal(signal.SIGINT)  # the server shuts its kernels down on SIGINT/SIGTERM
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # our own session: the server and its kernels
                proc.wait(timeout=10)
        log.close()


class SharedLabs:
    """The JupyterLab servers of a test session, one per kernel environment, each started when a test
    first asks for it and stopped by close(). A lab of its own cost a file 5-20 s (load 8-20); the
    files whose kernels need the same environment share one. Each caller gets a folder of its own
    (its notebooks, so its kernels) and open_notebook gives each page a fresh workspace, so tests do
    not see each other's tabs. Files that change lab settings keep a lab of their own (jupyter_lab)."""

    def __init__(self, root: Path) -> None:
        self._root, self._stack, self._labs = root, ExitStack(), {}

    @contextmanager
    def folder(self, name: str, env: Mapping[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """A new empty folder `name`-* in the shared lab whose kernels see `env` (see jupyter_lab);
        yields the lab's url, token, log and port, its `dir` this folder, `path` its path in the lab.
        On exit the kernels of the folder's notebooks are shut down, as a lab of its own would."""
        key = tuple(sorted((env or {}).items()))
        if key not in self._labs:
            root = self._root / f"lab{len(self._labs)}"
            work = root / "notebooks"
            work.mkdir(parents=True)
            # allow_remote_access: a recorder test reaches the lab under another host name (an insecure page).
            self._labs[key] = self._stack.enter_context(
                jupyter_lab(root, work, env=env, args=["--ServerApp.allow_remote_access=True"]))
        lab = self._labs[key]
        folder = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=lab["dir"]))
        try:
            yield {**lab, "dir": folder, "path": folder.name}
        finally:
            _shut_down_kernels(lab, folder.name)

    def close(self) -> None:
        self._stack.close()


def _shut_down_kernels(lab: Mapping[str, Any], folder: str) -> None:
    """Ends the sessions (and so the kernels) of the notebooks in `folder` of `lab`."""
    import requests

    api, token = f"{lab['url']}/api/sessions", {"token": lab["token"]}
    for session in requests.get(api, params=token, timeout=10).json():
        if session["path"].startswith(f"{folder}/"):
            requests.delete(f"{api}/{session['id']}", params=token, timeout=30).raise_for_status()


def wait_for_kernel(page: Any, name: str, timeout_ms: int = 90_000) -> None:
    """Until the notebook `name` (its path in the lab, or its name in a folder of a shared lab) is the
    current tab and its kernel is idle."""
    page.wait_for_function(
        """(name) => {
            const app = window.jupyterapp; if (!app) return false;
            const w = app.shell.currentWidget;
            if (!w || !w.context || !w.sessionContext) return false;
            if (w.context.path !== name && !w.context.path.endsWith('/' + name)) return false;
            const k = w.sessionContext.session && w.sessionContext.session.kernel;
            return w.sessionContext.isReady && k && k.status === 'idle';
        }""", arg=name, timeout=timeout_ms)


CELL_S = 180  # one cell in the page (a transcription, a chat turn on the engine)
RUN_ALL_S = 360  # every cell of one notebook, models loading in the page's kernel included
CHECK_MS = 30_000


def write_notebook(path: Path, sources: list[str]) -> None:
    """A notebook of code cells with these sources, for the Python 3 kernel."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def launch_chromium(pw: Any, *extra: str) -> Any:
    """Debian's Chromium through Playwright, with a fake microphone device (and `extra` flags): the
    one place that knows its path and flags (the tests, tools/ and benchmarks launch it here)."""
    needs.require("browser")
    return pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, timeout=60_000,
                              args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", *extra])


def open_notebook(browser: Any, lab: dict[str, Any], name: str, host: str = "127.0.0.1",
                  viewport: tuple[int, int] = (1280, 900)) -> Any:
    """A page on notebook `name` of `lab` (from jupyter_lab or SharedLabs.folder), its kernel idle, in a
    workspace of its own (no tabs restored from other pages); `page.js_errors` collects the page's
    uncaught errors."""
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    page.set_default_timeout(CHECK_MS)
    page.js_errors = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    path = f"{lab['path']}/{name}" if lab.get("path") else name
    workspace = f"test-{secrets.token_hex(4)}"
    page.goto(f"http://{host}:{lab['port']}/lab/workspaces/{workspace}/tree/{path}?token={lab['token']}",
              wait_until="domcontentloaded", timeout=90_000)
    wait_for_kernel(page, path)
    return page


def run_all_cells(page: Any, name: str, timeout_s: float = RUN_ALL_S) -> None:
    """Run every cell of the notebook in view and wait until all ran and the kernel is idle. Fails on
    a cell's error, or after `timeout_s` (with a screenshot in build/)."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    started = time.monotonic()
    state = None
    while time.monotonic() - started < timeout_s:
        state = page.evaluate("""() => {
            const w = window.jupyterapp.shell.currentWidget;
            const cells = w.content.widgets.filter(c => c.model.type === 'code');
            const errs = [];
            for (const c of cells) for (const o of c.model.outputs.toJSON())
                if (o.output_type === 'error') errs.push(o.ename + ': ' + o.evalue);
            const done = cells.every(c => c.model.executionCount !== null);
            return {done: done && w.sessionContext.session.kernel.status === 'idle', errs: errs,
                    ran: cells.filter(c => c.model.executionCount !== null).length, total: cells.length};
        }""")
        assert not state["errs"], f"{name}: a cell failed in the browser: {state['errs']}"
        if state["done"]:
            return
        time.sleep(1)
    BUILD.mkdir(exist_ok=True)
    page.screenshot(path=str(BUILD / f"browser_{Path(name).stem}_timeout.png"))
    pytest.fail(f"{name}: only {state and state['ran']} of {state and state['total']} cells ran in {timeout_s} s")


def run_cell(page: Any, index: int) -> str:
    """Run code cell `index`, wait for it and the kernel to finish; return its output text. Fails on an error."""
    page.evaluate("""(i) => {
        const app = window.jupyterapp, w = app.shell.currentWidget;
        w.content.activeCellIndex = i;
        return app.commands.execute('notebook:run-cell');
    }""", index)
    started = time.monotonic()
    while time.monotonic() - started < CELL_S:
        state = page.evaluate("""(i) => {
            const w = window.jupyterapp.shell.currentWidget, cell = w.content.widgets[i];
            const outs = cell.model.outputs.toJSON();
            return {done: cell.model.executionCount !== null && w.sessionContext.session.kernel.status === 'idle',
                    errs: outs.filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue),
                    text: [...cell.node.querySelectorAll('.jp-OutputArea-output')].map(o => o.innerText).join('\\n')};
        }""", index)
        assert not state["errs"], f"cell {index} failed in the browser: {state['errs']}"
        if state["done"]:
            return state["text"].strip()
        time.sleep(0.5)
    pytest.fail(f"cell {index} did not finish in {CELL_S} s")


def cell_outputs(page: Any, index: int) -> Any:
    """The output area of cell `index` of the notebook in view (the lab may restore other tabs, hidden)."""
    mark = f"cell-{index}-{time.monotonic_ns()}"
    page.evaluate("""([i, mark]) => {
        window.jupyterapp.shell.currentWidget.content.widgets[i].node.dataset.nbaudioTest = mark;
    }""", [index, mark])
    return page.locator(f'[data-nbaudio-test="{mark}"] .jp-Cell-outputArea')


def record_in_widget(page: Any, widget: Any, seconds: float) -> None:
    """Press ● Record in a Recorder widget (a locator), let the fake microphone play for `seconds`
    (by the widget's own clock), press ■ Stop, and wait until the kernel has the recording."""
    button = widget.locator(".nbaudio-rec-button")
    button.click()
    widget.locator(".nbaudio-rec-button", has_text="Stop").wait_for()
    page.wait_for_function(
        """([el, s]) => {
            const m = /^(\\d+):(\\d+\\.\\d)/.exec(el.textContent);
            return m && 60 * m[1] + +m[2] >= s;
        }""",
        arg=[widget.locator(".nbaudio-rec-time").element_handle(), seconds], timeout=int(seconds * 1000) + 30_000)
    button.click()
    page.wait_for_function("(el) => el.textContent.includes('in the kernel')",
                           arg=widget.locator(".nbaudio-rec-status").element_handle())
