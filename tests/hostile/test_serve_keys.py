"""`nbaudio serve`'s keys (issue 26, item 4): a key on the command line is readable by every local
user (ps, /proc/PID/cmdline), so both keys come from a variable or a file too, `--help` says why,
a key given as a flag is warned about, a key file others can read is warned about (as ssh does),
nbaudio's own launcher passes its key in a file, and the engine shows no key: not in its logs
(debug level, access log on), not when a client sends a wrong one, not when its upstream echoes it.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from nbaudio import cli, local, shared_engine
from nbaudio._redaction import redact
from nbaudio.server.log_filter import CredentialFilter
from tests.hostile.canary import CANARY, assert_no_key
from tests.support.faults import RawServer

UPSTREAM_KEY = "sk-proj-UPSTREAMz8Xc4Vb7Nm1Qw3Er6Ty9Ui2Op5As8Df1Gh4Jk7Lz0Xc3Vb6Nm9Qw2Er5Ty8Ui1Op4As7Df0Gh3Jk6"
WRONG_KEY = "sk-proj-WRONGKEYa1Sd2Fg3Hj4Kl5Zx6Cv7Bn8Mq9Wu0Ei1Ro2Ty3Pa4Sd5Fg6Hj7Kl8Zx9Cv0Bn1Mq2Wu3Ei4Ro5Ty6P"
PROC = Path("/proc")
needs_proc = pytest.mark.skipif(not (PROC / "self" / "cmdline").exists(), reason="reads /proc/PID/cmdline")

pytestmark = pytest.mark.local  # `nbaudio serve` starts only with the engine packages installed


def _key_file(tmp_path: Path, name: str, key: str, mode: int = 0o600) -> Path:
    path = tmp_path / name
    path.write_text(key + "\n")
    path.chmod(mode)
    return path


def _serve_until_settings(capsys, *args: str) -> tuple[int, str]:
    """Run `nbaudio serve ARGS --max-concurrent 0`: the keys are read and told about, then the bad
    limit stops it (exit 2) before anything listens. (exit code, stderr)"""
    code = cli.main(["serve", *args, "--max-concurrent", "0"])
    return code, capsys.readouterr().err


# ---- what --help says, what a flag or a file gets -------------------------------------------------

def test_help_says_why_a_variable_or_a_file_is_better_than_a_flag(capsys):
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for words in ("--api-key-file", "--chat-upstream-key-file", "NBAUDIO_SERVE_API_KEY", "NBAUDIO_CHAT_UPSTREAM_KEY",
                  "/proc/PID/cmdline", "every local user"):
        assert words in text, words


def test_a_key_given_as_a_flag_is_warned_about_in_one_line_without_the_key(capsys):
    code, err = _serve_until_settings(capsys, "--api-key", CANARY, "--chat-upstream", "http://127.0.0.1:9/v1",
                                      "--chat-upstream-key", UPSTREAM_KEY)
    assert code == 2
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 2, err
    assert "--api-key" in warnings[0] and "NBAUDIO_SERVE_API_KEY" in warnings[0] and "--api-key-file" in warnings[0]
    assert "--chat-upstream-key" in warnings[1] and "--chat-upstream-key-file" in warnings[1]
    assert_no_key(err)
    assert_no_key(err, key=UPSTREAM_KEY)


def test_keys_from_files_or_variables_get_no_warning(capsys, tmp_path, monkeypatch):
    code, err = _serve_until_settings(capsys, "--api-key-file", str(_key_file(tmp_path, "k", CANARY)),
                                      "--chat-upstream-key-file", str(_key_file(tmp_path, "u", UPSTREAM_KEY)))
    assert code == 2 and "warning" not in err, err
    monkeypatch.setenv("NBAUDIO_SERVE_API_KEY", CANARY)
    monkeypatch.setenv("NBAUDIO_CHAT_UPSTREAM_KEY", UPSTREAM_KEY)
    code, err = _serve_until_settings(capsys)
    assert code == 2 and "warning" not in err, err


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_key_file_others_can_read_is_warned_about(capsys, tmp_path, mode):
    path = _key_file(tmp_path, "key", CANARY, mode)
    code, err = _serve_until_settings(capsys, "--api-key-file", str(path))
    assert code == 2
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and str(path) in warnings[0] and oct(mode)[2:] in warnings[0]
    assert "chmod 600" in warnings[0], warnings
    assert_no_key(err)


@pytest.mark.parametrize(("content", "says"), [
    (None, "cannot read"), (b"", "empty"), (b"  \n", "empty"), (b"sk-one\nsk-two\n", "one line"),
    (b"sk-a b", "one line"), (b"\xff\xfe\x00k", "UTF-8"), (b"k" * 5000, "4096 bytes"),
    ("ключ-секрет".encode(), "printable ASCII"), (b"sk-\x07bell", "printable ASCII"),
])
def test_a_bad_key_file_stops_serve_with_a_message_that_shows_no_key(capsys, tmp_path, content, says):
    path = tmp_path / "key"
    if content is not None:
        path.write_bytes(content)
        path.chmod(0o600)
    for option in ("--api-key-file", "--chat-upstream-key-file"):
        code, err = _serve_until_settings(capsys, option, str(path))
        assert code == 2 and says in err and err.count("\n") == 1, err
        shown = content.decode("utf-8", "replace").strip()[:6] if content else ""
        assert not shown or shown not in err.replace(str(path), "")


def test_a_key_file_that_never_ends_is_read_no_further_than_a_key(capsys):
    code, err = _serve_until_settings(capsys, "--api-key-file", "/dev/zero")
    assert code == 2 and "4096 bytes" in err, err


def test_a_key_given_both_as_a_flag_and_a_file_is_refused(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["serve", "--api-key", "sk-x", "--api-key-file", str(_key_file(tmp_path, "k", CANARY))])
    assert exit_.value.code == 2 and "not allowed with" in capsys.readouterr().err


def test_the_engine_refuses_a_key_no_http_header_can_carry(engine):
    for bad in ("ключ", "sk a", "sk-\n", ""):
        with pytest.raises(ValueError, match="printable ASCII") as err:
            local.start(models=engine.app.state.engine.models, api_key=bad)
        assert bad.strip() not in str(err.value) or not bad.strip()
        with pytest.raises(ValueError, match="printable ASCII"):
            local.start(models=engine.app.state.engine.models, chat_upstream="http://127.0.0.1:9/v1",
                        chat_upstream_key=bad)


# ---- a served engine, its command line and its logs -----------------------------------------------

def _echoing_upstream() -> RawServer:
    """An upstream that refuses the engine's key and writes it back, and a piece of it cut off too."""
    def answer(conn) -> None:
        request = server.requests[-1].decode("latin-1")
        given = next(line.split(" ", 2)[2] for line in request.split("\r\n")
                     if line.lower().startswith("authorization:"))
        body = json.dumps({"error": {"message": f"Incorrect API key provided: {given}; also {given[12:]}",
                                     "type": "invalid_request_error", "code": "invalid_api_key"}}).encode()
        conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
                     + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)

    server = RawServer(answer)
    return server


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"nbaudio serve exited with {proc.returncode}")
        if path.exists():
            return json.loads(path.read_text())
        time.sleep(0.1)
    raise AssertionError("nbaudio serve did not start")


