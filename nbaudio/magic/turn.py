"""The options of one chat turn, and what they become in `Client.chat`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._wire import spec

__all__ = ["TurnOptions"]


@dataclass(frozen=True)
class TurnOptions:
    model: str | None
    voice: str | None
    audio_format: str | None
    temperature: float | None
    max_tokens: int | None
    text_only: bool
    stream: bool
    live: bool = True  # False: no live view (a turn sent from a widget callback, whose output is captured)

    def chat_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if self.model:
            kwargs["model"] = self.model
        if self.text_only:
            kwargs["modalities"] = ["text"]
        else:
            if self.voice:
                kwargs["voice"] = self.voice
            if self.stream:
                kwargs["audio_format"] = spec.CHAT_STREAM_AUDIO_FORMAT
            elif self.audio_format:
                kwargs["audio_format"] = self.audio_format
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        if self.max_tokens is not None:
            # `max_tokens` rather than `max_completion_tokens`: the relays know the older name.
            kwargs["max_tokens"] = self.max_tokens
        return kwargs
