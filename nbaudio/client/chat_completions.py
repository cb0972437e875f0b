"""POST /chat/completions with audio out (and optionally in), and the audio bridge: speech and
transcription on the same server for what a text model behind a relay cannot do (see nbaudio.relay).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import requests

from .. import relay
from .._http.streams import ChatStream
from .._http.validation import UNSET, as_list, check_bool, check_choice, check_model, check_voice
from .._wire import spec
from ..audio import AudioClip, AudioInput
from ..chat import ChatReply, Conversation, build_messages
from ..errors import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    InvalidInputError,
)
from ..pricing import Cost, Prices, total_cost
from ..tools import ToolBox
from .chat_tools import MAX_TOOL_ROUNDS, run_call, tool_box
from .core import BaseClient, check_ok_body, resolve_timeout, response_json
from .speech import SpeechEndpoint
from .transcriptions import TranscriptionEndpoints

__all__ = ["ChatEndpoint"]

log = logging.getLogger("nbaudio")

_IDS_DROPPED_NOTE = ("the earlier replies reached the model without their audio (a relay such as new-api drops the "
                     "assistant `audio` field): they are sent as their transcripts from now on")
_INPUT_AUDIO_NOTE = ("this API does not accept audio input: each recording is transcribed with its "
                     "/audio/transcriptions and sent as text from now on (audio_bridge=False to get the error instead)")


class ChatEndpoint:
    """`chat()`, the /chat/completions endpoint, for the client that owns it; its audio bridge uses
    the client's speech and transcription endpoints."""

    def __init__(self, client: BaseClient, speech: SpeechEndpoint, transcriptions: TranscriptionEndpoints) -> None:
        self._client = client
        self._speech = speech
        self._transcriptions = transcriptions

    def chat(
        self,
        messages: str | list[dict[str, Any]] | Conversation,
        *,
        model: str = UNSET,
        voice: spec.Voice | str | dict = UNSET,
        audio_format: spec.ChatAudioFormat = UNSET,
        modalities: Iterable[spec.ChatModality] = UNSET,
        audio: AudioInput | None = None,
        stream: bool = False,
        timeout: Any = None,
        audio_bridge: bool | Mapping[str, Mapping[str, Any]] = True,
        **extra: Any,
    ) -> ChatReply | ChatStream:
        """Chat completion with audio out (and optionally audio in).

        `messages`: a string, a list of message dicts, or a Conversation. With a Conversation,
        the new turn (audio=, or a pending user message) and the reply are recorded only when
        the call succeeds. Streaming returns a ChatStream (audio arrives as pcm16).

        `audio_bridge`: when the server answers without the audio asked for (a text model behind a
        relay), speak the reply with the same server's /audio/speech (`reply.audio_bridged`); when
        it refuses `input_audio`, transcribe the audio with its /audio/transcriptions and send the
        words (`reply.input_transcribed`). Each is said once per client (a `nbaudio.relay.RelayNotice`
        warning). False: the reply as the server gave it, and its errors. A dict passes arguments on:
        `{"speak": {"model": "gpt-4o-mini-tts"}, "transcribe": {"model": "whisper-1"}}`.
        """
        arg = self._client.defaults.pick
        check_bool(stream, "stream")
        box = tool_box(extra)
        if box and stream:
            raise InvalidInputError("with Python functions as tools, chat() runs them between requests and cannot "
                                    "stream; use stream=False (or pass the tools as JSON dicts)", param="stream")
        self._client.near_misses.warn("chat", extra, spec.CHAT_PARAMS)
        model = check_model(arg("chat", "model", model, "gpt-4o-audio-preview"))
        mods = _modalities(arg("chat", "modalities", modalities, ("text", "audio")))  # read once: may be a generator
        turn = _ChatTurn(self, self._client.relay_state, messages, audio, bridge=_bridge_options(audio_bridge),
                         stream=stream, timeout=timeout, model=model, modalities=mods,
                         voice=check_voice(arg("chat", "voice", voice, "alloy")),
                         audio_format=self._audio_format(audio_format, stream, mods), extra=extra)
        resp = self._chat_request(turn)
        if stream:
            prices = self._client.price_table(resp)

            def done(reply: ChatReply) -> None:
                reply.cost = _cost(reply, prices)  # the usage came in the last chunk (stream_options.include_usage)
                turn.ids_ignored(reply)  # too late to ask again: the reply has been shown; later turns send text
                turn.finish(reply)

            return ChatStream(resp, self._client.redact, turn.audio_format, on_done=done,
                              stall_after=resolve_timeout(timeout, self._client.timeout)[1],
                              max_bytes=self._client.response_cap("/chat/completions"))
        reply = self._reply(resp, turn.audio_format)
        if turn.ids_ignored(reply):
            # Answered without the earlier turns: ask again, with them as transcripts.
            turn.body["messages"] = turn.wire_messages()
            reply = self._reply(self._chat_request(turn), turn.audio_format)
        if box:
            reply = self._run_tools(turn, box, reply)
        turn.finish(reply)
        return reply

    def _run_tools(self, turn: _ChatTurn, box: ToolBox, reply: ChatReply) -> ChatReply:
        """Run the calls the model makes and send their results back, until it answers (at most
        MAX_TOOL_ROUNDS requests more); the answer carries every run (`tool_runs`) and the cost of all."""
        runs, costs = [], [reply.cost]
        for _ in range(MAX_TOOL_ROUNDS):
            if not reply.tool_calls:
                break
            turn.tool_messages.append({"role": "assistant", "content": reply.content, "tool_calls": reply.tool_calls})
            for call in reply.tool_calls:
                run = run_call(box, call)
                runs.append(run)
                turn.tool_messages.append({"role": "tool", "tool_call_id": run.call_id or "", "content": run.output})
            turn.body["messages"] = turn.wire_messages()
            reply = self._reply(self._chat_request(turn), turn.audio_format)
            costs.append(reply.cost)
        reply.tool_runs = runs
        reply.cost = total_cost(costs) if len(costs) > 1 else reply.cost
        return reply

    def _audio_format(self, asked: Any, stream: bool, modalities: list[str]) -> str:
        """The reply's audio format: asked, or the client's default, or wav (pcm16 when streamed)."""
        fmt = self._client.defaults.pick("chat", "audio_format", asked, "wav")
        if stream and fmt == "wav" and asked is UNSET and not self._client.defaults.has("chat", "audio_format"):
            fmt = spec.CHAT_STREAM_AUDIO_FORMAT  # a WAV cannot be streamed; pcm16 is what the API streams
        fmt = check_choice(fmt, spec.CHAT_AUDIO_FORMATS, "audio_format")
        if stream and "audio" in modalities and fmt != spec.CHAT_STREAM_AUDIO_FORMAT:
            raise InvalidInputError(
                f"streamed audio comes only as pcm16; use audio_format='pcm16' (not {fmt!r}) or stream=False",
                param="audio_format")
        return fmt

    def _reply(self, resp: requests.Response, audio_format: str) -> ChatReply:
        check_ok_body(resp, "chat", self._client.redact)
        reply = ChatReply.from_response(response_json(resp, self._client.redact), audio_format=audio_format)
        reply.cost = _cost(reply, self._client.price_table(resp))
        return reply

    def _chat_request(self, turn: _ChatTurn) -> requests.Response:
        """POST the turn; when the server's error says what to change (nbaudio.relay), change it and
        send again. Each change is made once, so this ends."""
        state = self._client.relay_state
        conv, body = turn.conv, turn.body
        for _ in range(len(body["messages"]) + 2):
            try:
                return self._client.post("/chat/completions", json_body=body, stream=turn.stream, timeout=turn.timeout)
            except APIStatusError as err:
                sent = body["messages"]
                ids = relay.rejected_audio_ids(err, sent) if conv is not None else []
                if ids and conv.reject_audio_ids(ids):
                    # The server no longer knows this audio: those turns go as their transcripts.
                    log.info("server rejected audio id(s) %s; sending their transcripts instead", ids)
                elif conv is not None and not state.audio_ids_dropped and relay.dropped_assistant_audio(err, sent):
                    state.audio_ids_dropped = True
                    state.note("ids-dropped", _IDS_DROPPED_NOTE)
                elif (turn.bridge is not None and not state.refuses_input_audio and relay.has_input_audio(sent)
                      and relay.refuses_input_audio(err)):
                    state.refuses_input_audio = True
                    state.note("input-audio", _INPUT_AUDIO_NOTE)
                else:
                    raise
                body["messages"] = turn.wire_messages()
        return self._client.post("/chat/completions", json_body=body, stream=turn.stream, timeout=turn.timeout)

    def bridge_speech(self, reply: ChatReply, voice: str | dict, fmt: str, bridge: Mapping[str, Any],
                       timeout: Any) -> None:
        """Give a reply that came without the audio asked for its text spoken by /audio/speech."""
        if reply.audio is not None or not reply.text.strip() or reply.tool_calls:
            return
        options = {"voice": voice, "response_format": "pcm" if fmt == spec.CHAT_STREAM_AUDIO_FORMAT else fmt,
                   "timeout": timeout, **bridge.get("speak", {})}
        try:
            reply.audio = self._speech.speak(reply.text, **options)
        except (APIStatusError, APIConnectionError, APIResponseError) as err:
            # The text is the answer; keep it, and say why there is no audio.
            self._client.relay_state.note("bridge-speech-failed", f"the reply came without audio, and speaking it with "
                                                          f"/audio/speech failed ({err}); the reply is text only")
            return
        reply.audio_bridged = True
        reply.cost = total_cost([reply.cost, reply.audio.cost])  # the speech was a call of its own
        self._client.relay_state.note(
            "bridge-speech", "the server answered without audio although audio was asked for (a text model behind a "
            "relay ignores `modalities`): the reply was spoken with its /audio/speech (audio_bridge=False to get the "
            "reply as it was sent)")

    def bridge_transcribe(self, data: str, fmt: str, bridge: Mapping[str, Any]) -> str:
        """The words of one input_audio part, from this server's /audio/transcriptions."""
        clip = AudioClip.from_base64(data, fmt)
        options = {"response_format": "json", **bridge.get("transcribe", {})}
        return self._transcriptions.transcribe(clip, **options).text


