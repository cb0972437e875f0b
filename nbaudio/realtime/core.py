"""What the sync and asyncio Realtime sessions share beyond the wire (events.py): the session's
state, its record (`turns`, `conversation`), its repr, and the docstrings of the methods both forms
have: written once, on the sync `RealtimeSession`, and given to the asyncio one by `same_doc`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from ..chat import Conversation
from ..pricing import Cost, Prices, total_cost
from .events import RealtimeEvent, Wire
from .record import Turn, conversation_of

__all__ = ["SessionCore", "same_doc", "session_update"]

F = TypeVar("F", bound=Callable[..., Any])


def same_doc(sync_method: Callable[..., Any]) -> Callable[[F], F]:
    """The asyncio method's docstring is the sync one's (awaited, it does the same)."""
    def give(method: F) -> F:
        method.__doc__ = sync_method.__doc__
        return method
    return give


def session_update(session: dict[str, Any], kind: str = "realtime") -> dict[str, Any]:
    """The `session.update` event for these fields (the session's type, `kind`, added)."""
    return {"type": "session.update", "session": {"type": kind, **session}}


class SessionCore:
    """State and record of one session, whichever form reads and writes it."""

    def __init__(self, wire: Wire, session: dict[str, Any], timeout: float) -> None:
        self._wire = wire
        self.url = wire.url
        self.session = session
        self.timeout = timeout

    @property
    def kind(self) -> str:
        """The session's type: "realtime" (a conversation) or "transcription"."""
        return "transcription" if self._wire.intent == "transcription" else "realtime"

    def _updated(self, event: RealtimeEvent) -> RealtimeEvent:
        self.session = event.get("session") or {}
        return event

    @property
    def turns(self) -> list[Turn]:
        """Every item seen so far, in order: role, text, audio (pcm16), usage."""
        return self._wire.record.turns

    @property
    def conversation(self) -> Conversation:
        """The turns as an `nbaudio.chat.Conversation` (user audio and assistant replies as AudioClips,
        each reply with its cost)."""
        return self._wire.record.conversation()

    def conversation_of(self, turns: Iterable[Turn]) -> Conversation:
        """Some of the turns as a Conversation, each reply priced as this session's."""
        record = self._wire.record
        return conversation_of(turns, record.prices, record.model)

    @property
    def cost(self) -> Cost:
        """What the responses so far cost: each one's usage (its `response.done`) at the client's
        prices; "free (local)" on the engine, unknown when a price or a usage is."""
        record = self._wire.record
        replies = [r for _, r in self.conversation.turns() if r is not None]
        if record.prices is None:
            return Cost.unknown("this session was opened without prices")
        if not replies:
            return Cost.local() if record.prices.local else Cost(0.0, "no responses yet")
        return total_cost(r.cost for r in replies)

    def _price(self, prices: Callable[[Any], Prices] | None, handshake: Any, model: str) -> None:
        """Price the responses as `model`'s: `prices` (a Client's price_table) of the upgrade's
        answer, which says whether the local engine gave it."""
        if prices is not None:
            self._wire.record.price(prices(handshake), model)

    def __repr__(self) -> str:
        return (f"<nbaudio.realtime.{type(self).__name__} {self.url} {'closed' if self._wire.closed else 'open'}, "
                f"{len(self._wire.record.turns)} items>")
