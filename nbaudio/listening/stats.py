"""The summary of a listening test's ratings.

MOS: per system, the mean rating with its 95 % confidence interval from Student's t distribution,
mean ± t(0.975, n−1)·s/√n with s the sample standard deviation — the interval ITU-T P.800.2
gives for a MOS. Each rating counts as one sample: with one listener the interval says how much
the mean moves over the clips rated, not over listeners. The t quantile is scipy's.

A/B: per pair of systems, the share of the pair's trials in which each was preferred, with the
Wilson score interval (Wilson 1927; the one Brown, Cai and DasGupta 2001 recommend over the plain
normal interval, which is too narrow near 0 and 1 and for few trials):
(k + z²/2)/(n + z²) ± z/(n + z²)·√(k(n−k)/n + z²/4), z the normal quantile (the standard library's).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from statistics import NormalDist
from typing import Any

from ..errors import InvalidInputError, MissingDependencyError

__all__ = ["LEVEL", "SUMMARY_COLUMNS", "kind_of", "mean_interval", "summary_rows", "wilson_interval"]

LEVEL = 0.95  # the confidence level of every interval shown
SUMMARY_COLUMNS = {"mos": ["system", "ratings", "mean", "low", "high"],
                   "ab": ["system", "versus", "trials", "preferred", "share", "low", "high"]}


def mean_interval(values: Sequence[float], level: float = LEVEL) -> tuple[float, float, float]:
    """(mean, low, high): the mean and its two-sided t interval; the interval is NaN below two values."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = math.fsum(values) / n
    if n < 2:
        return mean, math.nan, math.nan
    try:
        from scipy.stats import t
    except ImportError:
        raise MissingDependencyError("the MOS interval needs scipy's t distribution: pip install scipy") from None
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def wilson_interval(k: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """(low, high): the Wilson score interval of a proportion of `k` successes in `n` trials (NaN for n = 0)."""
    if not 0 <= k <= n:
        raise InvalidInputError(f"a proportion needs 0 <= k <= n, not k={k}, n={n}")
    if n == 0:
        return math.nan, math.nan
    z = NormalDist().inv_cdf(0.5 + level / 2)
    centre = (k + z * z / 2) / (n + z * z)
    half = z / (n + z * z) * math.sqrt(k * (n - k) / n + z * z / 4)
    return max(0.0, centre - half), min(1.0, centre + half)


def kind_of(rows: Iterable[Mapping[str, Any]]) -> str:
    """"mos" or "ab", from the columns of the rows (a rating, or whether the sample was preferred)."""
    first = next(iter(rows), None)
    if first is None or ("rating" in first) == ("preferred" in first):
        raise InvalidInputError("listening-test results need a 'rating' column (MOS) or a 'preferred' column "
                                "(A/B), with system and trial")
    return "mos" if "rating" in first else "ab"


def summary_rows(rows: Sequence[Mapping[str, Any]], kind: str | None = None) -> list[dict[str, Any]]:
    """The summary rows of a test's result rows (`kind` read from the columns when not given).

    MOS: system, ratings, mean, low, high (best mean first). A/B: system, versus, trials,
    preferred, share, low, high; one row per pair, its more preferred system first.
    """
    if not rows:
        return []
    kind = kind or kind_of(rows)
    return _mos_summary(rows) if kind == "mos" else _ab_summary(rows)


def _mos_summary(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    ratings: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        ratings[str(row["system"])].append(float(row["rating"]))
    out = []
    for system, values in ratings.items():
        mean, low, high = mean_interval(values)
        out.append({"system": system, "ratings": len(values), "mean": mean, "low": low, "high": high})
    return sorted(out, key=lambda r: (-r["mean"], r["system"]))


def _ab_summary(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    trials: dict[Any, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        trials[row["trial"]].append(row)
    wins: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])  # (a, b) sorted -> [a wins, b wins]
    for number, pair in trials.items():
        chosen = [bool(r["preferred"]) for r in pair]
        if len(pair) != 2 or sum(chosen) != 1:
            raise InvalidInputError(f"A/B trial {number} should have two rows, one of them preferred; it has "
                                    f"{len(pair)} rows and {sum(chosen)} preferred")
        a, b = sorted(str(r["system"]) for r in pair)
        winner = str(pair[chosen.index(True)]["system"])
        wins[(a, b)][0 if winner == a else 1] += 1
    out = []
    for (a, b), (wa, wb) in sorted(wins.items()):
        system, versus, k = (a, b, wa) if wa >= wb else (b, a, wb)
        n = wa + wb
        low, high = wilson_interval(k, n)
        out.append({"system": system, "versus": versus, "trials": n, "preferred": k, "share": k / n,
                    "low": low, "high": high})
    return out
