"""A transcript diff and a comparison in Debian's Chromium: a click on a word (heard, wrong or missed)
plays the recording from that word's time, and the marks show; screenshots go to build/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbaudio import AudioClip, Client, Transcript, display
from nbaudio.compare import Run, System, TranscriptComparison
from nbaudio.transcript import Word, transcript_diff
from tests.support.browser import CHROMIUM
from tests.support.signals import voiced_speech

SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
RATE = 16000
SAID = "the quick brown fox jumps over the lazy dog near the river bank"

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
              pytest.mark.timeout(300)]


def _heard(words: list[str], clip: AudioClip) -> Transcript:
    step = clip.duration / (len(words) + 1)
    return Transcript(text=" ".join(words), words=[Word(w, (i + 0.5) * step, (i + 1.2) * step)
                                                   for i, w in enumerate(words)], audio=clip, language="english")


@pytest.fixture(scope="module")
def clip() -> AudioClip:
    return AudioClip.from_array(voiced_speech(8.0, RATE), RATE, name="talk.wav")


def _page(browser, html: str):
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.set_default_timeout(30_000)
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.set_content(f"<!doctype html><html><body style='font:13px sans-serif;margin:8px 24px'>{html}</body></html>")
    return page


def _plays_from(page, word) -> float:
    player = page.locator("audio").first
    player.evaluate("(a) => { a.pause(); a.currentTime = 0; }")
    t = float(word.get_attribute("data-t"))
    word.click()
    page.wait_for_function("([a, t]) => a.currentTime >= t - 0.01 && !a.paused", arg=[player.element_handle(), t])
    player.evaluate("(a) => a.pause()")
    return t


def test_a_diff_plays_each_word_from_its_time(browser, clip):
    t = _heard("the quick brown box jumps over the lazy lazy dog near the bank".split(), clip)
    d = t.diff(SAID)
    page = _page(browser, display.mimebundle(d)["text/html"])
    try:
        sub = page.locator(".nbaudio-diff-substitute").first
        assert sub.inner_text() == "fox→box" and sub.locator("s").inner_text() == "fox"
        assert page.locator(".nbaudio-diff-insert").first.inner_text() == "lazy"
        missed = page.locator(".nbaudio-diff-delete").first
        assert missed.inner_text() == "river" and "not heard" in missed.get_attribute("title")
        assert _plays_from(page, sub) > 1.0
        assert _plays_from(page, missed) > _plays_from(page, sub)  # a missed word plays from where it was
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.locator(".nbaudio").first.screenshot(path=str(SHOTS / "diff_one.png"))
        assert not page.errors, page.errors
    finally:
        page.close()


def test_a_comparison_plays_every_systems_words_on_one_player(browser, clip):
    client = Client("http://127.0.0.1:9/v1")  # never called: the runs are given
    runs = [Run(System("tiny", client, "engine", "tiny"), _heard(SAID.replace("fox", "box").split(), clip), None, 1.2),
            Run(System("base", client, "engine", "base"), _heard(SAID.split()[:-2], clip), None, 2.3),
            Run(System("broken", client, "engine", "broken"), None, "NotFoundError: no such model", 0.1)]
    cmp = TranscriptComparison(clip, runs, SAID, "en")
    cmp.diffs = {label: transcript_diff(t, SAID, hypothesis_label=label) for label, t in cmp.transcripts.items()}
    page = _page(browser, cmp._repr_mimebundle_()["text/html"])
    try:
        assert page.locator("audio").count() == 1
        words = page.locator(".nbaudio-diff .nbaudio-ts")
        assert words.count() == sum(len(d.words) for d in cmp.diffs.values())
        assert _plays_from(page, page.locator(".nbaudio-diff").nth(1).locator(".nbaudio-diff-delete").first) > 4.0
        assert "no such model" in page.locator("table").inner_text()
        page.locator(".nbaudio").first.screenshot(path=str(SHOTS / "diff_compare.png"))
        assert not page.errors, page.errors
    finally:
        page.close()
