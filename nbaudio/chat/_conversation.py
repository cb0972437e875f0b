"""Chat with audio: `Conversation`, the turns of a chat kept across requests and saved to and
loaded from files, and `build_messages` (what a `chat()` call sends). The reply and message types
are in _reply.

A `Conversation` keeps each assistant turn's audio id, its expiry and its transcript. When it
builds the messages for the next request it refers to earlier audio by id while the id is
alive, and sends the transcript as text once it has expired or the server rejected it. A user turn
whose recording was already transcribed (a `%voice live` turn: the Realtime server heard it) is sent
as that text: its audio stays for the player, and is not sent, and transcribed, again every turn.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .._wire.text import plural
from ..audio import AudioInput
from ..errors import InvalidInputError
from ._files import load_turns, save_turns
from ._reply import (
    ChatReply,
    check_message,
    message_text,
    user_message,
)

__all__ = ["Conversation", "build_messages"]


class Conversation:
    """Messages in order, with each assistant turn's audio id, expiry and transcript.

    `to_messages()` builds the request list: earlier assistant audio is referred to by id while
    it is alive, and replaced by its transcript once expired or rejected by the server.
    """

    def __init__(self, messages: Iterable[dict[str, Any]] | None = None, *, system: str | None = None,
                 max_history: int | None = None) -> None:
        self._messages: list[dict[str, Any]] = []
        self.replies: dict[int, ChatReply] = {}  # message index -> the reply that produced it
        # Indices of user messages whose text part is the transcript of their audio part: sent as text.
        self.transcribed: set[int] = set()
        self.rejected_ids: set[str] = set()
        self.max_history = max_history
        if system:
            self._messages.append({"role": "system", "content": system})
        for i, m in enumerate(messages or []):
            self._messages.append(copy.deepcopy(check_message(m, i)))

    # ---- recording --------------------------------------------------------------------
    def add(self, message: dict[str, Any]) -> None:
        self._messages.append(copy.deepcopy(check_message(message, len(self._messages))))

    def add_user(self, text: str | None = None, audio: AudioInput | None = None, *,
                 transcribed: bool = False) -> dict[str, Any]:
        """Add a user message. `transcribed=True` says `text` is what was said in `audio` (a
        recording already heard): later requests send the text only, the audio stays for display."""
        if transcribed and (audio is None or not (text and text.strip())):
            raise InvalidInputError("transcribed=True needs both the audio and its transcript as text",
                                    param="transcribed")
        self._messages.append(user_message(text, audio))
        if transcribed:
            self.transcribed.add(len(self._messages) - 1)
        return self._messages[-1]

    def add_reply(self, reply: ChatReply) -> None:
        msg: dict[str, Any] = {"role": "assistant"}
        if reply.audio_id:
            msg["audio"] = {"id": reply.audio_id}
        msg["content"] = reply.content if reply.content else (None if reply.audio_id else reply.text)
        if reply.tool_calls:
            msg["tool_calls"] = reply.tool_calls
        self.replies[len(self._messages)] = reply
        self._messages.append(msg)

    def extend(self, other: Conversation) -> None:
        """Append another conversation's messages, replies and heard turns included (how a
        `%voice live` session's turns join the conversation it continued)."""
        for i, (message, reply) in enumerate(other.turns()):
            if reply is not None:
                self.add_reply(reply)
            else:
                self.add(message)
                if i in other.transcribed:
                    self.transcribed.add(len(self._messages) - 1)

    def reject_audio_ids(self, ids: Iterable[str] | None = None) -> int:
        """Stop referring to these audio ids (all, when None); their transcripts are sent instead."""
        known = set(self.audio_ids())
        targets = known if ids is None else known & set(ids)
        self.rejected_ids |= targets
        return len(targets)

    def audio_ids(self) -> list[str]:
        return [m["audio"]["id"] for m in self._messages if m.get("role") == "assistant" and m.get("audio")]

    def pop_turn(self) -> None:
        """Remove the last user message and everything after it."""
        for i in range(len(self._messages) - 1, -1, -1):
            if self._messages[i]["role"] == "user":
                for j in range(i, len(self._messages)):
                    self.replies.pop(j, None)
                    self.transcribed.discard(j)
                del self._messages[i:]
                return

    def clear(self) -> None:
        """Forget every turn (the system message stays)."""
        keep = [m for m in self._messages if m["role"] in ("system", "developer")]
        self._messages = keep
        self.replies.clear()
        self.transcribed.clear()
        self.rejected_ids.clear()

    # ---- reading ----------------------------------------------------------------------
    @property
    def messages(self) -> list[dict[str, Any]]:
        """The recorded messages (a copy)."""
        return copy.deepcopy(self._messages)

    def turns(self) -> list[tuple[dict[str, Any], ChatReply | None]]:
        """(message, reply-or-None) for every message in order."""
        return [(m, self.replies.get(i)) for i, m in enumerate(self._messages)]

    @property
    def last_reply(self) -> ChatReply | None:
        return self.replies[max(self.replies)] if self.replies else None

    def transcript_of(self, index: int) -> str:
        m = self._messages[index]
        reply = self.replies.get(index)
        if reply is not None:
            return reply.text
        return message_text(m)

    def to_messages(self, *, now: float | None = None, use_audio_ids: bool = True) -> list[dict[str, Any]]:
        """The request's messages: live audio ids by reference, the rest as transcript text."""
        now = time.time() if now is None else now
        out = []
        msgs = self._messages
        if self.max_history:
            head = [m for m in msgs[:1] if m["role"] in ("system", "developer")]
            tail_start = max(len(head), len(msgs) - self.max_history)
            # never start the window on an assistant turn
            while tail_start < len(msgs) and msgs[tail_start]["role"] not in ("user",):
                tail_start += 1
            indexed = [(0, m) for m in head] + list(enumerate(msgs))[tail_start:]
        else:
            indexed = list(enumerate(msgs))
        for i, m in indexed:
            if i in self.transcribed:
                out.append({"role": "user", "content": message_text(m)})
                continue
            m = copy.deepcopy(m)
            audio = m.get("audio") if m.get("role") == "assistant" else None
            if audio:
                reply = self.replies.get(i)
                dead = (not use_audio_ids or audio["id"] in self.rejected_ids
                        or (reply is not None and reply.expired(now)))
                if dead:
                    m.pop("audio")
                    m["content"] = reply.text if reply is not None else (message_text(m) or "")
                elif reply is not None and m.get("content") is None:
                    m.pop("content", None)
            out.append(m)
        return out

    def __len__(self) -> int:
        return len(self._messages)

    def __repr__(self) -> str:
        users = sum(m["role"] == "user" for m in self._messages)
        replies = "1 reply" if len(self.replies) == 1 else f"{len(self.replies)} replies"
        return f"<Conversation {plural(len(self._messages), 'message')} {plural(users, 'user turn')} {replies}>"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        from ..display import mimebundle

        return mimebundle(self, include=include, exclude=exclude)

    # ---- saving -----------------------------------------------------------------------
    def save(self, path: str | Path, *, audio: bool = True) -> Path:
        """Write the conversation as JSON (`.json` is added unless the name ends with it), with the
        user's recordings and each reply's audio as files beside it. With `audio=False` no audio is
        written; `load()` then says so and sends a note in place of each recording (the turns stay
        valid). A file or folder that cannot be written raises InvalidInputError saying why."""
        return save_turns(self.turns(), path, audio=audio, transcribed=self.transcribed)

    @classmethod
    def load(cls, path: str | Path) -> Conversation:
        """A conversation written by `save`. Its audio files must be beside the JSON, named by plain
        file name, and decode; a file that is not such a conversation raises InvalidInputError
        naming the file, the turn and the field."""
        conv = cls()

        def add(message: dict[str, Any], reply: ChatReply | None, transcribed: bool) -> None:
            conv.add(message)
            if transcribed and message_text(message) and isinstance(message.get("content"), list) and any(
                    isinstance(p, dict) and p.get("type") == "input_audio" for p in message["content"]):
                conv.transcribed.add(len(conv) - 1)
            if reply is not None:
                conv.replies[len(conv) - 1] = reply

        load_turns(path, add)
        return conv


def build_messages(
    messages: Any, audio: AudioInput | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """(history, new user message or None) from a string, a message list, or a Conversation.

    The new message is kept apart so a Conversation records it only when the call succeeds.
    """
    if isinstance(messages, Conversation):
        history = messages.to_messages()
        if audio is not None:
            return history, user_message(None, audio)
        return history, None
    if isinstance(messages, str):
        return [], user_message(messages, audio)
    if messages is None:
        if audio is None:
            raise InvalidInputError("chat() needs messages: a string, a list of messages, or a Conversation")
        return [], user_message(None, audio)
    if isinstance(messages, dict):
        messages = [messages]
    if not isinstance(messages, (list, tuple)):
        raise InvalidInputError("messages must be a string, a list of message dicts or a Conversation, "
                                f"not {type(messages).__name__}")
    history = [copy.deepcopy(check_message(m, i)) for i, m in enumerate(messages)]
    if not history and audio is None:
        raise InvalidInputError("messages is empty: give at least one message")
    if audio is not None:
        return history, user_message(None, audio)
    return history, None
