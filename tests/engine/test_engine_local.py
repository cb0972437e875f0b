"""nbaudio's own client against the engine, `local.start` / `default_base_url`, and the CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest
import requests

import nbaudio
from nbaudio import local
from nbaudio.errors import BadRequestError, MissingDependencyError
from nbaudio.metrics import word_error_rate
from tests.support.data import GERMAN, SENTENCES


@pytest.fixture(scope="module")
def client(engine):
    with nbaudio.Client(engine.base_url, api_key="unused") as c:
        yield c


def test_client_speak_transcribe_round_trip(client):
    clip = client.speak(SENTENCES[1], voice="sage", response_format="mp3")
    assert clip.format == "mp3" and clip.duration > 1.0
    t = client.transcribe(clip, timestamp_granularities=("word", "segment"))
    assert word_error_rate(SENTENCES[1], t.text) <= 0.15
    assert t.language == "english" and t.all_words() and t.segments


def test_client_streams(client):
    speech = client.speak("One sentence. And another one.", response_format="wav", stream=True)
    clip = speech.collect()  # a streamed WAV: RIFF/data sizes 0xFFFFFFFF
    assert clip.sample_rate == 22050 and 1.0 < clip.duration < 6.0
    stream = client.chat("Say something nice.", audio_format="pcm16", stream=True, max_tokens=30)
    deltas = list(stream)
    reply = stream.result
    assert any(d["audio"] for d in deltas) and reply.audio is not None and reply.audio.duration > 0.5
    assert reply.transcript and reply.audio_id and reply.expires_at
    words = len(reply.transcript.split())
    assert 0.15 * words < reply.audio.duration < 1.2 * words + 1


def test_client_translate(client, german_wav):
    t = client.translate(german_wav)
    assert t.text.strip() and word_error_rate(GERMAN, t.text) > 0.5  # it is English now, not the German words


def test_client_conversation_by_audio_id(client):
    conv = nbaudio.Conversation()
    conv.add_user("Hello, who are you?")
    r1 = client.chat(conv, max_tokens=30)
    assert r1.audio is not None and r1.audio_id
    conv.add_user("Say that again, shorter.")
    r2 = client.chat(conv, max_tokens=30)
    assert r2.audio_id and r2.audio_id != r1.audio_id and r2.transcript


def test_client_error_is_typed(client):
    with pytest.raises(BadRequestError) as info:
        client.chat([{"role": "user", "content": "hi"}, {"role": "assistant", "audio": {"id": "audio_gone"}},
                     {"role": "user", "content": "again"}], max_tokens=10)
    assert info.value.status_code == 400 and "audio_gone" in info.value.message


def test_start_is_a_context_manager_on_a_free_port(engine):
    with local.start(models=engine.app.state.engine.models) as other:
        assert other.port != engine.port and other.base_url.endswith("/v1")
        assert requests.get(other.url + "/health").json()["status"] == "ok"
    assert not other.running
    with pytest.raises(requests.ConnectionError):
        requests.get(other.url + "/health", timeout=2)


@pytest.mark.engine
def test_default_base_url_starts_once_and_says_so(capsys, monkeypatch):
    monkeypatch.setattr(local, "default_engine", local.DefaultEngine())  # a fresh one, not another test's
    try:
        first = local.default_base_url()
        second = local.default_base_url()
        out = capsys.readouterr().out
        assert first == second and first.startswith("http://127.0.0.1:")
        assert out.count("\n") == 1 and "NBAUDIO_BASE_URL" in out and "NBAUDIO_API_KEY" in out
        assert requests.get(first.removesuffix("/v1") + "/health").status_code == 200
    finally:
        local.default_engine.stop()


def test_missing_local_extra_says_what_to_do(monkeypatch):
    monkeypatch.setattr(local, "default_engine", local.DefaultEngine())
    monkeypatch.setattr(local, "ENGINE_MODULES", ("fastapi", "nbaudio_module_that_is_not_installed"))
    with pytest.raises(MissingDependencyError) as info:
        local.default_base_url()
    msg = str(info.value)
    assert "NBAUDIO_BASE_URL" in msg and "NBAUDIO_API_KEY" in msg and "pip install 'nbaudio[local]'" in msg


def test_import_has_no_side_effects():
    code = ("import sys, nbaudio.local, nbaudio.server, nbaudio.cli; "
            "heavy = [m for m in ('fastapi', 'uvicorn', 'faster_whisper', 'piper', 'llama_cpp') if m in sys.modules]; "
            "import threading; print(heavy, threading.active_count())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] 1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_serve_refuses_public_host_without_key():
    r = subprocess.run([sys.executable, "-m", "nbaudio.cli", "serve", "--host", "0.0.0.0"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "--api-key" in r.stderr


@pytest.mark.local  # serve and doctor check the engine packages
def test_cli_serve_runs_and_checks_key():
    port, key = _free_port(), "cli-secret-123"
    env = {**os.environ, "NBAUDIO_SERVE_API_KEY": key}
    proc = subprocess.Popen([sys.executable, "-m", "nbaudio.cli", "serve", "--port", str(port),
                             "--log-level", "warning"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except requests.ConnectionError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
                time.sleep(0.2)
        assert requests.get(f"http://127.0.0.1:{port}/v1/models").status_code == 401
        ok = requests.get(f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": f"Bearer {key}"})
        assert ok.status_code == 200
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert key not in out + err
    # Plain http as before (without --tls-cert), and the Realtime URL beside it.
    assert out.startswith(f"nbaudio engine: http://127.0.0.1:{port}/v1  (Realtime ws://127.0.0.1:{port}/v1/realtime; "
                          "auth on; "), out


@pytest.mark.local  # serve and doctor check the engine packages
def test_cli_doctor_reports_models():
    r = subprocess.run([sys.executable, "-m", "nbaudio.cli", "doctor", "--no-load"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    for name in ("whisper-tiny.en", "whisper-base", "en_US-joe-medium", "smollm2-135m-instruct", "SHA-256 verified"):
        assert name in r.stdout
