"""Which host names mean "this machine only": one test for the client, the engine and the CLI.

The client skips proxies for them, `nbaudio serve` listens on them without an API key, and the
engine's Host-header guard (against DNS rebinding) answers only them when bound to loopback.
"""

from __future__ import annotations

import ipaddress

__all__ = ["is_loopback_host"]


def is_loopback_host(host: str) -> bool:
    """True for `localhost` and loopback addresses (`127.x.x.x`, `::1`, also written `[::1]`), any case.

    Addresses are parsed, not matched by prefix: `127.evil.example` is a name a DNS-rebinding page
    can point anywhere, so it is not loopback.
    """
    name = host.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
