"""The Realtime API on the engine: `WS /v1/realtime` (route.py) speaking the GA protocol of
`nbaudio._wire.realtime`. A session (session.py) holds the input buffer with server VAD (vad.py,
Silero), the conversation (conversation.py) and one response at a time (responder.py: Whisper ->
chat backend -> piper, phrase by phrase); limits.py holds what an engine allows."""

from .limits import RealtimeHub, RealtimeLimits
from .route import router

__all__ = ["router", "RealtimeHub", "RealtimeLimits"]
