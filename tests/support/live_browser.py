"""A `%voice live` conversation in a real JupyterLab, spoken by Chromium's fake microphone: the
scenario the browser test checks and the benchmark times (benchmarks/bench_live.py).

The microphone file holds three utterances made by the engine's TTS: a short question, a pause
long enough for its reply to play out, a request for a long story (a long reply, whose first
clause may run for a dozen words before a comma), and a third utterance
timed to land while that story plays (the barge-in). The page's widget plays the replies through
Web Audio and measures, for each reply, the time from the end of the user's utterance (the last
loud microphone block before the server's speech_stopped) to the reply's first sample leaving for
the speakers (Web Audio's output latency included): mouth-to-ear latency.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import requests

from tests.support.browser import cell_outputs, jupyter_lab, launch_chromium, open_notebook, run_cell, write_notebook

QUESTION = "What is the capital of France?"
STORY = "Please tell me a long story about a dragon who guarded a mountain of gold."
BARGE_IN = "Thank you, that is enough for now."
LEAD_S = 0.8  # silence before the first utterance
AFTER_QUESTION_S = 8.0  # the short reply plays out in this pause
INTO_STORY_S = 5.0  # the barge-in starts this long after the story request ends
TAIL_S = 9.0  # the reply to the barge-in
NOTEBOOK = "live.ipynb"
CELLS = [
    "%load_ext nbaudio\n%voice live --language en --out talk --max-minutes 3",
    "print(len(talk.messages), [m['role'] for m in talk.messages], _voice is talk)",
    "%%voice --text-only --max-tokens 16\nThanks. Say goodbye in three words.",
]
WAIT_S = 90


@dataclass
class LiveRun:
    """What the scenario saw: the widget's own figures, the texts, the saved notebook."""

    stats: dict[str, Any]
    user_texts: list[str]
    assistant_texts: list[str]
    marks: list[str]
    record_text: str
    after: str
    continued: str
    notebook: str
    page_html: str
    log: str
    screenshots: list[Path] = field(default_factory=list)
    plan: dict[str, float] = field(default_factory=dict)


def speak(base_url: str, api_key: str | None, text: str) -> tuple[np.ndarray, int]:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    r = requests.post(base_url + "/audio/speech", timeout=120, headers=headers,
                      json={"model": "tts-1", "voice": "alloy", "input": text, "response_format": "wav"})
    r.raise_for_status()
    from nbaudio import AudioClip

    clip = AudioClip(r.content).mono()
    return clip.samples.astype(np.float32), clip.sample_rate


def microphone_wav(base_url: str, api_key: str | None, path: Path) -> dict[str, float]:
    """Writes the fake microphone's file; returns where each utterance ends (s)."""
    from nbaudio import AudioClip

    parts, rate = [], None
    plan, t = {}, 0.0
    for text, pause_after, name in ((QUESTION, AFTER_QUESTION_S, "question"), (STORY, INTO_STORY_S, "story"),
                                    (BARGE_IN, TAIL_S, "barge_in")):
        samples, rate = speak(base_url, api_key, text)
        if not parts:
            parts.append(np.zeros(int(LEAD_S * rate), np.float32))
            t = LEAD_S
        parts.append(samples)
        t += len(samples) / rate
        plan[name + "_ends"] = round(t, 2)
        parts.append(np.zeros(int(pause_after * rate), np.float32))
        t += pause_after
    plan["length"] = round(t, 2)
    path.write_bytes(AudioClip.from_array(np.concatenate(parts), rate).to_wav())
    return plan


def _stats(widget: Any) -> dict[str, Any]:
    return widget.evaluate("(el) => JSON.parse(el.dataset.stats || '{}')")


