"""`%voice captions` in a real JupyterLab, spoken by Chromium's fake microphone: the scenario the
browser test checks and the benchmark times (benchmarks/bench_captions.py).

The microphone file holds two sentences made by the engine's TTS with a pause between them, the
first about fifteen seconds long. The
widget shows each turn's words as the transcription session sends them; the page records, each
time a line changes, how many words it shows and how much microphone audio had been captured by
then (its clock: the recording's time). After ■ Stop the transcript gives each word's end in the
recording, so the caption lag of a word is: recording time when it was first shown − its end.
"""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tests.support.browser import cell_outputs, jupyter_lab, launch_chromium, open_notebook, run_cell, write_notebook
from tests.support.live_browser import speak

# The first is long, as a lecturer's sentences are: its words can be shown while it is still
# spoken even where a decode takes several seconds.
SENTENCES = ("The museum opens at nine in the morning and closes at six in the evening on weekdays, and on "
             "weekends it stays open until eight so that families can come after lunch and see the new gallery "
             "of old maps.",
             "Visitors can buy their tickets online or at the front desk near the main entrance.")
LEAD_S, PAUSE_S, TAIL_S = 0.8, 2.0, 30.0  # the tail: silence while the last lines settle (the file loops)
NOTEBOOK = "captions.ipynb"
CELLS = [
    "%load_ext nbaudio\n%voice captions --language en --out caps --max-minutes 3",
    "import json\nprint(json.dumps({'text': caps.text, 'audio': caps.audio.duration,\n"
    "  'segments': [[s.start, s.end, s.text, [[w.word, w.start, w.end] for w in s.words]] for s in caps.segments]}))",
]
WAIT_S = 120


@dataclass
class CaptionsRun:
    """What the scenario saw: the page's figures, the lines shown, the transcript, the saved notebook."""

    stats: dict[str, Any]
    lines: list[str]
    final: list[bool]
    transcript: dict[str, Any]
    output_html: str
    notebook: str
    plan: dict[str, float] = field(default_factory=dict)
    screenshots: list[Path] = field(default_factory=list)

    def lags(self) -> list[float]:
        """Seconds from the end of each word (in the recording) to its first showing on the page."""
        return [round(at - end, 3) for end, at, _ in self._first_showings()]

    def hops(self) -> list[dict[str, float]]:
        """Each word's lag (s) split along its way: `engine` (word end → the kernel has the line, in
        seconds of audio the kernel had sent the server: the server and the socket), `to_page`
        (kernel → shown, wall seconds), `backlog` (audio the page had captured but the kernel had
        not sent on when the line reached the page: the page → kernel hop), `wait` (wall seconds
        the latest piece of audio then had taken from the page to the server's socket)."""
        out = []
        for end, at, hop in self._first_showings():
            if hop:
                shown_ms, kernel_ms, sent, wait_ms = hop
                to_page = (shown_ms - kernel_ms) / 1000
                out.append({"lag": at - end, "engine": sent - end, "to_page": to_page,
                            "backlog": at - sent - to_page, "wait": wait_ms / 1000})
        return out

    def _first_showings(self) -> list[tuple[float, float, list[float] | None]]:
        """(a word's end in the recording, the recording's time when it was first shown, the hops of
        that showing) for each word of the transcript shown before Stop."""
        shown_all = self.stats["shown"]
        hops = self.stats.get("hops") or [None] * len(shown_all)
        order: list[str] = []
        for item_id, count, _, _ in shown_all:
            if count and item_id not in order:
                order.append(item_id)
        out = []
        for item_id, segment in zip(order, self.transcript["segments"], strict=False):
            shown = [(count, at, hop) for (i, count, at, _), hop in zip(shown_all, hops, strict=False)
                     if i == item_id]
            for k, (_, _, end) in enumerate(segment[3]):
                first = next(((at, hop) for count, at, hop in shown if count > k), None)
                if first is not None:
                    out.append((end, first[0], first[1]))
        return out


