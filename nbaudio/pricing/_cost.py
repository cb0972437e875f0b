"""`Cost`: what one call cost, worked out from what the answer tells (token usage, seconds of audio,
characters spoken) and a price table; or "free (local)", or "unknown" with the reason. Never a
guess: a price or a count that is not known makes the cost unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .._wire.fields import MAX_SECONDS
from ._table import ModelPrice, Prices

__all__ = ["Cost", "chat_cost", "money", "speech_cost", "total_cost", "transcription_cost"]

_PER_1M = 1_000_000


def money(usd: float) -> str:
    """'$0', '$0.00036', '$0.0123', '$1.23'."""
    if usd == 0:
        return "$0"
    if usd < 0.01:
        return f"${usd:.2g}"
    return f"${usd:.4f}" if usd < 1 else f"${usd:,.2f}"


@dataclass(frozen=True, slots=True)
class Cost:
    """`usd` (None when unknown), `basis` (how it was worked out, or why it is unknown), `free`
    (the local engine's). `str()` is "$0.0012", "free (local)" or "unknown"."""

    usd: float | None
    basis: str
    free: bool = False

    @classmethod
    def unknown(cls, reason: str) -> Cost:
        return cls(None, reason)

    @classmethod
    def local(cls) -> Cost:
        return cls(0.0, "the local engine runs on this machine", free=True)

    @property
    def known(self) -> bool:
        return self.usd is not None

    def __str__(self) -> str:
        if self.free:
            return "free (local)"
        return "unknown" if self.usd is None else money(self.usd)

    def describe(self) -> str:
        """The amount with how it was found ("$0.0012: 12.3 s × $0.006/min")."""
        return f"{self}: {self.basis}" if not self.free else str(self)

    def __repr__(self) -> str:
        return f"<Cost {self.describe()}>"

    def __add__(self, other: Any) -> Cost:
        if not isinstance(other, Cost):
            return NotImplemented
        return total_cost([self, other])

    def __radd__(self, other: Any) -> Cost:
        if other == 0:  # sum() starts from 0
            return self
        return NotImplemented


def total_cost(costs: Iterable[Cost | None]) -> Cost:
    """The sum of `costs`: unknown when any one is (None counts as unknown), free when all are free."""
    items = list(costs)
    if not items:
        return Cost(0.0, "nothing")
    missing = sum(1 for c in items if c is None or c.usd is None)
    if missing:
        return Cost.unknown(f"{missing} of {len(items)} costs unknown")
    if all(c.free for c in items):
        return Cost.local()
    return Cost(sum(c.usd for c in items), f"sum of {len(items)}")


def _scaled(usd: float, parts: list[str], prices: Prices) -> Cost:
    basis = " + ".join(parts) or "nothing counted"
    if prices.multiplier != 1:
        usd *= prices.multiplier
        basis = f"({basis}) × {prices.multiplier:g} (relay)"
    return Cost(usd, basis)


def _tokens(count: int, price: float | None, what: str, parts: list[str]) -> float | None:
    """count × price / 1M (0 for no tokens, None when tokens are there but the price is not)."""
    if not count:
        return 0.0
    if price is None:
        return None
    parts.append(f"{count:,} {what} tokens × ${price:g}/1M")
    return count * price / _PER_1M


def _lookup(prices: Prices, model: str | None) -> tuple[ModelPrice | None, Cost | None]:
    if prices.local:
        return None, Cost.local()
    price = prices.price(model)
    if price is None:
        return None, Cost.unknown(f"no price for model {model!r} in {prices.describe()}")
    return price, None


def speech_cost(prices: Prices, model: str | None, characters: int) -> Cost:
    """/audio/speech: characters × the per-1M-characters price (tts-1, tts-1-hd); models priced by
    tokens (gpt-4o-mini-tts) are unknown, as the endpoint reports no usage."""
    price, done = _lookup(prices, model)
    if done is not None:
        return done
    if price.per_1m_characters is None:
        return Cost.unknown(f"{model} is not priced per character and /audio/speech reports no token usage")
    return _scaled(characters * price.per_1m_characters / _PER_1M,
                   [f"{characters:,} characters × ${price.per_1m_characters:g}/1M"], prices)


def transcription_cost(prices: Prices, model: str | None, usage: dict[str, Any] | None,
                       seconds: float | None) -> Cost:
    """/audio/transcriptions: the usage's tokens ({"type": "tokens"}) at the token prices, or its
    seconds ({"type": "duration"}, else `seconds`, the audio's) at the per-minute price."""
    price, done = _lookup(prices, model)
    if done is not None:
        return done
    if isinstance(usage, dict) and usage.get("type") == "tokens":
        return _transcription_tokens(prices, price, model, usage)
    if isinstance(usage, dict) and usage.get("type") == "duration" and _count(usage.get("seconds"), float):
        seconds = float(usage["seconds"])
    if price.per_minute is None:
        return Cost.unknown(f"{model} is priced by tokens and the answer gave no token usage")
    if seconds is None:
        return Cost.unknown("the length of the audio is not known")
    return _scaled(seconds / 60 * price.per_minute, [f"{seconds:.1f} s × ${price.per_minute:g}/min"], prices)


def _count(value: Any, kind: type = int) -> bool:
    """A whole number >= 0 (`kind` float: any number of seconds up to the longest audio nbaudio reads)."""
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
        return False
    return 0 <= value <= MAX_SECONDS if kind is float else value >= 0


def _transcription_tokens(prices: Prices, price: ModelPrice, model: str | None, usage: dict[str, Any]) -> Cost:
    details = usage.get("input_token_details") if isinstance(usage.get("input_token_details"), dict) else {}
    text_in, audio_in, out = details.get("text_tokens", 0), details.get("audio_tokens"), usage.get("output_tokens", 0)
    if audio_in is None:  # no split: all input is audio (the prompt's text is a few tokens at most)
        audio_in, text_in = usage.get("input_tokens"), 0
    if not all(_count(n) for n in (text_in, audio_in, out)):
        return Cost.unknown("the answer's token usage is not whole numbers")
    parts: list[str] = []
    amounts = [_tokens(text_in, price.text_input_per_1m, "text input", parts),
               _tokens(audio_in, price.audio_input_per_1m, "audio input", parts),
               _tokens(out, price.text_output_per_1m, "text output", parts)]
    if None in amounts:
        return Cost.unknown(f"a token price of {model} is not known")
    return _scaled(sum(amounts), parts, prices)


def chat_cost(prices: Prices, model: str | None, *, prompt_text: int | None, prompt_audio: int | None,
              prompt_total: int, completion_text: int | None, completion_audio: int | None,
              completion_total: int, cached: int | None = None) -> Cost:
    """/chat/completions: prompt and completion tokens, text and audio apart, at the token prices.
    Without the split, tokens count as text unless the model has audio prices (then unknown);
    cached prompt tokens need a cached price."""
    price, done = _lookup(prices, model)
    if done is not None:
        return done
    audio_priced = price.audio_input_per_1m is not None or price.audio_output_per_1m is not None
    if prompt_text is None and prompt_audio is None:
        if audio_priced and prompt_total:
            return Cost.unknown("the usage does not split the prompt's text and audio tokens")
        prompt_text, prompt_audio = prompt_total, 0
    if completion_text is None and completion_audio is None:
        if audio_priced and completion_total:
            return Cost.unknown("the usage does not split the completion's text and audio tokens")
        completion_text, completion_audio = completion_total, 0
    parts: list[str] = []
    cached = cached or 0
    cached_usd = _tokens(cached, price.cached_input_per_1m, "cached input", parts)
    text_in = max(0, (prompt_text or 0) - cached)  # cached tokens are among the prompt's (text ones first)
    audio_in = (prompt_audio or 0) - max(0, cached - (prompt_text or 0))
    amounts = [cached_usd,
               _tokens(text_in, price.text_input_per_1m, "text input", parts),
               _tokens(max(0, audio_in), price.audio_input_per_1m, "audio input", parts),
               _tokens(completion_text or 0, price.text_output_per_1m, "text output", parts),
               _tokens(completion_audio or 0, price.audio_output_per_1m, "audio output", parts)]
    if None in amounts:
        return Cost.unknown(f"a token price of {model} is not known")
    return _scaled(sum(amounts), parts, prices)
