"""Loaded by pytest for both tests/ and notebooks/: keeps every test run inside the checkout.

The engine joins the multilingual Whisper model into its cache dir (~/.cache/nbaudio by default);
tests use build/test-cache instead, so a run reads and writes nothing outside the clone. The
notebooks' kernels share one engine there (nbaudio.shared_engine), stopped when the run ends.
"""

import os
from pathlib import Path

os.environ.setdefault("NBAUDIO_CACHE_DIR", str(Path(__file__).resolve().parent / "build" / "test-cache"))

# The %voice shell fixtures (shell, voice, on_engine) for every test directory that needs them.
pytest_plugins = ["tests.support.magic_fakes"]


def _in_charge(config) -> bool:
    """Not in a pytest-xdist worker: a worker that runs out of files ends (and unconfigures) while the
    other still runs notebooks on the shared engine, so only the controller starts and ends the run."""
    return not hasattr(config, "workerinput")


def pytest_configure(config):
    from nbaudio import shared_engine

    if _in_charge(config):
        shared_engine.stop()  # one a killed run left behind


def pytest_unconfigure(config):
    from nbaudio import shared_engine

    if _in_charge(config):
        shared_engine.stop()
