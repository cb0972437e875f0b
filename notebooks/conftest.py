"""nbval runs these notebooks (make test) on the embedded engine: each notebook's kernel starts
without the variables that would point nbaudio at a remote API."""

from __future__ import annotations

import os

import pytest

from nbaudio.backend import REMOTE_ENV



@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    # nbval starts a notebook's kernel while setting up its first cell; the kernel inherits os.environ.
    saved = {name: os.environ.pop(name) for name in REMOTE_ENV if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)
