"""`%voice captions` in a real browser: JupyterLab (headless, loopback) + Debian's Chromium, whose
fake microphone speaks two sentences (tests/support/captions_browser.py): the words appear while
they are spoken, grey until final, and ■ Stop leaves the transcript with the recording."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.browser import CHROMIUM
from tests.support.captions_browser import SENTENCES, run_captions

BUILD = Path(__file__).resolve().parents[2] / "build"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
    pytest.mark.timeout(600),
]


@pytest.fixture(scope="module")
def run(engine, labs, tmp_path_factory):
    with labs.folder("captions", env={"NBAUDIO_BASE_URL": engine.base_url}) as lab:
        return run_captions(engine.base_url, tmp_path_factory.mktemp("captions"), shots=BUILD / "screenshots",
                            lab=lab)


def _words(text: str) -> set[str]:
    return {w.strip(".,!?…").lower() for w in text.split() if len(w.strip(".,!?…")) > 3}


def test_each_sentence_is_a_final_line(run):
    finals = [line for line, final in zip(run.lines, run.final, strict=True) if final]
    assert len(finals) >= 2, (run.lines, run.final)
    for said, shown in zip(SENTENCES, finals, strict=False):  # the first sentence too: none of it was lost
        assert len(_words(said) & _words(shown)) >= 0.7 * len(_words(said)), (said, run.lines)


def test_lines_only_grow_until_final_and_no_word_is_shown_before_it_was_said(run):
    # (That stable words are sent while the turn is still spoken is checked at a known pace in
    # tests/realtime/test_sdk_transcription.py; here the fake microphone runs in real time, and on
    # busy cores a decode may take longer than a sentence.)
    by_item: dict[str, list] = {}
    for item_id, count, at, final in run.stats["shown"]:
        by_item.setdefault(item_id, []).append((count, at, final))
    for shown in by_item.values():
        assert [at for _, at, _ in shown] == sorted(at for _, at, _ in shown)
        assert all(not final for _, _, final in shown[:-1]), shown  # grey until its one final showing
    lags = run.lags()
    assert len(lags) >= 20 and min(lags) > -0.3, lags


def test_stop_leaves_the_transcript_with_its_recording(run):
    t = run.transcript
    assert len(t["segments"]) >= 2 and t["audio"] >= run.plan["sentence1_ends"]
    first_words = t["segments"][0][3]
    assert first_words and all(0 <= w[1] <= w[2] <= t["audio"] for w in first_words)
    assert first_words[0][1] >= 0.3  # the lead silence is not part of the first word
    assert "nbaudio-captions" not in run.output_html  # the widget was replaced
    saved = json.loads(run.notebook)["cells"][0]["outputs"]
    assert any("museum" in json.dumps(o).lower() for o in saved)  # the transcript is saved with the notebook
