"""How many Realtime sessions an engine runs at once, and what each may do (app.state.realtime)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["RealtimeLimits", "RealtimeHub"]


@dataclass
class RealtimeLimits:
    """What one engine allows its Realtime sessions (no CLI flags yet: embedders and tests set
    `app.state.realtime.limits`)."""

    max_sessions: int = 4  # at once; one more is told so and closed (1013)
    max_message_bytes: int = 4 * 1024 * 1024  # one client event (base64 audio: ~65 s of pcm16)
    max_buffer_seconds: float = 600.0  # input audio waiting to be committed
    idle_seconds: float = 600.0  # without a client event
    max_session_seconds: float = 3600.0  # OpenAI's sessions also end after 60 minutes


@dataclass
class RealtimeHub:
    """One engine's Realtime sessions: its limits and how many are open (used on the event loop only)."""

    limits: RealtimeLimits = field(default_factory=RealtimeLimits)
    active: int = 0
    refused: int = 0
