"""A new spoken question reuses the evaluated system prompt before it (the streamed chat's first
audio waits for the prompt's evaluation: benchmarks/bench_stream.py). Counted in tokens evaluated,
not timed; test_chat_determinism.py checks that the reuse leaves the answers as a fresh run's."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.engine, pytest.mark.timeout(600)]


def test_a_new_spoken_question_reuses_the_system_prompt():
    from nbaudio.server.chat.input import SPOKEN_SYSTEM_PROMPT
    from nbaudio.server.registry import ModelRegistry
    from nbaudio.server.settings import Settings

    llm = ModelRegistry(Settings.from_env()).local_chat().llm
    evaluated: list[int] = []
    real_eval = llm.eval

    def counted(tokens):
        evaluated.append(len(tokens))
        return real_eval(tokens)

    llm.eval = counted

    def ask(question: str) -> list[int]:
        evaluated.clear()
        llm.create_chat_completion(messages=[{"role": "system", "content": SPOKEN_SYSTEM_PROMPT},
                                             {"role": "user", "content": question}], max_tokens=1, temperature=0.0)
        return list(llm.input_ids)

    first = ask("Describe a golden retriever to someone who has never seen a dog.")
    second = ask("What is the capital of France, and why is it famous?")
    shared = next(i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b)
    prompt_tokens = len(second)  # max_tokens=1: the one token sampled is not evaluated
    assert shared >= 30, "the two prompts should share the system prompt"
    assert evaluated and prompt_tokens - sum(evaluated) >= shared * 3 // 4, \
        f"reused {prompt_tokens - sum(evaluated)} of the {shared} tokens the prompts share"
