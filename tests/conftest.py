"""Shared fixtures and the layer markers. The engine ones start one real local engine per session (models load once)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import requests

from tests.support import durations, needs
from tests.support.data import GERMAN, OPENAPI_SCHEMAS, SENTENCES
from tests.support.needs import NEEDS

# Markers by need (tests/support/needs.py checks them): `pytest -m "not engine and not browser and not
# relay"` runs the tests that need no models, no browser and no LiteLLM proxy, in seconds.


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "engine" in getattr(item, "fixturenames", ()):  # the fixture that starts the real engine
            item.add_marker("engine")
    durations.longest_first(items, durations.load())  # the slowest files first (tests/support/durations.py)


def pytest_runtest_logreport(report):
    durations.record(report)


def pytest_sessionfinish(session):
    durations.save(session.config)


def pytest_configure(config):
    _guard_engine_starts()


def _guard_engine_starts() -> None:
    """Starting the engine in a test not marked `engine` fails it (tests/support/needs.py)."""
    from nbaudio import local, shared_engine

    for module, name in ((local, "start"), (shared_engine, "connect")):
        original = getattr(module, name)

        def guarded(*args, _original=original, **kwargs):
            needs.require("engine")
            return _original(*args, **kwargs)

        setattr(module, name, guarded)


def pytest_runtest_setup(item):
    # Before any fixture of the test is set up (a module-scoped browser, the session's engine).
    needs.running.set(frozenset(m.name for m in item.iter_markers() if m.name in NEEDS))


def pytest_runtest_teardown(item, nextitem):
    needs.running.set(None)


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
def german_wav() -> bytes:
    """German speech made with espeak-ng from the espeakng-loader wheel (the engine's own espeak module)."""
    import io

    import soundfile as sf

    from nbaudio.server.models import espeak

    samples = espeak.synthesize(GERMAN, "de", speed=140 / 165)
    buf = io.BytesIO()
    sf.write(buf, samples, espeak.sample_rate(), format="WAV", subtype="PCM_16")
    return buf.getvalue()


@pytest.fixture
def sent(monkeypatch):
    """Every /chat/completions request body, in order, as it left the client."""
    bodies: list[dict[str, Any]] = []
    original = requests.Session.request

    def request(self, method, url, *args, **kwargs):
        if url.endswith("/chat/completions"):
            bodies.append(copy.deepcopy(kwargs.get("json")))
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", request)
    return bodies


@pytest.fixture(scope="session")
def openapi_schemas() -> dict[str, Any]:
    return json.loads(OPENAPI_SCHEMAS.read_text(encoding="utf-8"))["components"]


@pytest.fixture(scope="session")
def validate(openapi_schemas):
    """validate(instance, "SchemaName") checks against components/schemas/SchemaName."""
    import jsonschema

    def check(instance: Any, name: str) -> None:
        schema = {"$ref": f"#/components/schemas/{name}", "components": openapi_schemas}
        jsonschema.Draft202012Validator(schema).validate(instance)

    return check


