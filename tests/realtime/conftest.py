"""Fixtures of the Realtime tests: questions spoken by the engine as 24 kHz pcm16, the SDK client,
and a second engine (sharing the loaded models) whose limits and key a test may change."""

from __future__ import annotations

import pytest
import requests

from tests.realtime.speech import pcm24

QUESTIONS = (
    "What is the capital of France?",
    "Which animal says moo on the farm?",
    "Please tell me a short story about a brave little dog who lived near the sea and loved to swim.",
)
KEY = "sk-realtime-canary-5d1f0c8e2b"


@pytest.fixture(scope="session")
def spoken(engine) -> dict[str, bytes]:
    """Each of QUESTIONS spoken by the engine (piper), as pcm16 at 24 kHz with silence around it."""
    out = {}
    for text in QUESTIONS:
        r = requests.post(engine.base_url + "/audio/speech", timeout=120,
                          json={"model": "tts-1", "voice": "alloy", "input": text, "response_format": "wav"})
        r.raise_for_status()
        out[text] = pcm24(r.content)
    return out


@pytest.fixture(scope="session")
def rt_sdk(engine):
    """The official openai client pointed at the engine (its `.realtime.connect()` is under test)."""
    import openai

    return openai.OpenAI(base_url=engine.base_url, api_key="sk-local-not-checked", max_retries=0)


@pytest.fixture
def keyed_engine(engine):
    """A second engine with an API key and an allowed browser origin, sharing the loaded models."""
    from nbaudio import local

    with local.start(models=engine.app.state.engine.models, api_key=KEY,
                     cors_origins=("http://notebook.example:8888",)) as server:
        yield server
