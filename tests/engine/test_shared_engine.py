"""One engine per machine (nbaudio.shared_engine): kernels that start at once share one engine, it
wants its per-user key, it stops when idle, and a client whose engine stopped gets a new one.

Each test has its own cache dir (NBAUDIO_CACHE_DIR), so its engine is its own and is stopped at the end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests

from nbaudio import Client, local, shared_engine

KERNEL = ("import json, nbaudio.local as l, nbaudio.shared_engine as s\n"
          "url, key = l.default_connection()\n"
          "print(json.dumps({'url': url, 'pid': s.running().pid, 'key_len': len(key)}))")


pytestmark = pytest.mark.engine  # every test here starts engines (shared ones, in other processes too)


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A cache dir of its own, like another user's machine; its shared engine is stopped afterwards."""
    monkeypatch.setenv("NBAUDIO_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("NBAUDIO_ENGINE", "shared")
    for name in ("NBAUDIO_BASE_URL", "NBAUDIO_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(local, "default_engine", local.DefaultEngine())
    yield tmp_path / "engine"
    shared_engine.stop(tmp_path / "engine")


def test_two_kernels_starting_at_once_share_one_engine(machine):
    kernels = [subprocess.Popen([sys.executable, "-c", KERNEL], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for _ in range(2)]
    seen = []
    for k in kernels:
        out, err = k.communicate(timeout=180)
        assert k.returncode == 0, err
        seen.append(json.loads(out.strip().splitlines()[-1]))
    assert seen[0]["url"] == seen[1]["url"] and seen[0]["pid"] == seen[1]["pid"]
    state = json.loads((machine / "engine.json").read_text())
    assert state["pid"] == seen[0]["pid"] and state["pid"] not in (k.pid for k in kernels)  # detached
    assert oct((machine / "engine.key").stat().st_mode & 0o777) == "0o600"
    assert oct(machine.stat().st_mode & 0o777) == "0o700"
    # Another user on the machine cannot use it without the key.
    assert requests.get(seen[0]["url"] + "/models", timeout=10).status_code == 401
    # This process (a third kernel) finds it too, and its client sends the key without showing it.
    with Client(max_retries=0) as client:
        assert client.open() == seen[0]["url"]
        assert repr(client) == f"<nbaudio.Client embedded engine at {seen[0]['url']} api_key=engine's own>"
        assert client.speak("Shared.").duration > 0.3
        key = (machine / "engine.key").read_text()
        assert key not in repr(client) and client.api_key.get() == key


def test_a_client_whose_engine_stopped_gets_a_new_one(machine, capsys):
    with Client(max_retries=0) as client:
        first = client.open()
        assert "using the embedded local engine on 127.0.0.1:" in capsys.readouterr().out
        assert shared_engine.stop(machine)
        clip = client.speak("Back again.")  # no retries allowed: the engine is started again, not retried
        assert clip.duration > 0.3 and client.base_url != first
        assert shared_engine.running(machine).base_url == client.base_url


def test_an_engine_with_other_settings_is_not_shared(machine, monkeypatch):
    base = shared_engine.connect()
    monkeypatch.setenv("NBAUDIO_MAX_QUEUE", "7")  # an engine setting: this kernel wants another engine
    assert shared_engine.running() is None
    other = shared_engine.connect()
    assert other.pid != base.pid
    os.kill(base.pid, 15)


def test_serve_stops_itself_when_idle(tmp_path):
    state = tmp_path / "engine.json"
    proc = subprocess.Popen([sys.executable, "-m", "nbaudio", "serve", "--port", "0", "--state-file", str(state),
                             "--idle-exit", "1", "--log-level", "warning"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    assert "idle for 1 s, stopping" in out
    assert not state.exists()  # removed as it stopped


def test_kernel_mode_keeps_an_engine_in_the_process(machine, monkeypatch):
    monkeypatch.setenv("NBAUDIO_ENGINE", "kernel")
    try:
        url, key = local.default_connection()
        assert key is None and local.default_engine.server is not None and url == local.default_engine.server.base_url
        assert not (machine / "engine.json").exists()
    finally:
        local.default_engine.stop()
    monkeypatch.setenv("NBAUDIO_ENGINE", "every-kernel")
    with pytest.raises(ValueError, match="NBAUDIO_ENGINE='every-kernel'"):
        local.default_connection()


def test_the_shared_engine_waits_for_the_lock(machine):
    """While one kernel is starting the engine (holding the lock), another waits, then uses it."""
    machine.mkdir(parents=True, mode=0o700)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time\n"
        f"f = open({str(machine / 'engine.lock')!r}, 'a'); fcntl.flock(f, fcntl.LOCK_EX)\n"
        "print('held', flush=True); time.sleep(3)")], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    endpoint = shared_engine.connect()
    assert holder.poll() is not None  # it got through only once the holder let go (by exiting)
    assert shared_engine.running(machine) == endpoint
