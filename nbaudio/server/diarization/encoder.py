"""Resemblyzer's speaker encoder in numpy: its trained weights read without torch, its network run without torch.

Resemblyzer (MIT, github.com/resemble-ai/Resemblyzer) ships a GE2E speaker encoder trained on
VoxCeleb and LibriSpeech in its wheel (`pretrained.pt`, 17 MB): 40-band mel power frames (25 ms
windows, 10 ms hop, 16 kHz) -> a 3-layer LSTM (256 units) -> the last layer's final hidden state
-> linear 256 -> ReLU -> L2 norm, over partial utterances of 160 frames (1.6 s). The package
depends on torch (and with it CUDA, several GB), so nbaudio reads the weights file itself: it is
torch's legacy serialisation (five pickles, then each storage's raw little-endian bytes), read
here with an allow-listed Unpickler whose `persistent_load` stands in for torch's storages.
"""

from __future__ import annotations

import pickle
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

__all__ = ["VoiceEncoder", "read_legacy_torch", "mel_frames", "SAMPLE_RATE", "PARTIAL_FRAMES", "HOP_SAMPLES",
           "normalize_volume"]

SAMPLE_RATE = 16000
N_FFT = 400  # 25 ms
HOP_SAMPLES = 160  # 10 ms
N_MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s: the length the encoder was trained on
HIDDEN = 256
LAYERS = 3
# Resemblyzer raises quiet input to this loudness before embedding (never lowers it).
NORM_TARGET_DBFS = -30.0
_INT16_MAX = 2**15 - 1
_TORCH_MAGIC = 0x1950A86A20F9469CFC6C
_TORCH_PROTOCOL = 1001
# torch storage classes of the legacy format and the dtypes their bytes hold.
_STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
                   "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
                   "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_}


class WeightFormatError(ValueError):
    """The file is not a legacy torch checkpoint this reader understands."""


@dataclass
class _Storage:
    dtype: Any
    numel: int
    data: np.ndarray | None = None


@dataclass
class _TensorRef:
    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]

    def array(self) -> np.ndarray:
        assert self.storage.data is not None  # filled in once the storages are read
        if not self.size:
            return np.array(self.storage.data[self.offset])
        item = self.storage.data.itemsize
        view = np.lib.stride_tricks.as_strided(self.storage.data[self.offset:], shape=self.size,
                                               strides=tuple(s * item for s in self.stride))
        return np.array(view)  # a copy: the storage's buffer can go


def _rebuild_tensor(storage: _Storage, offset: int, size: tuple, stride: tuple, *_rest: Any) -> _TensorRef:
    return _TensorRef(storage, int(offset), tuple(size), tuple(stride))


class _StorageType:
    def __init__(self, name: str) -> None:
        self.dtype = _STORAGE_DTYPES[name]


class _Unpickler(pickle.Unpickler):
    """Only the names a state dict needs; anything else in the file is refused, not imported."""

    def __init__(self, f: BinaryIO, storages: dict[str, _Storage]) -> None:
        super().__init__(f)
        self._storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if module == "collections" and name == "OrderedDict":
            return OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise WeightFormatError(f"unexpected object {module}.{name} in the weights file")

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise WeightFormatError(f"unexpected persistent id {pid!r:.80} in the weights file")
        _, storage_type, key, _location, numel, view = pid
        if view is not None:
            raise WeightFormatError("storage views are not supported")
        if key not in self._storages:
            self._storages[key] = _Storage(storage_type.dtype, int(numel))
        return self._storages[key]


def read_legacy_torch(path: str | Path) -> Any:
    """The object saved by `torch.save(..., _use_new_zipfile_serialization=False)`, tensors as numpy arrays."""
    storages: dict[str, _Storage] = {}
    with open(path, "rb") as f:
        magic = pickle.load(f)  # the three headers are plain data: safe to unpickle as they are
        protocol = pickle.load(f)
        pickle.load(f)  # sys info (endianness, type sizes): the file is little-endian
        if magic != _TORCH_MAGIC or protocol != _TORCH_PROTOCOL:
            raise WeightFormatError(f"{path} is not a legacy torch checkpoint")
        result = _Unpickler(f, storages).load()
        keys = pickle.load(f)
        for key in keys:
            storage = storages[key]
            numel = int(np.frombuffer(f.read(8), "<i8")[0])
            raw = f.read(numel * np.dtype(storage.dtype).itemsize)
            storage.data = np.frombuffer(raw, dtype=np.dtype(storage.dtype).newbyteorder("<"))
    return _materialise(result)


