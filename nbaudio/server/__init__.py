"""The embedded local engine: an OpenAI-compatible audio server on local models.

    from nbaudio.server import create_app, Settings
    app = create_app(Settings(port=8000))       # any ASGI server can run it

Most people use `nbaudio.local.start()` (in-process, background thread) or `nbaudio serve`.
Nothing heavy is imported until a model is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["create_app", "Settings"]


def create_app(settings: Settings | None = None, **kwargs: Any) -> FastAPI:
    from .app import create_app as _create_app

    return _create_app(settings, **kwargs)
