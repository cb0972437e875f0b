"""`Prices`: what each model costs (per 1M text / audio tokens in and out, per minute of audio, per
1M characters of speech), where the figures come from, and a relay's multiplier.

The shipped table is openai_prices.json beside this module: OpenAI's published prices with the
page each was read from and the date. A client can take another table, prices of its own for
some models, or a multiplier for a relay that resells OpenAI's models at its own rate.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from typing import Any

from .._wire.spec import base_model
from ..errors import InvalidInputError

__all__ = ["PRICE_FIELDS", "ModelPrice", "Prices"]

PRICE_FIELDS = ("text_input_per_1m", "text_output_per_1m", "audio_input_per_1m", "audio_output_per_1m",
                "cached_input_per_1m", "per_minute", "per_1m_characters")
# How relays price OpenAI's models, for the multiplier's help text: new-api / one-api bill
# tokens × model ratio × group ratio, a model ratio of 1 being $2 per 1M tokens, so with the
# default model ratios (OpenAI's prices) a group's cost is OpenAI's price times its group ratio.
RELAY_HELP = ("a relay's multiplier: its group ratio (new-api / one-api bill tokens × model ratio × group ratio, "
              "the default model ratios being OpenAI's prices) times what one dollar of its quota costs you")


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """One model's prices in US dollars; None where the source gives none (a cost needing it is unknown)."""

    text_input_per_1m: float | None = None
    text_output_per_1m: float | None = None
    audio_input_per_1m: float | None = None
    audio_output_per_1m: float | None = None
    cached_input_per_1m: float | None = None
    per_minute: float | None = None
    per_1m_characters: float | None = None
    source: str | None = None
    note: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], model: str = "?") -> ModelPrice:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise InvalidInputError(f"price of {model!r}: unknown field {unknown[0]!r}; use {', '.join(PRICE_FIELDS)}",
                                    param="prices")
        for name in PRICE_FIELDS:
            value = d.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or not math.isfinite(value) or value < 0):
                raise InvalidInputError(f"price of {model!r}: {name} must be a number of dollars >= 0, not {value!r}",
                                        param="prices")
        return cls(**{k: (float(v) if k in PRICE_FIELDS and v is not None else v) for k, v in d.items()})

    def merged(self, other: ModelPrice) -> ModelPrice:
        """This price with `other`'s given fields put over it."""
        return replace(self, **{f.name: getattr(other, f.name) for f in fields(other)
                                if getattr(other, f.name) is not None})

    def given(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in PRICE_FIELDS if getattr(self, k) is not None}


@functools.cache
def _shipped() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("openai_prices.json").read_text(encoding="utf-8")
    return json.loads(text)


@functools.cache
def _shipped_models() -> dict[str, ModelPrice]:
    """The shipped table read and checked once: every priced call of a client asks for it
    (building it took ~0.5 ms, half a loopback call; benchmarks/bench_client.py)."""
    return {name: ModelPrice.from_dict(d, name) for name, d in _shipped()["models"].items()}


@dataclass(frozen=True)
class Prices:
    """A price table: `models` by name, where it comes from (`source`, `read_on`), and `multiplier`,
    which every cost is multiplied by (1 for OpenAI itself; a relay's rate otherwise: RELAY_HELP).
    `local`: the embedded engine's table, where everything is free.

        nbaudio.Client(url, key, prices=nbaudio.Prices.openai(multiplier=0.5))        # a relay's group at 0.5
        nbaudio.Client(url, key, prices={"whisper-1": {"per_minute": 0.004}})         # OpenAI's, one changed
    """

    models: Mapping[str, ModelPrice] = field(default_factory=dict)
    source: str = "given by you"
    read_on: str | None = None
    multiplier: float = 1.0
    local: bool = False

    def __post_init__(self) -> None:
        m = self.multiplier
        if isinstance(m, bool) or not isinstance(m, (int, float)) or not math.isfinite(m) or m < 0:
            raise InvalidInputError(f"multiplier must be a number >= 0 ({RELAY_HELP}), not {m!r}", param="multiplier")

    @classmethod
    def openai(cls, *, multiplier: float = 1.0, overrides: Mapping[str, Any] | None = None) -> Prices:
        """OpenAI's published prices (openai_prices.json: each model's page and the date read), times
        `multiplier`, with `overrides` ({model: {field: dollars}}) put over them."""
        data = _shipped()
        table = cls(dict(_shipped_models()), source=data["source"], read_on=data["read_on"], multiplier=multiplier)
        return table.with_prices(overrides) if overrides else table

    @classmethod
    def engine(cls) -> Prices:
        """The embedded engine's: every call is free (it runs on this machine)."""
        return cls(source="nbaudio's local engine", local=True)

    @classmethod
    def of(cls, value: Any) -> Prices | None:
        """A client's `prices=`: a Prices, {model: {field: dollars}} over OpenAI's table, or None (the default)."""
        if value is None or isinstance(value, Prices):
            return value
        if isinstance(value, Mapping):
            return cls.openai(overrides=value)
        raise InvalidInputError("prices must be an nbaudio.Prices or a dict {model: {field: dollars}}, "
                                f"not {type(value).__name__}", param="prices")

    def with_prices(self, overrides: Mapping[str, Any]) -> Prices:
        """A copy with these models' prices set ({model: {field: dollars}} or {model: ModelPrice}): the
        given fields replace the table's, the others stay."""
        models = dict(self.models)
        for name, given in overrides.items():
            if not isinstance(name, str):
                raise InvalidInputError(f"prices are keyed by model name, not {name!r}", param="prices")
            if not isinstance(given, (ModelPrice, Mapping)):
                raise InvalidInputError(f"price of {name!r} must be a dict of dollars, not {type(given).__name__}",
                                        param="prices")
            price = given if isinstance(given, ModelPrice) else ModelPrice.from_dict(given, name)
            models[name] = models[name].merged(price) if name in models else price
        return replace(self, models=models, source=self.source + " (with prices of your own)")

    def for_relay(self, multiplier: float) -> Prices:
        """A copy for a relay selling these models at `multiplier` times their price (RELAY_HELP)."""
        return replace(self, multiplier=multiplier)

    def price(self, model: str | None) -> ModelPrice | None:
        """The model's prices: by its name, else by the model it stands for (a dated snapshot, a relay's
        `openai/` prefix: nbaudio._wire.spec.base_model); None when not listed."""
        if not model:
            return None
        found = self.models.get(model)
        return found if found is not None else self.models.get(base_model(model))

    def key(self) -> tuple:
        """A hashable summary: equal for tables that price every call the same."""
        return (self.local, self.multiplier, tuple(sorted((name, tuple(sorted(p.given().items())))
                                                          for name, p in self.models.items())))

    def describe(self) -> str:
        bits = [self.source]
        if self.read_on:
            bits.append(f"read on {self.read_on}")
        if self.multiplier != 1:
            bits.append(f"× {self.multiplier:g} (relay)")
        return ", ".join(bits)

    def __repr__(self) -> str:
        if self.local:
            return "<Prices local engine: free>"
        return f"<Prices {len(self.models)} models: {self.describe()}>"
