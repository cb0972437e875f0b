"""The engine's URL paths: the routes declare them, the guard sorts requests by them."""

from __future__ import annotations

__all__ = ["SPEECH", "TRANSCRIPTIONS", "TRANSLATIONS", "DIARIZATIONS", "CHAT", "MODELS", "VOICES", "HEALTH",
           "MODEL_ROUTES", "UPLOAD_ROUTES"]

SPEECH = "/v1/audio/speech"
TRANSCRIPTIONS = "/v1/audio/transcriptions"
TRANSLATIONS = "/v1/audio/translations"
# An engine extension (no such OpenAI route): who spoke when, without transcribing (Client.relabel).
DIARIZATIONS = "/v1/audio/diarizations"
CHAT = "/v1/chat/completions"
MODELS = "/v1/models"
VOICES = "/v1/audio/voices"
HEALTH = "/health"

# Routes that run a model; only these are admitted through the waiting room.
MODEL_ROUTES = frozenset({SPEECH, TRANSCRIPTIONS, TRANSLATIONS, DIARIZATIONS, CHAT})
# Routes whose body is a multipart file upload (capped at max_upload_bytes, not the JSON cap).
UPLOAD_ROUTES = frozenset({TRANSCRIPTIONS, TRANSLATIONS, DIARIZATIONS})
