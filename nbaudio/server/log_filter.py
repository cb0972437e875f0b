"""No credential in the engine's logs: at debug level uvicorn's WebSocket handshake log writes
every request header, `Authorization: Bearer <key>` and the `openai-insecure-api-key.<key>`
subprotocol a browser sends included, whether the key is the engine's or a wrong one (some other
secret of the client's). `install()` blanks them on the loggers the engine's records go through.
"""

from __future__ import annotations

import logging
import re

from .._wire.realtime import KEY_SUBPROTOCOL_PREFIX

__all__ = ["CredentialFilter", "install", "LOGGERS"]

LOGGERS = ("uvicorn.error", "uvicorn.access", "nbaudio.server")
_CREDENTIAL = re.compile(rf"(?i)(bearer\s+|{re.escape(KEY_SUBPROTOCOL_PREFIX)}|[?&]api[_-]?key=)[^\s,;&\"']+")


class CredentialFilter(logging.Filter):
    """Rewrites a record whose message holds a bearer token or a key subprotocol, with `***` for the key."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        blanked = _CREDENTIAL.sub(r"\1***", message)
        if blanked != message:
            record.msg, record.args = blanked, ()
        return True


def install() -> None:
    """Add the filter to the engine's loggers, once (every app calls it; uvicorn's logging config keeps it)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, CredentialFilter) for f in logger.filters):
            logger.addFilter(CredentialFilter())
