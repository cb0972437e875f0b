"""The word prior of the local model's tool choice (nbaudio.server.models.tool_choice): which words
of a message count as shared with a tool."""

from __future__ import annotations

from nbaudio.server.models.tool_calls import ToolSpec
from nbaudio.server.models.tool_choice import choice_prompt, shared_words

MEAN = ToolSpec("column_mean", "The mean of a column of the house-price table.", {
    "type": "object", "properties": {"column": {"type": "string", "enum": ["price", "rooms", "area"],
                                                "description": "A column to average."}}})


def test_words_of_the_name_description_parameters_and_enum_values_count():
    assert shared_words("the mean price of the houses", MEAN) == 3  # mean, price, house(s)
    assert shared_words("Which column has the most rooms?", MEAN) == 2  # column (name and description), rooms


def test_short_words_schema_keywords_and_other_words_do_not():
    assert shared_words("What is the type of a string in the table of a city?", MEAN) == 1  # table only
    assert shared_words("Tell me a joke", MEAN) == 0


def test_the_prompt_offers_answer_only_when_a_tool_is_not_required():
    assert "Otherwise reply with answer." in choice_prompt([MEAN], "answer")
    assert "Otherwise" not in choice_prompt([MEAN], None) and "column_mean(column)" in choice_prompt([MEAN], None)
