"""The Recorder in a real browser: JupyterLab (headless, loopback) + Debian's Chromium via Playwright.

Chromium's fake microphone plays a WAV the engine's TTS made (`--use-file-for-fake-audio-capture`,
looped); the test presses Record and Stop like a user and checks that what reached the kernel
transcribes to the spoken words, that `%voice listen` answers a recording in its own cell, and
that a page that is not a secure context or a denied permission shows its message in the widget
(and reaches `rec.error` in the kernel). The page's kernel talks to this session's engine over
loopback (NBAUDIO_BASE_URL), so it loads no models itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests

from tests.support.browser import (
    CHROMIUM,
    cell_outputs,
    launch_chromium,
    open_notebook,
    record_in_widget,
    run_cell,
    write_notebook,
)

BUILD = Path(__file__).resolve().parents[2] / "build"
SPOKEN = "Seven purple elephants played the violin in the garden."
SPOKEN_WORDS = {"purple", "elephants", "violin", "garden"}
# Chromium reaches names under .test through this rule; to the page it is an ordinary http:// site,
# which is not a secure context (unlike localhost and 127.0.0.0/8).
INSECURE_HOST = "nbaudio.test"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
    pytest.mark.timeout(600),
]

RECORD = ["from nbaudio.widgets import Recorder\n"
          "rec, other = Recorder(), Recorder(sample_rate=None, max_seconds=1)\ndisplay(rec, other)",
          "print(rec.transcribe().text)",
          "print(rec.clip.sample_rate, other.clip.sample_rate, other.clip.duration, other.status)"]
LISTEN = ["%load_ext nbaudio\n%voice listen --name mic --max-tokens 24",
          "listener = get_ipython().magics_manager.registry['VoiceMagics'].listener\n"
          "print(listener.recordings, listener.transcribe().text)"]
PROBLEM = ["from nbaudio.widgets import LiveSession, Recorder\nrec, live = Recorder(), LiveSession()\n"
           "display(rec, live)", "print(rec.error)"]


@pytest.fixture(scope="module")
def spoken_wav(engine, tmp_path_factory) -> Path:
    """The sentence spoken by the engine's TTS: the fake microphone's input."""
    r = requests.post(engine.base_url + "/audio/speech", timeout=120,
                      json={"model": "tts-1", "voice": "alloy", "input": SPOKEN, "response_format": "wav"})
    r.raise_for_status()
    import numpy as np

    from nbaudio import AudioClip

    # Silence around the sentence: Chromium loops the file, and without a pause its last word ran into the
    # next loop's first ("garden seven" heard as "guard seven" in one CI run).
    said = AudioClip(r.content)
    pause = np.zeros((int(0.6 * said.sample_rate),) + said.samples.shape[1:], dtype=np.float32)
    padded = AudioClip.from_array(np.concatenate([pause, said.samples, pause]), said.sample_rate)
    path = tmp_path_factory.mktemp("mic") / "spoken.wav"
    path.write_bytes(padded.to_wav())
    return path


@pytest.fixture(scope="module")
def lab(engine, labs):
    # The shared labs allow remote access: the insecure-page check reaches the server under another host name.
    with labs.folder("recorder", env={"NBAUDIO_BASE_URL": engine.base_url}) as lab:
        write_notebook(lab["dir"] / "record.ipynb", RECORD)
        write_notebook(lab["dir"] / "listen.ipynb", LISTEN)
        write_notebook(lab["dir"] / "problem.ipynb", PROBLEM)
        yield lab


@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(playwright, spoken_wav):
    """A browser whose microphone is the spoken WAV and whose permission prompts say yes."""
    b = launch_chromium(playwright, "--use-fake-ui-for-media-stream", f"--use-file-for-fake-audio-capture={spoken_wav}",
                f"--host-resolver-rules=MAP {INSECURE_HOST} 127.0.0.1")
    try:
        yield b
    finally:
        b.close()


def _words(text: str) -> set[str]:
    return {w.strip(".,!?").lower() for w in text.split()}


def test_record_in_the_browser_and_transcribe_in_the_kernel(browser, lab, spoken_wav):
    from nbaudio import AudioClip

    spoken_s = AudioClip(spoken_wav.read_bytes()).duration
    page = open_notebook(browser, lab, "record.ipynb")
    try:
        run_cell(page, 0)
        widgets = cell_outputs(page, 0).locator(".nbaudio-recorder")
        widgets.nth(1).wait_for()
        widget, other = widgets.nth(0), widgets.nth(1)
        assert widget.locator(".nbaudio-rec-error").inner_text() == ""  # 127.0.0.1 is a secure context
        # Longer than the sentence: the fake microphone loops the file from wherever it is.
        record_in_widget(page, widget, 2 * spoken_s + 0.5)
        status = widget.locator(".nbaudio-rec-status").inner_text()
        assert re.search(r"\d+\.\d s at 16 kHz in the kernel", status), status
        # The preview plays what was recorded (at the device rate, before the kernel resamples it).
        preview = widget.locator("audio.nbaudio-rec-preview")
        page.wait_for_function("(a) => a.readyState >= 1", arg=preview.element_handle())
        assert preview.evaluate("(a) => a.duration") >= 2 * spoken_s

        heard = run_cell(page, 1)
        assert SPOKEN_WORDS <= _words(heard), f"the kernel heard {heard!r}"

        # A second recorder on the page: its own recording, at the device rate, stopped by its limit.
        other.locator(".nbaudio-rec-button").click()
        page.wait_for_function("(el) => el.textContent.includes('in the kernel')",
                               arg=other.locator(".nbaudio-rec-status").element_handle())
        assert "stopped at max_seconds=1" in other.locator(".nbaudio-rec-status").inner_text()
        ours, device, seconds, _ = run_cell(page, 2).split(" ", 3)
        assert ours == "16000" and int(device) >= 16000 and float(seconds) == 1.0
        BUILD.mkdir(exist_ok=True)
        widget.screenshot(path=str(BUILD / "browser_recorder.png"))
        assert not page.js_errors, page.js_errors
    finally:
        page.close()


def test_voice_listen_answers_in_its_cell(browser, lab, spoken_wav):
    from nbaudio import AudioClip

    spoken_s = AudioClip(spoken_wav.read_bytes()).duration
    page = open_notebook(browser, lab, "listen.ipynb")
    try:
        run_cell(page, 0)
        out = cell_outputs(page, 0)
        widget = out.locator(".nbaudio-recorder")
        widget.wait_for()
        record_in_widget(page, widget, spoken_s + 1.0)
        # The reply comes from the widget callback after the cell ended, and shows in this cell.
        turn = out.locator(".nbaudio-chat")
        turn.wait_for(timeout=180_000)
        assert "assistant" in turn.inner_text() and len(turn.inner_text().strip()) > 20
        player = turn.locator("audio")
        page.wait_for_function("(a) => a.readyState >= 1 && a.duration > 0", arg=player.element_handle())

        count, _, heard = run_cell(page, 1).partition(" ")
        assert count == "1" and SPOKEN_WORDS & _words(heard), f"the kernel heard {heard!r}"
        assert not page.js_errors, page.js_errors
    finally:
        page.close()


def test_insecure_page_says_why(browser, lab):
    page = open_notebook(browser, lab, "problem.ipynb", host=INSECURE_HOST)
    try:
        assert page.evaluate("() => window.isSecureContext") is False
        run_cell(page, 0)
        widget = cell_outputs(page, 0).locator(".nbaudio-recorder")
        error = widget.locator(".nbaudio-rec-error")
        error.wait_for()
        message = f"only works on a secure page, and this one (http://{INSECURE_HOST}:{lab['port']}) is not"
        assert message in error.inner_text()
        widget.locator(".nbaudio-rec-button").click()  # pressing Record says it again instead of failing
        assert message in error.inner_text() and "Stop" not in widget.locator(".nbaudio-rec-button").inner_text()
        # The live session's widget says the same, before and after ▶ Start.
        live = cell_outputs(page, 0).locator(".nbaudio-live")
        assert message in live.locator(".nbaudio-live-error").inner_text()
        live.locator(".nbaudio-live-start").click()
        assert message in live.locator(".nbaudio-live-error").inner_text()
        assert live.evaluate("(el) => el.dataset.state") == "idle"
        assert message in run_cell(page, 1)  # the kernel knows too: rec.error
        assert not page.js_errors, page.js_errors
    finally:
        page.close()


def test_permission_denied_says_what_to_do(playwright, lab):
    denying = launch_chromium(playwright)  # no fake UI: the headless permission prompt is dismissed
    try:
        page = open_notebook(denying, lab, "problem.ipynb")
        run_cell(page, 0)
        widget = cell_outputs(page, 0).locator(".nbaudio-recorder")
        widget.wait_for()
        widget.locator(".nbaudio-rec-button").click()
        error = widget.locator(".nbaudio-rec-error")
        page.wait_for_function("(el) => el.textContent.length > 0", arg=error.element_handle())
        assert "Microphone permission was denied" in error.inner_text()
        assert "Record" in widget.locator(".nbaudio-rec-button").inner_text()  # ready to try again
        live = cell_outputs(page, 0).locator(".nbaudio-live")
        live.locator(".nbaudio-live-start").click()
        live_error = live.locator(".nbaudio-live-error")
        page.wait_for_function("(el) => el.textContent.length > 0", arg=live_error.element_handle())
        assert "Microphone permission was denied" in live_error.inner_text()
        assert "press ▶ Start again" in live_error.inner_text()
        assert "Microphone permission was denied" in run_cell(page, 1)
        assert not page.js_errors, page.js_errors
    finally:
        denying.close()
