"""Chat with audio: `Conversation`, the turns of a chat kept across requests and saved to and
loaded from files, and `build_messages` (what a `chat()` call sends). The reply and message types
are nbaudio.messages'; they are re-exported here, where they have always been imported from.

A `Conversation` keeps each assistant turn's audio id, its expiry and its transcript. When it
builds the messages for the next request it refers to earlier audio by id while the id is
alive, and sends the transcript as text once it has expired or the server rejected it.
"""

from __future__ import annotations

import base64
import copy
import json
import time
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .audio import AudioClip, AudioInput
from .errors import InvalidInputError
from .messages import (
    EXPIRY_MARGIN_SECONDS,
    ChatReply,
    ChatStreamAssembler,
    Usage,
    check_message,
    input_audio_part,
    message_text,
    reply_clip,
    user_message,
)
from .text import plural

__all__ = ["Conversation", "build_messages", "AUDIO_NOT_SAVED", "ChatReply", "Usage", "ChatStreamAssembler",
           "input_audio_part", "message_text", "user_message", "check_message", "reply_clip", "EXPIRY_MARGIN_SECONDS"]

# Sent in place of a recording that a saved conversation does not have, so the turn stays valid.
AUDIO_NOT_SAVED = "[the user's audio was not saved with this conversation]"


class Conversation:
    """Messages in order, with each assistant turn's audio id, expiry and transcript.

    `to_messages()` builds the request list: earlier assistant audio is referred to by id while
    it is alive, and replaced by its transcript once expired or rejected by the server.
    """

    def __init__(self, messages: Iterable[dict[str, Any]] | None = None, *, system: str | None = None,
                 max_history: int | None = None) -> None:
        self._messages: list[dict[str, Any]] = []
        self.replies: dict[int, ChatReply] = {}  # message index -> the reply that produced it
        self.rejected_ids: set[str] = set()
        self.max_history = max_history
        if system:
            self._messages.append({"role": "system", "content": system})
        for i, m in enumerate(messages or []):
            self._messages.append(copy.deepcopy(check_message(m, i)))

    # ---- recording --------------------------------------------------------------------
    def add(self, message: dict[str, Any]) -> None:
        self._messages.append(copy.deepcopy(check_message(message, len(self._messages))))

    def add_user(self, text: str | None = None, audio: AudioInput | None = None) -> dict[str, Any]:
        self._messages.append(user_message(text, audio))
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
                del self._messages[i:]
                return

    def clear(self) -> None:
        """Forget every turn (the system message stays)."""
        keep = [m for m in self._messages if m["role"] in ("system", "developer")]
        self._messages = keep
        self.replies.clear()
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
        from .display import mimebundle

        return mimebundle(self, include=include, exclude=exclude)

    # ---- saving -----------------------------------------------------------------------
    def save(self, path: str | Path, *, audio: bool = True) -> Path:
        """Write the conversation as JSON, with the user's recordings and each reply's audio as
        files beside it. With `audio=False` no audio is written; `load()` then says so and sends a
        note in place of each recording (the turns stay valid)."""
        p = Path(path).expanduser()
        if p.suffix != ".json":
            p = p.with_suffix(".json")
        p.parent.mkdir(parents=True, exist_ok=True)
        records = []
        for i, m in enumerate(self._messages):
            rec: dict[str, Any] = {"message": _saved_message(m, p.with_name(f"{p.stem}_{i:03d}"), audio)}
            reply = self.replies.get(i)
            if reply is not None:
                rec["reply"] = {"text": reply.text, "transcript": reply.transcript, "audio_id": reply.audio_id,
                                "expires_at": reply.expires_at, "audio_bridged": reply.audio_bridged,
                                "usage": reply.usage.raw if reply.usage else None}
                if audio and reply.audio is not None:
                    fmt = reply.audio.format
                    ext = "wav" if fmt == "pcm" else ("ogg" if fmt == "opus" else fmt)
                    f = p.with_name(f"{p.stem}_{i:03d}.{ext}")
                    reply.audio.save(f)
                    rec["reply"]["audio_file"] = f.name
            records.append(rec)
        p.write_text(json.dumps({"nbaudio_conversation": 1, "turns": records}, indent=2, ensure_ascii=False))
        return p

    @classmethod
    def load(cls, path: str | Path) -> Conversation:
        p = Path(path).expanduser()
        data = json.loads(p.read_text())
        conv = cls()
        not_saved = []
        for rec in data.get("turns", []):
            message, lost = _loaded_message(rec["message"], p.parent)
            conv._messages.append(message)
            if lost:
                not_saved.append(str(sum(m["role"] == "user" for m in conv._messages)))
            r = rec.get("reply")
            if r:
                clip = None
                if r.get("audio_file") and (p.parent / r["audio_file"]).exists():
                    clip = AudioClip.from_file(p.parent / r["audio_file"])
                conv.replies[len(conv._messages) - 1] = ChatReply(
                    content=None if r.get("audio_id") else r.get("text"), transcript=r.get("transcript"),
                    audio=clip, audio_id=r.get("audio_id"), expires_at=r.get("expires_at"),
                    usage=Usage.from_dict(r.get("usage")), audio_bridged=bool(r.get("audio_bridged")))
        if not_saved:
            warnings.warn(f"{p.name}: the user's audio was not saved for turn {', '.join(not_saved)} (saved with "
                          "audio=False, or the file beside the JSON is missing); each such recording is sent as "
                          f"the note {AUDIO_NOT_SAVED!r}", UserWarning, stacklevel=2)
        return conv


def _saved_message(m: dict[str, Any], stem: Path, audio: bool) -> dict[str, Any]:
    """The message as saved: each input_audio part's bytes go to `<stem>_inK.<format>` (not inline
    base64, so the JSON stays small), or nowhere with `audio=False`."""
    m = copy.deepcopy(m)
    if not isinstance(m.get("content"), list):
        return m
    for k, part in enumerate(m["content"]):
        if not (isinstance(part, dict) and part.get("type") == "input_audio"):
            continue
        fmt = str(part["input_audio"].get("format") or "wav")
        saved: dict[str, Any] = {"format": fmt}
        if audio:
            try:
                data = base64.b64decode(part["input_audio"]["data"], validate=True)
            except (ValueError, TypeError, KeyError):
                raise InvalidInputError(f"{stem.name}: input_audio part {k} has no valid base64 data to save") from None
            f = stem.with_name(f"{stem.name}_in{k}.{fmt if fmt.isalnum() else 'bin'}")
            f.write_bytes(data)
            saved["file"] = f.name
        part["input_audio"] = saved
    return m


def _loaded_message(m: dict[str, Any], folder: Path) -> tuple[dict[str, Any], bool]:
    """(the message with its recordings read back as base64, whether any recording was not there)."""
    if not isinstance(m.get("content"), list):
        return m, False
    lost = False
    parts = []
    for part in m["content"]:
        if isinstance(part, dict) and part.get("type") == "input_audio":
            saved = part.get("input_audio") or {}
            f = folder / saved["file"] if saved.get("file") else None
            if f is not None and f.is_file():
                part = {"type": "input_audio", "input_audio": {
                    "data": base64.b64encode(f.read_bytes()).decode("ascii"), "format": saved.get("format", "wav")}}
            elif not saved.get("data") or saved["data"] == "<omitted>":  # "<omitted>": files of nbaudio 0.1
                part, lost = {"type": "text", "text": AUDIO_NOT_SAVED}, True
        parts.append(part)
    return {**m, "content": parts}, lost


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
