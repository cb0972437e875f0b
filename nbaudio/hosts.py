"""Which host names mean "this machine only": one test for the client, the engine and the CLI.

The client skips proxies for them, `nbaudio serve` listens on them without an API key, and the
engine's Host-header guard (against DNS rebinding) answers only them when bound to loopback.
"""

from __future__ import annotations

__all__ = ["is_loopback_host"]

_LOOPBACK_NAMES = frozenset({"localhost", "::1"})


def is_loopback_host(host: str) -> bool:
    """True for `localhost`, `127.x.x.x` and `::1` (also written `[::1]`), in any letter case."""
    name = host.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    return name in _LOOPBACK_NAMES or name.startswith("127.")
