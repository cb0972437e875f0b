"""A Realtime session's conversation: its items in order, as the events show them and as the
text model reads them, and the truncation of an assistant reply to what the listener heard."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from ..._wire.realtime import new_id
from ...errors import RealtimeEventError

__all__ = ["Item", "Conversation", "Phrase"]


@dataclass
class Phrase:
    """A piece of an assistant reply as spoken: its text and where it sits in the reply's audio."""

    text: str
    start_ms: int
    end_ms: int


@dataclass
class Item:
    """One message. `content` holds the GA content parts (input audio without its bytes); a user
    audio item keeps its samples for transcription and its transcript once known."""

    role: str
    content: list[dict[str, Any]]
    id: str = field(default_factory=lambda: new_id("item"))
    status: str = "completed"
    pcm: bytes = b""  # user audio (pcm16, 24 kHz)
    transcribing: asyncio.Task | None = None
    phrases: list[Phrase] = field(default_factory=list)  # assistant audio
    audio_ms: int = 0
    type: str = "message"  # or function_call / function_call_output (server/realtime/tools.py)
    call: dict[str, Any] = field(default_factory=dict)  # call_id, name, arguments / call_id, output

    def to_dict(self) -> dict[str, Any]:
        if self.type != "message":
            return {"id": self.id, "type": self.type, "object": "realtime.item", "status": self.status, **self.call}
        return {"id": self.id, "type": "message", "object": "realtime.item", "status": self.status,
                "role": self.role, "content": [dict(p) for p in self.content]}

    def text(self) -> str:
        """What the message says, for the text model: its text and the transcripts of its audio
        (a call and its output as the chat route words them, server/chat/input.py)."""
        if self.type == "function_call":
            return f"I called {self.call['name']}({self.call['arguments'][:500]})."
        if self.type == "function_call_output":
            return f"(tool result) {self.call['output']}"
        words = [p.get("text") or p.get("transcript") or "" for p in self.content]
        return " ".join(w.strip() for w in words if w and w.strip())

    def truncate(self, content_index: int, audio_end_ms: int) -> None:
        """Cut an assistant audio reply to its first `audio_end_ms`: the transcript keeps the phrases
        heard, and of the phrase cut in the middle the share of its words that was heard."""
        if self.role != "assistant":
            raise RealtimeEventError("Only assistant messages can be truncated.", param="item_id")
        if not 0 <= content_index < len(self.content) or self.content[content_index].get("type") != "output_audio":
            raise RealtimeEventError(f"Invalid value for 'content_index': {content_index}; this item's audio is "
                                     "content part 0.", param="content_index")
        if audio_end_ms > self.audio_ms:
            raise RealtimeEventError(f"Invalid value for 'audio_end_ms': {audio_end_ms} is past the end of the "
                                     f"item's audio ({self.audio_ms} ms).", param="audio_end_ms")
        kept: list[str] = []
        for phrase in self.phrases:
            if phrase.end_ms <= audio_end_ms:
                kept.append(phrase.text)
            elif phrase.start_ms < audio_end_ms:
                words = phrase.text.split()
                share = (audio_end_ms - phrase.start_ms) / max(1, phrase.end_ms - phrase.start_ms)
                kept.append(" ".join(words[:int(len(words) * share)]))
        self.content[content_index]["transcript"] = " ".join(k.strip() for k in kept if k.strip())
        self.audio_ms = audio_end_ms
        self.phrases = [p for p in self.phrases if p.start_ms < audio_end_ms]


class Conversation:
    """The items of one session, in order."""

    def __init__(self) -> None:
        self.items: list[Item] = []

    def get(self, item_id: Any, param: str = "item_id") -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise RealtimeEventError(f"Item with item_id '{str(item_id)[:64]}' not found in the conversation.",
                                 param=param, code="item_not_found")

    def add(self, item: Item, previous_item_id: str | None = None) -> str | None:
        """Insert after `previous_item_id` ("root": first; None: last); returns the id before it."""
        if any(i.id == item.id for i in self.items):
            raise RealtimeEventError(f"Item with id '{item.id}' already exists.", param="item.id",
                                     code="item_id_exists")
        if previous_item_id is None:
            at = len(self.items)
        elif previous_item_id == "root":
            at = 0
        else:
            at = self.items.index(self.get(previous_item_id, "previous_item_id")) + 1
        self.items.insert(at, item)
        return self.items[at - 1].id if at > 0 else None

    def delete(self, item_id: Any) -> None:
        self.items.remove(self.get(item_id))

    def last_id(self) -> str | None:
        return self.items[-1].id if self.items else None

    def messages(self, instructions: str, extra: list[Item] = ()) -> list[dict[str, Any]]:
        """Chat messages for the text model: the instructions, then every item that says something."""
        out = [{"role": "system", "content": instructions}]
        for item in [*self.items, *extra]:
            text = item.text()
            if text:
                out.append({"role": item.role, "content": text})
        return out
