"""POST /chat/completions with audio out (and optionally in), and the audio bridge: speech and
transcription on the same server for what a text model behind a relay cannot do (see nbaudio.relay).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import requests

from .. import relay, spec
from ..audio import AudioClip, AudioInput
from ..chat import ChatReply, Conversation, build_messages
from ..errors import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    InvalidInputError,
)
from ..streams import ChatStream
from ..validation import (
    UNSET,
    as_list,
    check_bool,
    check_choice,
    check_model,
    check_voice,
)
from .core import check_ok_body, resolve_timeout, response_json
from .speech import SpeechEndpoint
from .transcriptions import TranscriptionEndpoints

__all__ = ["ChatEndpoint"]

log = logging.getLogger("nbaudio")

_IDS_DROPPED_NOTE = ("the earlier replies reached the model without their audio (a relay such as new-api drops the "
                     "assistant `audio` field): they are sent as their transcripts from now on")
_INPUT_AUDIO_NOTE = ("this API does not accept audio input: each recording is transcribed with its "
                     "/audio/transcriptions and sent as text from now on (audio_bridge=False to get the error instead)")


class ChatEndpoint(SpeechEndpoint, TranscriptionEndpoints):
    """`chat()`, the /chat/completions endpoint (its audio bridge uses speak() and transcribe())."""

    def chat(
        self,
        messages: str | list[dict[str, Any]] | Conversation,
        *,
        model: str = UNSET,
        voice: str | dict = UNSET,
        audio_format: str = UNSET,
        modalities: Iterable[str] = UNSET,
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
        bridge = _bridge_options(audio_bridge)
        arg = self.defaults.pick
        model = check_model(arg("chat", "model", model, "gpt-4o-audio-preview"))
        mods = as_list(arg("chat", "modalities", modalities, ("text", "audio")), "modalities")
        if not mods:
            raise InvalidInputError("modalities is empty; use ['text'] or ['text', 'audio']", param="modalities")
        mods = [check_choice(m, spec.CHAT_MODALITIES, "modalities") for m in mods]
        self.near_misses.warn("chat", extra, spec.CHAT_PARAMS)
        check_bool(stream, "stream")
        fmt = arg("chat", "audio_format", audio_format, "wav")
        if stream and fmt == "wav" and audio_format is UNSET and not self.defaults.has("chat", "audio_format"):
            fmt = spec.CHAT_STREAM_AUDIO_FORMAT  # a WAV cannot be streamed; pcm16 is what the API streams
        fmt = check_choice(fmt, spec.CHAT_AUDIO_FORMATS, "audio_format")
        if stream and "audio" in mods and fmt != spec.CHAT_STREAM_AUDIO_FORMAT:
            raise InvalidInputError(
                f"streamed audio comes only as pcm16; use audio_format='pcm16' (not {fmt!r}) or stream=False",
                param="audio_format")
        voice = check_voice(arg("chat", "voice", voice, "alloy"))
        conv = messages if isinstance(messages, Conversation) else None
        history, new_message = build_messages(messages, audio)
        if conv is not None and new_message is None and (not history or history[-1]["role"] != "user"):
            raise InvalidInputError("the conversation has no new user message: conv.add_user('...') first, "
                                    "or pass audio=")
        state = self.relay_state

        def wire_messages() -> list[dict[str, Any]]:
            """The messages as this server takes them (what it taught us so far: see nbaudio.relay)."""
            past = conv.to_messages(use_audio_ids=not state.audio_ids_dropped) if conv is not None else history
            msgs = past + ([new_message] if new_message else [])
            if bridge is not None and state.refuses_input_audio and relay.has_input_audio(msgs):
                msgs = relay.transcribed_messages(msgs, state, lambda data, f: self._bridge_transcribe(data, f, bridge))
            return msgs

        body: dict[str, Any] = {"model": model, "modalities": mods, "messages": wire_messages()}
        if "audio" in mods:
            body["audio"] = {"voice": voice, "format": fmt}
        if stream:
            body["stream"] = True
            body.setdefault("stream_options", {"include_usage": True})
        body.update(extra)

        def ignored_ids(reply: ChatReply) -> bool:
            """The reply's prompt did not grow by the earlier reply sent by id: the relay dropped it."""
            if conv is None or state.audio_ids_dropped:
                return False
            sent = [m["audio"]["id"] for m in body["messages"] if m.get("role") == "assistant" and m.get("audio")]
            windowed = conv.max_history is not None and len(conv) + 2 > conv.max_history
            if not relay.audio_ids_ignored(reply.usage, conv.last_reply, sent, windowed=windowed):
                return False
            state.audio_ids_dropped = True
            state.note("ids-dropped", _IDS_DROPPED_NOTE)
            return True

        def finish(reply: ChatReply) -> None:
            """Bridge what the server left out, then record the turn (only now: it succeeded)."""
            reply.input_transcribed = relay.has_input_audio(history + ([new_message] if new_message else [])) \
                and not relay.has_input_audio(body["messages"])
            if bridge is not None and "audio" in mods:
                self._bridge_speech(reply, voice, fmt, bridge, timeout)
            if conv is not None:
                if new_message is not None:
                    conv.add(new_message)
                conv.add_reply(reply)

        resp = self._chat_request(body, conv, wire_messages, bridge is not None, stream, timeout)
        if stream:
            def done(reply: ChatReply) -> None:
                ignored_ids(reply)  # too late to ask again: the reply has been shown; later turns send text
                finish(reply)

            stall_after = resolve_timeout(timeout, self.timeout)[1]
            return ChatStream(resp, self.redact, fmt, on_done=done, stall_after=stall_after,
                              max_bytes=self.response_cap("/chat/completions"))
        check_ok_body(resp, "chat", self.redact)
        reply = ChatReply.from_response(response_json(resp, self.redact), audio_format=fmt)
        if ignored_ids(reply):
            # Answered without the earlier turns: ask again, with them as transcripts.
            body["messages"] = wire_messages()
            resp = self._chat_request(body, conv, wire_messages, bridge is not None, stream, timeout)
            check_ok_body(resp, "chat", self.redact)
            reply = ChatReply.from_response(response_json(resp, self.redact), audio_format=fmt)
        finish(reply)
        return reply

    def _chat_request(self, body: dict[str, Any], conv: Conversation | None,
                      wire_messages: Callable[[], list[dict[str, Any]]], bridge: bool, stream: bool,
                      timeout: Any) -> requests.Response:
        """POST a chat request; when the server's error says what to change (nbaudio.relay), change
        it and send again. Each change is made once, so this ends."""
        state = self.relay_state
        for _ in range(len(body["messages"]) + 2):
            try:
                return self.post("/chat/completions", json_body=body, stream=stream, timeout=timeout)
            except APIStatusError as err:
                sent = body["messages"]
                ids = relay.rejected_audio_ids(err, sent) if conv is not None else []
                if ids and conv.reject_audio_ids(ids):
                    # The server no longer knows this audio: those turns go as their transcripts.
                    log.info("server rejected audio id(s) %s; sending their transcripts instead", ids)
                elif conv is not None and not state.audio_ids_dropped and relay.dropped_assistant_audio(err, sent):
                    state.audio_ids_dropped = True
                    state.note("ids-dropped", _IDS_DROPPED_NOTE)
                elif (bridge and not state.refuses_input_audio and relay.has_input_audio(sent)
                      and relay.refuses_input_audio(err)):
                    state.refuses_input_audio = True
                    state.note("input-audio", _INPUT_AUDIO_NOTE)
                else:
                    raise
                body["messages"] = wire_messages()
        return self.post("/chat/completions", json_body=body, stream=stream, timeout=timeout)

    def _bridge_speech(self, reply: ChatReply, voice: str | dict, fmt: str, bridge: Mapping[str, Any],
                       timeout: Any) -> None:
        """Give a reply that came without the audio asked for its text spoken by /audio/speech."""
        if reply.audio is not None or not reply.text.strip() or reply.tool_calls:
            return
        options = {"voice": voice, "response_format": "pcm" if fmt == spec.CHAT_STREAM_AUDIO_FORMAT else fmt,
                   "timeout": timeout, **bridge.get("speak", {})}
        try:
            reply.audio = self.speak(reply.text, **options)
        except (APIStatusError, APIConnectionError, APIResponseError) as err:
            # The text is the answer; keep it, and say why there is no audio.
            self.relay_state.note("bridge-speech-failed", f"the reply came without audio, and speaking it with "
                                                          f"/audio/speech failed ({err}); the reply is text only")
            return
        reply.audio_bridged = True
        self.relay_state.note("bridge-speech", "the server answered without audio although audio was asked for (a "
                                               "text model behind a relay ignores `modalities`): the reply was spoken "
                                               "with its /audio/speech (audio_bridge=False to get the reply as it was "
                                               "sent)")

    def _bridge_transcribe(self, data: str, fmt: str, bridge: Mapping[str, Any]) -> str:
        """The words of one input_audio part, from this server's /audio/transcriptions."""
        clip = AudioClip.from_base64(data, fmt)
        options = {"response_format": "json", **bridge.get("transcribe", {})}
        return self.transcribe(clip, **options).text


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
