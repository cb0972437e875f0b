"""`nbaudio.listening_test` driven without a browser: the messages its page sends, what the page
is told (never a system's name), the ratings, the static output and the saved file."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nbaudio
from nbaudio import AudioClip
from nbaudio.errors import InvalidInputError
from nbaudio.listening import load_results, summarize
from nbaudio.listening.report import Progress, report_bundle
from tests.support.signals import tone

RATE = 16000
CLIPS = [AudioClip.from_array(tone(0.2, RATE, f), RATE, name=f"secret-file-{f}.wav") for f in (220, 330, 440, 550)]


def _send(test, content) -> None:
    """A message from listening.js, through the widget's comm as the page sends it."""
    test.comm.handle_msg({"content": {"data": {"method": "custom", "content": content}}, "buffers": []})


def _answer(test, value_of, *, play=True, seconds=1.25):
    """Play and answer every sample of the trial on screen (value_of(system) -> the answer), then Next."""
    trial, systems = test.trial, test.plan[test.done].systems
    for sample, system in zip(trial["samples"], systems, strict=True):
        if play:
            _send(test, {"type": "play", "trial": trial["number"], "id": sample["id"]})
        value = value_of(system)
        if value is not None:
            _send(test, {"type": "rate", "trial": trial["number"], "id": sample["id"], "value": value,
                         "seconds": seconds})
    _send(test, {"type": "next", "trial": trial["number"]})


def _page_view(test) -> tuple[str, list[bytes]]:
    """Everything the page gets: the synced state as JSON text, and its binary buffers."""
    from ipywidgets.widgets.widget import _remove_buffers

    state, _paths, buffers = _remove_buffers(test.get_state())
    return json.dumps(state, default=str) + repr(test._repr_mimebundle_()), [bytes(b) for b in buffers]


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=6, max_size=10).map(lambda s: "sys-" + s)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(names, min_size=2, max_size=4, unique=True), st.integers(1, 3), st.sampled_from(["mos", "ab"]),
       st.integers(0, 2**32))
def test_the_page_never_gets_a_system_item_or_file_name(systems, n_items, kind, seed):
    items = {f"item-{chr(97 + i)}xq": CLIPS[i] for i in range(n_items)}
    test = nbaudio.listening_test({s: dict(items) for s in systems}, kind=kind, seed=seed)
    ids_seen = set()
    while not test.finished:
        text, buffers = _page_view(test)
        for secret in [*systems, *items, *(c.name for c in CLIPS)]:
            assert secret not in text and all(secret.encode() not in b for b in buffers), secret
        ids = [s["id"] for s in test.trial["samples"]]
        assert not ids_seen & set(ids)  # fresh ids every trial: an id seen before says nothing
        ids_seen |= set(ids)
        assert [s["label"] for s in test.trial["samples"]] == ["A", "B", "C", "D"][:len(ids)]
        _answer(test, lambda system: 3 if kind == "mos" else (system == min(test.plan[test.done].systems) or None))
    assert test.trial == {} and test.done == test.total == len(test.plan)
    assert len(test.rows) == len(test.plan) * (len(systems) if kind == "mos" else 2)


