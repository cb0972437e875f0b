"""Test data: the vendored reference files and the sentences the round trips speak."""

from __future__ import annotations

from pathlib import Path

# Vendored from the team's reference by tools/vendor_reference.py (sources and licence inside).
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
OPENAPI_SCHEMAS = FIXTURES / "openai_audio_schemas.json"

# Sentences for round trips: everyday words, numbers spelled out (Whisper writes digits otherwise).
SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Please call me back when you get home tonight.",
    "A golden retriever is a good family dog.",
    "We will meet at the library after lunch.",
)
GERMAN = "Guten Morgen. Ich habe heute keine Zeit, aber morgen komme ich gern."
