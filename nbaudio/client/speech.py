"""POST /audio/speech: text to speech."""

from __future__ import annotations

from typing import Any

import requests

from .._http.streams import SpeechStream
from .._http.validation import UNSET, check_bool, check_choice, check_model, check_number, check_text, check_voice
from .._wire import spec
from ..audio import AudioClip
from ..codec import sniff_format
from ..errors import APIResponseError, InvalidInputError
from ..longform import split_text
from ..pricing import speech_cost
from ..progress import progress
from .core import BaseClient, check_ok_body, resolve_timeout

__all__ = ["SpeechEndpoint"]


class SpeechEndpoint:
    """`speak()`, the /audio/speech endpoint, for the client that owns it."""

    def __init__(self, client: BaseClient) -> None:
        self._client = client

    def speak(
        self,
        text: str,
        *,
        voice: spec.Voice | str | dict = UNSET,
        model: str = UNSET,
        response_format: spec.SpeechFormat = UNSET,
        speed: float | None = UNSET,
        instructions: str | None = UNSET,
        stream: bool = False,
        stream_format: spec.SpeechStreamFormat | None = UNSET,
        timeout: Any = None,
        **extra: Any,
    ) -> AudioClip | SpeechStream:
        """Text to speech. Text over 4096 characters is split at sentences and the clips joined.

        With `stream=True` returns a SpeechStream: iterate for audio bytes, `.result` is the clip.
        """
        arg = self._client.defaults.pick
        voice = check_voice(arg("speak", "voice", voice, "alloy"))
        model = check_model(arg("speak", "model", model, "tts-1"))
        fmt = check_choice(arg("speak", "response_format", response_format, "wav"), spec.SPEECH_FORMATS,
                           "response_format")
        speed = arg("speak", "speed", speed, None)
        instructions = arg("speak", "instructions", instructions, None)
        stream_format = arg("speak", "stream_format", stream_format, None)
        check_text(text, "text")
        if speed is not None:
            speed = check_number(speed, "speed", spec.SPEED_MIN, spec.SPEED_MAX)
        if instructions is not None:
            check_text(instructions, "instructions", max_len=spec.SPEECH_MAX_INPUT)
        if stream_format is not None:
            stream_format = check_choice(stream_format, spec.SPEECH_STREAM_FORMATS, "stream_format")
        check_bool(stream, "stream")
        self._client.near_misses.warn("speak", extra, spec.SPEECH_PARAMS)
        body: dict[str, Any] = {"model": model, "voice": voice, "response_format": fmt}
        if speed is not None:
            body["speed"] = speed
        if instructions is not None:
            body["instructions"] = instructions
        if stream_format is not None:
            body["stream_format"] = stream_format
        body.update(extra)
        pieces = split_text(text, spec.SPEECH_MAX_INPUT)
        if stream:
            if len(pieces) > 1:
                raise InvalidInputError(
                    f"text is {len(text)} characters; streaming takes at most {spec.SPEECH_MAX_INPUT}. "
                    "Use stream=False (long text is split and joined for you) or send it in parts", param="text")
            resp = self._client.post("/audio/speech", json_body={**body, "input": text}, stream=True, timeout=timeout)
            return SpeechStream(resp, self._client.redact, fmt, max_bytes=self._client.response_cap("/audio/speech"),
                                stall_after=resolve_timeout(timeout, self._client.timeout)[1],
                                cost=speech_cost(self._client.price_table(resp), model, len(text)))
        clips = []
        with progress(len(pieces), "speak") as bar:
            for piece in pieces:
                resp = self._client.post("/audio/speech", json_body={**body, "input": piece}, timeout=timeout)
                clips.append(self._speech_clip(resp, fmt))
                bar.update(1)
        out = clips[0]
        if len(clips) > 1:
            joined = AudioClip.concatenate(clips)
            out = joined.encode(clips[0].format) if clips[0].format != "wav" else joined
        out.cost = speech_cost(self._client.price_table(resp), model, len(text))  # characters of every piece
        return out

    def _speech_clip(self, resp: requests.Response, fmt: str) -> AudioClip:
        request_id = resp.headers.get("x-request-id")
        if "text/event-stream" in resp.headers.get("content-type", ""):  # stream_format="sse", not streamed
            return SpeechStream(resp, self._client.redact, fmt, body=resp.content).collect()
        data = resp.content
        if not data:
            raise APIResponseError("the server returned no audio (empty body)", request_id=request_id)
        # Servers may ignore response_format; trust the bytes when they say what they are.
        sniffed = sniff_format(data, strict=fmt == "pcm")
        if sniffed is not None:
            return AudioClip(data, sniffed)
        # Not a known audio format: JSON, a web page or text is the server talking (a 200 error).
        check_ok_body(resp, "audio", self._client.redact)
        if fmt != "pcm":  # headerless PCM is the one format with no signature to find
            raise APIResponseError(
                f"the server answered {resp.status_code} with {len(data)} bytes that are not {fmt} audio (nor any "
                f"known format; they begin {data[:16].hex(' ')}); try response_format='wav' or another server",
                request_id=request_id)
        return AudioClip(data, "pcm")
