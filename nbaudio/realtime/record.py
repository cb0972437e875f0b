"""What a Realtime session said, turn by turn, assembled from its events: the user's items (their
transcripts, and the audio this client sent for them) and the assistant's (transcript or text,
audio as an AudioClip, usage, and what each response cost from its usage at the client's prices), as
an `nbaudio.chat.Conversation` that displays like `%%voice` turns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._wire.realtime import BYTES_PER_MS, SAMPLE_RATE
from ..audio import AudioClip
from ..chat import ChatReply, Conversation, Usage
from ..codec import whole_pcm16
from ..pricing import Cost, Prices

__all__ = ["TurnRecord", "Turn", "pcm_clip", "conversation_of"]


def pcm_clip(pcm: bytes, name: str | None = None) -> AudioClip:
    """pcm16 mono at 24 kHz (the Realtime audio format) as a WAV AudioClip."""
    samples = np.frombuffer(whole_pcm16(pcm), dtype="<i2").astype(np.float32) / 32768.0
    return AudioClip.from_array(samples, SAMPLE_RATE, name=name)


@dataclass
class Turn:
    """One item of the conversation as this client saw it."""

    item_id: str
    role: str
    text: str = ""  # typed text, or what the server transcribed / the assistant said
    audio: bytearray = field(default_factory=bytearray)  # pcm16 at 24 kHz
    usage: dict[str, Any] | None = None
    status: str = "in_progress"
    response_id: str | None = None
    heard: float = 1.0  # the share of an assistant reply's audio the listener heard (truncate)

    @property
    def clip(self) -> AudioClip | None:
        return self.named_clip("you" if self.role == "user" else "reply")

    def named_clip(self, name: str) -> AudioClip | None:
        return pcm_clip(bytes(self.audio), name=name) if self.audio else None


def _ms(value: float | None) -> int | None:
    """An event's *_ms (a number of 0 or more, checked as it arrived) as whole milliseconds."""
    return None if value is None else int(value)


def _usage(usage: dict[str, Any] | None) -> Usage | None:
    """A Realtime `response.done` usage in the chat-completions shape Usage reads (which drops
    counts that are not whole numbers)."""
    if not usage:
        return None
    inp, out = (d if isinstance(d, dict) else {} for d in (usage.get("input_token_details"),
                                                           usage.get("output_token_details")))
    return Usage.from_dict({
        "prompt_tokens": usage.get("input_tokens") or 0, "completion_tokens": usage.get("output_tokens") or 0,
        "total_tokens": usage.get("total_tokens") or 0,
        "prompt_tokens_details": {"text_tokens": inp.get("text_tokens"), "audio_tokens": inp.get("audio_tokens"),
                                  "cached_tokens": inp.get("cached_tokens")},
        "completion_tokens_details": {"text_tokens": out.get("text_tokens"), "audio_tokens": out.get("audio_tokens")},
    })


