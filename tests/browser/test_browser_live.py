"""`%voice live` in a real browser: JupyterLab (headless, loopback) + Debian's Chromium, whose fake
microphone speaks a question, a story request, and a third utterance that lands inside the story's
reply (tests/support/live_browser.py). The kernel talks to an engine with an API key (a canary): it
must appear nowhere in the page, the saved notebook or the server's log. The session paused by a
running cell: test_browser_live_pause.py (its own JupyterLab, so the two files go to both workers).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.browser import CHROMIUM
from tests.support.live_browser import run_live, saved_outputs

BUILD = Path(__file__).resolve().parents[2] / "build"
CANARY = "sk-live-browser-canary-9c41e07d2f"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
    pytest.mark.timeout(600),
]


@pytest.fixture(scope="module")
def keyed(engine):
    """An engine that wants the canary key, sharing the session's loaded models."""
    from nbaudio import local

    with local.start(models=engine.app.state.engine.models, api_key=CANARY) as server:
        yield server


@pytest.fixture(scope="module")
def run(keyed, tmp_path_factory):
    return run_live(keyed.base_url, CANARY, tmp_path_factory.mktemp("lab_live"), shots=BUILD / "live")


def _words(text: str) -> set[str]:
    return {w.strip(".,!?…").lower() for w in text.split()}


def test_both_turns_heard_and_answered_aloud(run):
    users = [t for t in run.user_texts if t.strip() not in ("", "…")]
    assert len(users) >= 2, run.user_texts
    assert {"capital", "france"} <= _words(users[0]), users
    assert {"story", "dragon"} <= _words(users[1]), users
    stats = run.stats
    assert stats["replies"] >= 2  # two replies began to play through Web Audio
    # The AudioContext's clock went on while they played: seconds of reply audio heard.
    assert stats["playedMs"] > 2000, stats
    assert len(stats["latenciesMs"]) >= 2 and all(0 < ms < 10_000 for ms in stats["latenciesMs"]), stats
    assert all(text.strip() for text in run.assistant_texts[:2]), run.assistant_texts


def test_each_reply_latency_splits_into_hops_that_add_up(run):
    # The benchmark's breakdown (live_hops.js, nbaudio/widgets/live_hops.py): the stamps of the page
    # and the kernel chain from the end of the last loud block to the first sample out, so the hops
    # (the page's and the kernel's clocks in turn) add up to the latency the page measured alone.
    chain = ("to_send", "to_kernel", "in_kernel", "turn_end", "engine", "to_page", "schedule", "output")
    stats = run.stats
    assert len(stats["hops"]) == len(stats["latenciesMs"]) and any(stats["hops"]), stats
    for hops, latency in zip(stats["hops"], stats["latenciesMs"], strict=True):
        if hops is not None:  # None: the kernel's stamps did not hold the piece (paused page)
            assert min(hops[k] for k in ("tail", "capture", *chain)) >= -2, hops  # ms rounding across clocks
            assert abs(sum(hops[k] for k in chain) - latency) <= 12, (hops, latency)


def test_a_long_reply_speaks_as_soon_as_its_first_phrase_exists(run):
    # The words of each reply on screen when its first audio came, and of replies that ended or were
    # cut before any: a reply's text never runs past its first phrase while nothing is heard (the
    # story's first clause used to be spoken only once whole: a dozen words and more on screen in
    # silence until the barge-in cut it).
    from nbaudio.server.chat.speech import FIRST_PHRASE_MAX_WORDS

    stats = run.stats
    assert len(stats["wordsBeforeAudio"]) >= 2, stats
    assert max(stats["wordsBeforeAudio"] + stats["silentWords"]) <= FIRST_PHRASE_MAX_WORDS + 2, stats


def test_the_barge_in_cut_the_story(run):
    assert run.stats["interrupted"] >= 1, run.stats
    cut = [m for m in run.marks if "interrupted" in m or "cut at" in m]
    assert cut, run.marks
    assert len(run.user_texts) >= 3  # the barge-in is a user turn of its own


def test_the_record_replaces_the_widget_and_is_saved(run):
    assert "live session:" in run.record_text and "cut short" in run.record_text, run.record_text
    count, roles, same = run.after.split(" ", 2)[0], run.after, run.after.strip().endswith("True")
    assert int(count) >= 6 and "'user', 'assistant'" in roles and same, run.after
    assert run.continued.strip(), "a %%voice cell went on with the live conversation"
    outputs = saved_outputs(run.notebook)
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for o in outputs)
    plain = "".join("".join(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "live session:" in html and html.count("<audio") >= 4, plain
    assert "application/vnd.jupyter.widget-view+json" not in json.dumps(outputs)  # the widget is gone
    assert len(run.notebook) < 3_000_000  # the same byte budget as other displays


def test_the_key_is_nowhere(run):
    for where, text in (("page", run.page_html), ("notebook", run.notebook), ("server log", run.log)):
        assert CANARY not in text and CANARY[:-6] not in text, f"the key is in the {where}"


def test_screenshots_were_taken(run):
    assert [p.name for p in run.screenshots] == ["live_session.png", "live_record.png"]
    assert all(p.stat().st_size > 5000 for p in run.screenshots)

