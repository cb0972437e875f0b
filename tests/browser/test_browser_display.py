"""A clip's and a transcript's output in Debian's Chromium at 900 px: readable time labels that do not
collide, and a waveform that still seeks where it is clicked. The page is the output's HTML as it is,
in a notebook's 13 px font (JupyterLab's smallest output text); screenshots go to build/screenshots/."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from nbaudio import AudioClip, Segment, Transcript, display
from tests.support.browser import CHROMIUM
from tests.support.signals import voiced_speech

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
RATE = 16000
MIN_LABEL_PX = 11.0

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
              pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> dict[str, str]:
    minute = AudioClip.from_array(voiced_speech(60.0, RATE), RATE, name="minute.wav")
    hour = AudioClip.from_array(np.tile(voiced_speech(10.0, 8000), 360), 8000, name="hour.wav")  # h:mm:ss labels
    who = ["Alice", "Bob", "Chen"]
    segs = [Segment(i, 3.0 * i, 3.0 * i + 2.7, f" sentence {i}", speaker=who[i % 3 if i % 4 else 0]) for i in range(20)]
    t = Transcript(text="x", segments=segs, duration=60.0, audio=minute)
    media = tmp_path_factory.mktemp("media")  # the hour's player is over the inline cap: written here
    with display.options.override(media_dir=str(media)):
        return {"clip": display.mimebundle(minute)["text/html"], "hour": display.mimebundle(hour)["text/html"],
                "transcript": display.mimebundle(t)["text/html"]}


def _page(browser, html: str, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(30_000)
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.set_content("<!doctype html><html><body style='font:13px sans-serif;margin:8px 24px'>"
                     f"{html}</body></html>")
    page.wait_for_function("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    return page


_LABELS = """(box) => [...box.querySelectorAll('.nbaudio-tick')].map(e => {
    const r = e.getBoundingClientRect();
    return {text: e.textContent, size: parseFloat(getComputedStyle(e).fontSize),
            left: r.left, right: r.right, top: r.top, bottom: r.bottom};
})"""


@pytest.mark.parametrize("name", ["clip", "hour", "transcript"])
@pytest.mark.parametrize("width", [900, 1280])
def test_time_labels_are_readable_and_apart(browser, outputs, name, width):
    page = _page(browser, outputs[name], width)
    try:
        _check_labels(page.locator(".nbaudio-wavebox").first)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.locator(".nbaudio").first.screenshot(path=str(SHOTS / f"display_{name}_{width}.png"))
        assert not page.errors, page.errors
    finally:
        page.close()


def test_a_click_on_the_waveform_seeks_there_and_the_cursor_follows(browser, outputs):
    page = _page(browser, outputs["clip"], 900)
    try:
        page.wait_for_function("document.querySelector('audio').readyState >= 1")
        wave = page.locator(".nbaudio-wave").first
        b = wave.bounding_box()
        wave.click(position={"x": b["width"] * 0.25, "y": b["height"] / 2})
        audio = page.locator("audio").first
        page.wait_for_function("(a) => !a.seeking && Math.abs(a.currentTime - 15) < 1", arg=audio.element_handle())
        audio.evaluate("(a) => a.pause()")
        cursor = wave.evaluate("(w) => { const c = [...w.children].find(e => e.tagName === 'DIV');"
                               "return c && {left: parseFloat(c.style.left), h: c.getBoundingClientRect().height}; }")
        t = audio.evaluate("(a) => a.currentTime")
        assert cursor is not None and cursor["left"] == pytest.approx(100 * t / 60.0, abs=0.5)
        assert cursor["h"] == pytest.approx(b["height"], abs=1)  # the whole image, the labels are outside it
        # the label under the click's place reads the time it seeked to
        under = [lb for lb in page.locator(".nbaudio-wavebox").evaluate(_LABELS) if lb["text"] == "0:15"]
        assert not under or abs((under[0]["left"] + under[0]["right"]) / 2 - (b["x"] + b["width"] * 0.25)) < 2
        assert not page.errors, page.errors
    finally:
        page.close()


def _check_labels(box) -> list[dict]:
    """The labels under a waveform: at least 5, >= MIN_LABEL_PX, each clear of the next, spread over the
    image's width from edge to edge and under it."""
    labels = box.evaluate(_LABELS)
    assert len(labels) >= 5, labels
    small = [(lb["text"], lb["size"]) for lb in labels if lb["size"] < MIN_LABEL_PX]
    assert not small, f"labels under {MIN_LABEL_PX} px: {small}"
    for a, b in itertools.pairwise(labels):  # in time order: each ends before the next starts
        assert a["right"] <= b["left"], f"{a['text']!r} and {b['text']!r} overlap: {a} {b}"
    img = box.locator("img").bounding_box()
    left, right = img["x"], img["x"] + img["width"]
    assert abs(labels[0]["left"] - left) <= 1 and abs(labels[-1]["right"] - right) <= 1, (labels, img)
    assert all(lb["top"] >= img["y"] + img["height"] - 0.5 for lb in labels)  # under the image, not on it
    return labels