@needs_proc
@pytest.mark.engine
def test_served_engine_shows_its_keys_nowhere(tmp_path):
    upstream = _echoing_upstream()
    state, out, err = tmp_path / "engine.json", tmp_path / "out.log", tmp_path / "err.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBAUDIO_")}
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nbaudio", "serve", "--port", "0", "--state-file", str(state),
             "--log-level", "debug", "--api-key-file", str(_key_file(tmp_path, "key", CANARY)),
             "--chat-upstream", upstream.base_url,
             "--chat-upstream-key-file", str(_key_file(tmp_path, "upstream", UPSTREAM_KEY))],
            env=env, stdout=stdout, stderr=stderr, cwd=Path(__file__).resolve().parents[2])
    try:
        base = f"http://127.0.0.1:{_wait_for(state, proc)['port']}/v1"
        seen = [(PROC / str(proc.pid) / "cmdline").read_bytes().decode(errors="replace"),
                (PROC / str(proc.pid) / "environ").read_bytes().decode(errors="replace")]
        # The right key works; a wrong one is refused without being written back.
        assert requests.get(base + "/models", headers={"Authorization": f"Bearer {CANARY}"}, timeout=30).ok
        wrong = requests.post(base + "/chat/completions", headers={"Authorization": f"Bearer {WRONG_KEY}"},
                              json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}, timeout=30)
        assert wrong.status_code == 401
        seen += [wrong.text, str(wrong.headers)]
        realtime = base.replace("http://", "ws://") + "/realtime?model=gpt-realtime"
        for how in ({"subprotocols": ["realtime", "openai-insecure-api-key." + WRONG_KEY]},
                    {"additional_headers": {"Authorization": f"Bearer {WRONG_KEY}"}}):
            with pytest.raises(InvalidStatus) as refused:
                connect(realtime, **how)
            assert refused.value.response.status_code == 401
            seen.append(refused.value.response.body.decode())
        # The upstream key from its file is what the upstream gets; its echo does not reach the client.
        relayed = requests.post(base + "/chat/completions", headers={"Authorization": f"Bearer {CANARY}"},
                                json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}, timeout=60)
        assert relayed.status_code == 502 and "401" in relayed.json()["error"]["message"], relayed.text
        assert f"Bearer {UPSTREAM_KEY}".encode() in upstream.requests[-1]
        seen += [relayed.text, str(relayed.headers)]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        upstream.close()
    seen += [out.read_text(errors="replace"), err.read_text(errors="replace")]
    assert "GET /v1/models" in seen[-2] + seen[-1], "the access log is on at debug level"
    assert "< sec-websocket-protocol:" in seen[-2] + seen[-1], "the handshake's headers are logged at debug level"
    for key in (CANARY, UPSTREAM_KEY, WRONG_KEY):
        assert_no_key(*seen, key=key)


