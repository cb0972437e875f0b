"""A saved notebook reopened with a fresh kernel: every nbaudio widget's output shows what it did
(its saved view: a line saying what it is and what it recorded, with a player), never JupyterLab's
"Error displaying widget: model not found"; while the widgets live, the saved views stay hidden.

The page records from Chromium's fake microphone (its beep) in a Recorder, shows a Player of the
recording, a `%voice live` session that was never started and a `%voice listen` recorder; the
notebook is saved, its kernel shut down, and the page opened again on a new kernel. The saved
notebook exported by nbconvert (what nbviewer serves) is checked too, with scripts off as GitHub
shows it. No engine: nothing is sent to a model (NBAUDIO_BASE_URL points at a closed port).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from tests.support.browser import (
    CHECK_MS,
    CHROMIUM,
    cell_outputs,
    free_port,
    jupyter_lab,
    launch_chromium,
    open_notebook,
    record_in_widget,
    run_cell,
    write_notebook,
)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
NOTEBOOK = "reopen.ipynb"
CELLS = ["from nbaudio.widgets import Player, Recorder\nrec = Recorder()\nrec",
         "Player(rec.clip)",
         "%load_ext nbaudio\n%voice live",
         "%voice listen",
         "import numpy as np, nbaudio\n"
         "tone = lambda hz: nbaudio.AudioClip.from_array(0.3 * np.sin(np.arange(8000) * hz / 2546.5), 16000)\n"
         "nbaudio.listening_test({'low': tone(220), 'high': tone(440)}, kind='ab')",
         "nbaudio.Transcript.from_dict({'text': 'the quit brown fox'}).diff('The quick brown fox.')"]
WIDGET_CELLS = 5  # the last cell's diff is plain HTML: no widget, no saved view
WIDGET_ERRORS = ("model not found", "Error displaying widget", "Loading widget", "Model not found")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
    pytest.mark.timeout(600),
]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Run the notebook in JupyterLab, record, save, shut the kernel down and open it again.
    Yields (the reopened page, the seconds recorded, the notebook's folder)."""
    from playwright.sync_api import sync_playwright

    root = tmp_path_factory.mktemp("lab_reopen")
    work = root / "notebooks"
    work.mkdir()
    write_notebook(work / NOTEBOOK, CELLS)
    closed = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens: the cells send nothing
    with jupyter_lab(root, work, env={"NBAUDIO_BASE_URL": closed}) as lab, sync_playwright() as pw:
        browser = launch_chromium(pw, "--use-fake-ui-for-media-stream")
        try:
            page = open_notebook(browser, lab, NOTEBOOK)
            run_cell(page, 0)
            recorder = cell_outputs(page, 0).locator(".nbaudio-recorder")
            record_in_widget(page, recorder, 1.5)
            status = recorder.locator(".nbaudio-rec-status").inner_text()
            seconds = float(re.search(r"(\d+\.\d) s at 16 kHz in the kernel", status).group(1))
            for index in range(1, len(CELLS)):
                run_cell(page, index)
            cell_outputs(page, 3).locator(".nbaudio-recorder").wait_for()
            cell_outputs(page, 2).locator(".nbaudio-live").wait_for()
            cell_outputs(page, 4).locator(".nbaudio-listening-results").wait_for()
            # While the widgets live, what the notebook keeps for later stays out of sight.
            # (the listening test's results, which stay in sight, are the one exception)
            assert page.locator(".nbaudio-saved-view").count() >= WIDGET_CELLS
            assert page.locator(".nbaudio-saved-view:visible").count() == 1
            assert cell_outputs(page, 4).locator(".nbaudio-saved-view").is_visible()
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "reopen_live.png"), full_page=True)
            assert not page.js_errors, page.js_errors
            page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
            page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
            page.close()

            # Shut the kernel down (its session goes with it): the page opens on a new one.
            api, token = f"{lab['url']}/api/sessions", {"token": lab["token"]}
            for session in requests.get(api, params=token, timeout=10).json():
                requests.delete(f"{api}/{session['id']}", params=token, timeout=30).raise_for_status()
            page = open_notebook(browser, lab, NOTEBOOK)
            # The widget manager has looked for the models once no output still waits for one.
            page.wait_for_function("() => !document.body.textContent.includes('Loading widget')")
            page.screenshot(path=str(SCREENSHOTS / "reopen_lab.png"), full_page=True)
            yield page, seconds, work
        finally:
            browser.close()


def _visible_text(page) -> str:
    return page.locator(".jp-Notebook").inner_text()


def test_no_widget_error_after_reopening(saved):
    page, _, _ = saved
    text = _visible_text(page)
    assert not [e for e in WIDGET_ERRORS if e in text], text
    assert not page.js_errors, page.js_errors


def test_the_recording_shows_with_its_player(saved):
    page, seconds, _ = saved
    view = cell_outputs(page, 0).locator(".nbaudio-saved-view")
    assert view.is_visible()
    assert "Recorder" in view.inner_text() and f"{seconds:.1f} s" in view.inner_text(), view.inner_text()
    audio = view.locator("audio").first
    page.wait_for_function("(a) => a.readyState >= 1", arg=audio.element_handle())
    assert abs(audio.evaluate("(a) => a.duration") - seconds) < 0.2
    player = cell_outputs(page, 1).locator(".nbaudio-saved-view")
    assert player.is_visible() and "Player" in player.inner_text()
    page.wait_for_function("(a) => a.readyState >= 1", arg=player.locator("audio").first.element_handle())


def test_the_live_session_and_listener_say_what_they_were(saved):
    page, _, _ = saved
    live = cell_outputs(page, 2).locator(".nbaudio-saved-view")
    assert live.is_visible() and "not started" in live.inner_text(), live.inner_text()
    listen = cell_outputs(page, 3).locator(".nbaudio-saved-view")
    assert listen.is_visible() and "nothing recorded" in listen.inner_text(), listen.inner_text()


def test_the_listening_test_keeps_its_results_without_the_error(saved):
    page, _, _ = saved
    results = cell_outputs(page, 4).locator(".nbaudio-listening-results")
    assert results.is_visible() and "0 of 1 trials answered" in results.inner_text(), results.inner_text()


def test_a_diff_keeps_its_marks(saved):
    page, _, _ = saved
    diff = cell_outputs(page, 5).locator(".nbaudio-diff").first
    marked = diff.locator(".nbaudio-diff-substitute")
    assert diff.is_visible() and marked.inner_text() == "quick→quit", diff.inner_text()


def test_exported_html_shows_the_saved_views(saved):
    """nbconvert's HTML of the saved notebook, scripts off (GitHub shows no scripts either)."""
    import nbformat
    from nbconvert import HTMLExporter

    page, seconds, work = saved
    nb = nbformat.read(work / NOTEBOOK, as_version=4)
    html, _ = HTMLExporter().from_notebook_node(nb)
    path = work / "reopen.html"
    path.write_text(html, encoding="utf-8")
    context = page.context.browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    try:
        static = context.new_page()
        static.set_default_timeout(CHECK_MS)
        static.goto(path.as_uri(), wait_until="load")
        views = static.locator(".nbaudio-saved-view")
        assert views.count() == WIDGET_CELLS
        assert static.locator(".nbaudio-diff-substitute").inner_text() == "quick→quit"
        text = static.locator("body").inner_text()
        assert not [e for e in WIDGET_ERRORS if e in text]
        assert f"{seconds:.1f} s" in views.nth(0).inner_text()
        assert views.nth(0).locator("audio").count() == 1
        static.screenshot(path=str(SCREENSHOTS / "reopen_nbconvert.png"), full_page=True)
    finally:
        context.close()
