"""Where a Realtime session connects and how a failed connection is told: the WebSocket URL from
the client's base URL (http -> ws, https -> wss, or an explicit `websocket_base_url`), the key in
the Authorization header only, and handshake failures as the exception tree's classes."""

from __future__ import annotations

import functools
import logging
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from .._http.transport import ca_bundle
from .._wire.error_bodies import make_status_error
from .._wire.hosts import is_loopback_host
from .._wire.realtime import close_meaning
from ..errors import (
    APIConnectionError,
    APITimeoutError,
    InvalidInputError,
    MissingDependencyError,
    RealtimeClosedError,
    connection_reason,
)
from ..version import __version__

__all__ = ["INTENTS", "check_intent", "websocket_url", "open_websocket", "asyncio_connect", "connect_options",
           "handshake_error", "require_websockets", "closed_error", "DEFAULT_MAX_MESSAGE_BYTES"]

# Server events can carry seconds of base64 audio; OpenAI's own are well under this.
DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
_INSTALL = "the Realtime client needs the `websockets` package: pip install 'websockets>=13'"


INTENTS = (None, "transcription")


def check_intent(intent: object) -> None:
    if intent not in INTENTS:
        raise InvalidInputError(f"intent= is None (a conversation) or 'transcription', not {intent!r}.",
                                param="intent")


def websocket_url(base_url: str, model: str, websocket_base_url: str | None = None, intent: str | None = None) -> str:
    """`<ws(s) base>/realtime?model=...` for an API root such as https://api.openai.com/v1
    (`&intent=transcription` for a transcription session)."""
    check_intent(intent)
    if not isinstance(model, str) or not model.strip():
        raise InvalidInputError("model= is required for a Realtime session (e.g. 'gpt-realtime').", param="model")
    root = websocket_base_url or base_url
    parts = urlsplit(root.strip())
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise InvalidInputError(f"Cannot make a WebSocket URL from {_safe(root)!r}: expected http(s):// or ws(s):// "
                                "with a host.", param="websocket_base_url" if websocket_base_url else "base_url")
    path = parts.path.rstrip("/") + "/realtime"
    query = f"model={quote(model.strip(), safe='')}" + (f"&intent={intent}" if intent else "")
    return urlunsplit((scheme, parts.netloc, path, query, ""))


def _safe(url: str) -> str:
    """A URL without credentials or query (for messages)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, host + port, parts.path, "", ""))


class _RedactingLogger(logging.LoggerAdapter):
    """websockets' logger with the key taken out: at DEBUG it logs every handshake header,
    Authorization included."""

    def __init__(self, redact: Any) -> None:
        super().__init__(logging.getLogger("websockets.client"), {})
        self._redact = redact

    def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
        if self.isEnabledFor(level):
            text = str(msg) % args if args else str(msg)
            kwargs.pop("stacklevel", None)
            self.logger.log(level, "%s", self._redact(text), **kwargs)


def connect_options(url: str, api_key: str | None, *, timeout: float, ping_interval: float | None,
                    redact: Any) -> dict[str, Any]:
    """Keyword arguments for websockets' `connect` (sync or asyncio): the key in the header, a
    redacting logger, pings, no proxy for loopback hosts, and for wss:// the CA bundle the HTTP
    client trusts (`_tls_context`)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return {"additional_headers": {"Authorization": f"Bearer {api_key}"} if api_key else {},
            **_tls_context(parts.scheme),
            "open_timeout": timeout, "ping_interval": ping_interval, "ping_timeout": ping_interval,
            "max_size": DEFAULT_MAX_MESSAGE_BYTES, "close_timeout": 5, "user_agent_header": f"nbaudio/{__version__}",
            "logger": _RedactingLogger(redact), **({"proxy": None} if is_loopback_host(host) else {})}


def _tls_context(scheme: str) -> dict[str, Any]:
    """websockets' `ssl=` for wss:// when REQUESTS_CA_BUNDLE (or CURL_CA_BUNDLE) names the CAs to
    trust: the same ones nbaudio's HTTP requests trust, so one setting serves both (an engine with a
    self-signed certificate). Without it websockets trusts the system's CAs (and SSL_CERT_FILE)."""
    bundle = ca_bundle() if scheme.lower() == "wss" else None
    if bundle is None:
        return {}
    import ssl

    try:
        return {"ssl": ssl.create_default_context(cafile=bundle)}
    except (OSError, ssl.SSLError) as exc:
        raise InvalidInputError(f"the CA bundle {bundle} (REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE) cannot be loaded: "
                                f"{getattr(exc, 'strerror', None) or exc}").with_hint(
            "point it at a PEM file of the certificates to trust, or unset it") from None


