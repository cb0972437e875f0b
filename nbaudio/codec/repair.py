"""Repairs of headers that are wrong in ways libsndfile refuses: WAV sizes left unknown by a
streaming server, and FLAC lengths left unknown by an encoder writing to a pipe. Also `wav_info`,
the facts a WAV header states, read without decoding (for cheap reprs).
"""

from __future__ import annotations

import struct

from .samples import whole_pcm16_length

__all__ = ["STREAMING_SIZE", "repair_streaming_wav", "wav_info", "flac_declared_total", "flac_with_known_length"]

# The RIFF and data sizes of a WAV whose length was unknown when its header was sent (OpenAI's
# streams; the relay example starts `UklGRv////9XQVZF`).
STREAMING_SIZE = 0xFFFFFFFF


def repair_streaming_wav(data: bytes) -> bytes:
    """Set RIFF/data chunk sizes that streaming servers leave as 0xFFFFFFFF (or too large).

    The data size is cut to whole 16-bit samples (the last odd byte of a cut stream is dropped)."""
    if len(data) < 12:
        return data
    riff_size = struct.unpack_from("<I", data, 4)[0]
    buf = None
    if riff_size != len(data) - 8:
        buf = bytearray(data)
        struct.pack_into("<I", buf, 4, len(data) - 8)
    pos = 12
    while pos + 8 <= len(data):
        cid = data[pos : pos + 4]
        size = struct.unpack_from("<I", data, pos + 4)[0]
        if cid == b"data":
            real = len(data) - pos - 8
            if size == STREAMING_SIZE or size > real:
                buf = buf if buf is not None else bytearray(data)
                struct.pack_into("<I", buf, pos + 4, whole_pcm16_length(real))
            break
        pos += 8 + size + (size & 1)
    return bytes(buf) if buf is not None else data


def wav_info(data: bytes) -> tuple[int, int, int] | None:
    """(sample rate, channels, frames) as the header of a (repaired) WAV states them, or None when
    the header does not state them plainly."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        cid = data[pos : pos + 4]
        size = struct.unpack_from("<I", data, pos + 4)[0]
        if cid == b"fmt " and size >= 16 and pos + 24 <= len(data):
            channels, rate = struct.unpack_from("<HI", data, pos + 10)
            block = struct.unpack_from("<H", data, pos + 20)[0]
            fmt = (rate, channels, block)
        elif cid == b"data":
            if fmt is None or not all(fmt):
                return None
            rate, channels, block = fmt
            return rate, channels, min(size, len(data) - pos - 8) // block
        pos += 8 + size + (size & 1)
    return None


def _crc_table(poly: int, bits: int) -> tuple[int, ...]:
    top, mask = 1 << (bits - 1), (1 << bits) - 1
    table = []
    for byte in range(256):
        crc = byte << (bits - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly) & mask if crc & top else (crc << 1) & mask
        table.append(crc)
    return tuple(table)


_FLAC_CRC8 = _crc_table(0x07, 8)  # frame header
_FLAC_CRC16 = _crc_table(0x8005, 16)  # whole frame
_FLAC_TOTAL_MASK = (1 << 36) - 1
# The last frame of a FLAC is this close to its end (a frame of 65535 samples of 8 channels of
# 32-bit audio stored verbatim is 2 MB).
_FLAC_LAST_FRAME_WINDOW = 2 * 1024 * 1024 + 1024


def flac_declared_total(data: bytes) -> int | None:
    """STREAMINFO's total_samples (0 means unknown), or None when the bytes do not start with one."""
    if len(data) < 42 or data[:4] != b"fLaC" or data[4] & 0x7F != 0 or int.from_bytes(data[5:8], "big") != 34:
        return None
    return int.from_bytes(data[18:26], "big") & _FLAC_TOTAL_MASK


