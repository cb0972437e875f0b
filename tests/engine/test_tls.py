"""`nbaudio serve --tls-cert FILE --tls-key FILE` (issue 32, item 5): the engine serves https:// and
wss://, which the official Node SDK's Realtime client needs (it always connects with wss://). One
served engine for the file, with a certificate from a CA made here (trustme) and an API key: its
engine line, its warm-up (which calls the engine over TLS), nbaudio's client and Realtime client
trusting the CA through REQUESTS_CA_BUNDLE, a whole spoken turn from the Node SDK trusting it
through NODE_EXTRA_CA_CERTS, and the key shown nowhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

import nbaudio
import nbaudio.realtime
from nbaudio.audio import AudioClip
from nbaudio.errors import APIConnectionError
from nbaudio.server.tls import TLSFileError
from tests.hostile.canary import CANARY, assert_no_key
from tests.realtime.speech import RATE, overlap, pcm24

pytestmark = [pytest.mark.engine, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "tests" / "node"
QUESTION = "What is the capital of France?"


@pytest.fixture(scope="module")
def certs(tmp_path_factory) -> dict[str, Path]:
    """A CA made here, and a certificate it issued for 127.0.0.1 and localhost, as PEM files."""
    import trustme

    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    files = {"ca": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    ca.cert_pem.write_to_path(str(files["ca"]))
    leaf.cert_chain_pems[0].write_to_path(str(files["cert"]))
    leaf.private_key_pem.write_to_path(str(files["key"]))
    files["key"].chmod(0o600)
    return files


@pytest.fixture(scope="module")
def served(certs, tmp_path_factory):
    """`nbaudio serve --tls-cert --tls-key` on a free port with an API key, once its models are loaded."""
    folder = tmp_path_factory.mktemp("served")
    key_file, state = folder / "api.key", folder / "engine.json"
    key_file.write_text(CANARY + "\n")
    key_file.chmod(0o600)
    logs = {"out": folder / "out.log", "err": folder / "err.log"}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBAUDIO_", "REQUESTS_CA", "SSL_CERT"))}
    with open(logs["out"], "wb") as out, open(logs["err"], "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nbaudio", "serve", "--port", "0", "--state-file", str(state),
             "--api-key-file", str(key_file), "--tls-cert", str(certs["cert"]), "--tls-key", str(certs["key"])],
            env=env, stdout=out, stderr=err, cwd=ROOT)
    try:
        port = _wait_for_state(state, proc)["port"]
        base = f"https://127.0.0.1:{port}/v1"
        health = _wait_until_ready(f"https://127.0.0.1:{port}/health", certs["ca"], proc)
        yield {"base_url": base, "port": port, "health": health, "logs": logs, "proc": proc}
    finally:
        proc.terminate()
        proc.wait(30)


def _wait_for_state(path: Path, proc: subprocess.Popen, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"nbaudio serve exited with {proc.returncode}"
        if path.exists():
            return json.loads(path.read_text())
        time.sleep(0.1)
    raise AssertionError("nbaudio serve did not start")


def _wait_until_ready(url: str, ca: Path, proc: subprocess.Popen, timeout: float = 400.0) -> dict:
    """/health once the warm-up is over (it loads every model through the engine's own https)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"nbaudio serve exited with {proc.returncode}"
        health = requests.get(url, verify=str(ca), timeout=30).json()
        if health["models"] == "ready":
            return health
        time.sleep(0.5)
    raise AssertionError("the TLS engine's warm-up did not finish")


def _spoken(served, certs) -> bytes:
    """QUESTION spoken by the engine's TTS over https, as pcm16 at 24 kHz."""
    r = requests.post(served["base_url"] + "/audio/speech", verify=str(certs["ca"]), timeout=120,
                      headers={"Authorization": f"Bearer {CANARY}"},
                      json={"model": "tts-1", "voice": "alloy", "input": QUESTION, "response_format": "wav"})
    r.raise_for_status()
    return pcm24(r.content)


def test_the_engine_line_says_https_and_wss(served):
    first = served["logs"]["out"].read_text().splitlines()[0]
    port = served["port"]
    assert first.startswith(f"nbaudio engine: https://127.0.0.1:{port}/v1  "
                            f"(Realtime wss://127.0.0.1:{port}/v1/realtime; auth on; "), first


def test_the_warm_up_reaches_the_engine_through_its_own_tls(served):
    # The warm-up calls https://127.0.0.1:PORT: it must trust the engine's certificate to load anything.
    health = served["health"]
    assert "warmup_failed" not in health, health
    assert {"speech", "transcription"} <= set(health["warmup_seconds"]), health


def test_plain_http_on_the_tls_port_gets_no_answer(served):
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{served['port']}/health", timeout=30)


def test_nbaudio_client_trusts_the_ca_from_requests_ca_bundle(served, certs, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certs["ca"]))
    with nbaudio.Client(served["base_url"], api_key=CANARY) as client:
        clip = client.speak(QUESTION)
        heard = client.transcribe(clip)
    assert overlap(QUESTION, heard.text) >= 0.6, heard.text


