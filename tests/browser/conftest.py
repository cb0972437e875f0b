"""The browser the tests of a module share: Debian's Chromium through Playwright; the JupyterLab servers
the files of a session (an xdist worker) share (tests/support/browser.py)."""

from __future__ import annotations

import pytest

from tests.support.browser import SharedLabs, launch_chromium


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch_chromium(pw)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def labs(tmp_path_factory):
    """Shared JupyterLab servers (SharedLabs): `labs.folder(name, env)` for a file's notebooks."""
    shared = SharedLabs(tmp_path_factory.mktemp("labs"))
    try:
        yield shared
    finally:
        shared.close()