def _bridge_options(audio_bridge: Any) -> dict[str, dict[str, Any]] | None:
    if audio_bridge is True:
        return {}
    if audio_bridge is False or audio_bridge is None:
        return None
    if isinstance(audio_bridge, Mapping) and set(audio_bridge) <= {"speak", "transcribe"} \
            and all(isinstance(v, Mapping) for v in audio_bridge.values()):
        return {k: dict(v) for k, v in audio_bridge.items()}
    raise InvalidInputError("audio_bridge must be True, False, or a dict like {'speak': {...}, 'transcribe': {...}} "
                            "of arguments for speak() and transcribe()", param="audio_bridge")


def _modalities(value: Any) -> list[str]:
    mods = as_list(value, "modalities")
    if not mods:
        raise InvalidInputError("modalities is empty; use ['text'] or ['text', 'audio']", param="modalities")
    return [check_choice(m, spec.CHAT_MODALITIES, "modalities") for m in mods]


def _cost(reply: ChatReply, prices: Prices) -> Cost:
    """What the reply cost: its usage at `prices` (free on the engine, unknown without usage)."""
    if reply.usage is not None:
        return reply.usage.cost(prices, reply.model)
    return Cost.local() if prices.local else Cost.unknown("the answer gave no token usage")


class _ChatTurn:
    """One chat() call: its messages and request body, and the relay workarounds that may change
    them (nbaudio.relay), with what the client's RelayState learnt so far."""

    def __init__(self, endpoint: ChatEndpoint, state: relay.RelayState, messages: Any, audio: AudioInput | None, *,
                 bridge: Any,
                 stream: bool, timeout: Any, model: str, modalities: list[str], voice: str | dict, audio_format: str,
                 extra: dict[str, Any]) -> None:
        self.endpoint, self.bridge, self.stream, self.timeout = endpoint, bridge, stream, timeout
        self.voice, self.audio_format, self.modalities = voice, audio_format, modalities
        self.state = state
        self.conv = messages if isinstance(messages, Conversation) else None
        self.history, self.new_message = build_messages(messages, audio)
        self.tool_messages: list[dict[str, Any]] = []  # calls and their results on the way to the answer
        if self.conv is not None and self.new_message is None and (not self.history
                                                                   or self.history[-1]["role"] != "user"):
            raise InvalidInputError("the conversation has no new user message: conv.add_user('...') first, "
                                    "or pass audio=")
        self.body: dict[str, Any] = {"model": model, "modalities": modalities, "messages": self.wire_messages()}
        if "audio" in modalities:
            self.body["audio"] = {"voice": voice, "format": audio_format}
        if stream:
            self.body["stream"] = True
            self.body.setdefault("stream_options", {"include_usage": True})
        self.body.update(extra)

    def _new(self) -> list[dict[str, Any]]:
        return [self.new_message] if self.new_message else []

    def wire_messages(self) -> list[dict[str, Any]]:
        """The messages as this server takes them (what it taught us so far: see nbaudio.relay)."""
        if self.conv is not None:
            past = self.conv.to_messages(use_audio_ids=not self.state.audio_ids_dropped)
        else:
            past = self.history
        msgs = past + self._new() + self.tool_messages
        if self.bridge is not None and self.state.refuses_input_audio and relay.has_input_audio(msgs):
            endpoint, bridge = self.endpoint, self.bridge
            msgs = relay.transcribed_messages(msgs, self.state,
                                              lambda data, f: endpoint.bridge_transcribe(data, f, bridge))
        return msgs

    def ids_ignored(self, reply: ChatReply) -> bool:
        """The reply's prompt did not grow by the earlier reply sent by id: the relay dropped it."""
        conv = self.conv
        if conv is None or self.state.audio_ids_dropped:
            return False
        sent = [m["audio"]["id"] for m in self.body["messages"] if m.get("role") == "assistant" and m.get("audio")]
        windowed = conv.max_history is not None and len(conv) + 2 > conv.max_history
        if not relay.audio_ids_ignored(reply.usage, conv.last_reply, sent, windowed=windowed):
            return False
        self.state.audio_ids_dropped = True
        self.state.note("ids-dropped", _IDS_DROPPED_NOTE)
        return True

    def finish(self, reply: ChatReply) -> None:
        """Bridge what the server left out, then record the turn (only now: it succeeded)."""
        reply.input_transcribed = (relay.has_input_audio(self.history + self._new())
                                   and not relay.has_input_audio(self.body["messages"]))
        if self.bridge is not None and "audio" in self.modalities:
            self.endpoint.bridge_speech(reply, self.voice, self.audio_format, self.bridge, self.timeout)
        if self.conv is not None:
            if self.new_message is not None:
                self.conv.add(self.new_message)
            for message in self.tool_messages:
                self.conv.add(message)
            self.conv.add_reply(reply)