def run_live(base_url: str, api_key: str | None, root: Path, shots: Path | None = None) -> LiveRun:
    """The whole scenario in a fresh JupyterLab and Chromium under `root`."""
    from playwright.sync_api import sync_playwright

    wav = root / "microphone.wav"
    plan = microphone_wav(base_url, api_key, wav)
    work = root / "notebooks"
    work.mkdir(parents=True, exist_ok=True)
    write_notebook(work / NOTEBOOK, CELLS)
    env = {"NBAUDIO_BASE_URL": base_url, **({"NBAUDIO_API_KEY": api_key} if api_key else {})}
    screenshots = []
    with jupyter_lab(root, work, env=env) as lab, sync_playwright() as pw:
        browser = launch_chromium(pw, "--use-fake-ui-for-media-stream", f"--use-file-for-fake-audio-capture={wav}")
        try:
            page = open_notebook(browser, lab, NOTEBOOK)
            run_cell(page, 0)
            out = cell_outputs(page, 0)
            widget = out.locator(".nbaudio-live")
            widget.wait_for()
            widget.locator(".nbaudio-live-start").click()
            page.wait_for_function("(el) => el.dataset.state !== 'connecting' && el.dataset.state !== 'idle'",
                                   arg=widget.element_handle(), timeout=WAIT_S * 1000)
            # Until the barge-in's own reply began (or the file is about to loop).
            deadline = time.monotonic() + plan["length"] + WAIT_S
            while time.monotonic() < deadline:
                stats = _stats(widget)
                if stats.get("replies", 0) >= 3 and stats.get("interrupted", 0) >= 1:
                    break
                time.sleep(0.25)
            time.sleep(1.5)  # the third reply plays a little
            stats = _stats(widget)
            users = widget.locator(".nbaudio-live-user .nbaudio-live-text").all_inner_texts()
            assistants = widget.locator(".nbaudio-live-assistant .nbaudio-live-text").all_inner_texts()
            marks = widget.locator(".nbaudio-live-assistant .nbaudio-live-mark").all_inner_texts()
            if shots is not None:
                shots.mkdir(parents=True, exist_ok=True)
                screenshots.append(shots / "live_session.png")
                widget.screenshot(path=str(screenshots[-1]))
            widget.locator(".nbaudio-live-start").click()  # ■ Stop
            record = out.locator(".nbaudio-live-record")
            record.wait_for(timeout=WAIT_S * 1000)
            record_text = out.inner_text()
            if shots is not None:
                screenshots.append(shots / "live_record.png")
                out.screenshot(path=str(screenshots[-1]))
            after = run_cell(page, 1)
            continued = run_cell(page, 2)
            page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
            saved = work / NOTEBOOK
            page.wait_for_function(
                "() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000)
            page_html = page.content()
            assert not page.js_errors, page.js_errors
        finally:
            browser.close()
    return LiveRun(stats=stats, user_texts=users, assistant_texts=assistants, marks=marks, record_text=record_text,
                   after=after, continued=continued, notebook=saved.read_text(), page_html=page_html,
                   log=Path(lab["log"]).read_text(errors="replace"), screenshots=screenshots, plan=plan)


PAUSE_CELLS = ["%load_ext nbaudio\n%voice live --language en", "import time\ntime.sleep(6)\nprint('slept')"]


# JupyterLab (4.4 and later) sends widget messages to a kernel subshell where the kernel has them
# (ipykernel 7): they are handled while a cell runs. "disabled" gives what other front ends and
# older kernels do: widget messages wait for the cell to end.
COMMS_OVER_SUBSHELLS = "@jupyterlab/apputils-extension/kernels-settings.jupyterlab-settings"


def run_paused(base_url: str, root: Path, *, subshells: bool) -> list[str]:
    """A live session while a cell runs: the widget's states, polled every 100 ms, from ▶ Start
    until 3 s after the cell ended (the microphone is silent). `subshells`: whether JupyterLab
    sends widget messages over a kernel subshell."""
    from playwright.sync_api import sync_playwright

    from nbaudio import AudioClip

    wav = root / "silence.wav"
    wav.write_bytes(AudioClip.from_array(np.zeros(16000 * 30, np.float32), 16000).to_wav())
    work = root / "notebooks"
    work.mkdir(parents=True, exist_ok=True)
    write_notebook(work / "pause.ipynb", PAUSE_CELLS)
    states: list[str] = []
    settings = {COMMS_OVER_SUBSHELLS: {"commsOverSubshells": "perCommTarget" if subshells else "disabled"}}
    with jupyter_lab(root, work, env={"NBAUDIO_BASE_URL": base_url}, settings=settings) as lab, \
            sync_playwright() as pw:
        browser = launch_chromium(pw, "--use-fake-ui-for-media-stream", f"--use-file-for-fake-audio-capture={wav}")
        try:
            page = open_notebook(browser, lab, "pause.ipynb")
            run_cell(page, 0)
            widget = cell_outputs(page, 0).locator(".nbaudio-live")
            widget.locator(".nbaudio-live-start").click()
            page.wait_for_function("(el) => el.dataset.state === 'listening'", arg=widget.element_handle(),
                                   timeout=WAIT_S * 1000)
            page.evaluate("""() => {
                const app = window.jupyterapp, w = app.shell.currentWidget;
                w.content.activeCellIndex = 1;
                app.commands.execute('notebook:run-cell');
            }""")
            ended = None
            while ended is None or time.monotonic() - ended < 3.0:
                states.append(widget.evaluate("(el) => el.dataset.state"))
                if ended is None and "slept" in cell_outputs(page, 1).inner_text():
                    ended = time.monotonic()
                    states.append("(cell ended)")
                time.sleep(0.1)
            widget.locator(".nbaudio-live-start").click()
            cell_outputs(page, 0).locator(".nbaudio-live-record").wait_for(timeout=WAIT_S * 1000)
            assert not page.js_errors, page.js_errors
        finally:
            browser.close()
    return states


def saved_outputs(notebook_text: str) -> list[dict[str, Any]]:
    """The outputs of the saved notebook's first cell (the live session's)."""
    return json.loads(notebook_text)["cells"][0]["outputs"]
