"""Audio formats: their names, aliases, MIME types, and telling them apart from the bytes."""

from __future__ import annotations

from pathlib import Path

from .._wire.spec import MIME_TYPES
from .._wire.text import looks_like_text

__all__ = ["SOUNDFILE_FORMATS", "AV_FORMATS", "KNOWN_FORMATS", "OPUS_RATES", "normalise_format", "sniff_format",
           "guess_format", "mime_type", "unknown_format_message"]

# Formats libsndfile (soundfile) reads and writes, with its container name.
SOUNDFILE_FORMATS = {"wav": "WAV", "flac": "FLAC", "mp3": "MP3", "ogg": "OGG", "opus": "OGG"}
# Formats only FFmpeg (PyAV) handles.
AV_FORMATS = frozenset({"aac", "m4a", "mp4", "webm"})
KNOWN_FORMATS = frozenset(SOUNDFILE_FORMATS) | AV_FORMATS | {"pcm"}
_FORMAT_ALIASES = {"pcm16": "pcm", "wave": "wav", "oga": "ogg", "mpeg": "mp3", "mpga": "mp3", "weba": "webm"}
# Opus only runs at these rates; anything else is resampled before encoding.
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


def normalise_format(fmt: str | None) -> str | None:
    """The format's canonical name ('.WAV' -> 'wav', 'pcm16' -> 'pcm', 'mpga' -> 'mp3'), None for None."""
    if fmt is None:
        return None
    f = fmt.lower().lstrip(".")
    return _FORMAT_ALIASES.get(f, f)


def mime_type(fmt: str) -> str:
    """The MIME type of a format ('application/octet-stream' for one without)."""
    return MIME_TYPES.get(fmt, "application/octet-stream")


def sniff_format(data: bytes, *, strict: bool = False) -> str | None:
    """The container/codec of encoded audio bytes, from their magic numbers, or None.

    `strict` skips the MPEG/ADTS frame-sync guess (two bytes `FF Ex`), which raw PCM can match
    by chance: use it when the bytes are expected to be headerless PCM.
    """
    head = bytes(data[:64])
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "opus" if b"OpusHead" in head else "ogg"
    if head[:3] == b"ID3":
        return "mp3"
    if not strict and len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0:
        # ADTS (AAC) has layer bits 00; MPEG audio layer III has 01.
        return "aac" if (head[1] & 0x06) == 0 else "mp3"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    return None


def guess_format(data: bytes, name: str | None = None) -> str | None:
    """The format from the bytes, else raw PCM when the file name says .pcm/.raw, else None."""
    fmt = sniff_format(data)
    if fmt is None and name and Path(name).suffix.lower() in (".pcm", ".raw"):
        return "pcm"
    return fmt


def unknown_format_message(data: bytes, name: str | None) -> str:
    """Why bytes whose format nothing tells cannot be taken for audio, and what to do."""
    what = f"{name!r}" if name else "the data"
    if not data:
        return f"{what}: audio is empty (0 bytes)"
    if looks_like_text(data):
        # Raw PCM is never printable text: no format= hint here, it would send the user the wrong way.
        return (f"{what} is text, not audio; pass an audio file (wav, mp3, flac, ogg, m4a, webm) — "
                "to turn text into speech, use nbaudio.speak(text)")
    return (f"cannot tell the audio format of {what} (no WAV/FLAC/MP3/OGG/M4A/WebM header); "
            "pass format='...' if it is raw PCM, or convert it to WAV")