def test_labels_in_an_untrusted_notebook_in_jupyterlab(browser, outputs, labs):
    """Saved outputs opened in JupyterLab without trust (its sanitiser keeps the labels' layout), 900 px wide."""
    import nbformat

    from tests.support.browser import open_notebook

    with labs.folder("display") as lab:
        nb = nbformat.v4.new_notebook()
        for i, name in enumerate(("clip", "transcript"), 1):
            cell = nbformat.v4.new_code_cell(name, execution_count=i)
            cell.outputs = [nbformat.v4.new_output("execute_result", execution_count=i,
                                                   data={"text/html": outputs[name], "text/plain": name})]
            nb.cells.append(cell)
        nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
        nbformat.write(nb, lab["dir"] / "saved.ipynb")
        page = open_notebook(browser, lab, "saved.ipynb", viewport=(900, 1400))
        try:
            boxes = page.locator(".jp-OutputArea-output .nbaudio-wavebox")
            boxes.nth(1).wait_for()
            assert page.locator(".jp-OutputArea-output .nbaudio-noscript").count() == 1  # untrusted indeed
            for i in range(2):
                page.wait_for_function("(im) => im.complete && im.naturalWidth > 0",
                                       arg=boxes.nth(i).locator("img").element_handle())
                _check_labels(boxes.nth(i))
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.locator(".jp-NotebookPanel").screenshot(path=str(SHOTS / "display_untrusted_lab_900.png"))
        finally:
            page.close()


_FAKE_MODEL = """async ([src, state]) => {
    // the anywidget model API player.js uses: get, set, on, off, save_changes
    const handlers = {}, model = {
        get: (k) => state[k], set: (k, v) => { state[k] = v; }, save_changes: () => {},
        on: (ev, fn) => { (handlers[ev] = handlers[ev] || []).push(fn); },
        off: (ev, fn) => { handlers[ev] = (handlers[ev] || []).filter((f) => f !== fn); },
    };
    const mod = await import("data:text/javascript;base64," + src);
    const el = document.createElement("div");
    document.body.appendChild(el);
    mod.default.render({model, el});
    window.nbModel = state;
}"""


def test_player_widget_labels(browser):
    """The Player widget's ES module (nbaudio/widgets/player.js) on a stand-in for anywidget's model."""
    import base64

    import nbaudio.widgets as widgets
    from nbaudio.widgets.esm import widget_module

    clip = AudioClip.from_array(voiced_speech(60.0, RATE), RATE)
    el = widgets.Player(clip).element
    state = {k: getattr(el, k) for k in ("mime", "width", "duration", "x0", "x1", "ticks", "position", "playing",
                                         "rate", "saved_view_id")}
    state["audio"] = state["waveform"] = None  # bytes go as blob URLs; the layout is what is checked
    src = base64.b64encode(widget_module("player.js").encode()).decode()  # the module anywidget gets
    page = browser.new_page(viewport={"width": 900, "height": 600})
    try:
        page.set_content("<!doctype html><html><body style='font:13px sans-serif;margin:8px 24px'></body></html>")
        page.evaluate(_FAKE_MODEL, [src, state])
        ticks = page.locator(".nbaudio-ticks")
        labels = ticks.evaluate(_LABELS)
        assert [lb["text"] for lb in labels] == [label for _, label in el.ticks]
        assert min(lb["size"] for lb in labels) >= MIN_LABEL_PX
        for a, b in itertools.pairwise(labels):
            assert a["right"] <= b["left"], (a, b)
        row = ticks.bounding_box()
        assert abs(labels[0]["left"] - row["x"]) <= 1 and abs(labels[-1]["right"] - (row["x"] + row["width"])) <= 1
    finally:
        page.close()
