"""The embedded engine in this process: `start()` for tests and notebooks, `default_base_url()` for the client.

    with nbaudio.local.start() as server:          # free loopback port, background thread
        client = nbaudio.Client(server.base_url)

Importing this module starts nothing and imports nothing heavy.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .errors import InvalidInputError, MissingDependencyError
from .server.catalog.packages import ENGINE_MODULES, INSTALL_LOCAL  # facts only: the package list and its install line

if TYPE_CHECKING:
    from .server.settings import Settings

__all__ = ["LocalServer", "start", "default_base_url", "default_connection", "missing_local_parts",
           "missing_parts_message", "DefaultEngine", "default_engine", "ENGINE_MODE_ENV"]

_NOT_INSTALLED = ("No remote API is configured and the embedded local engine is not installed. "
                  "Either set NBAUDIO_BASE_URL and NBAUDIO_API_KEY to use a remote OpenAI-compatible API, "
                  f"or install the engine: {INSTALL_LOCAL}")


def missing_local_parts() -> list[str]:
    """Import names of the engine's modules that are not installed (empty when it can run)."""
    return [m for m in ENGINE_MODULES if importlib.util.find_spec(m) is None]


def missing_parts_message(missing: list[str]) -> str:
    """What to tell someone whose engine lacks `missing` (from `missing_local_parts`)."""
    return f"the local engine needs {', '.join(missing)}: {INSTALL_LOCAL}"


class LocalServer:
    """A running engine: `base_url` (ends in /v1), `stop()`, usable as a context manager."""

    def __init__(self, server: Any, thread: threading.Thread, host: str, port: int, app: Any) -> None:
        self._server = server
        self._thread = thread
        self.host = host
        self.port = port
        self.app = app

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.settings.scheme}://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    @property
    def settings(self) -> Settings:
        return self.app.state.engine.settings

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<LocalServer {self.base_url} {'running' if self.running else 'stopped'}>"


def start(port: int | None = None, *, host: str = "127.0.0.1", models: Any = None, timeout: float = 30.0,
          **settings: Any) -> LocalServer:
    """Start the engine on a background thread and return once it accepts connections.

    `port=None` picks a free port. Other keyword arguments are engine settings
    (`nbaudio.server.Settings`: api_key, chat_upstream, llm_model, audio_ttl, ...); `tls_cert=` and
    `tls_key=` (PEM files) make it serve https:// and wss:// (its clients must trust the certificate:
    README, "TLS").
    """
    missing = missing_local_parts()
    if missing:
        raise MissingDependencyError(missing_parts_message(missing))
    import uvicorn

    from .server.app import create_app
    from .server.settings import Settings
    from .server.tls import uvicorn_tls_options

    Settings.from_env(host=host, port=port or 0, **settings)  # bad settings raise before a socket is open
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port or 0))  # binding here (port 0 = free port) leaves no race with other processes
    real_port = sock.getsockname()[1]
    cfg = Settings.from_env(host=host, port=real_port, **settings)
    app = create_app(cfg, models=models)
    # Idle keep-alive connections are closed after 5 s; body and send timeouts are the engine's own.
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False, timeout_graceful_shutdown=2,
                            timeout_keep_alive=5, **uvicorn_tls_options(cfg.tls_cert, cfg.tls_key))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"nbaudio-engine-{real_port}",
                              daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the local engine did not start on {host}:{real_port}")
        time.sleep(0.02)
    local = LocalServer(server, thread, host, real_port, app)
    if app.state.warmup is not None:
        app.state.warmup.start(local.base_url)
    return local


ENGINE_MODE_ENV = "NBAUDIO_ENGINE"  # "shared" (default): one engine per machine; "kernel": one per process


class DefaultEngine:
    """The engine for clients that name no API: by default the machine's shared engine
    (nbaudio.shared_engine: started by the first kernel that needs it, found by the others), or
    with NBAUDIO_ENGINE=kernel an engine in this process. Started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.server: LocalServer | None = None
        self._shared: Any = None  # shared_engine.Endpoint in use
        self._told = False

    def connection(self) -> tuple[str, str | None]:
        """(base URL, API key or None) of a running engine, started now if none runs (thread-safe)."""
        with self._lock:
            if missing_local_parts():
                raise MissingDependencyError(_NOT_INSTALLED)
            if _shared_mode():
                from . import shared_engine

                if self._shared is None or shared_engine.running() != self._shared:
                    self._shared = shared_engine.connect()
                    self._tell(self._shared.base_url)
                return self._shared.base_url, self._shared.api_key
            if self.server is None or not self.server.running:
                self.server = start()
                self._tell(self.server.base_url)
            return self.server.base_url, None

    def base_url(self) -> str:
        return self.connection()[0]

    def _tell(self, base_url: str) -> None:
        if self._told:
            return
        self._told = True
        # host:port, not the URL: a notebook makes a URL a link, and the API root is no page. The same
        # words whether the engine is shared or the kernel's own (a saved notebook reads the same).
        print(f"nbaudio: no remote API configured, so using the embedded local engine on {urlsplit(base_url).netloc} "
              "(set NBAUDIO_BASE_URL and NBAUDIO_API_KEY to use a remote API instead)")

    def stop(self) -> None:
        """Stop this process's own engine if it runs (a shared one is left to the other kernels)."""
        with self._lock:
            if self.server is not None:
                self.server.stop()
                self.server = None
            self._shared = None


def _shared_mode() -> bool:
    mode = os.environ.get(ENGINE_MODE_ENV, "shared").strip().lower() or "shared"
    if mode not in ("shared", "kernel"):
        raise InvalidInputError(f"{ENGINE_MODE_ENV}={mode!r}: use 'shared' (one engine per machine) or 'kernel'")
    return mode == "shared" and sys.platform != "win32"  # the shared engine's lock is POSIX flock


default_engine = DefaultEngine()


def default_connection() -> tuple[str, str | None]:
    """(base URL, API key or None) of the engine for clients that name no API (`default_engine`)."""
    return default_engine.connection()


def default_base_url() -> str:
    """The base URL of this process's embedded engine (`default_engine`), started on first call.

    The client calls this when no remote API is configured.
    """
    return default_engine.base_url()
