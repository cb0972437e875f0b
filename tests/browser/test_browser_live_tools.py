"""A voice agent in a real browser: JupyterLab + Chromium, whose fake microphone asks for the weather;
`%voice live --tools get_weather` lets the engine's model call a function the notebook defined, the
kernel runs it, and the spoken answer reads its result (issue 32's "a tool call works in JupyterLab +
Chromium with a fake microphone").
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from tests.support.browser import (
    CHROMIUM,
    cell_outputs,
    launch_chromium,
    open_notebook,
    run_cell,
    write_notebook,
)
from tests.support.live_browser import speak

BUILD = Path(__file__).resolve().parents[2] / "build"
QUESTION = "What is the weather in Paris?"
CELLS = [
    'asked = []\n\n\ndef get_weather(city: str) -> dict:\n    """The current weather in a city."""\n'
    '    asked.append(city)\n    return {"temperature_c": 18, "sky": "sunny"}',
    "%load_ext nbaudio\n%voice live --language en --tools get_weather --out talk --max-minutes 2",
    "print(asked)",
]
WAIT_S = 120

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
    pytest.mark.timeout(600),
]


@pytest.fixture(scope="module")
def run(engine, labs, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    from nbaudio import AudioClip

    root = tmp_path_factory.mktemp("lab_tools")
    samples, rate = speak(engine.base_url, None, QUESTION)
    silence = np.zeros(int(0.8 * rate), np.float32)
    # Chromium plays the file in a loop: silence past the wait, so the question is asked once.
    wav = root / "microphone.wav"
    wav.write_bytes(AudioClip.from_array(np.concatenate([silence, samples, np.zeros((WAIT_S + 30) * rate, np.float32)]),
                                         rate).to_wav())
    shots = BUILD / "live"
    shots.mkdir(parents=True, exist_ok=True)
    seen: dict[str, object] = {"notices": []}
    with labs.folder("live_tools", env={"NBAUDIO_BASE_URL": engine.base_url}) as lab, sync_playwright() as pw:
        write_notebook(lab["dir"] / "agent.ipynb", CELLS)
        browser = launch_chromium(pw, "--use-fake-ui-for-media-stream", f"--use-file-for-fake-audio-capture={wav}")
        try:
            page = open_notebook(browser, lab, "agent.ipynb")
            run_cell(page, 0)
            run_cell(page, 1)
            out = cell_outputs(page, 1)
            widget = out.locator(".nbaudio-live")
            widget.locator(".nbaudio-live-start").click()
            deadline = time.monotonic() + WAIT_S
            answer, since = "", time.monotonic()
            while time.monotonic() < deadline:  # the call (a notice on the status line), then the answer
                status = widget.locator(".nbaudio-live-status").all_inner_texts() if \
                    widget.locator(".nbaudio-live-status").count() else []
                seen["notices"] += [s for s in status if s.startswith("ran ") and s not in seen["notices"]]
                texts = [t for t in widget.locator(".nbaudio-live-assistant .nbaudio-live-text").all_inner_texts()
                         if t.strip()]
                if (texts[-1] if texts else "") != answer:
                    answer, since = texts[-1], time.monotonic()
                if answer and time.monotonic() - since > 2.0 and widget.evaluate("(el) => el.dataset.state") == \
                        "listening":  # the answer has stopped growing
                    break
                time.sleep(0.25)
            widget.screenshot(path=str(shots / "live_tool_call.png"))
            widget.locator(".nbaudio-live-start").click()  # ■ Stop
            record = out.locator(".nbaudio-live-record")
            record.wait_for(timeout=WAIT_S * 1000)
            seen.update(answer=answer, record=out.inner_text(), asked=run_cell(page, 2), errors=page.js_errors)
            out.screenshot(path=str(shots / "live_tool_record.png"))
        finally:
            browser.close()
    return seen


def test_the_spoken_question_ran_the_notebook_function(run):
    assert run["asked"].strip() == "['Paris']", run
    assert not run["errors"], run["errors"]


def test_the_answer_reads_the_result_and_the_record_shows_the_call(run):
    assert "18" in run["answer"] or "sunny" in run["answer"].lower(), run["answer"]
    assert "get_weather" in run["record"], run["record"]
