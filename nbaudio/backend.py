"""Which server a client talks to, and with which key: decided here only.

`Client` and `nbaudio doctor` both call `resolve_backend()`, so what doctor reports is what a
call will use. Order: explicit arguments, then the `NBAUDIO_*` pair, then the `OPENAI_*` pair,
then (no URL anywhere) api.openai.com when there is a key, else the embedded local engine.

The variables are read as pairs: when either `NBAUDIO_BASE_URL` or `NBAUDIO_API_KEY` is set,
the `OPENAI_*` variables are not consulted for the other one. That keeps an `OPENAI_API_KEY`
left in the environment from being sent to the relay `NBAUDIO_BASE_URL` names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["OPENAI_BASE_URL", "REMOTE_ENV", "Backend", "resolve_backend"]

OPENAI_BASE_URL = "https://api.openai.com/v1"
# The variables that point nbaudio at a remote API (the demo and the notebook tests remove them).
REMOTE_ENV = ("NBAUDIO_BASE_URL", "NBAUDIO_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_KEY")


@dataclass(frozen=True)
class Backend:
    """Where calls go. `base_url` is None for the embedded engine (started on first request)."""

    base_url: str | None
    api_key: str | None = field(repr=False)  # the caller wraps it (redaction.Secret); never printed
    url_source: str  # "argument", "NBAUDIO_BASE_URL", "OPENAI_BASE_URL", "default (a key is set)" or "none"
    key_source: str | None  # "argument", "NBAUDIO_API_KEY", "OPENAI_API_KEY" or None

    @property
    def local(self) -> bool:
        return self.base_url is None

    def describe(self) -> str:
        """One line for people; never shows the key."""
        key = f"key from {self.key_source}" if self.key_source else "no key"
        if self.local:
            return ("the embedded local engine, started on first use (no remote API configured: set "
                    "NBAUDIO_BASE_URL and NBAUDIO_API_KEY to use one)")
        return f"{self.base_url} (URL from {self.url_source}; {key})"

    def __repr__(self) -> str:
        return f"<Backend {self.base_url or 'local engine'} url from {self.url_source}, key from {self.key_source}>"


def _env(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value if value and value.strip() else None


def resolve_backend(base_url: str | None = None, api_key: str | None = None,
                    env: Mapping[str, str] | None = None) -> Backend:
    """The backend for these arguments and this environment (`os.environ` unless given)."""
    env = os.environ if env is None else env
    prefix = "NBAUDIO" if (_env(env, "NBAUDIO_BASE_URL") or _env(env, "NBAUDIO_API_KEY")) else "OPENAI"
    key_source: str | None = "argument" if api_key is not None else None
    if api_key is None and _env(env, f"{prefix}_API_KEY"):
        api_key, key_source = env[f"{prefix}_API_KEY"], f"{prefix}_API_KEY"
    url_source = "argument" if base_url is not None else "none"
    if base_url is None and _env(env, f"{prefix}_BASE_URL"):
        base_url, url_source = env[f"{prefix}_BASE_URL"].strip(), f"{prefix}_BASE_URL"
    if base_url is None and api_key:
        base_url, url_source = OPENAI_BASE_URL, "default (a key is set)"
    return Backend(base_url, api_key, url_source, key_source)
