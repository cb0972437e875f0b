"""A reply begun before the user's turn is known to be over.

When the speaker pauses, the session transcribes the turn so far (session.py). If the pause then
ends the turn, the reply to those words is what the session will make: so, as soon as the words are
known, a Preflight starts it (the chat model's answer and the speech of its first phrase) while the
end-of-turn silence runs. If the turn does end there, the response takes the Preflight over
(`take`) and its first audio is ready or nearly; if the speaker goes on, the Preflight is dropped
(the model stops at its next token). Nothing is sent to the client before the turn ends: the
response sends every event as it would have, only sooner.

A Preflight holds an admission place and a model slot like the response it becomes; one that is
dropped gives them back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..catalog.weights import WeightError
from ..chat.speech import SpeakingPace
from ..engine import Admission, Engine
from ..models.llm import GenParams
from .config import SessionConfig, parse_response_options
from .conversation import Conversation, Item
from .responder import Response, reply_params, voice_audio

__all__ = ["Preflight", "EarlyStart", "begin_reply"]


@dataclass
class EarlyStart:
    """What a response takes over: the generation (its text so far replayed first), its admission
    slot, and the first phrase with the task making its speech (24 kHz float arrays)."""

    gen: Any
    taken: float
    phrase: str | None
    speech: asyncio.Task | None


class _Replay:
    """A Generation whose first events were already read by the Preflight: those again, then the rest."""

    def __init__(self, gen: Any, steps: list[tuple[str, Any]], ended: bool) -> None:
        self._gen, self._steps, self._ended = gen, steps, ended

    def events(self) -> Iterator[tuple[str, Any]]:
        yield from self._steps
        if not self._ended:
            yield from self._gen.events()

    def __getattr__(self, name: str) -> Any:  # token counts, finish reason, cancel()
        return getattr(self._gen, name)


class Preflight:
    """The reply to `messages`, begun now (see the module's docstring)."""

    def __init__(self, engine: Engine, admission: Admission, messages: list[dict[str, Any]], params: GenParams,
                 voice: str | None, speed: float) -> None:
        self.engine, self.admission = engine, admission
        self.messages, self.params = messages, params
        self.voice, self.speed = voice, speed  # voice None: text only, nothing to speak
        self._entered = False
        self._taken: float | None = None
        self._gen: Any = None
        self._steps: list[tuple[str, Any]] = []
        self._ended = False
        self._phrase: str | None = None
        self._speech: asyncio.Task | None = None
        self._dropped = self._adopted = False
        self.task = asyncio.get_running_loop().create_task(self._run(), name="nbaudio-preflight")

    def matches(self, messages: list[dict[str, Any]], params: GenParams, voice: str | None, speed: float) -> bool:
        return (messages, params, voice, speed) == (self.messages, self.params, self.voice, self.speed)

    async def take(self) -> EarlyStart | None:
        """Once the first phrase exists (or the text ended): the reply so far, now the caller's; None
        when it could not start (the engine busy, no chat model: the caller starts it anew, and says
        why). A model that failed raises here, as it would have in the response."""
        try:
            await asyncio.shield(self.task)
        except BaseException:
            self.drop()
            raise
        if self._dropped or self._gen is None:
            self.drop()
            return None
        self._adopted = True
        return EarlyStart(_Replay(self._gen, self._steps, self._ended), self._taken, self._phrase,
                          self._speech)

    def drop(self) -> None:
        """Not wanted (the speaker went on, or the reply is to other words): stop and give back."""
        if self._adopted:
            return
        self._dropped = True
        if self._gen is not None:
            self._gen.cancel()
        if self._speech is not None:
            self._speech.cancel()
        if self.task.done():
            self._free()

    def _free(self) -> None:
        if self._taken is not None:
            self.admission.release(self._taken)
            self._taken = None
        if self._entered:
            self.admission.leave()
            self._entered = False

    async def _run(self) -> None:
        try:
            await self._start()
        finally:
            if self._dropped:
                self._free()

    async def _start(self) -> None:
        if not self.admission.try_enter():
            return  # the engine is busy: the response will wait for its place as usual
        self._entered = True
        try:
            self._taken = await self.admission.acquire()
            backend = await asyncio.to_thread(self.engine.chat_backend)
        except (TimeoutError, WeightError):  # busy, or no chat model: the response meets it again and says so
            return
        if self._dropped:
            return
        self._gen = await asyncio.to_thread(backend.generate, self.messages, self.params)
        if self._dropped:
            self._gen.cancel()
            return
        if self.voice is not None:
            await self._first_phrase()

    async def _first_phrase(self) -> None:
        """Read the text until its first phrase can be spoken, and start speaking it."""
        events, pace = self._gen.events(), SpeakingPace()
        while not self._dropped:
            step = await asyncio.to_thread(next, events, None)
            if step is None:
                self._ended = True
                return
            self._steps.append(step)
            what, delta = step
            ready = pace.feed(delta) if what == "text" and delta else ""
            if ready:
                self._phrase = ready
                self._speech = asyncio.get_running_loop().create_task(asyncio.to_thread(
                    voice_audio, self.engine, self.voice, self.speed, ready))
                return


def begin_reply(engine: Engine, admission: Admission, config: SessionConfig, conversation: Conversation,
                text: str) -> Preflight:
    """The reply the session's automatic response would make if the user's turn were `text`, begun now."""
    probe = Response(engine, admission, config, parse_response_options(None), conversation, emit=lambda _: None)
    said = Item(role="user", content=[{"type": "input_audio", "transcript": text}])
    return Preflight(engine, admission, probe.messages([said]), reply_params(engine, config, probe.options),
                     probe.voice if probe.audio else None, config.speed)
