"""The trial plan of a blind listening test (nbaudio.listening.plan), over random sizes and seeds."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbaudio.errors import InvalidInputError
from nbaudio.listening import plan_trials

systems_st = st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=7, unique=True)
items_st = st.lists(st.one_of(st.integers(), st.text(max_size=6)), min_size=1, max_size=25, unique=True)
seeds = st.integers(min_value=0, max_value=2**63)


@settings(max_examples=150, deadline=None)
@given(systems_st, items_st, seeds)
def test_mos_plays_every_item_once_with_every_clip_once_per_trial(systems, items, seed):
    plan = plan_trials(systems, items, "mos", seed)
    assert [t.number for t in plan] == list(range(1, len(items) + 1))
    assert sorted(map(repr, (t.item for t in plan))) == sorted(map(repr, items))
    for trial in plan:
        assert sorted(trial.systems) == sorted(systems)  # each system's clip once: a permutation
    assert plan == plan_trials(systems, items, "mos", seed)  # the seed gives the plan back


@settings(max_examples=150, deadline=None)
@given(systems_st.filter(lambda s: len(s) >= 2), items_st, seeds)
def test_ab_plays_every_pair_on_every_item_once_and_balances_the_sides(systems, items, seed):
    plan = plan_trials(systems, items, "ab", seed)
    pairs = list(itertools.combinations(systems, 2))
    assert len(plan) == len(pairs) * len(items)
    seen = Counter((frozenset(t.systems), repr(t.item)) for t in plan)
    assert set(seen.values()) == {1} and len(seen) == len(plan)
    for a, b in pairs:
        first = Counter(t.systems[0] for t in plan if set(t.systems) == {a, b})
        assert abs(first[a] - first[b]) <= 1, first  # neither system gets the first slot more than once extra
    assert plan == plan_trials(systems, items, "ab", seed)


def test_seeds_shuffle_the_order_of_trials_and_of_clips():
    systems, items = ["a", "b", "c", "d"], list(range(12))
    plans = {seed: plan_trials(systems, items, "mos", seed) for seed in range(20)}
    assert len({tuple(t.item for t in p) for p in plans.values()}) > 15  # the order of the items moves
    assert len({t.systems for p in plans.values() for t in p}) > 20  # of 24 orders of four clips
    # every position is taken by every system, roughly evenly, over many trials
    many = plan_trials(systems, list(range(400)), "mos", 7)
    for position in range(4):
        counts = Counter(t.systems[position] for t in many)
        assert set(counts) == set(systems) and min(counts.values()) > 70


@pytest.mark.parametrize(("systems", "items", "kind", "message"), [
    (["a"], [1], "ab", "at least two systems"),
    ([], [1], "mos", "at least one system"),
    (["a", "b"], [], "mos", "at least one system and one item"),
    (["a"], [1], "mushra", "kind must be"),
])
def test_plans_that_cannot_be_made_say_why(systems, items, kind, message):
    with pytest.raises(InvalidInputError, match=message):
        plan_trials(systems, items, kind, 0)