def microphone_wav(base_url: str, path: Path) -> dict[str, float]:
    """Writes the fake microphone's file; returns where each sentence ends (s)."""
    from nbaudio import AudioClip

    parts, t, plan, rate = [], LEAD_S, {}, 16000
    for i, text in enumerate(SENTENCES):
        samples, rate = speak(base_url, None, text)
        if not parts:
            parts.append(np.zeros(int(LEAD_S * rate), np.float32))
        parts += [samples, np.zeros(int((PAUSE_S if i < len(SENTENCES) - 1 else TAIL_S) * rate), np.float32)]
        t += len(samples) / rate
        plan[f"sentence{i}_ends"] = round(t, 2)
        t += PAUSE_S
    path.write_bytes(AudioClip.from_array(np.concatenate(parts), rate).to_wav())
    return plan


def run_captions(base_url: str, root: Path, shots: Path | None = None,
                 lab: dict[str, Any] | None = None) -> CaptionsRun:
    """The whole scenario in a fresh Chromium, in `lab` (a folder of a shared lab whose kernels have
    NBAUDIO_BASE_URL=`base_url`, tests/support/browser.py) or else a fresh JupyterLab under `root`."""
    from playwright.sync_api import sync_playwright

    wav = root / "microphone.wav"
    plan = microphone_wav(base_url, wav)
    work = lab["dir"] if lab else root / "notebooks"
    work.mkdir(parents=True, exist_ok=True)
    write_notebook(work / NOTEBOOK, CELLS)
    screenshots = []
    own_lab = nullcontext(lab) if lab else jupyter_lab(root, work, env={"NBAUDIO_BASE_URL": base_url})
    with own_lab as lab, sync_playwright() as pw:
        browser = launch_chromium(pw, "--use-fake-ui-for-media-stream", f"--use-file-for-fake-audio-capture={wav}")
        try:
            page = open_notebook(browser, lab, NOTEBOOK)
            run_cell(page, 0)
            out = cell_outputs(page, 0)
            widget = out.locator(".nbaudio-captions")
            widget.wait_for()
            widget.locator(".nbaudio-captions-start").click()
            page.wait_for_function("(el) => el.dataset.state === 'listening'", arg=widget.element_handle(),
                                   timeout=WAIT_S * 1000)
            deadline = time.monotonic() + plan[f"sentence{len(SENTENCES) - 1}_ends"] + WAIT_S
            finals = widget.locator(".nbaudio-captions-final")
            provisional = widget.locator(".nbaudio-captions-line:not(.nbaudio-captions-final)")
            grey_shot = shots is not None
            while time.monotonic() < deadline and finals.count() < len(SENTENCES):
                if grey_shot and any(len(t.split()) >= 2 for t in provisional.all_inner_texts()):
                    shots.mkdir(parents=True, exist_ok=True)  # a line still being spoken: its words so far, grey
                    screenshots.append(shots / "captions_provisional.png")
                    widget.screenshot(path=str(screenshots[-1]))
                    grey_shot = False
                time.sleep(0.05)
            if shots is not None:
                shots.mkdir(parents=True, exist_ok=True)
                screenshots.append(shots / "captions_widget.png")
                widget.screenshot(path=str(screenshots[-1]))
            stats = widget.evaluate("(el) => JSON.parse(el.dataset.stats || '{}')")
            lines = widget.locator(".nbaudio-captions-line").all_inner_texts()
            final = [el.evaluate("(e) => e.classList.contains('nbaudio-captions-final')")
                     for el in widget.locator(".nbaudio-captions-line").all()]
            widget.locator(".nbaudio-captions-start").click()  # ■ Stop
            player = out.locator(".nbaudio-seg").first  # the transcript, with its player, in place of the widget
            player.wait_for(timeout=WAIT_S * 1000)
            output_html = out.inner_html()
            if shots is not None:
                screenshots.append(shots / "captions_transcript.png")
                out.screenshot(path=str(screenshots[-1]))
            transcript = json.loads(run_cell(page, 1).strip().splitlines()[-1])
            page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
            page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty",
                                   timeout=30_000)
            assert not page.js_errors, page.js_errors
        finally:
            browser.close()
    return CaptionsRun(stats=stats, lines=lines, final=final, transcript=transcript, output_html=output_html,
                       notebook=(work / NOTEBOOK).read_text(), plan=plan, screenshots=screenshots)
