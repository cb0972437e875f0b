"""Where assistant text comes from: a local GGUF model (llama-cpp-python) or an upstream
OpenAI-compatible text chat endpoint (`--chat-upstream`), the engine adding speech around it.

Both stream: `generate()` returns a `Generation`, an iterator of text deltas that knows its
token counts, finish reason and tool calls once exhausted (`events()` also yields the tool-call
fragments as they arrive, for a streamed reply). The local model runs in a producer thread
that holds the model's lock for the whole generation (a llama.cpp context cannot interleave
two conversations) and feeds a queue; if the client goes away the producer still finishes
(bounded by max_tokens) and releases the lock, so the model can never stay locked.
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..._redaction import redact
from ..._wire.error_bodies import parse_error_body
from ..._wire.sse import SSEParser
from .. import untrusted_json
from ..api_errors import EngineError
from ..catalog.packages import LLAMA_CPP
from ..catalog.weights import ModelNotInstalledError
from ..untrusted_json import UntrustedJSONError
from .prompt_blocks import block_starts, reusable_start
from .tail_cut import TailCut
from .upstream_reply import UpstreamFailure, UpstreamReply, UpstreamShapeError, chunk_parts, completion_parts

if TYPE_CHECKING:
    from ..catalog.weights import ModelSource
    from ..settings import Settings

__all__ = ["GenParams", "Generation", "ChatBackend", "LlamaChat", "UpstreamChat", "llama_class"]

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
    # The reply goes out delta by delta (False: read whole, so all of it may wait for its sentences to end).
    streamed: bool = True

    def sampling(self) -> dict[str, Any]:
        """The sampling options that were given (both backends take them under these names)."""
        return {key: getattr(self, key) for key in _SAMPLING if getattr(self, key) is not None}


_SAMPLING = ("temperature", "top_p", "stop", "seed", "presence_penalty", "frequency_penalty")


class Generation:
    """Text deltas as they are produced; `prompt_tokens`, `completion_tokens`, `finish_reason` and
    `tool_calls` (the assembled calls, OpenAI `ChatCompletionMessageToolCall` dicts) at the end.
    `model` is the model that answers, for the reply's `model` field (never the requested name: a
    reply from the local model must not claim to come from GPT-4o); an upstream's own name for
    itself replaces it once the first chunk arrives, before any delta is queued."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.finish_reason = "stop"
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._calls: list[dict[str, Any]] = []
        self._index: dict[Any, int] = {}  # upstream's index -> position in _calls of its latest call
        self._upstream_ids: list[str | None] = []  # the id the upstream gave each call, if any
        self._cancelled = threading.Event()

    @property
    def tool_calls(self) -> list[dict[str, Any]]:
        return self._calls

    def put(self, text: str) -> None:
        self._queue.put(("text", text))

    def put_tool_calls(self, fragments: list[dict[str, Any]]) -> None:
        """Take tool-call fragments (`delta.tool_calls` items, or whole calls of a message) and queue
        them renumbered 0, 1, ... in order of appearance, the shape the OpenAI API streams: the first
        fragment of a call has its id, type and name, later ones only more `arguments`."""
        out = []
        for frag in fragments:  # checked and normalised by upstream_reply (arguments are a string)
            fn = frag["function"]
            # Some servers (Ollama's, older llama.cpp) send parallel calls all with index 0 and a new
            # id each; a new id at a known index is a new call.
            key: Any = frag.get("index", len(self._calls))
            known = self._index.get(key)
            if known is not None and frag.get("id") and self._upstream_ids[known] not in (None, frag["id"]):
                known = None
            if known is None:
                known = self._index[key] = len(self._calls)
                self._upstream_ids.append(frag.get("id"))
                self._calls.append({"id": frag.get("id") or f"call_{secrets.token_hex(12)}", "type": "function",
                                    "function": {"name": "", "arguments": ""}})
                first = {"index": known, "id": self._calls[known]["id"], "type": "function",
                         "function": {"name": fn.get("name") or "", "arguments": fn.get("arguments") or ""}}
                self._calls[known]["function"] = dict(first["function"])
                out.append(first)
                continue
            call = self._calls[known]["function"]
            piece: dict[str, Any] = {}
            if fn.get("name"):  # a name in pieces is rare but legal in a delta
                call["name"] += fn["name"]
                piece["name"] = fn["name"]
            if fn.get("arguments"):
                call["arguments"] += fn["arguments"]
                piece["arguments"] = fn["arguments"]
            if piece:
                out.append({"index": known, "function": piece})
        if out:
            self._queue.put(("tool_calls", out))

    def finish(self, error: BaseException | None = None) -> None:
        self._queue.put(("end", error))

    def cancel(self) -> None:
        """Nobody wants the rest (a client left, a Realtime response was cancelled): the producer
        stops at its next token and frees the model, instead of generating on to max_tokens."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def events(self) -> Iterator[tuple[str, Any]]:
        """("text", delta) and ("tool_calls", [fragment, ...]) in the order they were produced."""
        while True:
            kind, value = self._queue.get()
            if kind != "end":
                yield kind, value
            elif value is not None:
                raise value
            else:
                return

    def __iter__(self) -> Iterator[str]:
        for kind, value in self.events():
            if kind == "text":
                yield value

    def text(self) -> str:
        return "".join(self)


class ChatBackend(Protocol):
    origin: str
    name: str

    def generate(self, messages: list[dict[str, Any]], params: GenParams) -> Generation: ...


def llama_class() -> Any:
    """llama_cpp.Llama; without llama-cpp-python (the engine runs without it: speech, transcription,
    an upstream chat) a ModelNotInstalledError that says how to get it, which the chat routes
    answer as 503 model_unavailable."""
    try:
        from llama_cpp import Llama
    except ModuleNotFoundError as exc:
        if exc.name != LLAMA_CPP.module:
            raise
        raise ModelNotInstalledError(f"local chat needs {LLAMA_CPP.distribution}, which is not installed: "
                                     f"{LLAMA_CPP.hint}") from None
    return Llama


class LlamaChat:
    """A GGUF chat model through llama-cpp-python, with the chat template stored in the file."""

    def __init__(self, source: ModelSource, settings: Settings) -> None:
        Llama = llama_class()

        self.name = source.name
        self.origin = source.origin
        # Half the cores: llama.cpp's threads spin at every barrier, so when another process (or
        # this engine's TTS) holds a core, two threads on two cores wait on each other: a 67-token
        # reply took 0.4 s or 103 s with 2 threads and 0.47 s every time with 1 (docs/benchmarks.md).
        threads = max(1, settings.threads // 2)
        # Prompts are evaluated in blocks of at most PROMPT_BLOCK tokens that start at each message (prompt_blocks).
        self.llm = _counting(Llama)(model_path=source.path, n_ctx=settings.llm_context, n_threads=threads,
                                    n_threads_batch=threads, n_batch=PROMPT_BLOCK, verbose=False)
        if source.chat_template:
            self.llm.chat_handler = _template_handler(self.llm, source.chat_template, source.stop_tokens)
        self._template = source.chat_template or self.llm.metadata.get("tokenizer.chat_template")
        # What a request does not set (docs/chat_models.md measures them): a fixed seed, so the same
        # conversation gets the same answer (a teacher rehearses a demo), and a repetition penalty,
        # without which the 135M model loops a sentence until max_tokens.
        self.defaults: dict[str, Any] = {"temperature": settings.llm_temperature, "seed": settings.llm_seed,
                                         "repeat_penalty": settings.llm_repeat_penalty}
        self.lock = threading.Lock()

    def formatter(self) -> Any:
        """The chat template as a llama-cpp-python formatter (a conversation's prompt text, for
        scoring without generating: tool_choice.py), or None when the model has no template."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        if not self._template:
            return None
        def text(token: int) -> str:
            return self.llm.detokenize([token], special=True).decode("utf-8", "replace")

        return Jinja2ChatFormatter(self._template, eos_token=text(self.llm.token_eos()),
                                   bos_token=text(self.llm.token_bos()))

    def generate(self, messages: list[dict[str, Any]], params: GenParams) -> Generation:
        gen = Generation(f"{self.name} (local)")
        kwargs: dict[str, Any] = {"max_tokens": params.max_tokens, "stream": True, **self.defaults,
                                  **params.sampling()}
        hold_from = params.max_tokens - TAIL_CUT_TOKENS if params.streamed else 0
        threading.Thread(target=self._run, args=(messages, kwargs, hold_from, gen), daemon=True,
                         name="nbaudio-llm").start()
        return gen

    def _run(self, messages: list[dict[str, Any]], kwargs: dict[str, Any], hold_from: int, gen: Generation) -> None:
        error: BaseException | None = None
        try:
            with self.lock:
                self.llm.sampled = 0
                tail = TailCut(gen.put, hold_from)
                for chunk in self.llm.create_chat_completion(messages=messages, **kwargs):
                    if gen.cancelled:
                        break  # closes llama-cpp-python's generator: the model is free for the next one
                    choice = chunk["choices"][0]
                    text = choice.get("delta", {}).get("content")
                    if text:
                        tail.put(text, self.llm.sampled)
                    if choice.get("finish_reason"):
                        gen.finish_reason = choice["finish_reason"]
                tail.finish(cut=gen.finish_reason == "length")
                # The end-of-turn token that stopped the reply was sampled but is no part of it.
                sampled = self.llm.sampled
                gen.completion_tokens = sampled - (gen.finish_reason == "stop" and not gen.cancelled)
                # The context holds the prompt and what was generated, less the last token sampled
                # (llama.cpp evaluates a token only when it samples the next).
                gen.prompt_tokens = max(0, int(self.llm.n_tokens) - max(0, sampled - 1))
        except (ValueError, RuntimeError) as exc:  # prompt too long for the context, llama.cpp failures
            log.warning("local LLM failed: %s", exc)
            error = EngineError(400 if "context" in str(exc).lower() else 500,
                                f"The local model could not answer: {exc}")
        finally:
            gen.finish(error)


