"""Which tool the local model calls (or none): each option scored by the model's log-likelihood of
replying with its name, plus a prior from the words the message shares with the tool.

Greedy decoding under a grammar that allowed only the names was wrong on half of
experiments/tool_choice_tuning.py: the 135M model's first token is spread over many words, so the
greedy path was decided by which name's first token happened to lead. Scoring every option in full
lets the tuned weights below do what greedy decoding cannot: ask a tool to beat `answer` by a margin,
and count a word the message shares with a tool's description as evidence for it. The weights
were tuned on experiments/tool_choice_tuning.py only (docs/tools.md has the figures).
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .llm import LlamaChat


class ToolSpec(Protocol):
    """What the choice reads of a tool (tool_calls.ToolSpec, which imports this module)."""

    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def parameters(self) -> dict[str, Any]: ...
    def line(self) -> str: ...

__all__ = ["choose", "choice_prompt"]

# Tuned on the tuning set (48 prompts): a tool's score gains WORD_WEIGHT per word of the message it
# shares, `answer` starts ANSWER_MARGIN ahead (log-likelihood units). Around them (3.5 to 4.5,
# 4 to 6) the tuning score moved by at most 2 of 48.
WORD_WEIGHT = 5.0
ANSWER_MARGIN = 4.0
# Words shorter than this are mostly function words ("the", "in", "for"); words agree on their
# first _STEM letters, so "minutes" meets "minute" (though "rooms" does not meet "room").
_MIN_WORD = 4
_STEM = 5
_WORD = re.compile(r"[^\W\d_]+")


def choice_prompt(tools: list[ToolSpec], answer: str | None) -> str:
    """The system prompt of the choice; `answer`: the word for no tool (None: a tool is required)."""
    listing = "\n".join(t.line() for t in tools)
    rest = f" Otherwise reply with {answer}." if answer else ""
    return (f"You can call these tools:\n{listing}\nIf the user's message asks for what one of the tools does, "
            f"reply with that tool's name.{rest}")


def _words(text: str) -> set[str]:
    return {w[:_STEM] for w in _WORD.findall(text.lower()) if len(w) >= _MIN_WORD}


def _schema_text(schema: Any) -> list[str]:
    """The words a parameters schema says to people: property names, descriptions, titles, enum values."""
    out: list[str] = []
    if isinstance(schema, list):
        for s in schema:
            out += _schema_text(s)
    elif isinstance(schema, dict):
        for key, value in schema.items():
            if key == "properties" and isinstance(value, dict):
                out += [str(k) for k in value]
            if key in ("description", "title") and isinstance(value, str):
                out.append(value)
            elif key == "enum" and isinstance(value, list):
                out += [v for v in value if isinstance(v, str)]
            else:
                out += _schema_text(value)
    return out


def shared_words(message: str, tool: ToolSpec) -> int:
    """How many of the message's words the tool's name, description or parameters also use."""
    text = " ".join([tool.name.replace("_", " ").replace("-", " "), tool.description, *_schema_text(tool.parameters)])
    return len(_words(message) & _words(text))


def _log_softmax_at(logits: Any, token: int) -> float:
    import numpy as np

    top = float(np.max(logits))
    return float(logits[token]) - top - math.log(float(np.sum(np.exp(logits - top))))


def _last_logits(llm: Any) -> Any:
    """The logits after the last token evaluated (llama.cpp keeps them for the last token of a batch)."""
    import llama_cpp
    import numpy as np

    return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(llm.n_vocab(),)).astype(np.float64)


def _evaluate(llm: Any, tokens: list[int]) -> None:
    """Evaluate `tokens` as CountingLlama.generate does (llm.py): whole blocks of n_batch at fixed
    positions, keeping only whole blocks of the last prompt, so the scores do not depend on what ran before."""
    same, limit = 0, min(llm.reusable, llm.n_tokens, len(tokens) - 1)
    while same < limit and llm.input_ids[same] == tokens[same]:
        same += 1
    keep = same // llm.n_batch * llm.n_batch
    llm.n_tokens = keep  # eval drops the cache from n_tokens on
    llm.eval(tokens[keep:])
    llm.reusable = len(tokens) // llm.n_batch * llm.n_batch


def option_scores(backend: LlamaChat, formatter: Any, system: str, user: str,
                  options: list[str]) -> tuple[dict[str, float], int]:
    """Each option's log-likelihood as the whole reply's start, and the prompt's length in tokens.
    The caller holds backend.lock."""
    llm = backend.llm
    prompt = formatter(messages=[{"role": "system", "content": system}, {"role": "user", "content": user}])
    # As llama-cpp-python's chat handler does: a BOS unless the template wrote one.
    tokens = llm.tokenize(prompt.prompt.encode(), add_bos=not prompt.added_special, special=True)
    if len(tokens) >= llm.n_ctx() - 16:
        raise ValueError(f"the message and the tools take {len(tokens)} tokens, more than the context holds")
    _evaluate(llm, tokens)
    first, end = _last_logits(llm), len(tokens)
    scores: dict[str, float] = {}
    for option in options:
        ids = llm.tokenize(option.encode(), add_bos=False, special=False)
        total, logits = _log_softmax_at(first, ids[0]), first
        llm.n_tokens = end
        for i in range(1, len(ids)):
            llm.eval([ids[i - 1]])
            logits = _last_logits(llm)
            total += _log_softmax_at(logits, ids[i])
        scores[option] = total
    return scores, len(tokens)


def choose(backend: LlamaChat, formatter: Any, tools: list[ToolSpec], user: str, answer: str | None) -> tuple[str, int]:
    """The option chosen for the message `user` (a tool's name, or `answer` when given and no tool
    fits), and the choice prompt's length in tokens; `formatter`: backend.formatter(). The caller
    holds backend.lock."""
    options = [t.name for t in tools] + ([answer] if answer else [])
    scores, prompt_tokens = option_scores(backend, formatter, choice_prompt(tools, answer), user, options)
    for tool in tools:
        scores[tool.name] += WORD_WEIGHT * shared_words(user, tool)
    if answer:
        scores[answer] += ANSWER_MARGIN
    return max(options, key=lambda o: scores[o]), prompt_tokens