class TurnRecord:
    """Feed it every event (and the audio sent); `turns` in conversation order, `conversation()`."""

    def __init__(self) -> None:
        self._turns: dict[str, Turn] = {}
        self._unsent_audio = bytearray()  # appended since the last commit
        self._unsent_at = 0  # where _unsent_audio begins in all the audio appended this session (bytes)
        # Server VAD says where each turn's speech starts and stops (ms into the appended audio):
        # the user's clip is that span, not the silence before it or what was said after.
        self._spans: dict[str, list[int | None]] = {}
        self.prices: Prices | None = None  # set once the session is open (price): None, costs are not worked out
        self.model: str | None = None

    def price(self, prices: Prices, model: str) -> None:
        """Work out each response's cost from its usage at `prices`, as `model`'s."""
        self.prices, self.model = prices, model

    @property
    def turns(self) -> list[Turn]:
        return list(self._turns.values())

    def sent_audio(self, pcm: bytes) -> None:
        self._unsent_audio += pcm

    def cleared(self) -> None:
        self._unsent_at += len(self._unsent_audio)
        self._unsent_audio.clear()

    def _committed_audio(self, item_id: str) -> bytes:
        """The audio of a committed turn: its VAD span when the server gave one, else all not yet
        committed. What follows the span stays for the next turn."""
        start_ms, end_ms = self._spans.pop(item_id, (None, None))
        size = len(self._unsent_audio)
        first = 0 if start_ms is None else min(size, max(0, start_ms * BYTES_PER_MS - self._unsent_at))
        last = size if end_ms is None else min(size, max(first, end_ms * BYTES_PER_MS - self._unsent_at))
        pcm = bytes(self._unsent_audio[first:last])
        del self._unsent_audio[:last]
        self._unsent_at += last
        return pcm

    def _turn(self, item: dict[str, Any]) -> Turn:
        item_id = item.get("id") or ""
        turn = self._turns.get(item_id)
        if turn is None:
            turn = self._turns[item_id] = Turn(item_id, item.get("role") or "")
            for part in item.get("content") or []:
                if part.get("type") in ("input_text", "output_text", "text"):
                    turn.text += part.get("text") or ""
        return turn

    def feed(self, event: dict[str, Any], audio: bytes = b"") -> None:
        """Take in one server event, already checked (nbaudio.realtime.server_events), and the audio
        it carries (a response.output_audio.delta's pcm16, decoded)."""
        take = self._TAKES.get(event.get("type", ""))
        if take is not None:
            take(self, event, audio)

    def _item(self, event: dict[str, Any], audio: bytes) -> None:
        turn = self._turn(event.get("item") or {})
        turn.status = (event.get("item") or {}).get("status") or turn.status
        if event["type"] == "response.output_item.added":
            turn.response_id = event.get("response_id")

    def _speech_started(self, event: dict[str, Any], audio: bytes) -> None:
        if event.get("item_id"):
            self._spans[event["item_id"]] = [_ms(event.get("audio_start_ms")), None]

    def _speech_stopped(self, event: dict[str, Any], audio: bytes) -> None:
        if event.get("item_id") in self._spans:
            self._spans[event["item_id"]][1] = _ms(event.get("audio_end_ms"))

    def _committed(self, event: dict[str, Any], audio: bytes) -> None:
        turn = self._turns.setdefault(event["item_id"], Turn(event["item_id"], "user"))
        turn.audio += self._committed_audio(event["item_id"])

    def _text_done(self, event: dict[str, Any], audio: bytes) -> None:
        if event.get("item_id") in self._turns:
            self._turns[event["item_id"]].text = event.get("transcript") or event.get("text") or ""

    def _audio_delta(self, event: dict[str, Any], audio: bytes) -> None:
        if event.get("item_id") in self._turns:
            self._turns[event["item_id"]].audio += audio

    def _truncated(self, event: dict[str, Any], audio: bytes) -> None:
        turn = self._turns.get(event.get("item_id"))
        if turn is None:
            return
        end = (_ms(event.get("audio_end_ms")) or 0) * BYTES_PER_MS
        if turn.audio and end < len(turn.audio):
            turn.heard = min(turn.heard, end / len(turn.audio))
        del turn.audio[end:]

    def _deleted(self, event: dict[str, Any], audio: bytes) -> None:
        self._turns.pop(event.get("item_id"), None)

    def _response_done(self, event: dict[str, Any], audio: bytes) -> None:
        response = event.get("response") or {}
        for item in response.get("output") or []:
            turn = self._turns.get(item.get("id"))
            if turn is not None:
                turn.usage, turn.status = response.get("usage"), item.get("status") or turn.status

    # What each server event changes in the record (events not listed change nothing).
    _TAKES = {
        "conversation.item.added": _item, "conversation.item.done": _item, "response.output_item.added": _item,
        "input_audio_buffer.speech_started": _speech_started, "input_audio_buffer.speech_stopped": _speech_stopped,
        "input_audio_buffer.committed": _committed,
        "conversation.item.input_audio_transcription.completed": _text_done,
        "response.output_audio_transcript.done": _text_done, "response.output_text.done": _text_done,
        "response.output_audio.delta": _audio_delta, "conversation.item.truncated": _truncated,
        "conversation.item.deleted": _deleted, "response.done": _response_done,
    }

    def conversation(self) -> Conversation:
        """The turns as a Conversation: user messages (with their audio), assistant ChatReplies."""
        return conversation_of(self._turns.values(), self.prices, self.model)


def _heard_text(turn: Turn) -> str:
    """What the listener heard of a reply: of one cut short (truncated), its words in the share of
    its audio that was played, then "…" (the server keeps its own transcript; the events don't say)."""
    if turn.heard >= 1.0:
        return turn.text
    words = turn.text.split()
    return " ".join(words[:round(len(words) * turn.heard)]) + " …"


def _cost(usage: Usage | None, prices: Prices | None, model: str | None) -> Cost | None:
    if prices is None:
        return None
    if prices.local:
        return Cost.local()
    if usage is None:
        return Cost.unknown("the response gave no token usage")
    return usage.cost(prices, model)


def conversation_of(turns: Iterable[Turn], prices: Prices | None = None, model: str | None = None) -> Conversation:
    """Turns as a Conversation: user messages (with their audio), assistant ChatReplies (with their
    cost at `prices`, as `model`'s, when given)."""
    conv = Conversation()
    said = replied = 0  # clips are named by turn ("you 2", "reply 2"), not by the server's item ids
    for turn in turns:
        if turn.role == "user":
            if turn.text.strip() or turn.audio:
                said += 1
                # The server heard it already: later chat requests send its transcript, not the audio.
                heard = bool(turn.text.strip()) and bool(turn.audio)
                conv.add_user(turn.text if turn.text.strip() else None, turn.named_clip(f"you {said}"),
                              transcribed=heard)
        elif turn.role == "assistant":
            if not turn.text.strip() and not turn.audio:
                continue  # stopped before it said anything: no empty reply in the record
            replied += 1
            text, usage = _heard_text(turn), _usage(turn.usage)
            conv.add_reply(ChatReply(transcript=text if turn.audio else None,
                                     content=None if turn.audio else text, audio=turn.named_clip(f"reply {replied}"),
                                     usage=usage, id=turn.response_id,
                                     finish_reason="stop" if turn.status == "completed" else turn.status,
                                     cost=_cost(usage, prices, model)))
        elif turn.role == "system" and turn.text.strip():
            conv.add({"role": turn.role, "content": turn.text})
        # Items with no role or another (function calls and their output, a server's own kinds)
        # are no chat message: the turns keep them, the Conversation does not.
    return conv