def handshake_error(exc: BaseException, url: str, timeout: float, redact: Any) -> Exception | None:
    """The nbaudio error for a failed WebSocket opening (None: not an opening failure)."""
    from websockets.exceptions import InvalidHandshake, InvalidStatus

    if isinstance(exc, InvalidStatus) and 300 <= exc.response.status_code < 400:
        where = exc.response.headers.get("Location") or "another address"
        return APIConnectionError(
            f"the Realtime WebSocket upgrade at {_safe(url)} was redirected ({exc.response.status_code}) to "
            f"{_safe(where)}; nbaudio does not follow it, so your key is not sent to another address"
        ).with_hint("if that address is right, pass it as websocket_base_url=")
    if isinstance(exc, InvalidStatus):
        response = exc.response
        body = redact(bytes(response.body or b"").decode("utf-8", "replace"))
        first = {name: (response.headers.get_all(name) or [None])[0] for name in ("Content-Type", "x-request-id")}
        err = make_status_error(response.status_code, body, content_type=first["Content-Type"] or "",
                                request_id=first["x-request-id"])
        err.message = f"the Realtime WebSocket upgrade at {_safe(url)} was refused: {err.message}"
        return err
    if isinstance(exc, TimeoutError):
        return APITimeoutError(f"the Realtime WebSocket at {_safe(url)} did not open within {timeout:g} s")
    if isinstance(exc, InvalidHandshake):
        return APIConnectionError(f"the Realtime WebSocket handshake with {_safe(url)} failed: "
                                  f"{redact(str(exc))[:200]}")
    if isinstance(exc, OSError):
        return APIConnectionError(f"could not connect to {_safe(url)}: {connection_reason(exc)}")
    return None


@functools.cache
def _without_redirects(connecter: type) -> type:
    """websockets' `connecter` class, made not to follow redirects: it would send the Authorization
    header to whatever host a redirect names. One subclass per websockets class, made once."""

    class NoRedirects(connecter):
        def process_redirect(self, exc: Exception) -> Exception:
            return exc  # handshake_error says where it pointed

    return NoRedirects


def asyncio_connect() -> Any:
    """websockets' asyncio `connect`, not following redirects (`_without_redirects`)."""
    from websockets.asyncio.client import connect

    return _without_redirects(connect)


def require_websockets() -> None:
    try:
        import websockets  # noqa: F401
    except ImportError:
        raise MissingDependencyError(_INSTALL) from None


def open_websocket(url: str, api_key: str | None, *, timeout: float, ping_interval: float | None,
                   redact: Any = str) -> Any:
    """A connected `websockets.sync.client.ClientConnection`, or the exception saying why not."""
    require_websockets()
    try:
        return _sync_connect(url, **connect_options(url, api_key, timeout=timeout, ping_interval=ping_interval,
                                                    redact=redact))
    except Exception as exc:
        err = handshake_error(exc, url, timeout, redact)
        if err is None:
            raise
        raise err from None


def _sync_connect(url: str, **options: Any) -> Any:
    """websockets' sync connect, made not to follow redirects (>= 16 follows them, as the asyncio
    client does; 15 never did) and kept open by us, not by a `with` block."""
    from websockets.sync import client

    connecter = getattr(client, "reconnect", None)
    if connecter is None or not hasattr(connecter, "process_redirect"):  # websockets 15: no redirects
        return client.connect(url, **options)

    connection = _without_redirects(connecter)(url, **options).connect()
    connection.pending_legacy_warning = False  # closed by the session, not by a `with` block (17.1+)
    return connection


def closed_error(exc: Any, where: str, redact: Any = str) -> RealtimeClosedError:
    """The RealtimeClosedError for a websockets ConnectionClosed: its close code and what it means."""
    frame = getattr(exc, "rcvd", None) or getattr(exc, "sent", None)
    code = frame.code if frame is not None else None
    reason = redact(frame.reason) if frame is not None else ""
    meaning = close_meaning(code)
    said = f" ({reason})" if reason else ""
    return RealtimeClosedError(f"the Realtime session at {where} closed with code {code if code else 'none'}"
                               f"{said}: {meaning}", close_code=code, reason=reason, meaning=meaning)
