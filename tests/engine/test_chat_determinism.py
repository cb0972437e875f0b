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


def _prompt_evaluated(llm, monkeypatch) -> list[int]:
    """Counts the prompt tokens the model evaluates (those before its first sample) into the list it returns."""
    counts: list[int] = []
    real_eval, real_sample = llm.eval, llm.sample
    state = {"sampling": False}

    def evaluate(tokens):
        if not state["sampling"]:
            counts[-1] += len(tokens)
        return real_eval(tokens)

    def sample(*args, **kwargs):
        state["sampling"] = True
        return real_sample(*args, **kwargs)

    def generate(tokens, *args, **kwargs):
        counts.append(0)
        state["sampling"] = False
        return type(llm).generate(llm, tokens, *args, **kwargs)

    monkeypatch.setattr(llm, "eval", evaluate)
    monkeypatch.setattr(llm, "sample", sample)
    monkeypatch.setattr(llm, "generate", generate)
    return counts


def test_a_conversation_evaluates_its_earlier_messages_once(engine, monkeypatch):
    """The next turn of a conversation (a Realtime session's, a chat's) evaluates only what is new
    since the last prompt: the system prompt and the earlier turns stay in the model's context (the
    first reply text came 2.6 times sooner, experiments/live_latency.py). Before, only whole
    64-token blocks of the last prompt were kept, and a short conversation kept nothing."""
    from nbaudio.server.chat.input import SPOKEN_SYSTEM_PROMPT
    from nbaudio.server.models.llm import GenParams

    backend = engine.app.state.engine.chat_backend()
    counts = _prompt_evaluated(backend.llm, monkeypatch)
    system = {"role": "system", "content": SPOKEN_SYSTEM_PROMPT}
    first = [system, {"role": "user", "content": "What is the capital of France?"}]
    gen = backend.generate(first, GenParams(model="m", max_tokens=40))
    answer = gen.text()
    second = [*first, {"role": "assistant", "content": answer},
              {"role": "user", "content": "And which river flows through it?"}]
    again = backend.generate(second, GenParams(model="m", max_tokens=40))
    again.text()
    # A new conversation with the same instructions keeps them too.
    other = backend.generate([system, {"role": "user", "content": "How many legs does a spider have?"}],
                             GenParams(model="m", max_tokens=40))
    other.text()
    assert len(counts) == 3 and counts[0] > 0
    assert 0 < counts[1] < again.prompt_tokens / 2, (counts, again.prompt_tokens)
    assert 0 < counts[2] < other.prompt_tokens / 2, (counts, other.prompt_tokens)
