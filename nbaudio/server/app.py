"""The FastAPI app: `create_app(settings)` wires state, guards, error handlers and routes.

Guards, in order, before any route runs (a small ASGI middleware, so streamed responses are
untouched):
- Host header: when bound to loopback, only loopback names (and `allowed_hosts`) are served,
  which stops DNS-rebinding pages in a browser from talking to the engine.
- API key: when one is set, `Authorization: Bearer <key>` is compared in constant time.
- Body size: a declared Content-Length over the cap gets 413 (after the body is drained, so
  the client reads the answer instead of a reset connection).
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from ..errors import error_payload
from .api_errors import install_error_handlers
from .models import ModelRegistry
from .settings import LOOPBACK_HOSTS, Settings
from .store import AudioStore

__all__ = ["create_app", "Engine"]

log = logging.getLogger("nbaudio.server")

# Multipart framing and small form fields on top of the file itself.
_MULTIPART_SLACK = 1 << 20


@dataclass
class Engine:
    """What routes share: settings, the models, the audio id store."""

    settings: Settings
    models: ModelRegistry
    store: AudioStore
    started: float = field(default_factory=time.time)


class _Guard:
    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._key = settings.api_key.encode("utf-8") if settings.api_key else None
        self._hosts = {h.lower() for h in (*LOOPBACK_HOSTS, settings.host, *settings.allowed_hosts)}
        json_cap = settings.max_upload_bytes * 4 // 3 + _MULTIPART_SLACK  # base64 input_audio in chat
        self._caps = {
            "/v1/audio/transcriptions": settings.max_upload_bytes + _MULTIPART_SLACK,
            "/v1/audio/translations": settings.max_upload_bytes + _MULTIPART_SLACK,
        }
        self._default_cap = json_cap

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        if self.settings.is_loopback and not self._host_ok(headers.get("host", "")):
            await self._reply(send, 403, "Host header not allowed: the local engine only answers requests "
                                         "addressed to localhost / 127.0.0.1 (start it with allowed_hosts=... to add names).")
            return
        if self._key is not None and scope.get("path") != "/health":
            given = headers.get("authorization", "")
            token = given[7:].strip() if given[:7].lower() == "bearer " else ""
            if not hmac.compare_digest(token.encode("utf-8"), self._key):
                msg = ("You didn't provide an API key. Send it as 'Authorization: Bearer <key>'." if not token
                       else "Incorrect API key provided.")
                await self._reply(send, 401, msg, code="invalid_api_key",
                                  extra_headers=[(b"www-authenticate", b"Bearer")])
                return
        length = headers.get("content-length")
        cap = self._caps.get(scope.get("path", ""), self._default_cap)
        if length is not None and length.isdigit() and int(length) > cap:
            await _drain(receive)
            await self._reply(send, 413, f"Request too large: {int(length)} bytes; audio uploads are limited to "
                                         f"{self.settings.max_upload_bytes // (1024 * 1024)} MB. Split the audio or "
                                         "compress it (e.g. mp3) first.", code="request_too_large")
            return
        await self.app(scope, receive, send)

    def _host_ok(self, host: str) -> bool:
        host = host.strip().lower()
        if host.startswith("["):  # [::1]:8000
            name = host.split("]")[0] + "]"
        else:
            name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        return name in self._hosts or name.startswith("127.")

    @staticmethod
    async def _reply(send: Any, status: int, message: str, *, code: str | None = None,
                     extra_headers: list[tuple[bytes, bytes]] | None = None) -> None:
        body = json.dumps(error_payload(message, status_code=status, code=code)).encode("utf-8")
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers + (extra_headers or [])})
        await send({"type": "http.response.body", "body": body})


async def _drain(receive: Any) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


def create_app(settings: Settings | None = None, *, models: ModelRegistry | None = None) -> FastAPI:
    """The engine as an ASGI app. `models` lets several apps share loaded models (tests)."""
    from .routes_audio import router as audio_router
    from .routes_chat import router as chat_router
    from .routes_meta import router as meta_router

    settings = settings or Settings.from_env()
    app = FastAPI(title="nbaudio local engine", version="0.1.0", docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json")
    app.state.engine = Engine(settings=settings, models=models or ModelRegistry(settings),
                              store=AudioStore(settings.audio_ttl))
    install_error_handlers(app)
    app.include_router(meta_router)
    app.include_router(audio_router)
    app.include_router(chat_router)
    app.add_middleware(_Guard, settings=settings)
    return app
