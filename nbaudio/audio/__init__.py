"""Audio as a value: `AudioClip` (encoded bytes, samples decoded on demand, a player and waveform in a
notebook), what an `audio=` argument may be (`AudioInput`, read by `as_audio_clip`) and the most
samples a clip decodes to (`MAX_DECODED_BYTES`).

Inside: `_clip` (AudioClip), `_args` (the checks on what users pass).
"""

from ._clip import AudioClip, AudioInput, as_audio_clip, decode_mono

# Decoded samples are float32, and compressed audio can expand a thousandfold (a FLAC of silence:
# 130 kB for 10 hours), so decoding stops at this many bytes of samples (about 9 h of 16 kHz mono,
# 1.5 h of 48 kHz stereo). Raise it here for longer recordings on a machine with the memory.
MAX_DECODED_BYTES = 2 * 1024**3

__all__ = ["AudioClip", "AudioInput", "MAX_DECODED_BYTES", "as_audio_clip", "decode_mono"]
