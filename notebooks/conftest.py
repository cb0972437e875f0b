"""nbval runs these notebooks (make test) on the embedded engine: each notebook's kernel starts
without the variables that would point nbaudio at a remote API. While they run, the shared
engine's key is watched for in all they send and log (tests/support/key_watch.py)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from nbaudio.backend import REMOTE_ENV
from tests.support.key_watch import LOG_ENV, KeyWatch, write_startup

_watch: KeyWatch | None = None


def _cell(item) -> bool:
    from nbval.plugin import IPyNbCell

    return isinstance(item, IPyNbCell)


def pytest_configure(config):
    global _watch
    if not (config.getoption("nbval", False) or config.getoption("nbval_lax", False)):
        return
    from nbval.plugin import IPyNbFile

    from nbaudio import shared_engine

    folder = Path(tempfile.mkdtemp(prefix="nbaudio-nbval-"))
    write_startup(folder / "ipython")
    _watch = KeyWatch(shared_engine.engine_dir() / "engine.key", folder / "kernel-debug.log")
    original = IPyNbFile.get_kernel_message

    def get_kernel_message(self, *args, _original=original, **kwargs):
        msg = _original(self, *args, **kwargs)
        if _watch is not None:
            _watch.message(msg)
        return msg

    IPyNbFile.get_kernel_message = get_kernel_message
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    # nbval starts a notebook's kernel while setting up its first cell; the kernel inherits os.environ:
    # no remote API, and (when the key is watched) IPython's startup file for the DEBUG logs.
    saved = {name: os.environ.pop(name) for name in REMOTE_ENV if name in os.environ}
    added = {}
    if _watch is not None:
        added = {"IPYTHONDIR": str(_watch.log_file.parent / "ipython"), LOG_ENV: str(_watch.log_file)}
        saved.update({name: os.environ[name] for name in added if name in os.environ})
        os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)
        os.environ.update(saved)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    if _watch is None or not _cell(item):
        return (yield)
    try:
        return (yield)
    finally:
        _watch.check(item.parent.name, item.name)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield  # nbval's teardown first (the kernel stops after a notebook's last cell)
    if _watch is not None and _cell(item) and (nextitem is None or nextitem.parent is not item.parent):
        _watch.notebook_done(item.parent.name)
    return result
