"""WS /v1/realtime behind the guard and its limits: the key (header, or the subprotocol browsers
use), a foreign Origin or Host refused at the upgrade, and the session limits told as error
events and close codes rather than hangs."""

from __future__ import annotations

import base64
import json
import socket

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.realtime.conftest import KEY
from tests.realtime.speech import silence

pytestmark = pytest.mark.timeout(120)


def _url(server) -> str:
    return server.base_url.replace("http://", "ws://") + "/realtime?model=gpt-realtime"


def _event(ws) -> dict:
    return json.loads(ws.recv(timeout=30))


def _refused(excinfo) -> tuple[int, dict]:
    response = excinfo.value.response
    return response.status_code, json.loads(response.body)


def test_key_by_header_or_subprotocol_and_wrong_key(keyed_engine):
    import openai

    sdk = openai.OpenAI(base_url=keyed_engine.base_url, api_key=KEY, max_retries=0)
    with sdk.realtime.connect(model="gpt-realtime") as conn:
        assert conn.recv().type == "session.created"
    wrong = openai.OpenAI(base_url=keyed_engine.base_url, api_key="sk-wrong-key-000", max_retries=0)
    with pytest.raises(InvalidStatus) as err:
        with wrong.realtime.connect(model="gpt-realtime") as conn:
            conn.recv()
    status, body = _refused(err)
    assert status == 401 and body["error"]["code"] == "invalid_api_key"
    with pytest.raises(InvalidStatus) as err:
        connect(_url(keyed_engine))  # no key at all
    assert _refused(err)[0] == 401
    # A browser cannot set headers: the key comes as a subprotocol, and the answer names only "realtime".
    with connect(_url(keyed_engine), subprotocols=["realtime", "openai-insecure-api-key." + KEY],
                 origin="http://notebook.example:8888") as ws:
        assert ws.subprotocol == "realtime"
        assert _event(ws)["type"] == "session.created"
    with pytest.raises(InvalidStatus) as err:
        connect(_url(keyed_engine), subprotocols=["realtime", "openai-insecure-api-key.sk-wrong"])
    assert _refused(err)[0] == 401


def test_foreign_origin_and_host_are_refused(engine):
    with pytest.raises(InvalidStatus) as err:  # a web page elsewhere must not open a session to a keyless engine
        connect(_url(engine), origin="http://evil.example")
    status, body = _refused(err)
    assert status == 403 and body["error"]["code"] == "origin_not_allowed"
    sock = socket.create_connection((engine.host, engine.port))  # DNS rebinding: the right address, another name
    with pytest.raises(InvalidStatus) as err:
        connect(f"ws://rebound.example:{engine.port}/v1/realtime?model=gpt-realtime", sock=sock)
    assert _refused(err)[0] == 403
    with connect(_url(engine)) as ws:  # no Origin: not a browser
        assert _event(ws)["type"] == "session.created"


@pytest.fixture
def limited(engine):
    """A second engine (sharing the models) with small Realtime limits."""
    from nbaudio import local
    from nbaudio.server.realtime import RealtimeLimits

    with local.start(models=engine.app.state.engine.models) as server:
        server.app.state.realtime.limits = RealtimeLimits(max_sessions=1, max_message_bytes=64 * 1024,
                                                          max_buffer_seconds=1.0, idle_seconds=1.5)
        yield server


def _append(ws, pcm: bytes) -> None:
    ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm).decode()}))


def test_session_limits_are_errors_and_close_codes(limited):
    url = _url(limited)
    with connect(url) as first:
        assert _event(first)["type"] == "session.created"
        first.send(json.dumps({"type": "session.update", "session": {"type": "realtime",
                                                                     "audio": {"input": {"turn_detection": None}}}}))
        assert _event(first)["type"] == "session.updated"
        with connect(url) as second:  # one session at a time here: told so, then closed 1013
            refused = _event(second)
            assert refused["type"] == "error" and refused["error"]["code"] == "session_limit_reached"
            with pytest.raises(ConnectionClosed) as closed:
                second.recv(timeout=10)
            assert closed.value.rcvd.code == 1013
        for _ in range(2):  # 1 s of buffered audio is the limit: the third half second is refused
            _append(first, silence(0.5))
        _append(first, silence(0.5))
        full = _event(first)
        assert full["type"] == "error" and full["error"]["code"] == "input_audio_buffer_full"
        first.send(json.dumps({"type": "input_audio_buffer.clear"}))
        assert _event(first)["type"] == "input_audio_buffer.cleared"  # still serving
        first.send("x" * (65 * 1024))  # over max_message_bytes
        big = _event(first)
        assert big["type"] == "error" and big["error"]["code"] == "message_too_large"
        with pytest.raises(ConnectionClosed) as closed:
            first.recv(timeout=10)
        assert closed.value.rcvd.code == 1009
    with connect(url) as idle:  # the slot is free again; saying nothing for idle_seconds ends the session
        assert _event(idle)["type"] == "session.created"
        timeout = _event(idle)
        assert timeout["type"] == "error" and timeout["error"]["code"] == "session_idle_timeout"
        with pytest.raises(ConnectionClosed) as closed:
            idle.recv(timeout=10)
        assert closed.value.rcvd.code == 1000