def _materialise(obj: Any) -> Any:
    if isinstance(obj, _TensorRef):
        return obj.array()
    if isinstance(obj, dict):
        return type(obj)((k, _materialise(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_materialise(v) for v in obj)
    return obj


# ---- features ---------------------------------------------------------------------------------


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (librosa's default): linear to 1 kHz, logarithmic above."""
    f = np.asarray(f, dtype=np.float64)
    logstep = np.log(6.4) / 27.0
    return np.where(f >= 1000.0, 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / logstep, 3.0 * f / 200.0)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    logstep = np.log(6.4) / 27.0
    return np.where(m >= 15.0, 1000.0 * np.exp(logstep * (m - 15.0)), 200.0 * m / 3.0)


def _mel_filters() -> np.ndarray:
    """(N_MELS, 1 + N_FFT // 2) Slaney-normalised triangular filters, as librosa.filters.mel makes them."""
    fft_freqs = np.linspace(0.0, SAMPLE_RATE / 2, 1 + N_FFT // 2)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return weights.astype(np.float32)


_FILTERS = _mel_filters()
_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)  # periodic Hann


def mel_frames(samples: np.ndarray) -> np.ndarray:
    """(frames, 40) mel power spectrogram (not log) of 16 kHz float samples, frames centred every 10 ms."""
    x = np.asarray(samples, dtype=np.float32)
    x = np.pad(x, N_FFT // 2, mode="reflect" if len(x) > N_FFT // 2 else "constant")
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP_SAMPLES]
    power = np.abs(np.fft.rfft(frames * _WINDOW, axis=-1)) ** 2
    return (power.astype(np.float32) @ _FILTERS.T).astype(np.float32)


def normalize_volume(samples: np.ndarray) -> np.ndarray:
    """Quiet audio raised to -30 dBFS RMS, as Resemblyzer's preprocessing does (loud audio kept)."""
    rms = float(np.sqrt(np.mean((np.asarray(samples, dtype=np.float64) * _INT16_MAX) ** 2))) if len(samples) else 0.0
    if rms <= 0:
        return np.asarray(samples, dtype=np.float32)
    change = NORM_TARGET_DBFS - 20 * np.log10(rms / _INT16_MAX)
    if change < 0:
        return np.asarray(samples, dtype=np.float32)
    return (np.asarray(samples, dtype=np.float32) * np.float32(10 ** (change / 20))).astype(np.float32)


# ---- the network ------------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow for large |x|


class VoiceEncoder:
    """The GE2E encoder: `embed(mels)` maps (batch, 160, 40) mel frames to (batch, 256) unit vectors."""

    def __init__(self, state: dict[str, np.ndarray]) -> None:
        try:
            self.layers = [(state[f"lstm.weight_ih_l{k}"].T.copy(), state[f"lstm.weight_hh_l{k}"].T.copy(),
                            state[f"lstm.bias_ih_l{k}"] + state[f"lstm.bias_hh_l{k}"]) for k in range(LAYERS)]
            self.linear_w = state["linear.weight"].T.copy()
            self.linear_b = state["linear.bias"]
        except KeyError as exc:
            raise WeightFormatError(f"the weights have no {exc.args[0]}") from None
        if self.layers[0][0].shape != (N_MELS, 4 * HIDDEN):
            raise WeightFormatError(f"unexpected LSTM input weights {self.layers[0][0].shape}")

    @classmethod
    def from_file(cls, path: str | Path) -> VoiceEncoder:
        checkpoint = read_legacy_torch(path)
        if not isinstance(checkpoint, dict) or "model_state" not in checkpoint:
            raise WeightFormatError(f"{path} has no model_state")
        return cls(dict(checkpoint["model_state"]))

    def embed(self, mels: np.ndarray) -> np.ndarray:
        """(batch, frames, 40) -> (batch, 256): PyTorch's LSTM (gates i, f, g, o) in float32."""
        x = np.asarray(mels, dtype=np.float32)
        batch, steps, _ = x.shape
        h = np.zeros((batch, HIDDEN), np.float32)
        for w_ih, w_hh, bias in self.layers:
            pre = (x.reshape(batch * steps, -1) @ w_ih + bias).reshape(batch, steps, 4 * HIDDEN)
            h = np.zeros((batch, HIDDEN), np.float32)
            c = np.zeros((batch, HIDDEN), np.float32)
            out = np.empty((batch, steps, HIDDEN), np.float32)
            for t in range(steps):
                g = pre[:, t] + h @ w_hh
                i, f = _sigmoid(g[:, :HIDDEN]), _sigmoid(g[:, HIDDEN:2 * HIDDEN])
                cell, o = np.tanh(g[:, 2 * HIDDEN:3 * HIDDEN]), _sigmoid(g[:, 3 * HIDDEN:])
                c = f * c + i * cell
                h = o * np.tanh(c)
                out[:, t] = h
            x = out
        raw = np.maximum(h @ self.linear_w + self.linear_b, 0.0)
        norm = np.linalg.norm(raw, axis=1, keepdims=True)
        return raw / np.maximum(norm, 1e-12)
