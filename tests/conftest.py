"""Shared fixtures. The engine ones start one real local engine per session (models load once)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
OPENAPI = REFERENCE / "openai-audio-openapi.yaml"

# Sentences for round trips: everyday words, numbers spelled out (Whisper writes digits otherwise).
SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Please call me back when you get home tonight.",
    "A golden retriever is a good family dog.",
    "We will meet at the library after lunch.",
)
GERMAN = "Guten Morgen. Ich habe heute keine Zeit, aber morgen komme ich gern."


@pytest.fixture(scope="session")
def engine():
    """A started `LocalServer` on a free loopback port."""
    from nbaudio import local

    server = local.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def oai(engine):
    """The official openai client pointed at the engine (no retries: errors must show as they are)."""
    import openai

    return openai.OpenAI(base_url=engine.base_url, api_key="sk-local-not-checked", max_retries=0, timeout=300)


@pytest.fixture(scope="session")
def speech_clips(engine) -> dict[str, bytes]:
    """Each SENTENCES entry spoken by the engine as WAV bytes."""
    import requests

    clips = {}
    for text in SENTENCES:
        r = requests.post(engine.base_url + "/audio/speech",
                          json={"model": "tts-1", "voice": "alloy", "input": text, "response_format": "wav"},
                          timeout=120)
        r.raise_for_status()
        clips[text] = r.content
    return clips


@pytest.fixture(scope="session")
def german_wav(tmp_path_factory) -> bytes:
    """German speech made with espeak-ng (the Makefile installs it)."""
    exe = shutil.which("espeak-ng")
    assert exe, "espeak-ng is needed for the multilingual tests: apt-get install espeak-ng (make test does it)"
    out = tmp_path_factory.mktemp("de") / "de.wav"
    subprocess.run([exe, "-v", "de", "-s", "140", "-w", str(out), GERMAN], check=True, timeout=60)
    return out.read_bytes()


def _nullable_to_anyof(node: Any) -> Any:
    """The reference mixes OpenAPI 3.0 `nullable: true` into 3.1; make it JSON Schema."""
    if isinstance(node, list):
        return [_nullable_to_anyof(x) for x in node]
    if not isinstance(node, dict):
        return node
    node = {k: _nullable_to_anyof(v) for k, v in node.items()}
    if node.pop("nullable", False) is True:
        return {"anyOf": [node, {"type": "null"}]}
    return node


@pytest.fixture(scope="session")
def openapi_schemas() -> dict[str, Any]:
    import yaml

    doc = yaml.safe_load(OPENAPI.read_text())
    return _nullable_to_anyof(doc["components"])


@pytest.fixture(scope="session")
def validate(openapi_schemas):
    """validate(instance, "SchemaName") checks against components/schemas/SchemaName."""
    import jsonschema

    def check(instance: Any, name: str) -> None:
        schema = {"$ref": f"#/components/schemas/{name}", "components": openapi_schemas}
        jsonschema.Draft202012Validator(schema).validate(instance)

    return check


