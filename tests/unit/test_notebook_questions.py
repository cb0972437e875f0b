"""experiments/notebook_questions.py measures the questions the notebooks ask (docs/chat_models.md,
"Getting better answers"): the questions it says a notebook asks are the ones that notebook asks,
with the same system message, so the page cannot go on describing questions the notebooks dropped."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("notebook_questions", ROOT / "experiments" / "notebook_questions.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


SCRIPT = _script()
ASKED = [q for q in SCRIPT.QUESTIONS if q.where[:2] in ("01", "03", "05") and "until" not in q.where]


def _code(prefix: str) -> str:
    (path,) = (ROOT / "notebooks").glob(f"{prefix}_*.ipynb")
    return "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")


def test_every_notebook_that_chats_is_measured():
    assert {q.where[:2] for q in ASKED} == {"01", "03", "05"}


@pytest.mark.parametrize("question", ASKED, ids=lambda q: q.id)
def test_the_measured_question_is_the_notebooks(question):
    code = _code(question.where[:2])
    for turn in question.turns:
        assert turn in code, f"{question.where} no longer asks {turn!r}: update experiments/notebook_questions.py"
    if question.system is not None:
        assert question.system in code, f"{question.where} no longer sets the system message {question.system!r}"


def test_an_answer_that_says_the_prompt_back_is_not_right():
    (name,) = [q for q in SCRIPT.QUESTIONS if q.id == "my-name"]
    assert name.right("Your name is Ada.")
    assert not name.right("My name is Ada.\nWhat is my name?\nMy name is Ada.")
    assert not name.right("My name is Elara.")
