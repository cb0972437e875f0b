"""nbaudio.realtime against the engine (a spoken turn and a typed one, recorded as a Conversation)
and against scripted WebSocket servers for the faults no real server produces on demand: close
codes, error events, no first event, a refused upgrade that echoes the key."""

from __future__ import annotations

import json
import logging
import socket

import pytest

import nbaudio
import nbaudio.realtime
from nbaudio.audio import AudioClip
from nbaudio.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    InvalidInputError,
    RealtimeClosedError,
    RealtimeServerError,
)
from nbaudio.realtime.connection import websocket_url
from tests.realtime.conftest import KEY, QUESTIONS
from tests.realtime.speech import RATE, overlap
from tests.support.faults import ScriptedWebSocket as Scripted

pytestmark = pytest.mark.timeout(180)


def test_spoken_and_typed_turns_against_the_engine(engine, spoken):
    clip = AudioClip(spoken[QUESTIONS[0]], "pcm", sample_rate=RATE, channels=1)
    client = nbaudio.Client(engine.base_url)
    with nbaudio.realtime.connect(client=client, session={
            "audio": {"input": {"turn_detection": None, "transcription": {"model": "whisper-1", "language": "en"}}}
    }) as rt:
        assert rt.session["audio"]["input"]["turn_detection"] is None
        seconds = rt.send_audio(clip, commit=True)
        assert seconds == pytest.approx(clip.duration, abs=0.01)
        rt.create_response()
        done = rt.wait_for("response.done")
        assert done["response"]["status"] == "completed"
        rt.send_text("Thank you.")
        rt.wait_for("response.done")
    user, reply, typed, reply2 = rt.turns
    assert (user.role, reply.role, typed.role, reply2.role) == ("user", "assistant", "user", "assistant")
    assert overlap(QUESTIONS[0], user.text) >= 0.6 and typed.text == "Thank you."
    assert user.clip.duration == pytest.approx(clip.duration, abs=0.05)
    assert reply.clip.duration > 0.5 and reply.text and reply.usage["output_tokens"] > 0
    conv = rt.conversation
    assert [(m["role"], r is not None) for m, r in conv.turns()] == [
        ("user", False), ("assistant", True), ("user", False), ("assistant", True)]
    last = conv.last_reply
    assert last.transcript == reply2.text and last.audio.duration > 0.3 and last.usage.total_tokens > 0
    assert "text/html" in conv._repr_mimebundle_() and "closed" in repr(rt)


def test_urls_follow_the_base_url():
    assert websocket_url("http://127.0.0.1:8000/v1", "gpt-realtime") == "ws://127.0.0.1:8000/v1/realtime?model=gpt-realtime"
    assert websocket_url("https://api.openai.com/v1/", "gpt-realtime") == (
        "wss://api.openai.com/v1/realtime?model=gpt-realtime")
    assert websocket_url("https://relay.example/v1", "gpt realtime", "wss://ws.relay.example/openai/v1") == (
        "wss://ws.relay.example/openai/v1/realtime?model=gpt%20realtime")
    assert websocket_url("https://api.openai.com/v1", "gpt-realtime", intent="transcription") == (
        "wss://api.openai.com/v1/realtime?model=gpt-realtime&intent=transcription")
    with pytest.raises(InvalidInputError, match="intent"):
        websocket_url("http://h/v1", "gpt-realtime", intent="translation")
    with pytest.raises(InvalidInputError, match="model"):
        websocket_url("http://h/v1", "")
    with pytest.raises(InvalidInputError, match="WebSocket URL"):
        websocket_url("ftp://h/v1", "gpt-realtime")


def _created(ws) -> None:
    ws.send(json.dumps({"type": "session.created", "event_id": "event_1", "session": {"type": "realtime"}}))


def _client(server, key: str | None = None) -> nbaudio.Client:
    return nbaudio.Client(server.base_url, api_key=key or "sk-scripted-not-checked")


def test_close_codes_are_reported_with_their_meaning():
    def beta_shut(ws):
        _created(ws)
        ws.close(4000, "beta_api_shape_disabled")

    with Scripted(beta_shut) as server, nbaudio.realtime.connect(client=_client(server)) as rt:
        with pytest.raises(RealtimeClosedError) as err:
            rt.wait_for("response.done")
    assert err.value.close_code == 4000 and "beta" in err.value.meaning and "GA" in str(err.value)


def test_no_first_event_is_a_timeout_not_a_hang():
    def silent(ws):
        ws.recv()  # says nothing until the client goes

    with Scripted(silent) as server, pytest.raises(APITimeoutError, match="session.created"):
        nbaudio.realtime.connect(client=_client(server), first_event_timeout=0.5)


