"""The summary of listening-test ratings (nbaudio.listening.stats): the t interval of a MOS and the
Wilson interval of a preference share, against scipy's and against values worked by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbaudio.errors import InvalidInputError
from nbaudio.listening import load_results, mean_interval, summarize, wilson_interval

scipy_stats = pytest.importorskip("scipy.stats")  # in the test and fast extras


def test_mean_interval_worked_by_hand():
    # ratings 3, 4, 5: mean 4, s = 1, t(0.975, 2) = 4.302653, half-width 4.302653 / sqrt(3) = 2.484138
    mean, low, high = mean_interval([3, 4, 5])
    assert mean == 4 and low == pytest.approx(1.515862, abs=1e-6) and high == pytest.approx(6.484138, abs=1e-6)
    assert mean_interval([4, 4, 4]) == (4, 4, 4)
    one = mean_interval([2])
    assert one[0] == 2 and math.isnan(one[1]) and math.isnan(one[2])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=2, max_size=200))
def test_mean_interval_is_scipys_t_interval(ratings):
    mean, low, high = mean_interval(ratings)
    sem = scipy_stats.sem(ratings)
    if sem == 0:
        assert low == high == mean
        return
    want = scipy_stats.t.interval(0.95, len(ratings) - 1, loc=sum(ratings) / len(ratings), scale=sem)
    assert (low, high) == pytest.approx(want, abs=1e-9)


def test_wilson_worked_by_hand():
    # 7 of 10, z = 1.959964, z² = 3.841459: centre (7 + 1.920729) / 13.841459 = 0.644493,
    # half 1.959964 / 13.841459 * sqrt(2.1 + 0.960365) = 0.141601 * 1.749390 = 0.247716
    low, high = wilson_interval(7, 10)
    assert low == pytest.approx(0.396777, abs=2e-6) and high == pytest.approx(0.892209, abs=2e-6)
    assert wilson_interval(0, 5)[0] == 0.0 and wilson_interval(5, 5)[1] == 1.0
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    with pytest.raises(InvalidInputError):
        wilson_interval(3, 2)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_is_scipys(kn):
    k, n = kn
    want = scipy_stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    assert wilson_interval(k, n) == pytest.approx((want.low, want.high), abs=1e-9)


def _mos_rows():
    ratings = {"alpha": [5, 4, 5, 4], "beta": [2, 3, 2, 1]}
    return [{"trial": i + 1, "item": i + 1, "system": s, "position": 1, "rating": r, "plays": 1, "seconds": 1.0}
            for s, rs in ratings.items() for i, r in enumerate(rs)]


def test_mos_summary_per_system_best_first():
    table = summarize(list(reversed(_mos_rows())))
    assert list(table["system"]) == ["alpha", "beta"]
    assert list(table["ratings"]) == [4, 4] and list(table["mean"]) == [4.5, 2.0]
    low, high = mean_interval([2, 3, 2, 1])[1:]
    assert table.loc[1, "low"] == pytest.approx(low) and table.loc[1, "high"] == pytest.approx(high)


def test_ab_summary_per_pair_with_wilson():
    rows = []
    for trial in range(1, 11):  # alpha preferred in 7 of 10
        alpha_won = trial <= 7
        rows += [{"trial": trial, "item": trial, "system": "alpha", "position": 1 + trial % 2, "preferred": alpha_won,
                  "plays": 1, "seconds": 2.0},
                 {"trial": trial, "item": trial, "system": "beta", "position": 2 - trial % 2,
                  "preferred": not alpha_won, "plays": 2, "seconds": 2.0}]
    table = summarize(rows)
    assert table.to_dict("records")[0] == pytest.approx(
        {"system": "alpha", "versus": "beta", "trials": 10, "preferred": 7, "share": 0.7,
         "low": wilson_interval(7, 10)[0], "high": wilson_interval(7, 10)[1]})
    rows[0]["preferred"] = False  # trial 1: neither preferred
    with pytest.raises(InvalidInputError, match="trial 1"):
        summarize(rows)


def test_results_from_a_file_summarize_the_same(tmp_path):
    import csv

    rows = _mos_rows()
    path = tmp_path / "ratings.csv"
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert summarize(load_results(path)).equals(summarize(rows))
    with pytest.raises(InvalidInputError, match="rating"):
        summarize([{"trial": 1, "system": "a"}])
    with pytest.raises(InvalidInputError, match=r"\.csv or \.json"):
        load_results(tmp_path / "ratings.txt")
