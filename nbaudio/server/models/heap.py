"""Giving the C heap's free memory back to the system between the windows of a long transcription.

glibc's malloc keeps what a process frees: the top of each arena above a threshold is returned,
the rest (free chunks between live ones, in the main arena and in each thread's arena) stays
resident for reuse. Decoding a window with faster-whisper and CTranslate2 allocates and frees
hundreds of MB of mixed sizes (features, encoder output, beam states, word alignment), and over
a long piece the resident size crept: a 3-minute piece decoded in one thread of a script went
from 349 to 459 MB, window after window (benchmarks/NOTES.md, "Peak memory"). `malloc_trim(0)`
after each window returns the free pages of every arena (madvise) and kept the same script at
267-275 MB throughout.

Elsewhere than glibc (macOS, musl) there is no `malloc_trim` and this does nothing.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable

__all__ = ["release_free_heap"]


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the symbols the process has loaded: its C library's
    except (OSError, AttributeError):  # no dynamic loading here, or a C library without malloc_trim
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_free_heap() -> bool:
    """Return the C heap's free pages to the system (glibc `malloc_trim(0)`); whether any was."""
    trim = _malloc_trim()
    return bool(trim(0)) if trim is not None else False
