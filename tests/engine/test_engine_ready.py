"""Ready means ready: an engine loads and runs what a first request needs as soon as it listens,
requests that arrive meanwhile wait instead of failing, and a model that cannot load is the first
request's to report (the engine keeps serving)."""

from __future__ import annotations

import time

import pytest
import requests

from nbaudio import local

pytestmark = [pytest.mark.engine, pytest.mark.timeout(600)]


def _health(server) -> dict:
    return requests.get(server.url + "/health", timeout=10).json()


def _wait_ready(server, timeout: float = 300.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _health(server)
        if state["models"] == "ready":
            return state
        time.sleep(0.1)
    raise AssertionError(f"the engine's models were not ready within {timeout:g} s: {state}")


def test_a_fresh_engine_loads_its_models_and_a_first_request_waits_for_them(tmp_path):
    # Its own registry (the session's engine shares one with the other tests): everything loads here.
    with local.start() as server:
        assert _health(server)["models"] == "loading"
        # A first request sent while the models load waits for them, and is answered.
        r = requests.post(server.base_url + "/audio/speech", timeout=300,
                          json={"model": "tts-1", "voice": "alloy", "input": "Good morning, class."})
        assert r.status_code == 200 and len(r.content) > 1000
        state = _wait_ready(server)
        assert set(state["warmup_seconds"]) == {"speech", "transcription", "chat", "turn detection"}
        assert "warmup_failed" not in state
        assert {"whisper-en", "whisper-multi", "chat"} <= set(state["loaded_models"])
        assert any(k.startswith("piper:") for k in state["loaded_models"])


def test_an_engine_sharing_loaded_models_warms_nothing_again(engine):
    _wait_ready(engine)
    with local.start(models=engine.app.state.engine.models) as other:
        state = _wait_ready(other)
        assert set(state["warmup_seconds"]) == {"turn detection"}


def test_a_model_that_cannot_load_is_left_for_the_first_request_to_report(engine, tmp_path):
    with local.start(models=engine.app.state.engine.models, warm_up=False) as cold:
        assert _health(cold)["models"] == "on first use"
    missing = tmp_path / "no-such-voice.onnx"
    with local.start(tts_voice=str(missing), cache_dir=tmp_path) as server:
        state = _wait_ready(server)
        assert "speech" in state["warmup_failed"]
        assert "transcription" in state["warmup_seconds"]  # the other models loaded all the same
        r = requests.post(server.base_url + "/audio/speech", timeout=60,
                          json={"model": "tts-1", "voice": "alloy", "input": "Hello."})
        assert r.status_code >= 400 and "no-such-voice" in r.json()["error"]["message"]
        assert requests.get(server.base_url + "/models", timeout=10).status_code == 200  # still serving
