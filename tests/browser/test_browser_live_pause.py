"""`%voice live` while a cell runs, in a real browser (JupyterLab headless on loopback + Debian's
Chromium with a silent fake microphone, tests/support/live_browser.py): where widget messages wait
for the cell, the widget says the session is paused; over kernel subshells it goes on listening.
Apart from test_browser_live.py (the spoken scenario) so that each worker can take one of them.
"""

from __future__ import annotations

import pytest

from tests.support.browser import CHROMIUM
from tests.support.live_browser import run_paused

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
    pytest.mark.timeout(600),
]


def test_a_running_cell_pauses_the_session_where_widget_messages_wait(engine, tmp_path):
    states = run_paused(engine.base_url, tmp_path, subshells=False)
    cell_end = states.index("(cell ended)")
    assert "paused" in states[:cell_end], states  # the widget said so while the cell ran
    assert states[-1] == "listening", states  # and went on once the kernel took its audio again


def test_over_kernel_subshells_the_session_goes_on_while_a_cell_runs(engine, tmp_path):
    states = run_paused(engine.base_url, tmp_path, subshells=True)
    assert "(cell ended)" in states and "paused" not in states, states