def test_next_waits_for_every_rating_and_records_them():
    test = nbaudio.listening_test({"north": CLIPS[:3], "south": CLIPS[1:4]}, seed=5)
    first = test.trial["number"]
    a, b = (s["id"] for s in test.trial["samples"])
    _send(test, {"type": "next", "trial": first})
    assert test.done == 0 and test.error == "rate every sample before going on"
    _send(test, {"type": "rate", "trial": first, "id": a, "value": 4, "seconds": 2.0})
    assert test.answers == {} and test.error == "play sample A before rating it"  # require_play
    for _ in range(3):
        _send(test, {"type": "play", "trial": first, "id": a})
    _send(test, {"type": "rate", "trial": first, "id": a, "value": 4, "seconds": 2.0})
    assert test.answers == {a: 4} and test.error == ""
    _send(test, {"type": "next", "trial": first})
    assert test.done == 0  # B has no rating yet
    _send(test, {"type": "play", "trial": first, "id": b})
    _send(test, {"type": "rate", "trial": first, "id": b, "value": 2, "seconds": 3.5})
    _send(test, {"type": "rate", "trial": first, "id": b, "value": 1, "seconds": 4.0})  # changed
    _send(test, {"type": "next", "trial": first})
    assert test.done == 1 and test.trial["number"] == 2
    plan = test.plan[0]
    assert test.rows == [
        {"trial": 1, "item": plan.item, "system": plan.systems[0], "position": 1, "rating": 4, "plays": 3,
         "seconds": 2.0},
        {"trial": 1, "item": plan.item, "system": plan.systems[1], "position": 2, "rating": 1, "plays": 1,
         "seconds": 4.0}]
    _send(test, {"type": "next", "trial": first})  # a late second click: trial 1 is gone
    assert test.done == 1


@pytest.mark.parametrize("message", [
    {"type": "rate", "value": 6}, {"type": "rate", "value": 0}, {"type": "rate", "value": "5"},
    {"type": "rate", "value": True}, {"type": "rate", "value": 4.0}, {"type": "rate", "value": [5]},
    {"type": "rate", "value": 5, "id": "not-a-sample"}, {"type": "rate", "value": 5, "trial": 2},
    {"type": "rate", "value": 5, "trial": None}, {"type": "play", "id": ["x"]}, {"type": ["next"]},
])
def test_odd_messages_change_nothing(message):
    test = nbaudio.listening_test({"north": CLIPS[:2], "south": CLIPS[2:]}, require_play=False)
    sample = test.trial["samples"][0]["id"]
    before = test.get_state()
    _send(test, {"trial": test.trial["number"], "id": sample, **message})
    _send(test, "not a dict")
    assert test.get_state() == before
    _answer(test, lambda s: 3)
    assert [row["plays"] for row in test.rows] == [1, 1]  # an odd "play" was not counted


def test_odd_times_are_kept_as_unknown():
    test = nbaudio.listening_test({"north": CLIPS[:1], "south": CLIPS[1:2]}, require_play=False)
    times = iter([-1.0, float("inf")])
    _answer(test, lambda s: 5, play=False, seconds=next(times))
    assert all(math.isnan(row["seconds"]) for row in test.rows)


def test_ab_records_the_preferred_sample_and_summarizes_with_wilson(tmp_path):
    test = nbaudio.listening_test({"north": CLIPS, "south": [CLIPS[0]] * 4}, kind="ab", seed=2)
    assert test.total == 4 and not test.scale and test.prompt == "Which sample do you prefer?"
    while not test.finished:
        # north is preferred in three trials of four, the last one south
        _answer(test, lambda s: True if s == ("south" if test.done == 3 else "north") else None)
    rows = test.rows
    assert sum(r["preferred"] for r in rows) == 4 and all(r["plays"] == 1 for r in rows)
    summary = test.summary().to_dict("records")
    assert [(s["system"], s["versus"], s["trials"], s["preferred"]) for s in summary] == [("north", "south", 4, 3)]
    assert summary[0]["low"] == pytest.approx(0.300636, abs=1e-5)  # Wilson 3/4: 0.3006 to 0.9544
    # saved and read back: the same table and summary
    for name in ("ratings.csv", "ratings.json"):
        path = test.save(tmp_path / name)
        back = load_results(path)
        assert list(back["preferred"]) == [r["preferred"] for r in rows]
        assert summarize(back).equals(test.summary())
    assert json.loads((tmp_path / "ratings.json").read_text())["seed"] == 2
    with pytest.raises(InvalidInputError, match=r"\.csv or \.json"):
        test.save(tmp_path / "ratings.xlsx")


