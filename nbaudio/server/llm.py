"""Where assistant text comes from: a local GGUF model (llama-cpp-python) or an upstream
OpenAI-compatible text chat endpoint (`--chat-upstream`), the engine adding speech around it.

Both stream: `generate()` returns a `Generation`, an iterator of text deltas that knows its
token counts and finish reason once exhausted. The local model runs in a producer thread
that holds the model's lock for the whole generation (a llama.cpp context cannot interleave
two conversations) and feeds a queue; if the client goes away the producer still finishes
(bounded by max_tokens) and releases the lock, so the model can never stay locked.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator, Protocol

from ..errors import parse_error_body
from ..sse import SSEParser
from .api_errors import EngineError

if TYPE_CHECKING:
    from .models import ModelSource
    from .settings import Settings

__all__ = ["GenParams", "Generation", "ChatBackend", "LlamaChat", "UpstreamChat"]

log = logging.getLogger("nbaudio.server")


@dataclass
class GenParams:
    model: str
    max_tokens: int
    temperature: float | None = None
    top_p: float | None = None
    stop: list[str] | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # passed to an upstream as is


class Generation:
    """Text deltas as they are produced; `prompt_tokens`, `completion_tokens`, `finish_reason` at the end."""

    def __init__(self) -> None:
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.finish_reason = "stop"
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()

    def put(self, text: str) -> None:
        self._queue.put(("text", text))

    def finish(self, error: BaseException | None = None) -> None:
        self._queue.put(("end", error))

    def __iter__(self) -> Iterator[str]:
        while True:
            kind, value = self._queue.get()
            if kind == "text":
                yield value
            elif value is not None:
                raise value
            else:
                return

    def text(self) -> str:
        return "".join(self)


class ChatBackend(Protocol):
    origin: str
    name: str

    def generate(self, messages: list[dict[str, Any]], params: GenParams) -> Generation: ...


class LlamaChat:
    """A GGUF chat model through llama-cpp-python, with the chat template stored in the file."""

    def __init__(self, source: "ModelSource", settings: "Settings") -> None:
        from llama_cpp import Llama

        self.name = source.name
        self.origin = source.origin
        self.max_tokens = settings.llm_max_tokens
        # Half the cores: llama.cpp's threads spin at every barrier, so when another process (or
        # this engine's TTS) holds a core, two threads on two cores wait on each other: a 67-token
        # reply took 0.4 s or 103 s with 2 threads and 0.47 s every time with 1 (docs/benchmarks.md).
        threads = max(1, settings.threads // 2)
        self.llm = Llama(model_path=source.path, n_ctx=settings.llm_context, n_threads=threads,
                         n_threads_batch=threads, verbose=False)
        self.lock = threading.Lock()

    def generate(self, messages: list[dict[str, Any]], params: GenParams) -> Generation:
        gen = Generation()
        kwargs: dict[str, Any] = {"max_tokens": params.max_tokens, "stream": True}
        for key in ("temperature", "top_p", "stop", "seed", "presence_penalty", "frequency_penalty"):
            value = getattr(params, key)
            if value is not None:
                kwargs[key] = value
        threading.Thread(target=self._run, args=(messages, kwargs, gen), daemon=True, name="nbaudio-llm").start()
        return gen

    def _run(self, messages: list[dict[str, Any]], kwargs: dict[str, Any], gen: Generation) -> None:
        error: BaseException | None = None
        try:
            with self.lock:
                count = 0
                for chunk in self.llm.create_chat_completion(messages=messages, **kwargs):
                    choice = chunk["choices"][0]
                    text = choice.get("delta", {}).get("content")
                    if text:
                        count += 1  # llama-cpp-python streams one token per chunk
                        gen.put(text)
                    if choice.get("finish_reason"):
                        gen.finish_reason = choice["finish_reason"]
                gen.completion_tokens = count
                # The context now holds the prompt and what was generated.
                gen.prompt_tokens = max(0, int(self.llm.n_tokens) - count)
        except (ValueError, RuntimeError) as exc:  # prompt too long for the context, llama.cpp failures
            log.warning("local LLM failed: %s", exc)
            error = EngineError(400 if "context" in str(exc).lower() else 500,
                                f"The local model could not answer: {exc}")
        finally:
            gen.finish(error)


class UpstreamChat:
    """Any OpenAI-compatible text chat endpoint; the engine turns audio into text before and speech after."""

    def __init__(self, settings: "Settings") -> None:
        import requests

        base = (settings.chat_upstream or "").rstrip("/")
        self.url = base if base.endswith("/chat/completions") else base + "/chat/completions"
        self.name = settings.chat_upstream_model or "upstream"
        self.origin = "upstream OpenAI-compatible chat endpoint"
        self.model = settings.chat_upstream_model
        self.max_tokens = settings.llm_max_tokens
        self._session = requests.Session()
        if settings.chat_upstream_key:
            self._session.headers["Authorization"] = f"Bearer {settings.chat_upstream_key}"

    def generate(self, messages: list[dict[str, Any]], params: GenParams) -> Generation:
        import requests

        body: dict[str, Any] = {"model": self.model or params.model, "messages": messages, "stream": True,
                                "stream_options": {"include_usage": True}, "max_tokens": params.max_tokens}
        for key in ("temperature", "top_p", "stop", "seed", "presence_penalty", "frequency_penalty"):
            value = getattr(params, key)
            if value is not None:
                body[key] = value
        body.update(params.extra)
        try:
            resp = self._session.post(self.url, json=body, stream=True, timeout=(10, 300))
        except requests.RequestException as exc:
            raise EngineError(502, f"The upstream chat endpoint could not be reached ({type(exc).__name__}).",
                              code="upstream_error") from None
        if resp.status_code >= 400:
            info = parse_error_body(resp.status_code, resp.content, resp.headers.get("content-type", ""))
            resp.close()
            raise EngineError(502, f"The upstream chat endpoint answered {resp.status_code}: {info['message']}",
                              code="upstream_error")
        gen = Generation()
        threading.Thread(target=self._pump, args=(resp, gen), daemon=True, name="nbaudio-upstream").start()
        return gen

    @staticmethod
    def _pump(resp: Any, gen: Generation) -> None:
        import requests

        error: BaseException | None = None
        parser = SSEParser()
        try:
            if "text/event-stream" not in resp.headers.get("content-type", ""):
                # An upstream that ignores stream=true: one JSON body.
                data = resp.json()
                choice = (data.get("choices") or [{}])[0]
                gen.put((choice.get("message") or {}).get("content") or "")
                gen.finish_reason = choice.get("finish_reason") or "stop"
                _usage(gen, data.get("usage"))
                return
            for raw in resp.iter_content(chunk_size=None):
                for event in parser.feed(raw):
                    if event.data.strip() == "[DONE]":
                        continue
                    chunk = event.json()
                    _usage(gen, chunk.get("usage"))
                    for choice in chunk.get("choices") or []:
                        text = (choice.get("delta") or {}).get("content")
                        if text:
                            gen.put(text)
                        if choice.get("finish_reason"):
                            gen.finish_reason = choice["finish_reason"]
        except (requests.RequestException, ValueError) as exc:
            error = EngineError(502, f"The upstream chat stream broke ({type(exc).__name__}).", code="upstream_error")
        finally:
            resp.close()
            gen.finish(error)


def _usage(gen: Generation, usage: Any) -> None:
    if isinstance(usage, dict):
        gen.prompt_tokens = int(usage.get("prompt_tokens") or 0)
        gen.completion_tokens = int(usage.get("completion_tokens") or 0)
