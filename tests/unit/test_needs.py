"""The rule that keeps the fast lane honest (tests/support/needs.py): starting the engine or a
browser in a test without its marker fails that test, before anything starts."""

from __future__ import annotations

import pytest

import nbaudio
from nbaudio import local, shared_engine
from tests.support import browser, needs


@pytest.mark.local  # with the engine packages missing, the default engine says so before it would start
@pytest.mark.parametrize("start", [local.start, shared_engine.connect, lambda: nbaudio.Client().open()],
                         ids=["local.start", "shared_engine.connect", "the default engine"])
def test_starting_the_engine_unmarked_fails(start, monkeypatch):
    monkeypatch.delenv("NBAUDIO_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(pytest.fail.Exception, match=r"must be marked @pytest.mark.engine"):
        start()


def test_starting_a_browser_unmarked_fails():
    with pytest.raises(pytest.fail.Exception, match=r"must be marked @pytest.mark.browser"):
        browser.launch_chromium(None)


@pytest.mark.browser
def test_a_marked_test_passes_the_check():
    needs.require("browser")  # no failure: the marker is there
    assert "browser" in needs.running.get()


def test_outside_a_test_nothing_is_checked():
    token = needs.running.set(None)  # tools and benchmarks use the same helpers
    try:
        needs.require("engine")
    finally:
        needs.running.reset(token)
