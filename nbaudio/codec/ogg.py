"""Ogg page handling: rewrite a stream's serial number so the same audio gives the same bytes.

Ogg bitstream serial numbers are random per encode; a fixed one makes re-running a notebook
leave its outputs (and the names of player files saved beside it) unchanged.
"""

from __future__ import annotations

import struct
import zlib

__all__ = ["STABLE_SERIAL", "ogg_crc", "stable_ogg"]

#: The serial number `stable_ogg` writes ("nbau").
STABLE_SERIAL = 0x6E626175
_BIT_REVERSED = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def ogg_crc(page: bytes) -> int:
    """Ogg's CRC-32 of `page` (polynomial 0x04C11DB7, unreflected, no xor) via zlib's reflected one."""
    raw = zlib.crc32(page.translate(_BIT_REVERSED), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{raw:032b}"[::-1], 2)


def stable_ogg(data: bytes, serial: int = STABLE_SERIAL) -> bytes:
    """The Ogg stream with every page's serial number set to `serial` (page CRCs recomputed).

    Returns `data` unchanged if it is not a whole Ogg stream (a truncated last page, trailing bytes).
    """
    buf = bytearray(data)
    pos = 0
    while pos + 27 <= len(buf) and buf[pos:pos + 4] == b"OggS":
        nseg = buf[pos + 26]
        size = 27 + nseg + sum(buf[pos + 27:pos + 27 + nseg])
        if pos + size > len(buf):
            return data
        # page header: serial number at byte 14, CRC at 22 (zero while the CRC is computed)
        struct.pack_into("<I", buf, pos + 14, serial)
        struct.pack_into("<I", buf, pos + 22, 0)
        struct.pack_into("<I", buf, pos + 22, ogg_crc(bytes(buf[pos:pos + size])))
        pos += size
    return bytes(buf) if pos == len(buf) else data