def test_error_events_raise_and_the_session_goes_on():
    def erring(ws):
        _created(ws)
        ws.recv()
        ws.send(json.dumps({"type": "error", "event_id": "event_2", "error": {
            "type": "invalid_request_error", "code": "invalid_value", "message": "bad thing", "param": "x",
            "event_id": "evt_mine"}}))
        ws.send(json.dumps({"type": "session.updated", "event_id": "event_3", "session": {"type": "realtime"}}))
        ws.recv()

    with Scripted(erring) as server, nbaudio.realtime.connect(client=_client(server)) as rt:
        rt.send({"type": "session.update", "session": {"type": "realtime"}})
        with pytest.raises(RealtimeServerError) as err:
            next(rt.events())
        assert (err.value.code, err.value.param, err.value.event_id) == ("invalid_value", "x", "evt_mine")
        assert rt.wait_for("session.updated").type == "session.updated"
    with Scripted(erring) as server, nbaudio.realtime.connect(client=_client(server)) as rt:
        rt.send({"type": "session.update", "session": {"type": "realtime"}})
        assert next(rt.events(errors="yield")).type == "error"


def test_refused_connection_and_bad_events_before_sending():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(APIConnectionError, match="refused"):
        nbaudio.realtime.connect(client=nbaudio.Client(f"http://127.0.0.1:{port}/v1", api_key="sk-x"))

    def quiet(ws):
        _created(ws)
        ws.recv()

    with Scripted(quiet) as server, nbaudio.realtime.connect(client=_client(server)) as rt:
        with pytest.raises(InvalidInputError, match="not a Realtime client event"):
            rt.send({"type": "response.creat"})
        with pytest.raises(InvalidInputError, match="sample_rate"):
            rt.send_audio(b"\0\0" * 100, sample_rate=16000)


def test_key_never_shows(caplog):
    """The key goes in the Authorization header only: not in the URL, reprs, errors or logs (even at
    DEBUG, where websockets logs every handshake header), even when a server echoes it back."""
    seen: dict = {}

    def refuse(connection, request):
        seen["auth"] = request.headers.get("Authorization")
        seen["path"] = request.path
        body = json.dumps({"error": {"message": f"Incorrect API key provided: {KEY}", "type": "invalid_request_error",
                                     "code": "invalid_api_key", "param": None}})
        response = connection.respond(401, body)
        del response.headers["Content-Type"]
        response.headers["Content-Type"] = "application/json"
        return response

    caplog.set_level(logging.DEBUG)
    with Scripted(lambda ws: None, process_request=refuse) as server:
        client = _client(server, KEY)
        with pytest.raises(AuthenticationError) as err:
            nbaudio.realtime.connect(client=client)
    assert seen["auth"] == f"Bearer {KEY}" and KEY not in seen["path"]
    assert err.value.code == "invalid_api_key"
    assert KEY not in str(err.value) and KEY not in repr(err.value) and KEY not in err.value.message
    logged = _client_log(caplog)
    assert "Authorization" in logged  # the handshake was logged, without the key
    assert KEY not in logged and KEY[:-4] not in logged

    def echo(ws):
        _created(ws)
        ws.recv()
        ws.send(json.dumps({"type": "error", "event_id": "e", "error": {"type": "x", "message": f"key {KEY}"}}))
        ws.close(1008, f"bad key {KEY}")

    with Scripted(echo) as server, nbaudio.realtime.connect(client=_client(server, KEY)) as rt:
        assert KEY not in repr(rt) and KEY not in rt.url
        rt.send({"type": "response.create"})
        with pytest.raises(RealtimeServerError) as err:
            rt.wait_for("response.done")
        assert KEY not in str(err.value)
        with pytest.raises(RealtimeClosedError) as closed:
            rt.wait_for("response.done")
        assert KEY not in str(closed.value) and closed.value.close_code == 1008
    assert KEY not in _client_log(caplog)


def _client_log(caplog) -> str:
    """What this process logged, except the scripted server's own lines (it logs what it received)."""
    return "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("websockets.server"))


def test_the_asyncio_form_against_the_engine_and_a_close(engine):
    import asyncio

    async def main() -> None:
        client = nbaudio.Client(engine.base_url)
        async with nbaudio.realtime.aconnect(client=client, session={"output_modalities": ["text"]}) as rt:
            assert rt.session["output_modalities"] == ["text"]
            await rt.send_text("Say hello.")
            kinds = []
            async for event in rt.events():
                kinds.append(event.type)
                if event.type == "response.done":
                    break
            assert "response.output_text.delta" in kinds and event["response"]["status"] == "completed"
        assert [t.role for t in rt.turns] == ["user", "assistant"] and rt.turns[1].text
        with pytest.raises(InvalidInputError, match="closed"):
            await rt.send_text("again")

    asyncio.run(main())

    def beta_shut(ws):
        _created(ws)
        ws.close(4000, "beta_api_shape_disabled")

    async def closed() -> None:
        with Scripted(beta_shut) as server:
            rt = await nbaudio.realtime.aconnect(client=_client(server))
            with pytest.raises(RealtimeClosedError) as err:
                await rt.wait_for("response.done")
            assert err.value.close_code == 4000
            await rt.close()

    asyncio.run(closed())
