"""Audio bytes <-> samples, below the value types (layer 2: imports only spec, errors, text).

- `formats`: format names and aliases, MIME types, sniffing the format from the bytes
- `repair`: streaming-WAV sizes, FLAC of unknown length, WAV header facts
- `samples`: float <-> int16, whole 16-bit PCM samples, resampling
- `decode`: bounded block-by-block decoding (soundfile, PyAV)
- `encode`: samples to bytes (soundfile, PyAV)
- `stream`: incremental encoders for streamed responses (the engine's; imports numpy, so it is not
  imported here)
- `ogg`: Ogg page handling (for the display's players)

numpy, soundfile, soxr and av are imported inside functions: importing this package is cheap.
"""

from __future__ import annotations

from .decode import decode, decode_mono
from .encode import encode, fast_opus, write_file
from .formats import (
                      AV_FORMATS,
                      KNOWN_FORMATS,
                      OPUS_RATES,
                      SOUNDFILE_FORMATS,
                      guess_format,
                      mime_type,
                      normalise_format,
                      sniff_format,
                      unknown_format_message,
)
from .repair import flac_with_known_length, repair_streaming_wav, wav_info
from .samples import (
                      MAX_SAMPLE_RATE,
                      as_float_samples,
                      check_sample_rate,
                      float_to_int16,
                      resample,
                      whole_pcm16,
                      whole_pcm16_length,
)

__all__ = [
    "AV_FORMATS", "KNOWN_FORMATS", "MAX_SAMPLE_RATE", "OPUS_RATES", "SOUNDFILE_FORMATS", "as_float_samples",
    "check_sample_rate", "decode", "decode_mono",
    "encode", "fast_opus", "flac_with_known_length", "float_to_int16", "guess_format", "mime_type",
    "normalise_format", "repair_streaming_wav", "resample", "sniff_format", "unknown_format_message", "wav_info",
    "whole_pcm16", "whole_pcm16_length", "write_file",
]