@needs_proc
@pytest.mark.engine
def test_the_shared_engine_gets_its_key_in_a_file_not_its_command_line_or_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("NBAUDIO_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("NBAUDIO_SERVE_API_KEY", raising=False)
    endpoint = shared_engine.connect()
    try:
        cmdline = (PROC / str(endpoint.pid) / "cmdline").read_bytes().decode(errors="replace")
        environ = (PROC / str(endpoint.pid) / "environ").read_bytes().decode(errors="replace")
        assert endpoint.api_key not in cmdline and endpoint.api_key not in environ
        assert "--api-key-file" in cmdline
        assert requests.get(endpoint.base_url + "/models", headers={"Authorization": f"Bearer {endpoint.api_key}"},
                            timeout=30).ok
    finally:
        shared_engine.stop(tmp_path / "engine")


# ---- the blanking itself, over many shapes of echo ------------------------------------------------

_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(before=_TEXT, after=_TEXT, start=st.integers(0, len(UPSTREAM_KEY) - 10), length=st.integers(10, 200),
       times=st.integers(1, 3))
def test_an_upstream_echo_of_the_key_cut_or_shifted_is_blanked(before, after, start, length, times):
    piece = UPSTREAM_KEY[start:start + length]
    text = before + (piece + after) * times
    shown = redact(text, UPSTREAM_KEY)  # what the engine does to an upstream's message (nbaudio._redaction)
    assert_no_key(shown, key=UPSTREAM_KEY)
    assert redact("Rate limited.", UPSTREAM_KEY) == "Rate limited."  # the rest is left as it was


HEADER_LINES = ("< authorization: Bearer {}", "< sec-websocket-protocol: realtime, openai-insecure-api-key.{}",
                "GET /v1/models?api_key={} HTTP/1.1", "AUTHORIZATION: bearer {}")


@settings(max_examples=100, deadline=None)
@given(key=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=12, max_size=120),
       how=st.sampled_from(HEADER_LINES))
def test_the_log_filter_blanks_a_credential_in_any_header_line(key, how):
    key = key.replace(",", "x").replace(";", "x").replace("&", "x").replace('"', "x").replace("'", "x")
    record = logging.LogRecord("uvicorn.error", logging.DEBUG, __file__, 1, "%s", (how.format(key),), None)
    CredentialFilter().filter(record)
    assert key not in record.getMessage() and "***" in record.getMessage()