# Most tokens per prompt batch (a message longer than this is evaluated in several, prompt_blocks).
PROMPT_BLOCK = 64
# Within this many tokens of max_tokens, a streamed reply's text waits for its sentence to end before it is sent.
TAIL_CUT_TOKENS = 48


def _counting(llama_class: type) -> type:
    """`llama_class` counting the tokens it samples (`sampled`, set to 0 before a generation).
    llama-cpp-python streams a character that takes several tokens (an emoji, most CJK, some
    Cyrillic) as one chunk, so counting chunks put a 200-token reply at 80 (its usage said so, and
    the sentence window at the cap never opened: the reply stopped mid-word)."""

    class CountingLlama(llama_class):
        sampled = 0
        # How many leading tokens of the context are the last prompt, evaluated in the blocks
        # prompt_blocks gives it (its reply's tokens were evaluated one by one): what a later
        # prompt may reuse.
        reusable = 0

        def sample(self, *args: Any, **kwargs: Any) -> Any:
            self.sampled += 1
            return super().sample(*args, **kwargs)

        def generate(self, tokens: Any, *args: Any, reset: bool = True, **kwargs: Any) -> Any:
            """The same prompt gives the same answer whatever came before. llama-cpp-python keeps
            the longest prefix this prompt shares with the last one and evaluates the rest from
            there, so the same prompt was split into different batches after different turns,
            and the floating-point sums (and so a greedy answer) changed: "excitement and
            contentment" once, "excitement or pleasure" after another question. Here the prompt
            is always evaluated in the blocks prompt_blocks cuts it into, and only whole blocks
            of an earlier prompt are kept: every block is computed exactly as a fresh run would."""
            tokens = list(tokens)
            if not reset:
                return super().generate(tokens, *args, reset=False, **kwargs)
            same, limit = 0, min(self.reusable, self.n_tokens, len(tokens) - 1)
            while same < limit and self._input_ids[same] == tokens[same]:
                same += 1
            starts = block_starts(tokens, self.n_batch)
            keep = reusable_start(starts, same)
            if keep == 0 or not self._ctx.kv_cache_seq_rm(-1, keep, -1):
                keep = 0
                self.reset()
            self.n_tokens = keep
            self.reusable = len(tokens)
            todo = [s for s in starts if s >= keep]
            for begin, end in zip(todo, todo[1:], strict=False):  # the last block is evaluated where it samples
                self.eval(tokens[begin:end])
            return super().generate(tokens[todo[-1]:], *args, reset=False, **kwargs)

    return CountingLlama


