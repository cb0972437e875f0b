"""What a transcription cost, put on the Transcript the endpoint returns (nbaudio.pricing does the sums)."""

from __future__ import annotations

from ..audio import AudioClip
from ..errors import AudioDecodeError
from ..pricing import Prices, transcription_cost
from ..transcript import Transcript

__all__ = ["kept", "priced", "seconds_or_none"]


def priced(t: Transcript, prices: Prices, model: str | None, clip: AudioClip) -> Transcript:
    """`t` with its model and cost: from its usage, else its seconds (the audio's when it says none)."""
    t.model = model
    seconds = t.duration
    if seconds is None and (t.usage or {}).get("type") not in ("tokens", "duration"):
        seconds = seconds_or_none(clip)  # decoded only when nothing else says how long it was
    t.cost = transcription_cost(prices, model, t.usage, seconds)
    return t


def kept(t: Transcript, into: list[Transcript]) -> Transcript:
    """`t`, remembered in `into` (the parts of a transcript merged from several requests)."""
    into.append(t)
    return t


def seconds_or_none(clip: AudioClip) -> float | None:
    try:
        return clip.duration
    except AudioDecodeError:  # e.g. AAC without PyAV: the server may still read it
        return None
