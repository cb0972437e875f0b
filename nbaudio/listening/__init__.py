"""Blind listening tests: the plan of trials, the ratings as rows, their summary and the static
output that keeps them in a saved notebook. The widget that runs a test in the page is
`nbaudio.widgets.ListeningTest` (made by `nbaudio.listening_test`).

    test = nbaudio.listening_test({"alloy": clips_a, "echo": clips_b}, kind="mos", seed=1)
    test                          # rate each trial in the page
    test.results, test.summary()  # DataFrames: one row per clip heard; mean and 95 % interval per system
    test.save("ratings.csv")      # later: summarize(load_results("ratings.csv"))

Modules: `plan` (the seeded trial plan), `stats` (t and Wilson intervals, the summary), `results`
(columns, DataFrame, .csv/.json), `report` (the static output).
"""

from __future__ import annotations

from .plan import KINDS, Trial, plan_trials
from .results import load_results, summarize
from .stats import mean_interval, wilson_interval

__all__ = ["KINDS", "Trial", "load_results", "mean_interval", "plan_trials", "summarize", "wilson_interval"]
