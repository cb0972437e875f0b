"""One Realtime response: the conversation as text (user audio transcribed by the engine's Whisper),
the chat backend's answer streamed token by token, and, for audio output, that answer spoken phrase
by phrase as the chat-completions stream does (chat.speech.SpeakingPace) and
sent as pcm16 deltas at 24 kHz.

Every model call runs in a worker thread (`asyncio.to_thread`), so the event loop keeps serving
this and other sessions. A cancel (response.cancel, or speech that starts while the reply plays)
cancels the task at its next await: nothing more is sent for the response, and `response.done`
says `cancelled` with what had been produced. The generation is cancelled too: the model stops at
its next token and is free for the next response.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..._wire.realtime import AUDIO_FORMAT, SAMPLE_RATE, new_id
from ...codec import resample
from ...codec.stream import StreamEncoder
from ..api_errors import EngineError
from ..catalog.weights import WeightError
from ..chat.input import SPOKEN_SYSTEM_PROMPT
from ..chat.speech import SpeakingPace, speech_samples
from ..engine import Admission, Engine
from ..models.llm import GenParams, LlamaChat
from ..models.stt import SAMPLE_RATE as WHISPER_RATE
from ..models.stt import SttRequest
from ..models.tool_calls import decide
from ..tokens import audio_tokens, text_tokens_estimate
from ..transcribe import transcribe
from .config import ResponseOptions, SessionConfig
from .conversation import Conversation, Item, Phrase
from .tools import RealtimeTools, call_events

__all__ = ["Response", "transcribe_pcm", "voice_audio", "reply_params", "DELTA_MS"]

log = logging.getLogger("nbaudio.server")
DELTA_MS = 100  # audio per output_audio.delta: small enough that a cancel leaves little unsent
_DELTA_BYTES = 2 * SAMPLE_RATE * DELTA_MS // 1000
Emit = Callable[[dict[str, Any]], None]


def transcribe_pcm(engine: Engine, pcm: bytes, language: str | None, prompt: str | None) -> tuple[str, float]:
    """(transcript, seconds) of pcm16 at 24 kHz, with the Whisper the language calls for."""
    samples = resample(np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0, SAMPLE_RATE, WHISPER_RATE)
    segments, meta = transcribe(engine, SttRequest(samples, language=language, prompt=prompt))
    return "".join(s.text for s in segments).strip(), float(meta["duration"])


def voice_audio(engine: Engine, voice: str, speed: float, text: str) -> list[np.ndarray]:
    """`text` as float samples at 24 kHz, sentence by sentence in the voice its language needs."""
    return speech_samples(engine, voice, speed, text, SAMPLE_RATE, "session.audio.output.voice")


def reply_params(engine: Engine, config: SessionConfig, options: ResponseOptions) -> GenParams:
    """The chat model's settings for a response (a Preflight must ask for the same to be taken over)."""
    limit = options.max_output_tokens or config.max_output_tokens or engine.settings.llm_max_tokens
    return GenParams(model=config.model, max_tokens=min(limit, engine.settings.llm_max_tokens))