def _flac_frame_header(head: bytes) -> tuple[int, int, int] | None:
    """(frame or sample number, block size, channels) of a FLAC frame header at the start of
    `head` whose fields are valid and whose CRC-8 checks, else None."""
    if len(head) < 6 or head[1] not in (0xF8, 0xF9) or head[3] & 1:
        return None
    block_code, rate_code, channel_code = head[2] >> 4, head[2] & 0x0F, head[3] >> 4
    if block_code == 0 or rate_code == 15 or channel_code > 10:
        return None
    # The frame (or sample) number, coded like UTF-8: the count of leading 1 bits of the first
    # byte is the length (none: one byte), up to 7 bytes for 36 bits.
    first = head[4]
    ones = 8 - (first ^ 0xFF).bit_length()
    length = max(1, ones)
    tail = head[5 : 4 + length]
    # A continuation byte (10xxxxxx) or 0xFF cannot lead; the rest must all be continuation bytes.
    if ones in (1, 8) or len(head) < 4 + length or any(b & 0xC0 != 0x80 for b in tail):
        return None
    number = first & (0xFF >> (ones + 1))
    for b in tail:
        number = number << 6 | (b & 0x3F)
    q = 4 + length
    if block_code == 1:
        block = 192
    elif block_code <= 5:
        block = 576 << (block_code - 2)
    elif block_code in (6, 7):
        size = 1 if block_code == 6 else 2
        if len(head) < q + size:
            return None
        block = int.from_bytes(head[q : q + size], "big") + 1
        q += size
    else:
        block = 256 << (block_code - 8)
    q += {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
    if len(head) <= q:
        return None
    crc = 0
    for b in head[:q]:
        crc = _FLAC_CRC8[crc ^ b]
    if crc != head[q]:
        return None
    return number, block, channel_code + 1 if channel_code < 8 else 2


def _flac_last_frame_end(data: bytes, audio_start: int, fixed_block: int) -> int | None:
    """The number of samples up to the end of the frame that ends exactly at the end of `data`
    (its header CRC-8 and whole-frame CRC-16 both check, so a sync pattern inside audio data is not
    taken for it), or None when there is no such frame."""
    end = len(data)
    lo = max(audio_start, end - _FLAC_LAST_FRAME_WINDOW)
    hi = end - 2
    checks = 0  # whole-frame CRCs computed: bounded, so crafted bytes cannot make this slow
    while checks < 8:
        p = data.rfind(b"\xff", lo, hi)
        if p < 0:
            return None
        hi = p
        header = _flac_frame_header(data[p : p + 16])
        if header is None:
            continue
        number, block, channels = header
        if end - p > block * channels * 4 + 1024:  # more bytes than a frame of this size can hold
            continue
        checks += 1
        crc = 0
        for b in data[p : end - 2]:
            crc = ((crc << 8) & 0xFFFF) ^ _FLAC_CRC16[(crc >> 8) ^ b]
        if crc != int.from_bytes(data[end - 2 :], "big"):
            continue
        # Blocking strategy bit: 1 = variable block sizes (the number is the first sample's),
        # 0 = fixed (the number counts frames of the stream's block size).
        start = number if data[p + 1] & 1 else number * fixed_block
        return start + block
    return None


def flac_with_known_length(data: bytes) -> bytes | None:
    """A FLAC that declares an unknown length (STREAMINFO total_samples 0, what an encoder writing to
    a pipe leaves, e.g. `ffmpeg -f flac -`: it cannot seek back to fill it in) with the real length
    set from its last frame; None when that frame is not intact at the end (a cut-off stream).

    libsndfile decodes such a file's frames but needs the exact length: with 0, or any other wrong
    number, its seek to the end fails ("Internal psf_fseek() failed"), measured with 1.2.2.
    """
    if flac_declared_total(data) != 0:
        return None
    pos = 4
    while True:  # metadata blocks, STREAMINFO first; the last has the top bit of its type set
        if pos + 4 > len(data):
            return None
        last, length = data[pos] & 0x80, int.from_bytes(data[pos + 1 : pos + 4], "big")
        pos += 4 + length
        if last:
            break
    fixed_block = int.from_bytes(data[10:12], "big")  # max block size = every block's but the last when fixed
    total = _flac_last_frame_end(data, pos, fixed_block)
    if total is None or not 0 < total <= _FLAC_TOTAL_MASK:
        return None
    buf = bytearray(data)
    packed = (int.from_bytes(buf[18:26], "big") & ~_FLAC_TOTAL_MASK) | total
    buf[18:26] = packed.to_bytes(8, "big")
    return bytes(buf)
