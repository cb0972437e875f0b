"""API keys typed into notebook cells.

A cell's text is saved in the notebook file and in IPython's history database, so a key typed
into a cell outlives the session and travels with the notebook. `%load_ext nbaudio` installs a
`pre_run_cell` check: a cell whose text holds an OpenAI-style key (`sk-...`, `sk-proj-...`) or
the exact key nbaudio is configured with gets a warning (once per key per session) that says
where the key now is and what to do instead. The warning never shows the key, and nothing
nbaudio prints, displays or raises contains it (`Client.redact`). The cell still runs: the
check only reads the text (one regular expression, so cells do not slow down).

`%voice config api_key=...` goes further and refuses a key typed literally (nbaudio.magic.config).
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Callable, Iterable
from typing import Any

from ..client import Client, peek_default_client

__all__ = ["KEY_LITERAL", "LOGIN_HINT", "KeyGuard", "configured_keys", "find_keys", "install"]

# OpenAI's key shapes: sk-..., sk-proj-..., sk-svcacct-..., sk-admin-...; relays copy them. Twenty
# or more key characters, so placeholders such as "sk-your-key-here" do not count.
KEY_LITERAL = re.compile(r"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{20,}")
_MIN_KNOWN_KEY = 8  # shorter configured "keys" (e.g. "test") would match ordinary text

LOGIN_HINT = ("run `%voice login` (asks for the key without echo), or set it from a prompt: "
              "`os.environ['NBAUDIO_API_KEY'] = getpass.getpass()`, or export NBAUDIO_API_KEY before "
              "starting Jupyter")
WARNING = ("nbaudio: this cell contains what looks like an API key. A cell's text is saved in the notebook "
           "and in IPython's history, so the key is now in both: delete it from the cell (and replace the key "
           "if the notebook has been shared). Instead, " + LOGIN_HINT + ".")


def find_keys(text: str, known: Iterable[str | None] = ()) -> list[str]:
    """The API keys written in `text`: OpenAI-style literals and any of the `known` keys."""
    found = KEY_LITERAL.findall(text) if "sk-" in text else []
    found.extend(k for k in known if k and len(k) >= _MIN_KNOWN_KEY and k in text and k not in found)
    return found


def _digest(key: str) -> str:
    # Remember which keys were warned about without keeping the keys themselves.
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class KeyGuard:
    """The `pre_run_cell` check. `known()` returns the keys nbaudio is configured with now."""

    def __init__(self, known: Callable[[], Iterable[str | None]]) -> None:
        self._known = known
        self._warned: set[str] = set()

    def pre_run_cell(self, info: Any) -> None:
        source = getattr(info, "raw_cell", None) or ""
        keys = find_keys(source, self._known())
        fresh = {_digest(k) for k in keys} - self._warned
        if fresh:
            self._warned |= fresh
            print(WARNING, file=sys.stderr)


def configured_keys(*clients: Client | None) -> list[str | None]:
    """Keys nbaudio may send: the environment's, the default client's (if one was made) and `clients`'."""
    keys = [os.environ.get("NBAUDIO_API_KEY"), os.environ.get("OPENAI_API_KEY")]
    keys.extend(client.api_key.get() for client in (peek_default_client(), *clients) if client is not None)
    return keys


def _no_client() -> Client | None:
    return None


def install(shell: Any, own_client: Callable[[], Client | None] = _no_client) -> KeyGuard:
    """Register the check on `shell` (replacing one registered before, so loading twice warns once).

    `own_client()` returns the client the magics use instead of the default one, if any; the
    check reads its key too (without creating a client)."""
    for callback in list(shell.events.callbacks.get("pre_run_cell", [])):
        if isinstance(getattr(callback, "__self__", None), KeyGuard):
            shell.events.unregister("pre_run_cell", callback)
    guard = KeyGuard(lambda: configured_keys(own_client()))
    shell.events.register("pre_run_cell", guard.pre_run_cell)
    return guard
