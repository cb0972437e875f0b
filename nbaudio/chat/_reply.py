"""Chat messages both ways: reading replies (`ChatReply`, `Usage`, a streamed reply assembled from
its chunks) and building request messages (user text and audio, checks of given messages).
`Conversation`, the turns of a chat kept across requests, is in _conversation."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .._wire.fields import Place, base64_field, meta_count, meta_text, object_field, objects_field, text_field
from .._wire.spec import CHAT_INPUT_AUDIO_FORMATS
from .._wire.text import shorten
from ..audio import AudioClip, AudioInput, as_audio_clip
from ..codec import sniff_format, whole_pcm16
from ..errors import APIResponseError, InvalidInputError
from ..pricing import Cost, Prices, chat_cost

__all__ = ["ChatReply", "Usage", "ChatStreamAssembler", "input_audio_part", "message_text", "user_message",
           "check_message", "reply_clip", "EXPIRY_MARGIN_SECONDS"]

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
    def from_dict(cls, d: dict[str, Any] | None) -> Usage | None:
        """Usage from a response's `usage`; counts that are not whole numbers count as absent
        (accounting does not make a reply unreadable: see nbaudio._wire.fields)."""
        if not isinstance(d, dict):
            return None
        pd = d.get("prompt_tokens_details")
        cd = d.get("completion_tokens_details")
        pd, cd = (x if isinstance(x, dict) else {} for x in (pd, cd))
        return cls(
            prompt_tokens=meta_count(d.get("prompt_tokens")) or 0,
            completion_tokens=meta_count(d.get("completion_tokens")) or 0,
            total_tokens=meta_count(d.get("total_tokens")) or 0,
            prompt_text_tokens=meta_count(pd.get("text_tokens")),
            prompt_audio_tokens=meta_count(pd.get("audio_tokens")),
            cached_tokens=meta_count(pd.get("cached_tokens")),
            completion_text_tokens=meta_count(cd.get("text_tokens")),
            completion_audio_tokens=meta_count(cd.get("audio_tokens")),
            raw=dict(d),
        )

    def cost(self, prices: Prices, model: str | None) -> Cost:
        """What these tokens cost `model` at `prices` (unknown without the text / audio split or a price)."""
        return chat_cost(prices, model, prompt_text=self.prompt_text_tokens, prompt_audio=self.prompt_audio_tokens,
                         prompt_total=self.prompt_tokens, completion_text=self.completion_text_tokens,
                         completion_audio=self.completion_audio_tokens, completion_total=self.completion_tokens,
                         cached=self.cached_tokens)

    def __repr__(self) -> str:
        return f"<Usage {self}>"

    def __str__(self) -> str:
        def split(text, audio):
            return f" (text {text or 0}, audio {audio or 0})" if text is not None or audio is not None else ""

        return (f"prompt {self.prompt_tokens}{split(self.prompt_text_tokens, self.prompt_audio_tokens)}, "
                f"completion {self.completion_tokens}"
                f"{split(self.completion_text_tokens, self.completion_audio_tokens)}, "
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
    # What the turn cost (nbaudio.pricing.Cost), set by Client.chat: its usage at the client's prices.
    cost: Cost | None = None
    # The Python functions the model called on the way to this reply (chat(tools=[f]): nbaudio.tools.ToolRun).
    tool_runs: list[Any] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.content if self.content else (self.transcript or self.refusal or "")

    @classmethod
    def from_response(cls, data: dict[str, Any], *, audio_format: str = "wav") -> ChatReply:
        """Parse a chat.completion JSON body (APIResponseError, naming the field, when its content is
        not what the API promises; see nbaudio._wire.fields)."""
        choices = data.get("choices") if isinstance(data, dict) else None
        if not choices or not isinstance(choices, list):
            raise APIResponseError("chat response has no choices; the server may not support chat completions")
        place = Place("the chat reply")
        if not isinstance(choices[0], dict):
            raise place.at("choices").at(0).wrong(choices[0], "an object")
        choice, at = choices[0], place.at("choices").at(0)
        msg = object_field(choice, "message", at)
        at = at.at("message")
        audio = object_field(msg, "audio", at)
        raw_audio = base64_field(audio, "data", at.at("audio"))
        return cls(
            content=_reply_content(msg, at),
            transcript=text_field(audio, "transcript", at.at("audio")),
            audio=reply_clip(raw_audio, audio_format) if raw_audio else None,
            audio_id=meta_text(audio.get("id")),
            expires_at=meta_count(audio.get("expires_at")),
            usage=Usage.from_dict(data.get("usage")),
            finish_reason=meta_text(choice.get("finish_reason")),
            model=meta_text(data.get("model")),
            id=meta_text(data.get("id")),
            tool_calls=([tc for tc, _ in objects_field(msg, "tool_calls", at)]
                        if msg.get("tool_calls") is not None else None),
            refusal=text_field(msg, "refusal", at),
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
            bits.append(f"audio {self.audio.describe()}")
        if self.audio_id:
            bits.append(f"audio_id={self.audio_id!r}")
        if self.usage is not None:
            bits.append(f"{self.usage.total_tokens} tokens")
        return f"<ChatReply {' '.join(bits)}>"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        from ..display import mimebundle

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
    if fmt == "pcm":
        data = whole_pcm16(data)
    return AudioClip(data, fmt) if data else None


def _content_text(content: Any) -> str | None:
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p["text"] for p in content if isinstance(p, dict) and p.get("type") in ("text", "output_text")
                       and isinstance(p.get("text"), str))
    return str(content)


def _reply_content(msg: dict[str, Any], place: Place) -> str | None:
    """A reply message's content: a string, or text parts (a list); anything else is refused."""
    content = msg.get("content")
    if content is not None and not isinstance(content, (str, list)):
        raise place.at("content").wrong(content, "a string or a list of content parts")
    return _content_text(content)


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
        """Take one chunk; return what it added: {"text", "transcript", "audio" (bytes)}.
        APIResponseError (naming the field) when its content is not what the API promises."""
        self.chunks += 1
        added: dict[str, Any] = {"text": "", "transcript": "", "audio": b""}
        self.id = self.id or meta_text(chunk.get("id"))
        self.model = self.model or meta_text(chunk.get("model"))
        if chunk.get("usage") and isinstance(chunk["usage"], dict):
            self.usage = chunk["usage"]
        for choice, at in objects_field(chunk, "choices", Place("a chat stream chunk")):
            if choice.get("index", 0) != 0:
                continue
            delta = object_field(choice, "delta", at)
            at = at.at("delta")
            content = text_field(delta, "content", at)
            if content:
                self.content.append(content)
                added["text"] = content
            audio = object_field(delta, "audio", at)
            self.audio_id = meta_text(audio.get("id")) or self.audio_id
            self.expires_at = meta_count(audio.get("expires_at")) or self.expires_at
            transcript = text_field(audio, "transcript", at.at("audio"))
            if transcript:
                self.transcript.append(transcript)
                added["transcript"] = transcript
            raw = base64_field(audio, "data", at.at("audio"))
            if raw:
                self.audio.extend(raw)
                added["audio"] = raw
            for tc, tc_at in objects_field(delta, "tool_calls", at):
                self._add_tool_call(tc, tc_at)
            self.finish_reason = meta_text(choice.get("finish_reason")) or self.finish_reason
        return added

    def _add_tool_call(self, tc: dict[str, Any], place: Place) -> None:
        """One streamed piece of a tool call, joined to the pieces of the same `index` before it."""
        index = tc.get("index", 0)
        if isinstance(index, bool) or not isinstance(index, int):
            raise place.at("index").wrong(index, "a whole number")
        slot = self.tool_calls.setdefault(index, {"id": None, "type": "function",
                                                  "function": {"name": "", "arguments": ""}})
        slot["id"] = meta_text(tc.get("id")) or slot["id"]
        fn = object_field(tc, "function", place)
        slot["function"]["name"] += text_field(fn, "name", place.at("function")) or ""
        slot["function"]["arguments"] += text_field(fn, "arguments", place.at("function")) or ""

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


