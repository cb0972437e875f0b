"""The browser the tests of a module share: Debian's Chromium through Playwright (tests/support/browser.py)."""

from __future__ import annotations

import pytest

from tests.support.browser import launch_chromium


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch_chromium(pw)
        try:
            yield b
        finally:
            b.close()
