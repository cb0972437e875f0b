"""A blind listening test in JupyterLab (headless Debian Chromium, loopback): a listener plays the
samples, rates them and presses Next like a person; the kernel's DataFrame must hold exactly those
clicks, mapped back to the right systems; Next stays disabled until the trial is rated; the page
never shows which system a sample is; the ratings survive saving and reopening the notebook.

The clips are tones made with numpy in the kernel (no engine: what is tested is the widget). The
pytest process makes the same seeded plan as the kernel, which is how it knows which system each
sample is while clicking.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nbaudio.listening import plan_trials
from tests.support.browser import (
    CHROMIUM,
    cell_outputs,
    open_notebook,
    run_cell,
    wait_for_kernel,
    write_notebook,
)

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
NOTEBOOK = "listening.ipynb"
SYSTEMS = {"voice-lowpitch": 220, "voice-midpitch": 440, "voice-highpitch": 880}  # name -> tone (Hz)
ITEMS = 2
SEED = 7
AB_SYSTEMS = ("voice-lowpitch", "voice-highpitch")
AB_SEED = 3

BUILD = f"""import numpy as np
import nbaudio
from nbaudio import AudioClip

RATE = 16000
def tone(hz, seconds=0.4):
    t = np.arange(int(seconds * RATE)) / RATE
    return AudioClip.from_array(0.3 * np.sin(2 * np.pi * hz * t), RATE, name=f"tone-{{hz}}.wav")

clips = {{name: [tone(hz * (1 + k / 20)) for k in range({ITEMS})] for name, hz in {SYSTEMS!r}.items()}}
test = nbaudio.listening_test(clips, kind="mos", seed={SEED})
test"""
READ = "print(test.results.to_json(orient='records'))"
AB = f"ab = nbaudio.listening_test({{k: clips[k] for k in {AB_SYSTEMS!r}}}, kind='ab', seed={AB_SEED})\nab"
AB_READ = "print(ab.results.to_json(orient='records')); print(ab.summary().to_json(orient='records'))"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
    pytest.mark.timeout(600),
]


def _rating(system: str, item: int) -> int:
    """The listener's answer for a clip: each system its own level, moved by the item."""
    return {"voice-lowpitch": 2, "voice-midpitch": 4, "voice-highpitch": 1}[system] + (item - 1)


def _plays(trial: int, position: int) -> int:
    return 2 if (trial, position) == (1, 1) else 1  # sample A of the first trial is heard twice


@pytest.fixture(scope="module")
def lab(labs):
    with labs.folder("listening") as lab:
        write_notebook(lab["dir"] / NOTEBOOK, [BUILD, READ, AB, AB_READ])
        yield lab


def _play(page, sample) -> None:
    """Press Play and wait for the sample to play to its end (the button says Play again)."""
    before = sample.locator(".nbaudio-lt-plays").inner_text()
    sample.locator(".nbaudio-lt-play").click()
    page.wait_for_function("([el, before]) => el.textContent !== before",
                           arg=[sample.locator(".nbaudio-lt-plays").element_handle(), before])
    page.wait_for_function("(el) => el.textContent.includes('Play')",
                           arg=sample.locator(".nbaudio-lt-play").element_handle())


def _rate(page, sample, value: str) -> None:
    """Click the answer's label and wait until the kernel has it (the row's data-kernel)."""
    sample.locator(".nbaudio-lt-option", has=page.locator(f"input[value='{value}']")).click()
    page.wait_for_function("([el, v]) => el.dataset.kernel === v", arg=[sample.element_handle(), value])


