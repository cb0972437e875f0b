"""The FastAPI app: `create_app(settings)` wires the engine, the guard (guard.py), error handlers
(api_errors.py) and the routes (routes/)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from ..version import __version__
from . import log_filter
from .activity import Activity, ActivityMiddleware
from .api_errors import install_error_handlers
from .engine import Admission, Engine
from .guard import Guard
from .realtime import RealtimeHub
from .realtime import router as realtime_router
from .registry import ModelRegistry
from .routes import audio, chat, meta
from .settings import Settings
from .store import AudioStore
from .warmup import Warmup

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, *, models: ModelRegistry | None = None) -> FastAPI:
    """The engine as an ASGI app. `models` lets several apps share loaded models (tests)."""
    settings = settings or Settings.from_env()
    log_filter.install()  # no key in a log line, even at debug level
    app = FastAPI(title="nbaudio local engine", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json")
    app.state.engine = Engine(settings=settings, models=models or ModelRegistry(settings),
                              store=AudioStore(settings.audio_ttl))
    app.state.admission = Admission(settings.max_concurrent, settings.max_queue, settings.queue_timeout)
    install_error_handlers(app)
    app.include_router(meta.router)
    app.include_router(audio.router)
    app.include_router(chat.router)
    app.state.realtime = RealtimeHub()  # WS /v1/realtime: its sessions and their limits
    app.include_router(realtime_router)
    app.add_middleware(Guard, settings=settings, admission=app.state.admission)
    # Started by whoever runs the server, once it listens (local.start, `nbaudio serve`).
    app.state.warmup = (Warmup(settings.api_key, local_chat=not settings.chat_upstream,
                               loaded=app.state.engine.models.loaded, tls_cert=settings.tls_cert)
                       if settings.warm_up else None)
    app.state.activity = Activity()  # idle time, for `nbaudio serve --idle-exit`
    app.add_middleware(ActivityMiddleware, activity=app.state.activity)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


_ERROR_SCHEMA = {
    "type": "object", "required": ["error"], "additionalProperties": False,
    "properties": {"error": {
        "type": "object", "required": ["message", "type", "param", "code"], "additionalProperties": False,
        "properties": {"message": {"type": "string"}, "type": {"type": "string"},
                       "param": {"type": ["string", "null"]}, "code": {"type": ["string", "null"]}}}},
}


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's description with the errors the engine really sends: OpenAI's error JSON for any
    status (FastAPI's 422 validation shape never leaves the engine)."""
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        doc = get_openapi(title=app.title, version=app.version, routes=app.routes)
        doc.setdefault("components", {}).setdefault("schemas", {})["ErrorResponse"] = _ERROR_SCHEMA
        for name in ("HTTPValidationError", "ValidationError"):
            doc["components"]["schemas"].pop(name, None)
        for operations in doc.get("paths", {}).values():
            for op in operations.values():
                op["responses"].pop("422", None)
                op["responses"]["default"] = {"description": "An error, as OpenAI sends it", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
        app.openapi_schema = doc
    return app.openapi_schema
