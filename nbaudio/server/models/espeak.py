"""espeak-ng speech for languages the piper voice cannot speak, from a wheel (no system package).

The library and its language data come from the `espeakng-loader` wheel (part of `[local]`):
libespeak-ng 1.52 built for manylinux/macOS/Windows with `espeak-ng-data` beside it. No Python
package wraps espeak-ng's *synthesis* API around that library (phonemizer, misaki and kokoro use
it for phonemes only; `espeakng` and `py-espeak-ng` run the `espeak-ng` program, which needs
apt), so this module declares the five C functions it calls with ctypes. Why not piper-tts's own
bundled espeak-ng: piper links it statically and exposes only phonemisation, not audio.

espeak-ng keeps one global synthesizer per process, so every call holds `_LOCK`. The library is
loaded on first use, never at import.
"""

from __future__ import annotations

import ctypes
import functools
import threading
from typing import Any

import numpy as np

from ..catalog.packages import INSTALL_LOCAL

__all__ = ["available", "voices", "voice_for", "synthesize", "sample_rate", "library_origin", "EspeakError"]

# espeak_AUDIO_OUTPUT: AUDIO_OUTPUT_SYNCHRONOUS = 2 (samples handed to the callback, no sound device).
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_ESPEAK_RATE_PARAM = 1  # espeak_PARAMETER espeakRATE: words per minute
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EE_OK = 0
_ALIASES = {"zh": "cmn", "no": "nb", "fr": "fr-fr"}

_LOCK = threading.Lock()
# int callback(short *wav, int numsamples, espeak_EVENT *events); return 0 to go on.
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class EspeakError(RuntimeError):
    """espeak-ng is missing or failed."""


class _Voice(ctypes.Structure):
    # espeak_VOICE from speak_lib.h; `languages` is (priority byte, NUL-terminated name)* then a 0 byte.
    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_void_p), ("identifier", ctypes.c_char_p),
                ("gender", ctypes.c_ubyte), ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte),
                ("xx1", ctypes.c_ubyte), ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]


class _Library:
    """libespeak-ng, initialised once for synchronous synthesis."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:
            raise EspeakError(f"the espeakng-loader package is not installed: {INSTALL_LOCAL}") from exc
        self.path = espeakng_loader.get_library_path()
        self.lib = ctypes.CDLL(self.path)
        lib = self.lib
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByProperties.argtypes = [ctypes.POINTER(_Voice)]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        # The folder that holds espeak-ng-data/ (the loader's package folder).
        data_parent = espeakng_loader.get_data_path().rsplit("/espeak-ng-data", 1)[0]
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_parent.encode(), 0)
        if rate <= 0:
            raise EspeakError(f"libespeak-ng could not start (data in {data_parent})")
        self.sample_rate = int(rate)
        self._chunks: list[np.ndarray] = []
        # Kept on self: ctypes must not free the callback while the library can call it.
        self._callback = _CALLBACK(self._collect)
        lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav: Any, count: int, _events: Any) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    def voices(self) -> dict[str, str]:
        out: dict[str, str] = {}
        table = self.lib.espeak_ListVoices(None)
        i = 0
        while table[i]:
            v = table[i].contents
            name = (v.name or b"").decode("utf-8", "replace")
            # the first language of the voice: skip its priority byte
            lang = ctypes.string_at(v.languages + 1).decode("ascii", "replace") if v.languages else ""
            if lang:
                out.setdefault(lang, name)
            i += 1
        return out

    def speak(self, text: str, language: str, wpm: int) -> np.ndarray:
        # By language (as `espeak-ng -v fr-fr` does): a voice's name need not be its language code.
        name = ctypes.create_string_buffer(language.encode())  # lives until the call returns
        spec = _Voice(languages=ctypes.cast(name, ctypes.c_void_p))
        if self.lib.espeak_SetVoiceByProperties(ctypes.byref(spec)) != _EE_OK:
            raise EspeakError(f"espeak-ng has no voice for {language!r}")
        self.lib.espeak_SetParameter(_ESPEAK_RATE_PARAM, wpm, 0)
        data = text.encode("utf-8") + b"\0"
        self._chunks = []
        status = self.lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        if status != _EE_OK:
            raise EspeakError(f"espeak-ng failed to speak (status {status})")
        chunks, self._chunks = self._chunks, []
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)


@functools.lru_cache(maxsize=1)
def _library() -> _Library:
    with _LOCK:
        return _Library()


def available() -> bool:
    """True when libespeak-ng loads (the espeakng-loader wheel is installed and works here)."""
    try:
        _library()
    except (EspeakError, OSError):
        return False
    return True


def library_origin() -> str | None:
    """Where the library was loaded from (for doctor and /health), or None when it cannot load."""
    return _library().path if available() else None


def sample_rate() -> int:
    return _library().sample_rate


@functools.lru_cache(maxsize=1)
def voices() -> dict[str, str]:
    """{language code: espeak-ng voice name}; empty when espeak-ng is not available."""
    if not available():
        return {}
    lib = _library()
    with _LOCK:
        return lib.voices()


def voice_for(language: str) -> str | None:
    """The espeak-ng language id for a language code (`de`, `fr` → `fr-fr`), or None."""
    table = voices()
    lang = _ALIASES.get(language, language)
    if lang in table:
        return lang
    prefix = [v for v in table if v.split("-")[0] == language]
    return prefix[0] if prefix else None


def synthesize(text: str, language: str, *, speed: float = 1.0) -> np.ndarray:
    """float32 mono speech at `sample_rate()` for `text` in `language` (one call, any length)."""
    voice = voice_for(language)
    if voice is None:
        raise EspeakError(f"no espeak-ng voice for {language!r}")
    wpm = int(max(80, min(450, 165 * speed)))
    lib = _library()
    with _LOCK:
        pcm = lib.speak(text, voice, wpm)
    return (pcm.astype(np.float32) / 32768.0)

