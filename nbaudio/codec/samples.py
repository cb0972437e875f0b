"""Sample arrays and raw PCM: float <-> int16, whole 16-bit samples, resampling.

numpy and soxr are imported inside the functions: `import nbaudio` stays light.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInputError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["MAX_SAMPLE_RATE", "check_sample_rate", "as_float_samples", "float_to_int16", "whole_pcm16_length",
           "whole_pcm16", "resample"]

MAX_SAMPLE_RATE = 768_000  # Hz; above any real audio, and soxr's output for more would be huge


def check_sample_rate(rate: Any, param: str = "sample_rate") -> int:
    """A whole positive number of Hz up to MAX_SAMPLE_RATE, or a clear InvalidInputError."""
    whole = isinstance(rate, numbers.Integral) or (isinstance(rate, numbers.Real) and float(rate).is_integer())
    if isinstance(rate, bool) or type(rate).__name__ == "bool_" or not whole:
        raise InvalidInputError(f"{param} must be a whole number of Hz such as 16000 or 24000, not {rate!r}",
                                param=param)
    if not 0 < rate <= MAX_SAMPLE_RATE:
        raise InvalidInputError(f"{param}={rate} is out of range: it must be positive, at most {MAX_SAMPLE_RATE} Hz",
                                param=param)
    return int(rate)


def whole_pcm16_length(n: int) -> int:
    """The number of bytes of whole 16-bit samples in `n` bytes (an odd last byte is half a sample)."""
    return n - n % 2


def whole_pcm16(data: bytes) -> bytes:
    """Headerless 16-bit PCM cut to whole samples: a stream cut mid-sample (or one whose last byte
    has not arrived yet) leaves an odd byte, which would shift every sample after it."""
    n = whole_pcm16_length(len(data))
    return data if n == len(data) else bytes(data[:n])


def float_to_int16(samples: np.ndarray) -> np.ndarray:
    """float samples in [-1, 1] as little-endian int16 (clipped, rounded)."""
    import numpy as np

    return (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2")


def as_float_samples(samples: Any) -> np.ndarray:
    """float32 samples, shape (frames,) or (frames, channels), from any numeric array: ints are
    scaled to [-1, 1], (channels, frames) is turned around; a clear InvalidInputError otherwise."""
    import numpy as np

    try:
        arr = np.asarray(samples)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"samples must be a numeric array: {exc}") from None
    if arr.dtype.kind not in "iuf":
        raise InvalidInputError(f"samples must be numeric (float or int16), not dtype {arr.dtype}")
    if arr.ndim == 2 and arr.shape[0] < arr.shape[1] and arr.shape[0] <= 8:
        arr = arr.T  # (channels, frames) -> (frames, channels), as librosa/torch hand them out
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim not in (1, 2) or arr.size == 0:
        raise InvalidInputError("samples must be a non-empty 1-D (mono) or 2-D (frames, channels) array, "
                                f"got shape {arr.shape}")
    if arr.dtype.kind in "iu":
        info = np.iinfo(arr.dtype)
        arr = arr.astype(np.float32) / float(max(abs(info.min), info.max))
    arr = arr.astype(np.float32, copy=False)
    if not np.isfinite(arr).all():
        raise InvalidInputError("samples contain NaN or infinity; clean them (e.g. numpy.nan_to_num) first")
    return arr


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Resample float32 samples with soxr."""
    import numpy as np
    import soxr

    if rate_in == rate_out:
        return samples
    return np.asarray(soxr.resample(samples, rate_in, rate_out), dtype=np.float32)