@dataclass
class Response:
    """A response in progress; `run()` is its task, `finish()` sends its last events."""

    engine: Engine
    admission: Admission
    config: SessionConfig
    options: ResponseOptions
    conversation: Conversation
    emit: Emit
    id: str = field(default_factory=lambda: new_id("resp"))
    item: Item | None = None
    status: str = "in_progress"
    task: asyncio.Task | None = None
    _text: list[str] = field(default_factory=list)
    _prompt_tokens: int = 0
    _completion_tokens: int = 0
    _audio_in_seconds: float = 0.0
    _error: dict[str, Any] | None = None
    _reason: str | None = None
    _gen: Any = None  # the chat backend's Generation, once it started (cancelled with the response)
    preflight: Any = None  # this reply begun before the turn ended (a preflight.Preflight), if it was
    _early_speech: tuple[str, asyncio.Task] | None = None  # the Preflight's first phrase and its speech

    @property
    def modalities(self) -> list[str]:
        return self.options.output_modalities or self.config.output_modalities

    @property
    def audio(self) -> bool:
        return self.modalities == ["audio"]

    @property
    def voice(self) -> str:
        return self.options.voice or self.config.voice

    def _body(self) -> dict[str, Any]:
        return {"id": self.id, "object": "realtime.response", "status": self.status,
                "status_details": self._status_details(), "conversation_id": "conv_default" if
                self.options.use_conversation else None, "output_modalities": self.modalities,
                "max_output_tokens": self.options.max_output_tokens or self.config.max_output_tokens or "inf",
                "audio": {"output": {"format": {"type": AUDIO_FORMAT, "rate": SAMPLE_RATE}, "voice": self.voice}},
                "metadata": self.options.metadata, "output": [self.item.to_dict()] if self.item else [],
                "usage": self._usage() if self.status != "in_progress" else None}

    def _status_details(self) -> dict[str, Any] | None:
        if self.status == "in_progress":
            return None
        return {"type": self.status, "reason": self._reason, "error": self._error}

    def _usage(self) -> dict[str, Any]:
        text_out = self._completion_tokens or text_tokens_estimate("".join(self._text))
        audio_out = audio_tokens(self.item.audio_ms / 1000) if self.item and self.audio else 0
        audio_in = audio_tokens(self._audio_in_seconds)
        return {"total_tokens": self._prompt_tokens + audio_in + text_out + audio_out,
                "input_tokens": self._prompt_tokens + audio_in, "output_tokens": text_out + audio_out,
                "input_token_details": {"text_tokens": self._prompt_tokens, "audio_tokens": audio_in,
                                        "cached_tokens": 0, "image_tokens": 0},
                "output_token_details": {"text_tokens": text_out, "audio_tokens": audio_out}}

    def _where(self) -> dict[str, Any]:
        return {"response_id": self.id, "item_id": self.item.id, "output_index": 0, "content_index": 0}

    def start(self, user_items: list[Item], extra: list[Item]) -> None:
        """Send response.created and start the task. `user_items` are awaited for their transcripts;
        `extra` are the response's own `input` items."""
        self.emit({"type": "response.created", "event_id": new_id("event"), "response": self._body()})
        self.task = asyncio.get_running_loop().create_task(self.run(user_items, extra), name=f"nbaudio-{self.id}")

    async def run(self, user_items: list[Item], extra: list[Item]) -> None:
        """The whole response; a failure ends it `failed` with an error event (never without a
        response.done, which the client waits for)."""
        try:
            await self._produce(user_items, extra)
        except EngineError as exc:
            self._fail("server_error" if exc.status_code >= 500 else "invalid_request_error",
                       exc.code or "response_failed", exc.message, exc.param)
            return
        except Exception as exc:  # a model failing in a way of its own: logged, and the response ends
            log.exception("realtime response %s failed", self.id)
            self._fail("server_error", "response_failed", f"The engine could not make this response "
                       f"({type(exc).__name__}); see the engine's log.", None)
            return
        self.finish("completed")

    def _fail(self, kind: str, code: str, message: str, param: str | None) -> None:
        self._error = {"type": kind, "code": code}
        self.emit({"type": "error", "event_id": new_id("event"), "error": {
            "type": kind, "code": code, "message": message, "param": param, "event_id": None}})
        self.finish("failed")

    def messages(self, extra: list[Item] = ()) -> list[dict[str, Any]]:
        """The chat messages this response answers (the conversation with `extra` after it)."""
        base = self.conversation if self.options.use_conversation else Conversation()
        return base.messages(self.options.instructions or self.config.instructions or SPOKEN_SYSTEM_PROMPT, extra)

    async def _produce(self, user_items: list[Item], extra: list[Item]) -> None:
        try:
            for item in [*user_items, *extra]:
                if item.transcribing is not None:
                    self._audio_in_seconds += await asyncio.shield(item.transcribing)
            messages = self.messages(extra)
            params = reply_params(self.engine, self.config, self.options)
            early = await self._take_preflight(messages, params)
        finally:
            if self.preflight is not None:  # not taken (cancelled, or a transcription failed)
                self.preflight.drop()
                self.preflight = None
        if early is not None:
            try:
                self._early_speech = (early.phrase, early.speech) if early.speech is not None else None
                self._gen = early.gen
                await self._generated(early.gen)
            finally:
                self.admission.release(early.taken)
                self.admission.leave()
            return
        try:
            backend = await asyncio.to_thread(self.engine.chat_backend)
        except WeightError as exc:
            raise EngineError(503, f"The chat model is not available: {exc}", code="model_unavailable") from None
        if not self.admission.try_enter():
            raise EngineError(503, "The local engine is busy (all its places are taken); send response.create "
                                   "again in a moment.", code="engine_busy")
        taken = None
        try:
            try:
                taken = await self.admission.acquire()
            except TimeoutError:
                raise EngineError(503, "The local engine is busy (no model was free in time); send "
                                       "response.create again.", code="engine_busy") from None
            if await self._called_tool(backend, messages, extra):
                return
            gen = self._gen = await asyncio.to_thread(backend.generate, messages, params)
            await self._generated(gen)
        finally:
            if taken is not None:
                self.admission.release(taken)
            self.admission.leave()

    @property
    def tools(self) -> RealtimeTools | None:
        """The tools this response may call (None: it only answers)."""
        tools = self.options.tools or self.config.tools
        return tools if tools is not None and tools.active else None

    async def _called_tool(self, backend: Any, messages: list[dict[str, Any]], extra: list[Item]) -> bool:
        """Let the model choose a tool; if it called one, the response is that call (True)."""
        tools = self.tools
        if tools is None:
            return False
        if not isinstance(backend, LlamaChat):
            raise EngineError(400, "Realtime tools are decided by the local chat model; with --chat-upstream this "
                                   "engine has no Realtime tools yet (leave session.tools empty).",
                              code="unsupported_parameter")
        items = [*(self.conversation.items if self.options.use_conversation else []), *extra]
        after_result = bool(items) and items[-1].type == "function_call_output"
        decision = await asyncio.to_thread(decide, backend, messages, tools.specs, tools.parsed,
                                           after_tool_result=after_result)
        if not decision.calls:
            return False
        self._prompt_tokens, self._completion_tokens = decision.prompt_tokens, decision.completion_tokens
        fn = decision.calls[0]["function"]
        self.item = Item(role="assistant", content=[], type="function_call", status="in_progress",
                         call={"call_id": decision.calls[0]["id"], "name": fn["name"], "arguments": ""})
        previous = self.conversation.last_id() if self.options.use_conversation else None
        if self.options.use_conversation:
            self.conversation.add(self.item)
        self.emit({"type": "response.output_item.added", "event_id": new_id("event"), "response_id": self.id,
                   "output_index": 0, "item": self.item.to_dict()})
        self.emit({"type": "conversation.item.added", "event_id": new_id("event"), "previous_item_id": previous,
                   "item": self.item.to_dict()})
        self.item.call["arguments"] = fn["arguments"]
        for event in call_events(self.id, self.item, 0):
            self.emit(event)
        return True

    async def _take_preflight(self, messages: list[dict[str, Any]], params: GenParams) -> Any:
        """The Preflight's start of this very reply (same words, same settings), or None."""
        pre, self.preflight = self.preflight, None
        if pre is not None and self.tools is not None:
            pre.drop()  # begun as an answer; this response may call a tool instead
            return None
        if pre is None:
            return None
        if not pre.matches(messages, params, self.voice if self.audio else None, self.config.speed):
            pre.drop()
            return None
        self.preflight = pre  # dropped by the caller if this is cancelled while it waits
        early = await pre.take()
        self.preflight = None
        return early

    async def _generated(self, gen: Any) -> None:
        await self._stream(gen)
        self._prompt_tokens, self._completion_tokens = gen.prompt_tokens, gen.completion_tokens
        if gen.finish_reason == "length":
            self._reason = "max_output_tokens"

    async def _stream(self, gen: Any) -> None:
        kind = "output_audio" if self.audio else "output_text"
        self.item = Item(role="assistant", status="in_progress",
                         content=[{"type": kind, "transcript": ""} if self.audio else {"type": kind, "text": ""}])
        previous = self.conversation.last_id() if self.options.use_conversation else None
        if self.options.use_conversation:
            self.conversation.add(self.item)
        self.emit({"type": "response.output_item.added", "event_id": new_id("event"), "response_id": self.id,
                   "output_index": 0, "item": self.item.to_dict()})
        self.emit({"type": "conversation.item.added", "event_id": new_id("event"), "previous_item_id": previous,
                   "item": self.item.to_dict()})
        part = {"type": "audio", "transcript": ""} if self.audio else {"type": "text", "text": ""}
        self.emit({"type": "response.content_part.added", "event_id": new_id("event"), **self._where(), "part": part})
        events = gen.events()
        encoder = StreamEncoder("pcm", SAMPLE_RATE) if self.audio else None
        pace = SpeakingPace()
        while True:
            step = await asyncio.to_thread(next, events, None)
            if step is None:
                break
            what, delta = step
            if what != "text" or not delta:
                continue
            self._text.append(delta)
            if not self.audio:
                self.item.content[0]["text"] += delta
                self.emit({"type": "response.output_text.delta", "event_id": new_id("event"), **self._where(),
                           "delta": delta})
                continue
            self.item.content[0]["transcript"] += delta
            self.emit({"type": "response.output_audio_transcript.delta", "event_id": new_id("event"),
                       **self._where(), "delta": delta})
            ready = pace.feed(delta)
            if ready:
                await self._say(ready, encoder)
        if self.audio:
            rest = pace.rest()
            if rest:
                await self._say(rest, encoder)
            self._send_audio(encoder.close())

    async def _say(self, text: str, encoder: StreamEncoder) -> None:
        early, self._early_speech = self._early_speech, None
        if early is not None and early[0] == text:
            samples = await early[1]
        else:
            if early is not None:
                early[1].cancel()
            samples = await asyncio.to_thread(voice_audio, self.engine, self.voice, self.config.speed, text)
        pcm = b"".join(encoder.feed(a) for a in samples)
        start = self.item.audio_ms
        self._send_audio(pcm)
        self.item.phrases.append(Phrase(text, start, self.item.audio_ms))

    def _send_audio(self, pcm: bytes) -> None:
        for k in range(0, len(pcm), _DELTA_BYTES):
            piece = pcm[k:k + _DELTA_BYTES]
            self.emit({"type": "response.output_audio.delta", "event_id": new_id("event"), **self._where(),
                       "delta": base64.b64encode(piece).decode("ascii")})
            self.item.audio_ms += len(piece) * 1000 // (2 * SAMPLE_RATE)

    async def cancel(self, reason: str) -> None:
        """Stop now (`turn_detected` or `client_cancelled`) and send response.done `cancelled`."""
        if self.task is None or self.task.done():
            return
        if self._gen is not None:
            self._gen.cancel()  # the model stops now, free for the next response
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        self._reason = reason
        self.finish("cancelled")

    def finish(self, status: str) -> None:
        """The closing events: the part, the item and the response done, with usage."""
        self.status = status
        if self.item is not None:
            self.item.status = "completed" if status == "completed" else "incomplete"
            item = self.item.to_dict()
            if self.item.type == "message":  # a function call's arguments were sent whole (tools.call_events)
                self._content_done()
            self.emit({"type": "response.output_item.done", "event_id": new_id("event"), "response_id": self.id,
                       "output_index": 0, "item": item})
            if self.options.use_conversation:
                self.emit({"type": "conversation.item.done", "event_id": new_id("event"), "item": item,
                           "previous_item_id": None})
        self.emit({"type": "response.done", "event_id": new_id("event"), "response": self._body()})

    def _content_done(self) -> None:
        where = self._where()
        if self.audio:
            self.emit({"type": "response.output_audio.done", "event_id": new_id("event"), **where})
            transcript = self.item.content[0]["transcript"]
            self.emit({"type": "response.output_audio_transcript.done", "event_id": new_id("event"), **where,
                       "transcript": transcript})
            part = {"type": "audio", "transcript": transcript}
        else:
            text = self.item.content[0]["text"]
            self.emit({"type": "response.output_text.done", "event_id": new_id("event"), **where, "text": text})
            part = {"type": "text", "text": text}
        self.emit({"type": "response.content_part.done", "event_id": new_id("event"), **where, "part": part})
