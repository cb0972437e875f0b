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
        # A first Realtime turn right after ready (as `%voice live` asks for one) loads nothing more:
        # the warm-up loaded and ran every model it uses (Silero VAD, English Whisper, chat, voice).
        heard, spoken = _realtime_turn(server, r.content)
        assert heard and spoken > 0
        assert _health(server)["loaded_models"] == state["loaded_models"]
        from nbaudio.server.realtime.vad import load_vad

        assert load_vad.cache_info().currsize == 1


def _realtime_turn(server, speech: bytes) -> tuple[str, int]:
    """One spoken turn over WS /v1/realtime with the session %voice live asks for (semantic VAD,
    English transcription), answered aloud: (what the engine heard, audio deltas of the reply)."""
    import numpy as np

    import nbaudio
    import nbaudio.realtime

    clip = nbaudio.AudioClip(speech).mono()
    session = {"audio": {"input": {"turn_detection": {"type": "semantic_vad", "eagerness": "high"},
                                   "transcription": {"model": "whisper-1", "language": "en"}}}}
    heard, deltas = "", 0
    with nbaudio.Client(server.base_url, max_retries=0) as client, \
            nbaudio.realtime.connect(client=client, session=session) as rt:
        rt.send_audio(np.concatenate([clip.samples, np.zeros(2 * clip.sample_rate, np.float32)]),
                      sample_rate=clip.sample_rate, pace=True)
        for event in rt.events(timeout=300):
            if event.type == "conversation.item.input_audio_transcription.completed":
                heard = event.data["transcript"]
            deltas += event.type == "response.output_audio.delta"
            if event.type == "response.done":
                return heard, deltas
    raise AssertionError("the session ended without a response")


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
