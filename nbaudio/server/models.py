"""The engine's models by their old address: kept so `nbaudio.server.models.X` keeps working.

The names live in smaller modules now (import them from there in new code):
- weights.py: pinned files, SHA-256, joining chunks (`sha256_file`, `PINNED`, `WeightError`, ...)
- chat_models.py: the chat models by name (`CHAT_MODELS`, `DEFAULT_CHAT_MODEL`, `check_llm_model`)
- sources.py: which weights each setting means (`whisper_en_source`, `piper_source`, `llm_source`)
- registry.py: loading each model once (`ModelRegistry`; its docstring explains the concurrency)
"""

from __future__ import annotations

from .chat_models import CHAT_MODELS, DEFAULT_CHAT_MODEL, GEMMA_CHAT_TEMPLATE, ChatModel, check_llm_model
from .packages import INSTALL_LOCAL
from .registry import ModelRegistry
from .sources import extra_piper_voices, llm_source, piper_source, whisper_en_source, whisper_multi_source
from .weights import (
                      BASE_MODEL_BIN_SHA256,
                      BASE_MODEL_BIN_SIZE,
                      DEFAULT_PIPER_VOICE,
                      GEMMA_GGUF_SHA256,
                      GEMMA_GGUF_SIZE,
                      PINNED,
                      ModelNotInstalledError,
                      ModelSource,
                      PinnedFile,
                      WeightError,
                      package_dir,
                      pinned_path,
                      sha256_file,
                      verify_file,
)

__all__ = [
    "WeightError", "ModelNotInstalledError", "PinnedFile", "ModelSource", "ModelRegistry", "sha256_file",
    "whisper_en_source", "whisper_multi_source", "piper_source", "llm_source", "check_llm_model", "PINNED",
    "ChatModel", "CHAT_MODELS", "DEFAULT_CHAT_MODEL", "GEMMA_CHAT_TEMPLATE", "DEFAULT_PIPER_VOICE",
    "INSTALL_LOCAL", "BASE_MODEL_BIN_SHA256", "BASE_MODEL_BIN_SIZE", "GEMMA_GGUF_SHA256", "GEMMA_GGUF_SIZE",
    "extra_piper_voices", "package_dir", "pinned_path", "verify_file",
]
