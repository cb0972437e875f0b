"""nbaudio.tools: a function's JSON schema from its signature, hints and docstring; functions that
cannot be described refused by parameter; the model's arguments (untrusted JSON) checked, and
every failure an error result for the model, never an exception."""

from __future__ import annotations

import json
import threading
from typing import Literal, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbaudio.tools import MAX_STRING, ToolBox, ToolSchemaError, describe


def column_mean(column: Literal["price", "rooms"], rounded: bool = False, digits: int | None = None) -> float:
    """The mean of a column of the table.

    Rounded if asked.

    Args:
        column: Which column.
        rounded (bool): Round the mean.
    """
    value = {"price": 250123.5, "rooms": 3.25}[column]
    return round(value, digits or 0) if rounded else value


def tags(words: list[str], weight: float, scale: Optional[int] = None) -> str:  # noqa: UP045 - Optional is what is tested
    """Join words.

    Parameters
    ----------
    words : list of str
        The words to join.
    weight : float
        How heavy.
    """
    return f"{' '.join(words)} ({weight:g})"


def test_schema_from_signature_hints_and_google_docstring():
    tool = describe(column_mean)
    assert tool.name == "column_mean" and tool.description == "The mean of a column of the table."
    assert tool.parameters == {"type": "object", "additionalProperties": False, "required": ["column"], "properties": {
        "column": {"type": "string", "enum": ["price", "rooms"], "description": "Which column."},
        "rounded": {"type": "boolean", "description": "Round the mean."},
        "digits": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}}
    assert tool.chat_spec()["function"]["name"] == tool.realtime_spec()["name"] == "column_mean"


def test_numpy_docstring_lists_and_optional():
    props = describe(tags).parameters["properties"]
    assert props["words"] == {"type": "array", "items": {"type": "string"}, "description": "The words to join."}
    assert props["weight"] == {"type": "number", "description": "How heavy."}
    assert props["scale"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}


def _no_hint(x):
    return x


def _dict_arg(x: dict) -> None:
    pass


def _star(*xs: int) -> None:
    pass


def _positional(x: int, /) -> None:
    pass


class _Thing:
    pass


def _class_arg(thing: _Thing) -> None:
    pass


@pytest.mark.parametrize(("function", "names"), [
    (_no_hint, "_no_hint(x)"), (_dict_arg, "_dict_arg(x)"), (_star, "_star(xs)"), (_positional, "_positional(x)"),
    (_class_arg, "_class_arg(thing)"), (lambda x: x, "lambda"), (42, "not int"),
])
def test_what_cannot_be_described_is_refused_naming_it(function, names):
    with pytest.raises(ToolSchemaError) as err:
        describe(function)
    assert names.split()[0] in str(err.value) or names.split()[-1] in str(err.value)


def test_a_call_runs_and_its_result_goes_back_as_json():
    run = ToolBox([column_mean]).run("column_mean", '{"column": "rooms", "rounded": true, "digits": 1}', "call_1")
    assert run.error is None and run.result == 3.2 and run.output == "3.2" and run.call_id == "call_1"
    assert run.arguments == {"column": "rooms", "rounded": True, "digits": 1}


@pytest.mark.parametrize(("name", "arguments", "says"), [
    ("nope", "{}", "there is no tool"),
    ("column_mean", "{not json", "bad arguments"),
    ("column_mean", '{"column": "area"}', "column must be one of"),
    ("column_mean", '{"column": "price", "extra": 1}', "unknown argument"),
    ("column_mean", "{}", "missing argument"),
    ("column_mean", '["price"]', "JSON object"),
    ("column_mean", '{"column": "price", "rounded": 1}', "rounded must be a boolean"),
    ("column_mean", '{"column": "price", "digits": true}', "digits must be a integer"),
    ("tags", json.dumps({"words": ["a" * (MAX_STRING + 1)], "weight": 1}), "characters long"),
    ("column_mean", "[" * 100_000, "bad arguments"),
    (None, "{}", "there is no tool"),
    ("column_mean", None, "bad arguments"),
])
def test_hostile_calls_are_error_results(name, arguments, says):
    run = ToolBox([column_mean, tags]).run(name, arguments)
    assert run.error is not None and says in run.error, run.error
    assert json.loads(run.output) == {"error": run.error}


def test_a_raising_function_and_a_slow_one_are_error_results():
    release = threading.Event()

    def boom(x: int) -> int:
        """Fails."""
        raise ZeroDivisionError("no")

    def slow() -> str:
        """Waits."""
        release.wait(30)
        return "late"

    box = ToolBox([boom, slow], timeout=0.2)
    assert box.run("boom", '{"x": 1}').error == "ZeroDivisionError: no"
    assert "did not finish within 0.2 s" in box.run("slow", "{}").error
    release.set()


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                       max_size=4), max_leaves=20)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(["column_mean", "tags", "other"]) | st.text(max_size=20),
       arguments=st.text(max_size=200) | json_values.map(json.dumps)
       | st.dictionaries(st.sampled_from(["column", "rounded", "digits", "words", "weight", "scale", "x"]),
                         json_values, max_size=4).map(json.dumps))
def test_any_arguments_give_a_run_never_an_exception(name, arguments):
    run = ToolBox([column_mean, tags]).run(name, arguments)
    assert (run.error is None) != (run.error is not None and json.loads(run.output)["error"] == run.error)
    if run.error is None:  # it ran: with arguments that fit its schema
        args = run.arguments
        assert name in ("column_mean", "tags") and isinstance(args, dict)
        if name == "column_mean":
            assert args["column"] in ("price", "rooms")
        else:
            assert all(isinstance(w, str) for w in args["words"])
