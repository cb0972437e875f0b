"""nbaudio.compare's shared pieces: systems (every model on every client, labelled) and run_systems
(at once, in order, each failure kept as that system's error); bad arguments say what to give."""

from __future__ import annotations

import threading
import time

import pytest

from nbaudio import Client
from nbaudio.compare import run_systems, systems
from nbaudio.errors import InvalidInputError, NotFoundError

A, B = Client("http://127.0.0.1:9/v1"), Client("http://127.0.0.1:9/v1")


def test_every_model_on_every_client_labelled():
    assert [s.label for s in systems(["m1", "m2"], {"one": A})] == ["m1", "m2"]
    found = systems(["m1", "m2"], {"one": A, "two": B})
    assert [s.label for s in found] == ["one: m1", "one: m2", "two: m1", "two: m2"]
    assert [s.client for s in found] == [A, A, B, B] and [s.model for s in found] == ["m1", "m2"] * 2
    assert [s.label for s in systems(None, {"one": A, "two": B})] == ["one", "two"]


@pytest.mark.parametrize(("models", "clients"), [
    ([], {"a": A}), (["m", "m"], {"a": A}), ([3], {"a": A}), (["m"], {}), (["m"], {"a": "http://x"}),
    (["m"], [A]), (5, {"a": A}),
])
def test_bad_systems_say_what_to_give(models, clients):
    with pytest.raises(InvalidInputError):
        systems(models, clients)


def test_runs_at_once_in_order_with_failures_kept():
    found = systems(["slow", "fails", "fast"], {"a": A})
    inside, most = 0, 0
    lock = threading.Lock()

    def call(system):
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        try:
            time.sleep(0.3 if system.model == "slow" else 0.05)
            if system.model == "fails":
                raise NotFoundError("The model 'fails' does not exist", status_code=404)
            return system.model.upper()
        finally:
            with lock:
                inside -= 1

    seen = []
    runs = run_systems(found, call, on_done=lambda r: seen.append(r.system.model))
    assert [r.system.model for r in runs] == ["slow", "fails", "fast"] and most == 3
    assert [r.result for r in runs] == ["SLOW", None, "FAST"] and seen[-1] == "slow"
    assert runs[1].error.startswith("NotFoundError") and not runs[1].ok and runs[0].seconds >= 0.3
    most = 0
    run_systems(found, call, concurrency=1)
    assert most == 1
    with pytest.raises(InvalidInputError):
        run_systems(found, call, concurrency=0)


def test_a_bug_in_the_call_is_not_swallowed():
    with pytest.raises(ZeroDivisionError):
        run_systems(systems(["m"], {"a": A}), lambda s: 1 / 0)


@pytest.mark.parametrize(("kwargs", "param"), [
    ({"prompts": "Kubernetes"}, "prompts"), ({"prompts": {"": None}}, "prompts"), ({"prompts": {"g": 5}}, "prompts"),
    ({"prompts": {"g": "K"}, "reference": None}, "reference"),
    ({"prompts": {"g": "K"}, "terms": "Kubernetes"}, "terms"),
    ({"prompts": {"g": "K"}, "prompt": "K"}, "prompt"),
])
def test_bad_prompt_comparisons_say_what_to_give(kwargs, param):
    import nbaudio

    args = {"reference": "what was said", "clients": {"a": A}} | kwargs
    with pytest.raises(InvalidInputError) as e:
        nbaudio.compare_prompts(b"not audio: refused before it is read", **args)
    assert e.value.param == param