def check_message(m: Any, i: int) -> dict[str, Any]:
    """`m` (messages[i]) if it is a valid request message, else a clear InvalidInputError."""
    if not isinstance(m, dict):
        raise InvalidInputError(f"messages[{i}] must be a dict like {{'role': 'user', 'content': '...'}}, "
                                f"not {type(m).__name__}")
    role = m.get("role")
    if role not in _ROLES:
        raise InvalidInputError(f"messages[{i}] has role {role!r}; use one of {', '.join(_ROLES)}",
                                param=f"messages[{i}].role")
    if role == "assistant":
        if m.get("content") is None and not m.get("audio") and not m.get("tool_calls") and not m.get("function_call"):
            raise InvalidInputError(f"messages[{i}] (assistant) needs content, audio {{'id': ...}} or tool_calls")
        audio = m.get("audio")
        if audio is not None and not (isinstance(audio, dict) and isinstance(audio.get("id"), str) and audio["id"]):
            raise InvalidInputError(f"messages[{i}].audio must be {{'id': '<audio id from an earlier reply>'}}")
    elif "content" not in m or m["content"] is None or m["content"] == "" or m["content"] == []:
        raise InvalidInputError(f"messages[{i}] ({role}) has no content", param=f"messages[{i}].content")
    return _clips_encoded(m)


def _clips_encoded(m: dict[str, Any]) -> dict[str, Any]:
    """`m` with each input_audio part whose `data` is an AudioClip (not base64 text) encoded as the
    API takes it, as `chat(audio=clip)` does (a copy; `m` itself is left as it was)."""
    content = m.get("content")
    if not isinstance(content, list) or not any(_clip_part(part) for part in content):
        return m
    parts = [input_audio_part(part["input_audio"]["data"]) if _clip_part(part) else part for part in content]
    return {**m, "content": parts}


def _clip_part(part: Any) -> bool:
    return (isinstance(part, dict) and part.get("type") == "input_audio" and isinstance(part.get("input_audio"), dict)
            and isinstance(part["input_audio"].get("data"), AudioClip))


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
