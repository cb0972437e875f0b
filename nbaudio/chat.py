"""Chat with audio: `ChatReply`, `Usage`, `Conversation`, and building request messages.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .audio import AudioClip, AudioInput, as_audio_clip, sniff_format
from .errors import APIResponseError, InvalidInputError
from .spec import CHAT_INPUT_AUDIO_FORMATS
from .transcript import shorten

__all__ = ["ChatReply", "Usage", "Conversation", "ChatStreamAssembler", "input_audio_part", "message_text"]

_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
# Audio ids are treated as expired this long before the server's expires_at (clock skew, latency).
EXPIRY_MARGIN_SECONDS = 30


@dataclass(slots=True)
class Usage:
    """Token usage, split into text and audio as the API reports it."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    prompt_text_tokens: int | None = None
    prompt_audio_tokens: int | None = None
    cached_tokens: int | None = None
    completion_text_tokens: int | None = None
    completion_audio_tokens: int | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "Usage | None":
        if not isinstance(d, dict):
            return None
        pd = d.get("prompt_tokens_details") or {}
        cd = d.get("completion_tokens_details") or {}
        return cls(
            prompt_tokens=int(d.get("prompt_tokens") or 0),
            completion_tokens=int(d.get("completion_tokens") or 0),
            total_tokens=int(d.get("total_tokens") or 0),
            prompt_text_tokens=pd.get("text_tokens"),
            prompt_audio_tokens=pd.get("audio_tokens"),
            cached_tokens=pd.get("cached_tokens"),
            completion_text_tokens=cd.get("text_tokens"),
            completion_audio_tokens=cd.get("audio_tokens"),
            raw=dict(d),
        )

    def __str__(self) -> str:
        def split(text, audio):
            return f" (text {text or 0}, audio {audio or 0})" if text is not None or audio is not None else ""

        return (f"prompt {self.prompt_tokens}{split(self.prompt_text_tokens, self.prompt_audio_tokens)}, "
                f"completion {self.completion_tokens}{split(self.completion_text_tokens, self.completion_audio_tokens)}, "
                f"total {self.total_tokens}")


@dataclass(slots=True, eq=False)
class ChatReply:
    """One assistant turn. `text` is what was said: the content, or the audio's transcript."""

    content: str | None = None
    transcript: str | None = None
    audio: AudioClip | None = None
    audio_id: str | None = None
    expires_at: int | None = None
    usage: Usage | None = None
    finish_reason: str | None = None
    model: str | None = None
    id: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    refusal: str | None = None
    # The audio bridge: the server gave no audio, so `audio` was spoken by its /audio/speech; or
    # it refused input_audio, so the user's audio was transcribed and sent as text.
    audio_bridged: bool = False
    input_transcribed: bool = False
    raw: Any = field(default=None, repr=False)

    @property
    def text(self) -> str:
        return self.content if self.content else (self.transcript or self.refusal or "")

    @classmethod
    def from_response(cls, data: dict[str, Any], *, audio_format: str = "wav") -> "ChatReply":
        """Parse a chat.completion JSON body."""
        choices = data.get("choices") if isinstance(data, dict) else None
        if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
            raise APIResponseError("chat response has no choices; the server may not support chat completions")
        choice = choices[0]
        msg = choice.get("message") or {}
        audio = msg.get("audio") or None
        clip = None
        if audio and audio.get("data"):
            try:
                raw_audio = base64.b64decode(audio["data"])
            except (ValueError, TypeError):
                raise APIResponseError("the reply's audio is not valid base64") from None
            clip = reply_clip(raw_audio, audio_format)
        return cls(
            content=_content_text(msg.get("content")),
            transcript=(audio or {}).get("transcript"),
            audio=clip,
            audio_id=(audio or {}).get("id"),
            expires_at=(audio or {}).get("expires_at"),
            usage=Usage.from_dict(data.get("usage")),
            finish_reason=choice.get("finish_reason"),
            model=data.get("model"),
            id=data.get("id"),
            tool_calls=msg.get("tool_calls"),
            refusal=msg.get("refusal"),
            raw=data,
        )

    def expired(self, now: float | None = None) -> bool:
        if self.expires_at is None:
            return False
        return (now if now is not None else time.time()) >= self.expires_at - EXPIRY_MARGIN_SECONDS

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        bits = [repr(shorten(self.text))]
        if self.audio is not None:
            bits.append(f"audio={self.audio._describe()!r}")
        if self.audio_id:
            bits.append(f"audio_id={self.audio_id!r}")
        if self.usage is not None:
            bits.append(f"tokens={self.usage.total_tokens}")
        return f"ChatReply({', '.join(bits)})"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        from .display import mimebundle

        return mimebundle(self, include=include, exclude=exclude)