def _shoot(page, widget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (900, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        widget.screenshot(path=str(SHOTS / f"listening_{name}_{width}.png"))
    page.set_viewport_size({"width": 1280, "height": 900})


def test_mos_ratings_round_trip_and_survive_save_and_reopen(browser, lab):
    plan = plan_trials(list(SYSTEMS), list(range(1, ITEMS + 1)), "mos", SEED)
    page = open_notebook(browser, lab, NOTEBOOK)
    try:
        run_cell(page, 0)
        out = cell_outputs(page, 0)
        widget = out.locator(".nbaudio-listening")
        widget.wait_for()
        results_view = out.locator(".nbaudio-listening-results")
        assert "0 of 2 trials answered" in results_view.inner_text()
        expected = []
        for trial in plan:
            page.wait_for_function("([el, n]) => el.textContent === `trial ${n} of 2`",
                                   arg=[widget.locator(".nbaudio-lt-progress").element_handle(), trial.number])
            samples = widget.locator(".nbaudio-lt-sample")
            assert samples.count() == len(SYSTEMS)
            assert [samples.nth(i).get_attribute("data-label") for i in range(3)] == ["A", "B", "C"]
            if trial.number > 1:  # the output under the widget has the first trial's ratings
                out.locator(".nbaudio-listening-results", has_text="1 of 2 trials answered").wait_for()
            shown = out.inner_html()
            assert not [name for name in SYSTEMS if name in shown]  # blind: no system named in the cell's outputs
            next_button = widget.locator(".nbaudio-lt-next")
            # Before a sample is played, its answers cannot be picked; Next waits for every rating.
            assert samples.nth(0).locator("input").first.is_disabled()
            for position, system in enumerate(trial.systems, start=1):
                assert next_button.is_disabled()
                sample = samples.nth(position - 1)
                for _ in range(_plays(trial.number, position)):
                    _play(page, sample)
                assert sample.locator(".nbaudio-lt-plays").inner_text() == f"played {_plays(trial.number, position)}×"
                rating = _rating(system, trial.item)
                _rate(page, sample, str(rating))
                expected.append({"trial": trial.number, "item": trial.item, "system": system, "position": position,
                                 "rating": rating, "plays": _plays(trial.number, position)})
                if trial.number == 1 and position == 2:
                    _shoot(page, widget, "trial")
            assert next_button.is_enabled()
            next_button.click()
        finished = widget.locator(".nbaudio-lt-finished")
        finished.wait_for()
        assert widget.locator(".nbaudio-lt-progress").inner_text() == "2 of 2 trials answered"
        # (by selector: the lab replaces the output's node when the kernel updates it)
        out.locator(".nbaudio-listening-results", has_text="finished, 2 of 2 trials").wait_for()
        _shoot(page, out, "finished")

        # The kernel's DataFrame is the clicks, each on the system that was behind its sample.
        rows = json.loads(run_cell(page, 1))
        assert [{k: r[k] for k in expected[0]} for r in rows] == expected
        assert all(r["seconds"] > 0 for r in rows)

        # The summary under the widget, and in the saved notebook's outputs (not only widget state).
        shown = results_view.inner_text()
        means = {s: sum(_rating(s, i) for i in range(1, ITEMS + 1)) / ITEMS for s in SYSTEMS}
        for system, mean in means.items():
            assert f"{system}\t{ITEMS}\t{mean:.2f}" in shown, shown
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
        saved = json.loads((Path(lab["dir"]) / NOTEBOOK).read_text())["cells"][0]["outputs"]
        static = [o for o in saved if "nbaudio-listening-results" in "".join(o.get("data", {}).get("text/html", ""))]
        assert len(static) == 1
        plain = "".join(static[0]["data"]["text/plain"])
        assert "finished, 2 of 2 trials" in plain
        for row in expected:
            assert any(line.split()[:5] == [str(row[k]) for k in ("trial", "item", "system", "position", "rating")]
                       for line in plain.splitlines()), row

        # Reopened: the saved output shows the ratings again.
        page.reload(wait_until="domcontentloaded")
        wait_for_kernel(page, NOTEBOOK)
        reopened = cell_outputs(page, 0).locator(".nbaudio-listening-results")
        reopened.wait_for()
        for system, mean in means.items():
            assert f"{system}\t{ITEMS}\t{mean:.2f}" in reopened.inner_text()
        assert not page.js_errors, page.js_errors
    finally:
        page.close()


def test_ab_preference_round_trips(browser, lab):
    plan = plan_trials(list(AB_SYSTEMS), list(range(1, ITEMS + 1)), "ab", AB_SEED)
    page = open_notebook(browser, lab, NOTEBOOK)
    try:
        run_cell(page, 0)  # the clips
        run_cell(page, 2)
        widget = cell_outputs(page, 2).locator(".nbaudio-listening")
        widget.wait_for()
        chosen = []
        for trial in plan:
            page.wait_for_function("([el, n]) => el.textContent === `trial ${n} of 2`",
                                   arg=[widget.locator(".nbaudio-lt-progress").element_handle(), trial.number])
            samples = widget.locator(".nbaudio-lt-sample")
            for i in range(2):
                _play(page, samples.nth(i))
            assert widget.locator(".nbaudio-lt-next").is_disabled()
            pick = trial.systems.index("voice-lowpitch") if trial.number == 1 else 1  # low, then whatever is B
            _rate(page, samples.nth(pick), "true")
            chosen.append(trial.systems[pick])
            if trial.number == 1:
                _shoot(page, widget, "ab")
            widget.locator(".nbaudio-lt-next").click()
        widget.locator(".nbaudio-lt-finished").wait_for()
        rows_text, summary_text = run_cell(page, 3).splitlines()
        rows = json.loads(rows_text)
        assert [r["system"] for r in rows if r["preferred"]] == chosen
        assert [(r["trial"], r["position"], r["system"]) for r in rows] == [
            (t.number, p, s) for t in plan for p, s in enumerate(t.systems, start=1)]
        summary = json.loads(summary_text)
        assert len(summary) == 1 and summary[0]["trials"] == 2
        assert summary[0]["preferred"] == max(chosen.count(s) for s in AB_SYSTEMS)
        assert not page.js_errors, page.js_errors
    finally:
        page.close()