def _template_handler(llm: Any, template: str, stop_tokens: tuple[str, ...]) -> Any:
    """A llama-cpp-python chat handler for a template the GGUF does not carry. Generation ends at
    any of `stop_tokens` (e.g. Gemma's <end_of_turn>) or the model's end-of-text token."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    ids = {llm.token_eos()}
    for text in stop_tokens:
        tokens = llm.tokenize(text.encode(), add_bos=False, special=True)
        if len(tokens) == 1:  # a control token of this vocabulary; otherwise the text stop below catches it
            ids.add(tokens[0])
    def text(token: int) -> str:
        return llm.detokenize([token], special=True).decode("utf-8", "replace")

    # eos_token is also the handler's text stop, so the end-of-turn marker never reaches the reply.
    return Jinja2ChatFormatter(template, eos_token=stop_tokens[0] if stop_tokens else text(llm.token_eos()),
                               bos_token=text(llm.token_bos()), stop_token_ids=sorted(ids)).to_chat_handler()


class UpstreamChat:
    """Any OpenAI-compatible text chat endpoint; the engine turns audio into text before and speech after."""

    def __init__(self, settings: Settings) -> None:
        import requests

        base = (settings.chat_upstream or "").rstrip("/")
        self.url = base if base.endswith("/chat/completions") else base + "/chat/completions"
        self.name = settings.chat_upstream_model or "upstream"
        self.origin = "upstream OpenAI-compatible chat endpoint"
        self.model = settings.chat_upstream_model
        self._session = requests.Session()
        self._key = settings.chat_upstream_key
        if self._key:
            self._session.headers["Authorization"] = f"Bearer {self._key}"

    def generate(self, messages: list[dict[str, Any]], params: GenParams) -> Generation:
        import requests

        body: dict[str, Any] = {"model": self.model or params.model, "messages": messages, "stream": True,
                                "stream_options": {"include_usage": True}, "max_tokens": params.max_tokens,
                                **params.sampling(), **params.extra}
        try:
            resp = self._session.post(self.url, json=body, stream=True, timeout=(10, 300))
        except requests.RequestException as exc:
            raise EngineError(502, f"The upstream chat endpoint could not be reached ({type(exc).__name__}).",
                              code="upstream_error") from None
        if resp.status_code >= 400:
            info = parse_error_body(resp.status_code, resp.content, resp.headers.get("content-type", ""))
            resp.close()
            # The engine's clients must not learn its upstream key from an upstream that echoes it.
            said = redact(info["message"], self._key)
            raise EngineError(502, f"The upstream chat endpoint answered {resp.status_code}: {said}",
                              code="upstream_error")
        gen = Generation(body["model"])
        threading.Thread(target=self._pump, args=(resp, gen), daemon=True, name="nbaudio-upstream").start()
        return gen

    def _pump(self, resp: Any, gen: Generation) -> None:
        import requests

        error: BaseException | None = None
        parser = SSEParser()
        try:
            if "text/event-stream" not in resp.headers.get("content-type", ""):
                # An upstream that ignores stream=true: one JSON body.
                _take(gen, completion_parts(untrusted_json.loads(resp.content)))
                return
            for raw in resp.iter_content(chunk_size=None):
                if gen.cancelled:
                    break  # the finally closes the upstream's stream
                for event in parser.feed(raw):
                    if event.data.strip() != "[DONE]":
                        _take(gen, chunk_parts(untrusted_json.loads(event.data)))
        except (requests.RequestException, ValueError) as exc:  # UpstreamShapeError, UntrustedJSONError among them
            why = f": {exc}" if isinstance(exc, (UpstreamShapeError, UntrustedJSONError)) else ""
            error = EngineError(502, f"The upstream chat stream broke ({type(exc).__name__}{why}).",
                                code="upstream_error")
        except UpstreamFailure as exc:
            said = redact(exc.message, self._key)[:300]
            error = EngineError(502, f"The upstream chat endpoint failed: {said or 'it gave no reason'}",
                                code="upstream_error")
        finally:
            resp.close()
            gen.finish(error)


def _take(gen: Generation, reply: UpstreamReply) -> None:
    """One chunk's (or the whole reply's) model name, usage, text, tool calls and finish reason."""
    if reply.model:  # the upstream's own name for the model that answered, passed through
        gen.model = reply.model
    if reply.prompt_tokens is not None:
        gen.prompt_tokens = reply.prompt_tokens
    if reply.completion_tokens is not None:
        gen.completion_tokens = reply.completion_tokens
    for part in reply.parts:
        if part.text:
            gen.put(part.text)
        if part.tool_calls:
            gen.put_tool_calls(part.tool_calls)
        if part.finish_reason:
            gen.finish_reason = part.finish_reason
