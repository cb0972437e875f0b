"""The settings of a transcription session (`session.type: "transcription"`), as the official
`openai` SDK types them (`RealtimeTranscriptionSessionCreateRequest`): `audio.input` (format,
transcription model/language/prompt, turn detection or null for manual commits, noise_reduction
null) and `include` (["item.input_audio_transcription.logprobs"] or nothing). The input part is
checked by the conversation session's own rules (config.py), so both refuse the same things with
the same messages."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from ..._wire.realtime import AUDIO_FORMAT, SAMPLE_RATE
from ...errors import RealtimeEventError
from .config import SessionConfig, Transcription, require

__all__ = ["TranscriptionConfig", "LOGPROBS"]

LOGPROBS = "item.input_audio_transcription.logprobs"


@dataclass
class TranscriptionConfig:
    """What a transcription session does with the audio it gets."""

    # The input settings (transcription, turn_detection), kept in the conversation sessions' form.
    audio: SessionConfig = field(default_factory=lambda: SessionConfig(transcription=Transcription()))
    logprobs: bool = False

    @property
    def transcription(self) -> Transcription:
        return self.audio.transcription or Transcription()

    @property
    def turn_detection(self) -> Any:
        return self.audio.turn_detection

    def to_dict(self, session_id: str) -> dict[str, Any]:
        """The `session` of session.created / session.updated."""
        td = self.turn_detection
        return {"type": "transcription", "object": "realtime.transcription_session", "id": session_id,
                "audio": {"input": {"format": {"type": AUDIO_FORMAT, "rate": SAMPLE_RATE}, "noise_reduction": None,
                                    "transcription": self.transcription.to_dict(),
                                    "turn_detection": td.to_dict() if td else None}},
                "include": [LOGPROBS] if self.logprobs else []}

    def updated(self, session: Any) -> TranscriptionConfig:
        """A copy with a `session.update`'s `session` applied; RealtimeEventError names what it refuses."""
        s = require(session, "session", {"type", "audio", "include"})
        if s.get("type") != "transcription":
            raise RealtimeEventError(f"Invalid value for 'session.type': {str(s.get('type'))[:40]!r}. This is a "
                                     "transcription session: give type 'transcription' (a conversation is another "
                                     "session: connect without intent=transcription).", param="session.type")
        out = copy.deepcopy(self)
        if "audio" in s:
            audio = require(s["audio"], "session.audio", {"input"})
            if "input" in audio:
                out.audio = out.audio.updated({"type": "realtime", "audio": {"input": audio["input"]}})
                if out.audio.transcription is None:  # null: back to the default model, not off
                    out.audio.transcription = Transcription()
        if "include" in s:
            include = s["include"]
            if include is not None and (not isinstance(include, list) or set(include) - {LOGPROBS}):
                raise RealtimeEventError(f"Invalid value for 'session.include': {include!r}. Supported: "
                                         f"[\"{LOGPROBS}\"] or [].", param="session.include")
            out.logprobs = bool(include)
        return out