def _clip_format(audio_format: str) -> str:
    return "pcm" if audio_format in ("pcm16", "pcm") else audio_format


def reply_clip(data: bytes, requested: str) -> AudioClip | None:
    """The reply's audio as what its bytes are; the requested format is only a hint.

    Relays transcode (MP3 where WAV was asked for); labelling those bytes `wav` would make the
    WAV-header repair overwrite them. Headerless pcm16 has no signature, so it is the fallback,
    and it is sniffed strictly (raw samples can look like an MPEG frame sync).
    """
    hint = _clip_format(requested)
    fmt = sniff_format(data, strict=hint == "pcm") or hint
    if fmt == "pcm" and len(data) % 2:
        data = data[:-1]
    return AudioClip(data, fmt) if data else None


def _content_text(content: Any) -> str | None:
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") in ("text", "output_text"))
    return str(content)


def message_text(message: dict[str, Any]) -> str:
    """The text of a request message (its string content or its text parts)."""
    return _content_text(message.get("content")) or ""


class ChatStreamAssembler:
    """Builds a ChatReply from chat.completion.chunk dicts as they arrive."""

    def __init__(self, audio_format: str = "pcm16") -> None:
        self.audio_format = audio_format
        self.content: list[str] = []
        self.transcript: list[str] = []
        self.audio = bytearray()
        self.audio_id: str | None = None
        self.expires_at: int | None = None
        self.usage: dict | None = None
        self.finish_reason: str | None = None
        self.model: str | None = None
        self.id: str | None = None
        self.tool_calls: dict[int, dict[str, Any]] = {}
        self.chunks = 0

    def feed(self, chunk: dict[str, Any]) -> dict[str, Any]:
        """Take one chunk; return what it added: {"text", "transcript", "audio" (bytes)}."""
        self.chunks += 1
        added: dict[str, Any] = {"text": "", "transcript": "", "audio": b""}
        self.id = self.id or chunk.get("id")
        self.model = self.model or chunk.get("model")
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            if delta.get("content"):
                self.content.append(delta["content"])
                added["text"] = delta["content"]
            audio = delta.get("audio") or {}
            if audio.get("id"):
                self.audio_id = audio["id"]
            if audio.get("expires_at"):
                self.expires_at = audio["expires_at"]
            if audio.get("transcript"):
                self.transcript.append(audio["transcript"])
                added["transcript"] = audio["transcript"]
            if audio.get("data"):
                try:
                    raw = base64.b64decode(audio["data"])
                except (ValueError, TypeError):
                    raise APIResponseError("a streamed audio chunk is not valid base64") from None
                self.audio.extend(raw)
                added["audio"] = raw
            for tc in delta.get("tool_calls") or []:
                slot = self.tool_calls.setdefault(tc.get("index", 0), {"id": None, "type": "function",
                                                                      "function": {"name": "", "arguments": ""}})
                slot["id"] = tc.get("id") or slot["id"]
                fn = tc.get("function") or {}
                slot["function"]["name"] += fn.get("name") or ""
                slot["function"]["arguments"] += fn.get("arguments") or ""
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        return added

    def reply(self) -> ChatReply:
        clip = reply_clip(bytes(self.audio), self.audio_format) if self.audio else None
        return ChatReply(
            content="".join(self.content) or None,
            transcript="".join(self.transcript) or None,
            audio=clip,
            audio_id=self.audio_id,
            expires_at=self.expires_at,
            usage=Usage.from_dict(self.usage),
            finish_reason=self.finish_reason,
            model=self.model,
            id=self.id,
            tool_calls=[self.tool_calls[k] for k in sorted(self.tool_calls)] or None,
            raw={"chunks": self.chunks},
        )