def test_the_results_dataframe_has_its_columns_from_the_start():
    test = nbaudio.listening_test({"north": CLIPS[:2], "south": CLIPS[2:]})
    assert list(test.results.columns) == ["trial", "item", "system", "position", "rating", "plays", "seconds"]
    assert test.results.empty and "0 of 2 trials answered" in repr(test)
    assert test.summary().empty and list(test.summary().columns) == ["system", "ratings", "mean", "low", "high"]
    with pytest.raises(InvalidInputError, match="no ratings"):
        summarize([])  # rows alone do not say which kind of test they are from


def test_the_static_output_keeps_the_ratings_escaped_and_shows_the_summary_at_the_end():
    evil = "<script>alert(1)</script>"
    test = nbaudio.listening_test({evil: CLIPS[:2], "plain & simple": CLIPS[2:]}, seed=1)
    start = test.results_bundle()
    assert start["text/plain"].startswith("Listening test (MOS, 1–5, seed 1): 0 of 2 trials answered")
    _answer(test, lambda s: 5 if s == evil else 2)
    middle = test.results_bundle()
    assert "<details>" in middle["text/html"] and "interval" not in middle["text/plain"]  # no summary yet
    # The ratings so far, without the systems' names: the listener sees this output during the test.
    assert "simple" not in middle["text/plain"] and "script" not in middle["text/html"].replace("&lt;", "<")
    assert middle["text/plain"].splitlines()[2].split() == ["trial", "item", "position", "rating", "plays", "seconds"]
    _answer(test, lambda s: 4 if s == evil else 1)
    end = test.results_bundle()
    assert "finished, 2 of 2 trials" in end["text/plain"] and "95% interval" in end["text/plain"]
    assert "<script>" not in end["text/html"] and "&lt;script&gt;alert(1)" in end["text/html"]
    assert "plain &amp; simple" in end["text/html"]
    summary_line = next(line for line in end["text/plain"].splitlines() if line.startswith(evil))
    assert summary_line.split()[1:3] == ["2", "4.50"]  # ratings, mean


def test_the_static_output_without_scipy_says_what_to_install(monkeypatch):
    import sys

    rows = [{"trial": 1, "item": 1, "system": "a", "position": 1, "rating": r, "plays": 1, "seconds": 1.0}
            for r in (3, 4)]
    monkeypatch.setitem(sys.modules, "scipy.stats", None)  # import fails as when scipy is absent
    bundle = report_bundle(Progress("mos", 0, 1, 1, rows))
    assert "pip install scipy" in bundle["text/plain"] and "rating" in bundle["text/plain"]


@pytest.mark.parametrize(("clips", "message"), [
    ([CLIPS[0]], "takes a dict"), ({}, "takes a dict"), ({"a": []}, "has no clips"),
    ({"a": CLIPS[:2], "b": CLIPS[:3]}, "same items"), ({"": CLIPS[:1]}, "non-empty strings"),
    ({"a": {"x": CLIPS[0]}, "b": {"y": CLIPS[0]}}, "same items"),
])
def test_clips_that_make_no_test_say_why(clips, message):
    with pytest.raises(InvalidInputError, match=message):
        nbaudio.listening_test(clips)


def test_one_clip_per_system_and_items_by_name():
    one = nbaudio.listening_test({"a": CLIPS[0], "b": CLIPS[1]}, kind="ab")
    assert one.total == 1 and one.plan[0].item == 1
    named = nbaudio.listening_test({"a": {"x": CLIPS[0], "y": CLIPS[1]}, "b": {"y": CLIPS[2], "x": CLIPS[3]}})
    assert sorted(t.item for t in named.plan) == ["x", "y"]
    with pytest.raises(InvalidInputError, match="seed"):
        nbaudio.listening_test({"a": CLIPS[0]}, seed=-1)
    assert nbaudio.listening_test({"a": CLIPS[0]}, seed=None).seed >= 0
