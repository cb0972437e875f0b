"""The guard in front of every route: a small ASGI middleware, so streamed responses are untouched.

Guards, in order, before any route runs; each refusal is OpenAI's error JSON:
- Host header: when bound to loopback, only loopback names (and `allowed_hosts`) are served,
  which stops DNS-rebinding pages in a browser from talking to the engine (403).
- Origin: a browser request from another origin is refused (403) unless it is listed in
  `cors_origins`; only listed origins get CORS headers (never `*`, never credentials). Without
  this a web page could POST a "simple" form to a keyless engine on this machine.
- API key: when one is set, `Authorization: Bearer <key>` is compared in constant time (401).
- WebSocket upgrades (WS /v1/realtime) get the Host, Origin and key checks too (`_websocket`);
  their limits are the Realtime route's own (server/realtime/route.py).
- Body size: a declared Content-Length over the cap is answered 413 at once; a chunked or
  lying body is counted while it arrives and cut off at the cap (413). Either way the
  connection is closed instead of reading the rest, and nothing is buffered beyond the cap.
- Body timeout: `body_timeout` seconds without a byte of body -> 408 (slow-loris uploads).
- Admission: model routes (speech, transcriptions, translations, chat) take a place in a
  bounded waiting room when they arrive and a run slot once their body is in; when
  `max_concurrent + max_queue` are inside, or a slot does not come within `queue_timeout`,
  the answer is 503 `engine_busy` with `Retry-After`. /health and /v1/models never wait.
- Send timeout: a client that reads nothing of a response for `send_timeout` seconds is
  dropped, so it cannot keep its run slot.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException as StarletteHTTPException

from .._wire.error_bodies import error_payload
from .._wire.hosts import is_loopback_host
from .._wire.realtime import KEY_SUBPROTOCOL_PREFIX
from .._wire.spec import ENGINE_HEADER
from . import paths
from .api_errors import ClientStalled
from .engine import Admission
from .settings import Settings

__all__ = ["Guard"]

log = logging.getLogger("nbaudio.server")

# Multipart framing and small form fields on top of the file itself.
_MULTIPART_SLACK = 1 << 20
_CORS_METHODS = b"GET, POST, OPTIONS"
_CORS_HEADERS = b"Authorization, Content-Type, OpenAI-Organization, OpenAI-Project, X-Stainless-Retry-Count"
_CORS_EXPOSE = b"Retry-After, X-Nbaudio-Voice, X-Request-Id"
# Every answer the app makes says it is the engine's (a client on loopback then prices it as free).
_ENGINE_STAMP = (ENGINE_HEADER.lower().encode("latin-1"), b"local")


class _Reply(StarletteHTTPException):
    """An answer of the guard's own. Raised inside the app's `receive()` to stop it reading; the
    guard then sends this instead of whatever the app makes of the exception."""

    def __init__(self, status: int, message: str, *, code: str | None = None,
                 headers: list[tuple[bytes, bytes]] | None = None, close: bool = False) -> None:
        super().__init__(status, message)
        self.message = message
        self.code = code
        self.extra = list(headers or []) + ([(b"connection", b"close")] if close else [])

    async def send_to(self, send: Any, extra: list[tuple[bytes, bytes]] = ()) -> None:
        body = json.dumps(error_payload(self.message, status_code=self.status_code, code=self.code)).encode("utf-8")
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": headers + self.extra + list(extra)})
        await send({"type": "http.response.body", "body": body})


class Guard:
    """The ASGI middleware (`app.add_middleware(Guard, settings=..., admission=...)`)."""

    def __init__(self, app: Any, settings: Settings, admission: Admission) -> None:
        self.app = app
        self.settings = settings
        self.admission = admission
        self._key = settings.api_key.encode("utf-8") if settings.api_key else None
        self._hosts = {h.lower() for h in (settings.host, *settings.allowed_hosts)}
        self._caps = {path: settings.max_upload_bytes + _MULTIPART_SLACK for path in paths.UPLOAD_ROUTES}
        self._default_cap = settings.max_upload_bytes * 4 // 3 + _MULTIPART_SLACK  # base64 input_audio in chat

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        path = scope.get("path", "")
        if self.settings.is_loopback and not self._host_ok(headers.get("host", "")):
            await _Reply(403, "Host header not allowed: the local engine only answers requests addressed to "
                              "localhost / 127.0.0.1 (start it with allowed_hosts=... to add names).").send_to(send)
            return
        origin = headers.get("origin")
        cors: list[tuple[bytes, bytes]] = []
        if origin is not None and not self._same_origin(origin, headers.get("host", "")):
            if origin.rstrip("/").lower() not in self.settings.cors_origins:
                await _Reply(403, f"Cross-origin request from {origin[:100]!r} refused: the engine only answers "
                                  "web pages from origins listed in its cors_origins setting "
                                  "(nbaudio serve --cors-origin URL).", code="origin_not_allowed").send_to(send)
                return
            cors = [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin"),
                    (b"access-control-expose-headers", _CORS_EXPOSE)]
            if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
                await _preflight(send, cors)
                return
        if self._key is not None and path != paths.HEALTH:
            given = headers.get("authorization", "")
            token = given[7:].strip() if given[:7].lower() == "bearer " else ""
            if not hmac.compare_digest(token.encode("utf-8"), self._key):
                msg = ("You didn't provide an API key. Send it as 'Authorization: Bearer <key>'." if not token
                       else "Incorrect API key provided.")
                await _Reply(401, msg, code="invalid_api_key",
                             headers=[(b"www-authenticate", b"Bearer")]).send_to(send, cors)
                return
        cap = self._caps.get(path, self._default_cap)
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > cap:
            await self.too_large_reply(int(length)).send_to(send, cors)
            return
        queued = scope["method"] == "POST" and path in paths.MODEL_ROUTES
        if queued and not self.admission.try_enter():
            await self.busy_reply("all its places are taken").send_to(send, cors)
            return
        has_body = headers.get("content-length", "0") not in ("", "0") or "transfer-encoding" in headers
        call = _Call(self, receive, send, cap, cors, queued, has_body)
        try:
            await self.app(scope, call.receive, call.send)
        except Exception:
            if call.stalled:
                return  # logged in send(); the server closes the connection
            if call.reply is None or call.started:
                raise
        finally:
            call.done()
        if call.reply is not None and not call.reply_sent and not call.started:
            await call.reply.send_to(send, cors)

    async def _websocket(self, scope: dict, receive: Any, send: Any) -> None:
        """A WebSocket upgrade (WS /v1/realtime) passes the checks a request does: Host; Origin, since
        CORS does not cover WebSockets and a page from another origin could otherwise open a session
        to a keyless engine (cross-site WebSocket hijacking); and the key, from the Authorization
        header or the `openai-insecure-api-key.<key>` subprotocol browsers send (they cannot set
        headers). A refusal is the HTTP answer to the upgrade (403 / 401 with OpenAI's error JSON)."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        reply = None
        origin = headers.get("origin")
        if self.settings.is_loopback and not self._host_ok(headers.get("host", "")):
            reply = _Reply(403, "Host header not allowed: the local engine only answers requests addressed to "
                                "localhost / 127.0.0.1 (start it with allowed_hosts=... to add names).")
        elif (origin is not None and not self._same_origin(origin, headers.get("host", ""))
              and origin.rstrip("/").lower() not in self.settings.cors_origins):
            reply = _Reply(403, f"WebSocket from origin {origin[:100]!r} refused: the engine only opens sessions "
                                "for web pages from origins listed in its cors_origins setting "
                                "(nbaudio serve --cors-origin URL).", code="origin_not_allowed")
        elif self._key is not None:
            given = headers.get("authorization", "")
            token = given[7:].strip() if given[:7].lower() == "bearer " else ""
            for protocol in scope.get("subprotocols") or []:
                if not token and protocol.startswith(KEY_SUBPROTOCOL_PREFIX):
                    token = protocol[len(KEY_SUBPROTOCOL_PREFIX):]
            if not hmac.compare_digest(token.encode("utf-8"), self._key):
                reply = _Reply(401, "You didn't provide an API key. Send it as 'Authorization: Bearer <key>'."
                               if not token else "Incorrect API key provided.", code="invalid_api_key",
                               headers=[(b"www-authenticate", b"Bearer")])
        if reply is None:
            async def stamped(message: dict) -> None:  # the upgrade says it is the engine's too (priced as free)
                if message["type"] == "websocket.accept":
                    message = {**message, "headers": [*message.get("headers", []), _ENGINE_STAMP]}
                await send(message)

            await self.app(scope, receive, stamped)
            return
        await receive()  # websocket.connect
        if "websocket.http.response" not in scope.get("extensions", {}):
            await send({"type": "websocket.close", "code": 1008})  # the server answers 403 itself
            return
        sent: list[dict] = []

        async def collect(message: dict) -> None:
            sent.append(message)

        await reply.send_to(collect)
        for message in sent:  # the same answer, as the upgrade's HTTP response
            await send({**message, "type": message["type"].replace("http.", "websocket.http.", 1)})

    def too_large_reply(self, size: int | None) -> _Reply:
        """413: the body is over the upload limit (`size` when Content-Length told it in advance)."""
        got = f"{size} bytes" if size is not None else "the body went over the limit"
        return _Reply(413, f"Request too large ({got}): audio uploads are limited to "
                           f"{self.settings.max_upload_bytes // (1024 * 1024)} MB. Split the audio or compress it "
                           "(e.g. mp3) first.", code="request_too_large", close=True)

    def busy_reply(self, why: str) -> _Reply:
        """503 `engine_busy` with Retry-After: no run slot, for the reason `why`."""
        after = self.admission.retry_after()
        return _Reply(503, f"The local engine is busy ({why}: {self.admission.running} running, "
                           f"{max(0, self.admission.inside - self.admission.running)} waiting). Retry after {after} s; "
                           "nbaudio and the openai client do this by themselves.", code="engine_busy",
                      headers=[(b"retry-after", str(after).encode())])

    def _host_ok(self, host: str) -> bool:
        host = host.strip().lower()
        if host.startswith("["):  # [::1]:8000
            name = host.split("]")[0] + "]"
        else:
            name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        return name in self._hosts or is_loopback_host(name)

    @staticmethod
    def _same_origin(origin: str, host: str) -> bool:
        """A page served from the engine's own address (scheme, host and port as the Host header says)."""
        try:
            parts = urlsplit(origin.strip())
        except ValueError:
            return False
        return parts.scheme == "http" and bool(parts.netloc) and parts.netloc.lower() == host.strip().lower()


class _Call:
    """One request through the guard: counts and times its body, takes and frees its run slot,
    and swaps the app's answer for the guard's when it stopped the app (413, 408, 503)."""

    def __init__(self, guard: Guard, receive: Any, send: Any, cap: int, cors: list[tuple[bytes, bytes]],
                 queued: bool, has_body: bool) -> None:
        self.guard = guard
        self._receive = receive
        self._send = send
        self.cap = cap
        self.cors = cors
        self.queued = queued
        self.has_body = has_body
        self.received = 0
        self.body_done = False
        self.slot_taken: float | None = None
        self.reply: _Reply | None = None
        self.reply_sent = False
        self.started = False
        self.stalled = False

    def _stop(self, reply: _Reply) -> _Reply:
        self.reply = reply
        return reply

    async def receive(self) -> dict:
        if self.body_done:  # e.g. the app listening for a disconnect while it streams
            return await self._receive()
        settings = self.guard.settings
        try:
            async with asyncio.timeout(settings.body_timeout):
                message = await self._receive()
        except TimeoutError:
            raise self._stop(_Reply(408, "The request body stopped arriving "
                                         f"(nothing for {settings.body_timeout:g} s); send it again.",
                                    code="request_timeout", close=True)) from None
        if message["type"] != "http.request":
            return message
        self.received += len(message.get("body", b""))
        if self.received > self.cap:
            raise self._stop(self.guard.too_large_reply(None))
        if not message.get("more_body", False):
            self.body_done = True
            if self.queued:
                try:
                    self.slot_taken = await self.guard.admission.acquire()
                except TimeoutError:
                    raise self._stop(self.guard.busy_reply(
                        f"no model was free for {settings.queue_timeout:g} s")) from None
        return message

    async def send(self, message: dict) -> None:
        if self.reply is not None:  # the guard answers instead of the app
            if message["type"] == "http.response.start" and not self.reply_sent:
                self.reply_sent = True
                await self.reply.send_to(self._send, self.cors)
            return
        if message["type"] == "http.response.start":
            self.started = True
            extra = [*self.cors, _ENGINE_STAMP]
            # Answered early (e.g. a 400): close rather than read the rest of the body.
            if self.has_body and not self.body_done:
                extra.append((b"connection", b"close"))
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        timeout = self.guard.settings.send_timeout
        try:
            async with asyncio.timeout(timeout):
                await self._send(message)
        except TimeoutError:
            self.stalled = True
            log.warning("client read nothing for %g s; closing its connection", timeout)
            raise ClientStalled(f"client read nothing for {timeout:g} s") from None

    def done(self) -> None:
        if self.slot_taken is not None:
            self.guard.admission.release(self.slot_taken)
            self.slot_taken = None
        if self.queued:
            self.guard.admission.leave()
            self.queued = False


async def _preflight(send: Any, cors: list[tuple[bytes, bytes]]) -> None:
    headers = [*cors, (b"access-control-allow-methods", _CORS_METHODS),
               (b"access-control-allow-headers", _CORS_HEADERS), (b"access-control-max-age", b"600"),
               (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
