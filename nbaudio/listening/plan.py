"""The trial plan of a blind listening test: which item each trial plays and in what order the
systems' clips appear, drawn from a seeded numpy Generator so the same seed gives the same plan.

MOS: one trial per item, holding every system's clip of that item once, in a random order.
A/B: one trial per item and pair of systems; within each pair, which system plays first is
counterbalanced over the items (each side first in half of them, give or take one) and then
shuffled, so a preference for the first sample cannot favour a system. The trials are shuffled too.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from ..errors import InvalidInputError

__all__ = ["KINDS", "Trial", "plan_trials"]

KINDS = ("mos", "ab")


@dataclass(frozen=True)
class Trial:
    """One screen of the test: `item`, and the systems whose clips it plays, in the order shown."""

    number: int  # 1-based, in the order the listener meets them
    item: Hashable
    systems: tuple[str, ...]


def plan_trials(systems: Sequence[str], items: Sequence[Hashable], kind: str, seed: int) -> list[Trial]:
    """The trials of a `kind` ("mos" or "ab") test of `systems` on `items`, in presentation order."""
    import numpy as np

    if kind not in KINDS:
        raise InvalidInputError(f"kind must be 'mos' or 'ab', not {kind!r}")
    systems, items = list(systems), list(items)
    if not systems or not items:
        raise InvalidInputError("a listening test needs at least one system and one item")
    if kind == "ab" and len(systems) < 2:
        raise InvalidInputError(f"an A/B test needs at least two systems to compare, not {len(systems)}")
    rng = np.random.default_rng(seed)
    if kind == "mos":
        units = [(item, tuple(systems[i] for i in rng.permutation(len(systems)))) for item in items]
    else:
        units = []
        for first, second in itertools.combinations(systems, 2):
            # Each orientation in half of the items, then spread over them at random.
            sides = rng.permutation([k % 2 for k in range(len(items))])
            units += [(item, (second, first) if flip else (first, second))
                      for item, flip in zip(items, sides, strict=True)]
    order = rng.permutation(len(units))
    return [Trial(n, *units[i]) for n, i in enumerate(order, start=1)]
