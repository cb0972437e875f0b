"""The same question gets the same local answer, whatever was asked before and streamed or not
(README: a teacher rehearses a demo and gets what the class will see)."""

from __future__ import annotations

import pytest

import nbaudio

pytestmark = [pytest.mark.engine, pytest.mark.timeout(600)]

QUESTION = "In one sentence: why do dogs wag their tails?"


def test_the_same_question_gets_the_same_answer_after_other_questions(engine):
    with nbaudio.Client(engine.base_url) as client:
        first = client.chat(QUESTION, voice="coral").text
        answers = []
        # Before the fix, the answer changed after this one (the prompt was evaluated from where
        # the previous prompt stopped matching, in other batches).
        for other in ("What is seven times eight?", "Translate good morning into French.",
                      "Tell me a long story about a dragon."):
            client.chat(other, voice="coral", max_tokens=60)
            answers.append(client.chat(QUESTION, voice="coral").text)
        streamed = client.chat(QUESTION, voice="coral", stream=True)
        for _ in streamed:
            pass
        answers.append(streamed.result.text)
        text_only = client.chat(QUESTION, modalities=["text"]).text
    assert first and answers == [first] * len(answers)
    assert text_only == client_text_only_again(engine)


def client_text_only_again(engine) -> str:
    with nbaudio.Client(engine.base_url) as client:
        client.chat("What is the capital of France?", modalities=["text"])
        return client.chat(QUESTION, modalities=["text"]).text