def input_audio_part(audio: AudioInput) -> dict[str, Any]:
    """An `input_audio` content part (wav or mp3; other formats are converted to wav)."""
    clip = as_audio_clip(audio)
    if clip.format not in CHAT_INPUT_AUDIO_FORMATS:
        clip = clip.encode("wav")
    return {"type": "input_audio", "input_audio": {"data": clip.to_base64(), "format": clip.format}}


def _check_message(m: Any, i: int) -> dict[str, Any]:
    if not isinstance(m, dict):
        raise InvalidInputError(f"messages[{i}] must be a dict like {{'role': 'user', 'content': '...'}}, not {type(m).__name__}")
    role = m.get("role")
    if role not in _ROLES:
        raise InvalidInputError(f"messages[{i}] has role {role!r}; use one of {', '.join(_ROLES)}", param=f"messages[{i}].role")
    if role == "assistant":
        if m.get("content") is None and not m.get("audio") and not m.get("tool_calls") and not m.get("function_call"):
            raise InvalidInputError(f"messages[{i}] (assistant) needs content, audio {{'id': ...}} or tool_calls")
        audio = m.get("audio")
        if audio is not None and not (isinstance(audio, dict) and isinstance(audio.get("id"), str) and audio["id"]):
            raise InvalidInputError(f"messages[{i}].audio must be {{'id': '<audio id from an earlier reply>'}}")
    elif "content" not in m or m["content"] is None or m["content"] == "" or m["content"] == []:
        raise InvalidInputError(f"messages[{i}] ({role}) has no content", param=f"messages[{i}].content")
    return m


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
            self._messages.append(copy.deepcopy(_check_message(m, i)))

    # ---- recording --------------------------------------------------------------------
    def add(self, message: dict[str, Any]) -> None:
        self._messages.append(copy.deepcopy(_check_message(message, len(self._messages))))

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
        return f"Conversation({len(self._messages)} messages, {users} user turns, {len(self.replies)} replies)"

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
                    ext = "wav" if reply.audio.format == "pcm" else ("ogg" if reply.audio.format == "opus" else reply.audio.format)
                    f = p.with_name(f"{p.stem}_{i:03d}.{ext}")
                    reply.audio.save(f)
                    rec["reply"]["audio_file"] = f.name
            records.append(rec)
        p.write_text(json.dumps({"nbaudio_conversation": 1, "turns": records}, indent=2, ensure_ascii=False))
        return p

    @classmethod
    def load(cls, path: str | Path) -> "Conversation":
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


# Sent in place of a recording that a saved conversation does not have, so the turn stays valid.
AUDIO_NOT_SAVED = "[the user's audio was not saved with this conversation]"


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


def user_message(text: str | None = None, audio: AudioInput | None = None) -> dict[str, Any]:
    """A user message with text and/or an input_audio part."""
    if text is not None and not isinstance(text, str):
        raise InvalidInputError(f"message text must be a string, not {type(text).__name__}")
    if audio is None:
        if not text or not text.strip():
            raise InvalidInputError("the message is empty: give some text or audio=")
        return {"role": "user", "content": text}
    parts: list[dict[str, Any]] = []
    if text and text.strip():
        parts.append({"type": "text", "text": text})
    parts.append(input_audio_part(audio))
    return {"role": "user", "content": parts}


def build_messages(messages: Any, audio: AudioInput | None = None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
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
        raise InvalidInputError(f"messages must be a string, a list of message dicts or a Conversation, not {type(messages).__name__}")
    history = [copy.deepcopy(_check_message(m, i)) for i, m in enumerate(messages)]
    if not history and audio is None:
        raise InvalidInputError("messages is empty: give at least one message")
    if audio is not None:
        return history, user_message(None, audio)
    return history, None
