"""Issue 26, key leaks: a server that echoes the key back — in x-request-id, in an error body written
with JSON escapes, cut short, with its first characters cut off, in a Realtime refusal or a message
that is not JSON — never gets it shown in an error, its fields, a traceback, a log line, a warning
or a batch's saved rows; and a Realtime redirect never carries the key to another host."""

from __future__ import annotations

import asyncio
import json
import logging
import traceback
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nbaudio
import nbaudio.realtime
from nbaudio.errors import APIConnectionError, APIError, APIResponseError, NbAudioError
from tests.hostile.canary import CANARY, FRAGMENT, assert_no_key, leaked
from tests.support.faults import RawServer, ScriptedWebSocket
from tests.support.signals import tone_wav


def _http(status: int, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return head.encode("latin-1") + b"\r\n" + body


class Answering(RawServer):
    """Answers every request with `self.answer` (bytes), which a test may change between calls."""

    def __init__(self, answer: bytes = b"") -> None:
        self.answer = answer
        super().__init__(lambda conn: conn.sendall(self.answer))


@pytest.fixture
def server():
    s = Answering()
    yield s
    s.close()


def _client(server, **kw) -> nbaudio.Client:
    return nbaudio.Client(server.base_url, api_key=CANARY, timeout=10, **kw)


def _everything(err: BaseException) -> list[str]:
    """What a person or a log can see of an error."""
    seen = [str(err), repr(err), "".join(traceback.format_exception(err))]
    for name in ("message", "request_id", "type", "param", "code", "reason", "hint"):
        seen.append(str(getattr(err, name, "")))
    seen.append(json.dumps(getattr(err, "body", None), default=str))
    seen.append(json.dumps(getattr(err, "headers", None), default=str))
    if isinstance(err, NbAudioError):
        seen += err._render_traceback_()  # noqa: SLF001 - what IPython shows
    return seen


def test_request_id_echoing_the_authorization_header(server, caplog):
    """A relay that echoes Authorization as x-request-id: not in str(exc), the retry log line or the
    error's fields (the audit: 30 of 30 batch rows showed it)."""
    caplog.set_level(logging.DEBUG, logger="nbaudio")
    body = json.dumps({"error": {"message": "slow down", "type": "rate_limit_error"}}).encode()
    server.answer = _http(429, body, {"x-request-id": f"Bearer {CANARY}", "retry-after": "0",
                                      "x-echo": CANARY, "content-type": "application/json"})
    with pytest.raises(APIError) as err:
        _client(server, max_retries=1).speak("hi")
    assert server.connections == 2  # retried once: the "retrying" line was logged
    assert "retrying" in caplog.text
    assert err.value.request_id == "Bearer ***"
    assert_no_key(*_everything(err.value), caplog.text)


@pytest.mark.parametrize("status", [200, 400, 500])
def test_request_id_echo_on_every_error_path(server, status):
    """The 2xx-that-is-an-error path, a plain 400 and a 5xx."""
    body = b"<html><title>upstream error</title></html>" if status == 200 else b'{"error": "nope"}'
    server.answer = _http(status, body, {"x-request-id": CANARY, "content-type": "text/html"})
    with pytest.raises(APIError) as err:
        _client(server, max_retries=0).transcribe(tone_wav(0.5), response_format="json")
    assert_no_key(*_everything(err.value))


def _escaped(text: str) -> str:
    return "".join(f"\\u{ord(ch):04x}" for ch in text)


@pytest.mark.parametrize("shown", [
    pytest.param(lambda k: _escaped(k), id="json-u-escapes"),
    pytest.param(lambda k: k[7:], id="first-characters-cut"),
    pytest.param(lambda k: k[:-3], id="last-characters-cut"),
    pytest.param(lambda k: k[:30] + "…", id="cut-short"),
])
def test_key_in_an_error_body_in_any_form(server, shown):
    body = ('{"error": {"message": "Incorrect API key provided: ' + shown(CANARY) + '", "code": "invalid_api_key"}}')
    server.answer = _http(401, body.encode(), {"content-type": "application/json"})
    with pytest.raises(APIError) as err:
        _client(server, max_retries=0).speak("hi")
    assert_no_key(*_everything(err.value))


def test_relay_notice_warnings(server):
    """A relay's 400 on a response_format is answered by asking for json, with a RelayNotice quoting
    the server's message: the key it echoed is not in it."""
    refusal = json.dumps({"error": {"message": f"response_format 'srt' is not supported (key {CANARY})",
                                    "param": "response_format"}}).encode()
    ok = json.dumps({"text": "hello"}).encode()
    answers = iter([_http(400, refusal, {"content-type": "application/json"}),
                    _http(200, ok, {"content-type": "application/json"})])
    server.script = lambda conn: conn.sendall(next(answers))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = _client(server, max_retries=0).transcribe(tone_wav(0.5), model="whisper-1", response_format="srt")
    assert t.text == "hello"
    assert caught and all(leaked(str(w.message)) is None for w in caught)


def test_batch_rows_and_journal(server, tmp_path):
    """Every failed row's error and the JSONL journal hold no key."""
    server.answer = _http(400, b'{"error": {"message": "bad"}}', {"x-request-id": f"Bearer {CANARY}"})
    audio = [tone_wav(0.3, freq=200 + 100 * i) for i in range(4)]
    journal = tmp_path / "runs.jsonl"
    rows = nbaudio.transcribe_many(audio, client=_client(server, max_retries=0), results=journal, concurrency=2)
    errors = [row["error"] for row in (rows.to_dict("records") if hasattr(rows, "to_dict") else rows)]
    assert len(errors) == 4 and all(errors)
    assert_no_key(*errors, journal.read_text())


# ---- Realtime -------------------------------------------------------------------------------------


def _refuse_with_echo(connection, request):
    body = json.dumps({"error": {"message": f"bad key {CANARY[5:]}", "code": "invalid_api_key"}})
    response = connection.respond(401, body)
    response.headers["x-request-id"] = f"Bearer {CANARY}"
    return response


def test_realtime_refused_upgrade_request_id():
    with ScriptedWebSocket(lambda ws: None, process_request=_refuse_with_echo) as ws_server:
        client = nbaudio.Client(ws_server.base_url, api_key=CANARY)
        with pytest.raises(APIError) as sync_err:
            nbaudio.realtime.connect(client=client, model="gpt-realtime")

        async def aopen():
            async with nbaudio.realtime.aconnect(client=client, model="gpt-realtime"):
                pass

        with pytest.raises(APIError) as async_err:
            asyncio.run(aopen())
    for err in (sync_err.value, async_err.value):
        assert err.request_id == "Bearer ***"
        assert_no_key(*_everything(err))


def _created(ws) -> None:
    ws.send(json.dumps({"type": "session.created", "event_id": "e0", "session": {"type": "realtime"}}))


def test_realtime_message_not_json_is_redacted_before_it_is_cut():
    """The audit: cut to 80 characters first, 59 characters of a long key showed."""
    def script(ws):
        _created(ws)
        ws.send("not json! " + "x" * 11 + CANARY)
        ws.recv()

    with ScriptedWebSocket(script) as ws_server:
        client = nbaudio.Client(ws_server.base_url, api_key=CANARY)
        with nbaudio.realtime.connect(client=client, model="gpt-realtime") as rt, \
                pytest.raises(APIResponseError) as err:
            rt.wait_for("response.done")
    assert_no_key(*_everything(err.value))


@pytest.mark.parametrize("asyncio_client", [False, True], ids=["sync", "asyncio"])
def test_realtime_redirect_is_not_followed(asyncio_client):
    """websockets' asyncio client follows 3xx and would send Authorization to the other host."""
    other = RawServer(lambda conn: None)  # the host a redirect points to: records what reaches it

    def redirect(connection, request):
        response = connection.respond(302, "")
        response.headers["Location"] = f"ws://127.0.0.1:{other.port}/v1/realtime?model=gpt-realtime"
        return response

    try:
        with ScriptedWebSocket(lambda ws: None, process_request=redirect) as ws_server:
            client = nbaudio.Client(ws_server.base_url, api_key=CANARY)
            with pytest.raises(APIConnectionError, match="redirected") as err:
                if asyncio_client:
                    async def aopen():
                        async with nbaudio.realtime.aconnect(client=client, model="gpt-realtime"):
                            pass
                    asyncio.run(aopen())
                else:
                    nbaudio.realtime.connect(client=client, model="gpt-realtime")
        assert "websocket_base_url" in str(err.value)
        assert other.connections == 0 and not other.requests
    finally:
        other.close()


# ---- any echo, anywhere -----------------------------------------------------------------------------

_KEY_FORMS = st.sampled_from(["whole", "escaped", "head-cut", "tail-cut", "middle", "bearer"])


def _form(key: str, form: str, cut: int) -> str:
    return {"whole": key, "escaped": _escaped(key), "head-cut": key[cut:], "tail-cut": key[:-cut],
            "middle": key[cut:-cut], "bearer": f"Bearer {key}"}[form]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(status=st.sampled_from([200, 400, 401, 404, 413, 422, 429, 500, 502, 503]),
       form=_KEY_FORMS, cut=st.integers(1, 40), where=st.sampled_from(["message", "type", "code", "param",
                                                                          "detail", "text", "html", "header"]),
       padding=st.text(max_size=200))
def test_any_echo_of_the_key(server, status, form, cut, where, padding):
    """Wherever a server puts the key (a field of the error, FastAPI's detail, plain text, HTML, a
    header), in whatever form, a piece of FRAGMENT characters or more never shows."""
    echoed = _form(CANARY, form, cut)
    if len(echoed) < FRAGMENT:
        return
    headers = {"content-type": "application/json", "retry-after": "0"}
    if where in ("message", "type", "code", "param"):
        body = '{"error": {"' + where + '": "' + json.dumps(padding)[1:-1] + echoed + '"}}'
    elif where == "detail":
        body = '{"detail": [{"loc": ["body", "' + echoed + '"], "msg": "' + echoed + '"}]}'
    elif where == "html":
        body, headers["content-type"] = f"<html><title>{padding}{echoed}</title></html>", "text/html"
    elif where == "header":
        body, headers["x-request-id"] = '{"error": "no"}', echoed.replace("\\", "/")
    else:
        body, headers["content-type"] = padding + echoed, "text/plain"
    server.answer = _http(status, body.encode("utf-8", "surrogatepass"), headers)
    with pytest.raises(APIError) as err:
        _client(server, max_retries=0).speak("hi")
    assert_no_key(*_everything(err.value))


# ---- streams and sessions -----------------------------------------------------------------------


def _sse_answer(events: list[str], headers: dict[str, str]) -> bytes:
    body = "".join(f"data: {e}\n\n" for e in events).encode()
    head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode() + b"\r\n" + body


@pytest.mark.parametrize("ending", ["error-event", "cut-short"])
def test_stream_errors(server, ending):
    """An error event quoting the key (JSON-escaped), and a stream cut short whose request id is the key."""
    delta = json.dumps({"choices": [{"index": 0, "delta": {"content": "hel"}}]})
    events = [delta]
    if ending == "error-event":
        events.append('{"error": {"message": "key ' + _escaped(CANARY) + ' was revoked", "code": "invalid_api_key"}}')
    server.answer = _sse_answer(events, {"x-request-id": CANARY})
    with pytest.raises(APIError) as err:
        _client(server, max_retries=0).chat("hi", modalities=["text"], stream=True).collect()
    assert_no_key(*_everything(err.value))
    if ending == "cut-short":
        assert err.value.partial is not None


def test_realtime_error_event_and_close_reason():
    def script(ws):
        _created(ws)
        ws.recv()
        ws.send(json.dumps({"type": "error", "event_id": "e1", "error": {
            "type": "invalid_request_error", "code": CANARY[3:], "message": f"bad {CANARY}", "param": CANARY[:-5]}}))
        ws.close(4001, f"revoked {CANARY[6:60]}")

    with ScriptedWebSocket(script) as ws_server:
        client = nbaudio.Client(ws_server.base_url, api_key=CANARY)
        with nbaudio.realtime.connect(client=client, model="gpt-realtime") as rt:
            rt.create_response()
            with pytest.raises(NbAudioError) as first:
                rt.wait_for("response.done")
            with pytest.raises(NbAudioError) as closed:
                rt.wait_for("response.done")
    assert_no_key(*_everything(first.value), *_everything(closed.value))
