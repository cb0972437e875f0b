"""How the local chat model's prompt is cut into evaluation batches, so that a conversation's
earlier messages are evaluated once and reused, and the same prompt still gives the same answer.

llama.cpp's floating-point sums depend on how a prompt is split into batches: the same prompt
split differently after different turns gave another greedy answer. So a prompt is always split
the same way, by its own tokens alone: a block starts at every message and every `size` tokens
within one. A message begins with the token the prompt begins with if it comes again (ChatML's
<|im_start|>, which SmolLM2 also uses as its BOS), else with the token after it if that one does
(Gemma's <start_of_turn> after <bos>); a prompt with neither is cut every `size` tokens.

A later prompt that shares the earlier one's first messages (the system prompt; in a Realtime
session, the turns before) keeps their blocks, computed exactly as a fresh run computes them, and
evaluates only the rest: the same answer, sooner.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["block_starts", "reusable_start"]


def block_starts(tokens: Sequence[int], size: int) -> list[int]:
    """Where each evaluation block of `tokens` begins (0 first, ascending)."""
    if not tokens:
        return [0]
    marker = next((t for i, t in enumerate(tokens[:2]) if t in tokens[i + 1:]), None)
    messages = [0] + [i for i in range(1, len(tokens)) if tokens[i] == marker]
    starts = []
    for begin, end in zip(messages, [*messages[1:], len(tokens)], strict=True):
        starts += range(begin, end, size)
    return starts


def reusable_start(starts: Sequence[int], shared: int) -> int:
    """The last block start at or before `shared` (how many leading tokens this prompt shares
    with what the context holds from a prompt split the same way): the tokens before it may stay."""
    return max(s for s in starts if s <= shared)
