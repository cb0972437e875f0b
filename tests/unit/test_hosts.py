"""The one loopback test shared by the client (proxies), `nbaudio serve` (key needed) and the Host guard."""

import pytest

from nbaudio._wire.hosts import is_loopback_host


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "::1", "[::1]", " 127.0.0.1 "])
def test_loopback_names(host):
    assert is_loopback_host(host)


@pytest.mark.parametrize("host", ["127.evil.example", "127.0.0.1.nip.io", "0.0.0.0", "10.0.0.1", "example.com", "",
                                  "localhost.example.com", "[::2]"])
def test_names_that_are_not_loopback(host):
    assert not is_loopback_host(host)
