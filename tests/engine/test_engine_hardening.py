"""The engine under abuse: oversized and endless uploads, slow clients, saturation, foreign web pages.

Each test talks to a real engine over loopback HTTP; ones that need other limits start a second
app on the session's loaded models. Budget: about 30 s on 2 cores.
"""

from __future__ import annotations

import concurrent.futures
import json
import select
import socket
import threading
import time

import psutil
import pytest
import requests

import nbaudio
from nbaudio import local
from nbaudio.errors import InternalServerError
from nbaudio.server.settings import Settings

MB = 1024 * 1024
LONG_TEXT = ("The quick brown fox jumps over the lazy dog, and then it runs back home again. " * 50)[:4096]


# ---- helpers ------------------------------------------------------------------------------------
def _connect(server, rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # before connect: a small window
    sock.settimeout(30)
    sock.connect((server.host, server.port))
    return sock


def _head(server, method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and (Content-Length) body of one response."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def _error(body: bytes) -> dict:
    payload = json.loads(body)
    assert set(payload) == {"error"} and set(payload["error"]) == {"message", "type", "param", "code"}, payload
    return payload["error"]


def _rss() -> int:
    return psutil.Process().memory_info().rss  # the engine runs in this process


def _until(condition, what: str, limit: float = 60.0) -> None:
    """Wait (bounded) for a condition the server reaches on its own; a safety net, not a speed check."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


# ---- body size ------------------------------------------------------------------------------------
@pytest.mark.parametrize("path,ctype,preamble", [
    ("/v1/audio/transcriptions", "multipart/form-data; boundary=xyz",
     b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
     b"Content-Type: application/octet-stream\r\n\r\n"),
    ("/v1/chat/completions", "application/json", b'{"model": "gpt-4o", "messages": "'),
])
def test_gigabyte_chunked_upload_is_cut_off_at_the_cap(engine, path, ctype, preamble):
    """1 GB offered as chunked data (no Content-Length): the engine answers 413 after ~the cap and
    closes, so the client is told long before it has sent everything and nothing is buffered."""
    sock = _connect(engine)
    offered, sent, block = 1024 * MB, 0, b"\0" * MB
    rss_before = _rss()
    sock.sendall(_head(engine, "POST", path, {"Content-Type": ctype, "Transfer-Encoding": "chunked"}))
    sock.sendall(f"{len(preamble):x}\r\n".encode() + preamble + b"\r\n")
    try:
        while sent < offered:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break  # the answer is in: stop sending
            sock.sendall(f"{len(block):x}\r\n".encode() + block + b"\r\n")  # zeros: a valid part, never ending
            sent += len(block)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server closed while we were still sending: also fine, the answer was sent first
    status, headers, body = _read_response(sock)
    sock.close()
    assert status == 413, body
    assert _error(body)["code"] == "request_too_large"
    assert headers.get("connection") == "close"
    assert sent < 100 * MB, f"the engine read {sent // MB} MB before answering"  # cap is 26 MB (+ socket buffers)
    assert _rss() - rss_before < 200 * MB


def test_declared_gigabyte_is_refused_before_the_body(engine):
    sock = _connect(engine)
    sock.sendall(_head(engine, "POST", "/v1/audio/transcriptions",
                       {"Content-Type": "multipart/form-data; boundary=xyz", "Content-Length": str(1024 * MB)}))
    status, headers, body = _read_response(sock)  # answered without a single body byte sent
    assert status == 413 and "25 MB" in _error(body)["message"]
    assert headers.get("connection") == "close"
    assert sock.recv(1) == b""  # and the connection is closed, not drained
    sock.close()


def test_requests_library_sees_the_413_for_a_chunked_upload(engine):
    """A plain `requests` upload from a generator (chunked) gets the 413, not a reset."""
    def body():
        for _ in range(40):
            yield b"\0" * MB

    r = requests.post(engine.base_url + "/chat/completions", data=body(), timeout=60,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "request_too_large"


# ---- slow clients -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def strict(engine):
    """An engine with short timeouts and room for one model request at a time, nobody waiting."""
    server = local.start(models=engine.app.state.engine.models, body_timeout=1.0, send_timeout=1.0,
                         max_concurrent=1, max_queue=0, queue_timeout=0.5)
    yield server
    server.stop()


@pytest.mark.parametrize("sent", [b"", b'{"model": "tts-1", '])
def test_body_that_stops_arriving_gets_408(strict, sent):
    sock = _connect(strict)
    sock.sendall(_head(strict, "POST", "/v1/audio/speech", {"Content-Type": "application/json",
                                                           "Content-Length": "1000"}) + sent)
    status, headers, body = _read_response(sock)  # the engine gives up after body_timeout
    assert status == 408 and _error(body)["code"] == "request_timeout"
    assert headers.get("connection") == "close"
    sock.close()
    _until(lambda: strict.app.state.admission.inside == 0, "the slow request to leave the waiting room")


def _hold_the_slot(server) -> socket.socket:
    """A long speech stream whose reader reads only the status line: it keeps the one run slot."""
    sock = _connect(server, rcvbuf=4096)
    body = json.dumps({"model": "tts-1", "voice": "alloy", "input": LONG_TEXT, "response_format": "pcm",
                       "speed": 0.25}).encode()
    sock.sendall(_head(server, "POST", "/v1/audio/speech", {"Content-Type": "application/json",
                                                           "Content-Length": str(len(body))}) + body)
    assert sock.recv(12).startswith(b"HTTP/1.1 200")
    return sock


def test_saturated_engine_answers_503_with_retry_after(strict):
    admission = strict.app.state.admission
    holder = _hold_the_slot(strict)
    try:
        assert admission.running == 1
        r = requests.post(strict.base_url + "/audio/speech", json={"model": "tts-1", "voice": "alloy", "input": "Hi."},
                          timeout=30)
        assert r.status_code == 503
        err = _error(r.content)
        assert err["code"] == "engine_busy" and err["type"] == "server_error"
        assert 1 <= int(r.headers["retry-after"]) <= 60
        # Cheap routes never wait.
        assert requests.get(strict.base_url + "/models", timeout=10).status_code == 200
        assert requests.get(strict.url + "/health", timeout=10).status_code == 200
        # Without retries the nbaudio client raises the 5xx error with the server's words.
        with pytest.raises(InternalServerError) as info:
            nbaudio.Client(strict.base_url, max_retries=0).speak("Hi.")
        assert info.value.status_code == 503 and info.value.code == "engine_busy"
        assert "busy" in info.value.message and "Retry after" in info.value.message
    finally:
        holder.close()
    _until(lambda: admission.running == 0, "the slot to be freed after the reader left")


def test_client_waits_out_a_busy_engine(strict):
    """With retries the nbaudio client waits Retry-After and succeeds once the holder is gone."""
    admission = strict.app.state.admission
    holder = _hold_the_slot(strict)
    refused = admission.refused
    threading.Timer(1.0, holder.close).start()  # the busy period ends while the client waits
    clip = nbaudio.Client(strict.base_url, max_retries=6).speak("Hi.", response_format="wav")
    assert clip.duration > 0.1
    assert admission.refused > refused  # it really was turned away first


def test_stalled_reader_is_dropped_and_frees_its_slot(strict):
    """A client that stops reading a stream loses the connection after send_timeout; others go on."""
    admission = strict.app.state.admission
    holder = _hold_the_slot(strict)
    try:
        _until(lambda: admission.running == 0, "the stalled stream to be dropped")
        clip = nbaudio.Client(strict.base_url, max_retries=0).speak("Hi.", response_format="wav")
        assert clip.duration > 0.1
        rest = _read_to_close(holder)
        assert not rest.endswith(b"0\r\n\r\n"), "the stalled stream should have been cut, not finished"
    finally:
        holder.close()


def _read_to_close(sock: socket.socket) -> bytes:
    """Everything until the peer closes (EOF or reset); fails if it keeps the connection open."""
    sock.settimeout(30)
    data = bytearray()
    try:
        while chunk := sock.recv(1 << 20):
            data += chunk
    except ConnectionResetError:
        pass
    return bytes(data)


def test_queue_timeout_answers_503(engine):
    """A request that waits longer than queue_timeout for a model is sent away with Retry-After."""
    with local.start(models=engine.app.state.engine.models, max_concurrent=1, max_queue=4,
                     queue_timeout=0.3) as server:
        holder = _hold_the_slot(server)
        try:
            r = requests.post(server.base_url + "/audio/speech",
                              json={"model": "tts-1", "voice": "alloy", "input": "Hi."}, timeout=30)
            assert r.status_code == 503 and "retry-after" in r.headers
            assert "no model was free" in _error(r.content)["message"]
        finally:
            holder.close()
        assert server.app.state.admission.inside <= 1


def test_eight_way_concurrency_is_not_refused_by_default(engine):
    defaults = Settings()
    assert defaults.max_concurrent + defaults.max_queue >= 8
    refused = engine.app.state.admission.refused

    def speak(i: int) -> int:
        return requests.post(engine.base_url + "/audio/speech", timeout=120,
                             json={"model": "tts-1", "voice": "alloy", "input": f"Number {i}.",
                                   "response_format": "wav"}).status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        assert list(pool.map(speak, range(8))) == [200] * 8
    assert engine.app.state.admission.refused == refused


# ---- browsers -------------------------------------------------------------------------------------------
FOREIGN = "https://evil.example.com"


def test_foreign_origin_gets_no_cors_and_cannot_write(engine):
    pre = requests.options(engine.base_url + "/audio/speech", timeout=10, headers={
        "Origin": FOREIGN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 403
    assert "access-control-allow-origin" not in pre.headers
    # A "simple" cross-site POST (no preflight in a browser) is refused before it does anything.
    r = requests.post(engine.base_url + "/audio/speech", timeout=10,
                      headers={"Origin": FOREIGN, "Content-Type": "text/plain"},
                      data=json.dumps({"model": "tts-1", "voice": "alloy", "input": "pwned"}))
    assert r.status_code == 403 and _error(r.content)["code"] == "origin_not_allowed"
    assert "access-control-allow-origin" not in r.headers
    r = requests.post(engine.base_url + "/audio/transcriptions", timeout=10, headers={"Origin": "null"},
                      files={"file": ("a.wav", b"RIFF")}, data={"model": "whisper-1"})
    assert r.status_code == 403
    # Same origin (a page the engine's own address served) and no Origin at all (scripts) are fine.
    assert requests.get(engine.base_url + "/models", headers={"Origin": engine.url}, timeout=10).status_code == 200
    assert requests.get(engine.base_url + "/models", timeout=10).status_code == 200


def test_listed_origin_gets_exact_cors_without_credentials(engine):
    allowed = "http://localhost:8888"
    with local.start(models=engine.app.state.engine.models, cors_origins=(allowed,), api_key="sk-cors-test") as server:
        pre = requests.options(server.base_url + "/audio/speech", timeout=10, headers={
            "Origin": allowed, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        assert pre.status_code == 204  # the preflight carries no key and needs none
        assert pre.headers["access-control-allow-origin"] == allowed
        assert "access-control-allow-credentials" not in pre.headers
        assert "Origin" in pre.headers["vary"] and "Authorization" in pre.headers["access-control-allow-headers"]
        r = requests.get(server.base_url + "/models", timeout=10,
                         headers={"Origin": allowed, "Authorization": "Bearer sk-cors-test"})
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == allowed
        denied = requests.get(server.base_url + "/models", timeout=10, headers={"Origin": allowed})
        assert denied.status_code == 401 and denied.headers["access-control-allow-origin"] == allowed  # readable error
        assert requests.get(server.base_url + "/models", headers={"Origin": FOREIGN}, timeout=10).status_code == 403


@pytest.mark.parametrize("origins", [("*",), ("localhost:8888",)])
def test_wildcard_or_bare_cors_origin_is_refused(origins):
    with pytest.raises(ValueError, match="explicit origins"):
        Settings(cors_origins=origins)