def test_without_the_ca_the_client_says_the_certificate_check_failed(served, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with nbaudio.Client(served["base_url"], api_key=CANARY, max_retries=0) as client, \
            pytest.raises(APIConnectionError) as info:
        client.speak("Hello.")
    assert "TLS certificate check failed" in str(info.value) and "REQUESTS_CA_BUNDLE" in str(info.value)
    assert_no_key(str(info.value), repr(info.value))


def test_nbaudio_realtime_over_wss_with_the_same_ca(served, certs, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certs["ca"]))
    clip = AudioClip(_spoken(served, certs), "pcm", sample_rate=RATE, channels=1)
    client = nbaudio.Client(served["base_url"], api_key=CANARY)
    with nbaudio.realtime.connect(client=client, session={
            "audio": {"input": {"turn_detection": None, "transcription": {"model": "whisper-1", "language": "en"}}}
    }) as rt:
        assert rt.url.startswith(f"wss://127.0.0.1:{served['port']}/v1/realtime")
        rt.send_audio(clip, commit=True)
        rt.create_response()
        assert rt.wait_for("response.done")["response"]["status"] == "completed"
    user, reply = rt.turns
    assert overlap(QUESTION, user.text) >= 0.6, user.text
    assert reply.clip.duration > 0.5 and reply.text


def test_nbaudio_realtime_without_the_ca_says_the_certificate_check_failed(served, monkeypatch):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(name, raising=False)
    client = nbaudio.Client(served["base_url"], api_key=CANARY)
    with pytest.raises(APIConnectionError) as info:
        nbaudio.realtime.connect(client=client)
    assert "TLS certificate check failed" in str(info.value) and "REQUESTS_CA_BUNDLE" in str(info.value)
    assert_no_key(str(info.value))


def test_the_in_process_engine_serves_tls_too(certs, tmp_path):
    from nbaudio import local

    with local.start(tls_cert=certs["cert"], tls_key=certs["key"], warm_up=False) as server:
        assert server.base_url == f"https://127.0.0.1:{server.port}/v1"
        r = requests.get(server.base_url + "/models", verify=str(certs["ca"]), timeout=30)
        assert r.ok and r.json()["data"], r.text
    with pytest.raises(TLSFileError, match="no such file"):
        local.start(tls_cert=certs["cert"], tls_key=tmp_path / "key.pem", warm_up=False)


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the official Node SDK's Realtime client cannot run here")
    if not (NODE_DIR / "node_modules" / "openai" / "package.json").exists():
        pytest.fail("tests/node has no node_modules: run `npm ci --prefix tests/node` (`make test` does)",
                    pytrace=False)
    return node


def _node_turn(served, pcm: Path, reply: Path, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "NODE_EXTRA_CA", "SSL_CERT"))}
    return subprocess.run([_node(), str(NODE_DIR / "realtime_turn.mjs"), served["base_url"], str(pcm), str(reply)],
                          env={**base, "OPENAI_API_KEY": CANARY, **env}, capture_output=True, text=True, timeout=300,
                          cwd=NODE_DIR)


def test_the_node_sdk_realtime_client_has_a_spoken_turn_over_tls(served, certs, tmp_path, monkeypatch):
    pcm, reply = tmp_path / "question.pcm", tmp_path / "reply.pcm"
    pcm.write_bytes(_spoken(served, certs))
    run = _node_turn(served, pcm, reply, NODE_EXTRA_CA_CERTS=str(certs["ca"]))
    assert run.returncode == 0, run.stderr[-2000:]
    assert_no_key(run.stdout, run.stderr)
    turn = json.loads(run.stdout.strip().splitlines()[-1])
    assert turn["url"] == f"wss://127.0.0.1:{served['port']}/v1/realtime?model=gpt-realtime"
    assert turn["status"] == "completed", turn
    types = turn["types"]
    for kind in ("session.created", "session.updated", "input_audio_buffer.committed", "response.created",
                 "response.output_audio.delta", "response.done"):
        assert kind in types, (kind, types)
    assert overlap(QUESTION, turn["heard"]) >= 0.6, turn["heard"]
    assert turn["said"] and turn["usage"]["output_token_details"]["audio_tokens"] > 0
    audio = reply.read_bytes()
    assert len(audio) > RATE  # over half a second of pcm16 at 24 kHz
    # What the reply says aloud is what its transcript says (the engine hears it back over https).
    clip = AudioClip(audio, "pcm", sample_rate=RATE, channels=1)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certs["ca"]))
    with nbaudio.Client(served["base_url"], api_key=CANARY) as client:
        heard = client.transcribe(clip).text
    assert overlap(turn["said"], heard) >= 0.5, (turn["said"], heard)


def test_the_node_sdk_without_the_ca_refuses_the_certificate(served, certs, tmp_path):
    pcm = tmp_path / "quiet.pcm"
    pcm.write_bytes(bytes(2 * RATE))
    run = _node_turn(served, pcm, tmp_path / "reply.pcm")
    assert run.returncode != 0
    assert "certificate" in run.stderr, run.stderr[-2000:]
    assert_no_key(run.stdout, run.stderr)


def test_the_served_engine_shows_the_key_nowhere(served):
    # Last in the file: every test above has sent the key to this engine.
    assert_no_key(served["logs"]["out"].read_text(), served["logs"]["err"].read_text())
