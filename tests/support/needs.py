"""What a test needs beyond Python — the real engine, a browser, a LiteLLM relay — is its marker,
and the marker is checked: a test that starts one of them without carrying its marker fails
(`require` is called where each is started). `make test-fast` deselects all three, so a test
that would need one cannot slip into the fast lane, and one that needs none is not kept out.
"""

from __future__ import annotations

import contextvars

import pytest

NEEDS = {
    "engine": "starts the real local engine (models load once per session): the `engine` fixture, or marked",
    "browser": "drives Chromium",
    "relay": "runs a LiteLLM proxy in front of the engine",
}
# The markers of the test running now (None outside a test: tools and benchmarks use these helpers too).
running: contextvars.ContextVar[frozenset[str] | None] = contextvars.ContextVar("nbaudio_test_markers", default=None)


def require(need: str) -> None:
    """Fail the running test unless it carries the `need` marker."""
    markers = running.get()
    if markers is not None and need not in markers:
        pytest.fail(f"this test {NEEDS[need]}, so it must be marked @pytest.mark.{need} "
                    f"(tests/support/needs.py)", pytrace=False)
