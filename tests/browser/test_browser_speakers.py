"""A diarized transcript's view in Debian's Chromium: speaker colours, the legend filter (with the search
box on top of it), and times that still seek the player. The page is the output's HTML as it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbaudio import AudioClip, Segment, Transcript, display
from nbaudio.display.speakers_html import speaker_colors
from tests.support.browser import CHROMIUM, launch_chromium
from tests.support.signals import voiced_speech

BUILD = Path(__file__).resolve().parents[2] / "build"
RATE = 24000
WHO = ["Alice", "Bob", "C", "Alice", "Bob", "Alice", "C", "Bob", "Alice"]

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
              pytest.mark.timeout(300)]


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright

    segs = [Segment(i, 2.0 * i, 2.0 * i + 1.8, f"sentence {i} from {who}", speaker=who) for i, who in enumerate(WHO)]
    t = Transcript(text="x", segments=segs, duration=18.0, audio=AudioClip.from_array(voiced_speech(18.0, RATE), RATE))
    html = display.mimebundle(t)["text/html"]
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        p = browser.new_page(viewport={"width": 1000, "height": 900})
        p.set_content(f"<!doctype html><html><body style='font-family:sans-serif'>{html}</body></html>")
        p.wait_for_function("document.querySelector('audio').readyState >= 1")
        yield p
        browser.close()


def visible_speakers(page) -> list[str]:
    return page.eval_on_selector_all(".nbaudio-seg", "rs => rs.filter(r => r.offsetParent !== null)"
                                                     ".map(r => r.dataset.speaker)")


def test_rows_carry_their_speakers_colour(page):
    colours = speaker_colors(["Alice", "Bob", "C"])
    shadows = page.eval_on_selector_all(".nbaudio-seg", "rs => rs.map(r => getComputedStyle(r).boxShadow)")
    for who, shadow in zip(WHO, shadows, strict=True):
        assert _rgb(colours[who]) in shadow, (who, shadow)
    assert page.eval_on_selector_all(".nbaudio-spk", "es => es.map(e => e.getAttribute('role'))") == ["button"] * 3


def test_legend_filters_rows_and_search_applies_on_top(page):
    page.click(".nbaudio-spk[data-speaker='Bob']")
    assert visible_speakers(page) == ["Bob", "Bob", "Bob"]
    page.click(".nbaudio-spk[data-speaker='C']")  # a second speaker joins the filter
    assert visible_speakers(page) == ["Bob", "C", "Bob", "C", "Bob"]
    page.fill(".nbaudio-search", "sentence 1")  # matches rows 1 (Bob) and nothing else shown
    assert visible_speakers(page) == ["Bob"]
    assert page.inner_text(".nbaudio-search-count") == "1 of 9 segments"
    page.fill(".nbaudio-search", "")
    BUILD.mkdir(exist_ok=True)
    page.screenshot(path=str(BUILD / "speakers_filtered.png"), full_page=True)
    page.click(".nbaudio-spk[data-speaker='Bob']")
    page.click(".nbaudio-spk[data-speaker='C']")
    assert visible_speakers(page) == WHO


def test_times_still_seek_the_player(page):
    page.click(".nbaudio-seg:nth-child(6) .nbaudio-ts")
    page.wait_for_function("Math.abs(document.querySelector('audio').currentTime - 10.0) < 0.5")
