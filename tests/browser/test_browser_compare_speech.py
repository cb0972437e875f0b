"""A speech grid's output in Debian's Chromium, as the HTML is (a notebook's 13 px font, 1000 px): every
cell's player loads its clip (the compact copy the grid embeds), and a click on one cell's waveform
seeks that cell's player only. The grid comes from compare_speech against a server that streams
voice-like audio, each voice a different length; the screenshot goes to build/screenshots/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from werkzeug import Request, Response

import nbaudio
from nbaudio import AudioClip, Client
from tests.support.browser import CHROMIUM
from tests.support.signals import voiced_speech

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
RATE = 24000
SECONDS = {"alloy": 2.0, "echo": 3.0, "nova": 4.0}  # each voice's clip length at speed 1

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
              pytest.mark.timeout(300)]


def _speak(request: Request) -> Response:
    body = json.loads(request.data)
    seconds = SECONDS[body["voice"]] / body.get("speed", 1.0)
    wav = AudioClip.from_array(voiced_speech(seconds, RATE, seed=len(body["voice"])), RATE).encode("wav").data
    return Response([wav[:2000], wav[2000:]], content_type="audio/wav", direct_passthrough=True)


@pytest.fixture(scope="module")
def grid_html(tmp_path_factory):
    from pytest_httpserver import HTTPServer

    server = HTTPServer()
    server.expect_request("/v1/audio/speech").respond_with_handler(_speak)
    server.start()
    try:
        with Client(server.url_for("/v1"), max_retries=0) as client:
            grid = nbaudio.compare_speech("Meet me at the library.", voices=list(SECONDS), speeds=[1.0, 2.0],
                                          clients={"api": client}, transcribe_with=None, live=False)
    finally:
        server.clear()
        server.stop()
    return grid, grid._repr_mimebundle_()["text/html"]


def test_every_cell_plays_and_its_waveform_seeks_its_own_player(browser, grid_html):
    grid, html = grid_html
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.set_default_timeout(30_000)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.set_content("<!doctype html><html><body style='font:13px sans-serif;margin:8px 24px'>"
                         f"{html}</body></html>")
        page.wait_for_function("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
        page.wait_for_function("[...document.querySelectorAll('audio')].every(a => a.readyState >= 1)")
        durations = page.eval_on_selector_all("audio", "(as) => as.map(a => a.duration)")
        # the table's order: row 1× then 2×, columns alloy, echo, nova
        assert durations == pytest.approx([SECONDS[v] / s for s in (1.0, 2.0) for v in SECONDS], abs=0.1)
        assert [grid.cells[i].label for i in range(6)] == [f"{v} · {s}" for s in ("1×", "2×") for v in SECONDS]
        headers = page.eval_on_selector_all("thead th", "(ths) => ths.map(t => t.textContent)")
        assert headers == ["", *SECONDS]
        wave = page.locator(".nbaudio-wave").nth(4)  # echo at 2×: 1.5 s
        box = wave.bounding_box()
        assert box["width"] < 300  # a cell's waveform is small: three voices side by side
        wave.click(position={"x": box["width"] * 0.5, "y": box["height"] / 2})
        page.wait_for_function("(a) => !a.seeking && Math.abs(a.currentTime - 0.75) < 0.15",
                               arg=page.locator("audio").nth(4).element_handle())
        page.eval_on_selector_all("audio", "(as) => as.forEach(a => a.pause())")
        times = page.eval_on_selector_all("audio", "(as) => as.map(a => a.currentTime)")
        assert [t for i, t in enumerate(times) if i != 4] == [0.0] * 5, times
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.locator(".nbaudio").first.screenshot(path=str(SHOTS / "compare_speech_grid.png"))
        assert not errors, errors
    finally:
        page.close()
