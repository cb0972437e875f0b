"""The HTTP client: one `requests.Session`, the four audio endpoints, retries, validation.

Settings resolve from arguments, then NBAUDIO_BASE_URL / NBAUDIO_API_KEY, then
OPENAI_BASE_URL / OPENAI_API_KEY. With none of them, requests go to the embedded local
engine (`nbaudio.local`), started once per process on first use.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import os
import random
import re
import threading
import time
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlsplit

import requests

from . import relay, spec
from ._longform import split_audio, split_text
from ._progress import progress
from ._streams import ChatStream, SpeechStream, TranscriptionStream
from .audio import AudioClip, AudioInput, as_audio_clip, sniff_format
from .backend import resolve_backend
from .chat import ChatReply, Conversation, build_messages
from .errors import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AudioDecodeError,
    BadRequestError,
    InvalidInputError,
    NotFoundError,
    make_status_error,
    parse_error_body,
)
from .transcript import Transcript

__all__ = ["Client", "Secret", "speak", "transcribe", "translate", "chat", "default_client", "set_default_client"]

log = logging.getLogger("nbaudio")

DEFAULT_TIMEOUT = 600.0  # seconds to read a response (long transcriptions take a while)
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY = 0.5  # seconds, doubled each retry
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0  # a server's Retry-After above this is not waited for; our own backoff is used
RETRY_JITTER = 0.25  # up to 25% shorter, so clients that failed together do not retry together
RETRY_STATUSES = frozenset({408, 409, 429})  # plus every 5xx
USER_AGENT = "nbaudio/0.1"

_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}$")
_UNSET: Any = object()


class Secret:
    """Holds the API key; its repr never shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str | None) -> None:
        self._value = value

    def get(self) -> str | None:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "'***'" if self._value else "None"

    __str__ = __repr__


def normalize_base_url(url: str) -> str:
    """`https://host`, `https://host/`, `https://host/v1/` -> `https://host/v1`."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidInputError("base_url must be a non-empty URL such as 'https://api.openai.com/v1'", param="base_url")
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInputError(
            f"base_url {url!r} is not an http(s) URL; write it like 'https://api.example.com/v1'", param="base_url"
        )
    if parts.query or parts.fragment:
        raise InvalidInputError(f"base_url must not carry a query or fragment: {url!r}", param="base_url")
    path = parts.path.rstrip("/")
    for suffix in ("/chat/completions", "/audio/speech", "/audio/transcriptions", "/audio/translations"):
        if path.endswith(suffix):
            raise InvalidInputError(
                f"base_url should be the API root, not an endpoint: use {url[: url.rfind(suffix)]!r}", param="base_url"
            )
    if not re.search(r"/v\d+$", path):
        path += "/v1"
    return f"{parts.scheme}://{parts.netloc}{path}"


def _check_timeout(timeout: Any) -> tuple[float, float]:
    def positive(v: Any, what: str) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise InvalidInputError(f"{what} must be a positive number of seconds, not {v!r}", param="timeout")
        return float(v)

    if isinstance(timeout, tuple):
        if len(timeout) != 2:
            raise InvalidInputError("timeout as a tuple must be (connect_seconds, read_seconds)", param="timeout")
        return positive(timeout[0], "connect timeout"), positive(timeout[1], "read timeout")
    t = positive(timeout, "timeout")
    return min(DEFAULT_CONNECT_TIMEOUT, t), t


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked us to wait (retry-after-ms, Retry-After seconds or HTTP date)."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    ra = headers.get("retry-after")
    if not ra:
        return None
    try:
        return float(ra)
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(ra).timestamp() - time.time()
    except (TypeError, ValueError):
        return None  # neither seconds nor an HTTP date: fall back to our own backoff


def _retry_delay(attempt: int, headers: Mapping[str, str] | None) -> float:
    asked = _retry_after(headers) if headers is not None else None
    if asked is not None and 0 <= asked <= MAX_RETRY_AFTER:
        return asked
    delay = min(INITIAL_RETRY_DELAY * (2**attempt), MAX_RETRY_DELAY)
    return delay * (1 - RETRY_JITTER * random.random())


def _should_retry(status: int, headers: Mapping[str, str]) -> bool:
    flag = headers.get("x-should-retry")
    if flag in ("true", "false"):
        return flag == "true"
    return status in RETRY_STATUSES or status >= 500


# ---- argument checks (all before any request) -------------------------------------------


def _check_choice(value: Any, choices: Iterable[str], param: str) -> str:
    choices = tuple(choices)
    if value not in choices:
        raise InvalidInputError(f"{param}={value!r} is not supported; use one of: {', '.join(choices)}", param=param)
    return value


def _check_text(value: Any, param: str, *, max_len: int | None = None, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"{param} must be a string, not {type(value).__name__}", param=param)
    if not allow_empty and not value.strip():
        raise InvalidInputError(f"{param} is empty; give some text", param=param)
    if max_len is not None and len(value) > max_len:
        raise InvalidInputError(f"{param} is {len(value)} characters; the limit is {max_len}", param=param)
    return value


def _check_model(model: Any) -> str:
    return _check_text(model, "model")


def _check_voice(voice: Any, param: str = "voice") -> str | dict[str, str]:
    if isinstance(voice, dict):
        if set(voice) != {"id"} or not isinstance(voice.get("id"), str) or not voice["id"].strip():
            raise InvalidInputError(f"{param} as a dict must be {{'id': 'voice_...'}} (a custom voice id)", param=param)
        return voice
    if not isinstance(voice, str) or not voice.strip():
        raise InvalidInputError(
            f"{param} must be a voice name ({', '.join(spec.VOICES)}) or {{'id': ...}}, not {voice!r}", param=param
        )
    if voice.lower() in spec.VOICES and voice != voice.lower():
        return voice.lower()
    return voice


def _check_number(value: Any, param: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidInputError(f"{param} must be a number from {lo} to {hi}, not {value!r}", param=param)
    if not lo <= value <= hi:
        raise InvalidInputError(f"{param}={value} is out of range; use a value from {lo} to {hi}", param=param)
    return value


def _check_bool(value: Any, param: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError(f"{param} must be True or False, not {value!r}", param=param)
    return value


def _check_language(language: Any) -> str:
    if not isinstance(language, str) or not _LANGUAGE_RE.match(language.strip().lower()):
        raise InvalidInputError(
            f"language={language!r} is not an ISO-639-1 code; use a code like 'en', 'de' or 'es'", param="language"
        )
    return language.strip().lower()


def _as_list(value: Any, param: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if value is None:
        return []
    try:
        return list(value)
    except TypeError:
        raise InvalidInputError(f"{param} must be a list of strings, not {type(value).__name__}", param=param) from None


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value)
    return str(value)


def _upload_clip(clip: AudioClip) -> tuple[str, bytes, str]:
    """(filename, bytes, content type) for a multipart upload, converting formats the API does not take."""
    clip.validate()
    fmt = clip.format
    if fmt in ("pcm", "aac"):
        clip, fmt = clip.encode("wav"), "wav"
    ext = {"opus": "ogg"}.get(fmt, fmt)
    name = clip.name if clip.name and clip.name.lower().endswith("." + ext) else f"audio.{ext}"
    return name, clip.data, spec.MIME_TYPES.get(fmt, "application/octet-stream")


class Client:
    """An OpenAI-format audio API client owning one HTTP session. Use it as a context manager.

        with nbaudio.Client("https://relay.example.com/v1", api_key=...) as c:
            clip = c.speak("Hello")

    `defaults` changes the out-of-the-box arguments, per method or for all methods that take
    the key: `Client(defaults={"voice": "coral", "transcribe": {"language": "en"}})`.
    """

    _METHOD_PARAMS = {
        "speak": {"voice", "model", "response_format", "speed", "instructions", "stream_format"},
        "transcribe": {"model", "response_format", "timestamp_granularities", "language", "prompt", "temperature",
                       "include", "chunking_strategy"},
        "translate": {"model", "response_format", "prompt", "temperature"},
        "chat": {"model", "voice", "audio_format", "modalities"},
    }

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        defaults: Mapping[str, Any] | None = None,
    ) -> None:
        self.timeout = _check_timeout(timeout)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise InvalidInputError(f"max_retries must be a whole number >= 0, not {max_retries!r}", param="max_retries")
        self.max_retries = max_retries
        backend = resolve_backend(base_url, api_key)
        api_key, base_url = backend.api_key, backend.base_url
        if api_key is not None:
            if not isinstance(api_key, str):
                raise InvalidInputError("api_key must be a string", param="api_key")
            api_key = api_key.strip()
            if not api_key or any(c in api_key for c in "\r\n "):
                raise InvalidInputError("api_key is empty or contains spaces/newlines; paste the key alone", param="api_key")
        self._api_key = Secret(api_key)
        # None means: the embedded engine, started on first request.
        self._base_url: str | None = normalize_base_url(base_url) if base_url is not None else None
        self._defaults = self._check_defaults(defaults or {})
        self._transport_ready = False
        self._session = requests.Session()
        # The environment is read once (in _configure_transport), not on every request: it is
        # faster, and it keeps a ~/.netrc entry from replacing our Bearer header with Basic auth.
        self._session.trust_env = False
        self._session.headers["User-Agent"] = USER_AGENT
        for k, v in (default_headers or {}).items():
            if k.lower() == "authorization":
                raise InvalidInputError("pass the key as api_key=, not as an Authorization header", param="default_headers")
            self._session.headers[k] = v
        self._closed = False
        self._lock = threading.Lock()
        self._relay = relay.RelayState()  # what this client learnt about its server (nbaudio.relay)

    def _check_defaults(self, defaults: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {m: {} for m in self._METHOD_PARAMS}
        for key, value in defaults.items():
            if key in self._METHOD_PARAMS:
                if not isinstance(value, Mapping):
                    raise InvalidInputError(f"defaults[{key!r}] must be a dict of {key}() arguments", param="defaults")
                unknown = set(value) - self._METHOD_PARAMS[key]
                if unknown:
                    raise InvalidInputError(
                        f"defaults[{key!r}] has unknown argument(s) {', '.join(sorted(unknown))}; "
                        f"{key}() takes {', '.join(sorted(self._METHOD_PARAMS[key]))}", param="defaults")
                out[key].update(value)
            else:
                methods = [m for m, params in self._METHOD_PARAMS.items() if key in params]
                if not methods:
                    raise InvalidInputError(f"defaults has unknown key {key!r}", param="defaults")
                for m in methods:
                    out[m].setdefault(key, value)
        return out

    def _arg(self, method: str, name: str, value: Any, fallback: Any) -> Any:
        if value is not _UNSET:
            return value
        return self._defaults[method].get(name, fallback)

    # ---- plumbing -----------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The API root in use (starts the embedded engine if none was configured)."""
        if self._base_url is None:
            with self._lock:
                if self._base_url is None:
                    from .local import default_base_url

                    self._base_url = default_base_url()
        if not self._transport_ready:
            self._configure_transport(self._base_url)
        return self._base_url

    def _configure_transport(self, base_url: str) -> None:
        """Proxies and CA bundle from the environment, as requests would find them, read once."""
        host = urlsplit(base_url).hostname or ""
        loopback = host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")
        self._session.proxies = {} if loopback else requests.utils.get_environ_proxies(base_url)
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            self._session.verify = bundle
        self._transport_ready = True

    def redact(self, text: str) -> str:
        """`text` with the API key (and any long prefix of it) replaced by ***."""
        key = self._api_key.get()
        if not key or not text:
            return text
        text = text.replace(key, "***")
        if len(key) >= 12:
            text = text.replace(key[:-4], "***")
        return text

    def close(self) -> None:
        self._session.close()
        self._closed = True

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self._base_url or "embedded engine (starts on first use)"
        return f"<nbaudio.Client {where} api_key={'set' if self._api_key else 'none'}>"

    def _headers(self) -> dict[str, str]:
        key = self._api_key.get()
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _request(self, path: str, *, json_body: dict | None = None, form: list | None = None,
                 files: dict | None = None, stream: bool = False, timeout: Any = None) -> requests.Response:
        """POST with retries. Returns a response with status < 400 (body unread when `stream`)."""
        if self._closed:
            raise InvalidInputError("this Client is closed; create a new one")
        url = self.base_url + path
        t = _check_timeout(timeout) if timeout is not None else self.timeout
        last_error: Exception | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                headers = getattr(last_error, "headers", None)
                delay = _retry_delay(attempt - 1, headers)
                log.info("retrying %s in %.2fs (attempt %d of %d): %s", path, delay, attempt + 1,
                         self.max_retries + 1, last_error)
                time.sleep(delay)
            started = time.monotonic()
            try:
                resp = self._session.post(url, json=json_body, data=form, files=files, headers=self._headers(),
                                          timeout=t, stream=True)
                if not stream and resp.status_code < 400:
                    resp.content  # read now: a body cut short counts as a connection failure, retried
            except requests.exceptions.Timeout as exc:
                last_error = APITimeoutError(self.redact(f"request to {path} timed out after {t[1]:g}s: {type(exc).__name__}"))
                continue
            except (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                last_error = APIConnectionError(self.redact(f"could not reach {self._where()}: {_connection_reason(exc)}"))
                continue
            except requests.exceptions.RequestException as exc:
                raise APIConnectionError(self.redact(f"request to {path} failed: {exc}")) from None
            log.debug("POST %s -> %d in %.3fs", path, resp.status_code, time.monotonic() - started)
            if resp.status_code < 400:
                return resp
            err = make_status_error(
                resp.status_code, self.redact(resp.text), content_type=resp.headers.get("content-type", ""),
                request_id=resp.headers.get("x-request-id"),
                # Names lowercased, so `retry-after` is found however the server spelled it; values
                # redacted, as a server may echo the Authorization header back in any of them.
                headers={k.lower(): self.redact(v) for k, v in resp.headers.items()},
            )
            resp.close()
            if not _should_retry(resp.status_code, resp.headers):
                raise err
            last_error = err
        assert last_error is not None
        raise last_error

    def _where(self) -> str:
        parts = urlsplit(self._base_url or "")
        return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "the API"

    def _json(self, resp: requests.Response) -> Any:
        try:
            return resp.json()
        except ValueError:
            snippet = resp.text[:120]
            raise APIResponseError(
                self.redact(f"the server answered {resp.status_code} but the body is not JSON: {snippet!r}"),
                request_id=resp.headers.get("x-request-id"),
            ) from None

    def _check_ok_body(self, resp: requests.Response) -> None:
        """Some relays answer 200 with an error JSON; treat it as the error it is."""
        if "application/json" in resp.headers.get("content-type", "") and resp.content[:1] == b"{":
            try:
                data = resp.json()
            except ValueError:
                return
            if isinstance(data, dict) and "error" in data and "text" not in data and "choices" not in data:
                info = parse_error_body(resp.status_code, self.redact(resp.text))
                raise APIResponseError(f"the server answered 200 with an error: {info['message']}",
                                       request_id=resp.headers.get("x-request-id"))

    # ---- /audio/speech --------------------------------------------------------------------
    def speak(
        self,
        text: str,
        *,
        voice: str | dict = _UNSET,
        model: str = _UNSET,
        response_format: str = _UNSET,
        speed: float | None = _UNSET,
        instructions: str | None = _UNSET,
        stream: bool = False,
        stream_format: str | None = _UNSET,
        timeout: Any = None,
        **extra: Any,
    ) -> AudioClip | SpeechStream:
        """Text to speech. Text over 4096 characters is split at sentences and the clips joined.

        With `stream=True` returns a SpeechStream: iterate for audio bytes, `.result` is the clip.
        """
        voice = _check_voice(self._arg("speak", "voice", voice, "alloy"))
        model = _check_model(self._arg("speak", "model", model, "tts-1"))
        fmt = _check_choice(self._arg("speak", "response_format", response_format, "wav"), spec.SPEECH_FORMATS,
                            "response_format")
        speed = self._arg("speak", "speed", speed, None)
        instructions = self._arg("speak", "instructions", instructions, None)
        stream_format = self._arg("speak", "stream_format", stream_format, None)
        _check_text(text, "text")
        if speed is not None:
            _check_number(speed, "speed", spec.SPEED_MIN, spec.SPEED_MAX)
        if instructions is not None:
            _check_text(instructions, "instructions", max_len=spec.SPEECH_MAX_INPUT)
        if stream_format is not None:
            _check_choice(stream_format, spec.SPEECH_STREAM_FORMATS, "stream_format")
        _check_bool(stream, "stream")
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
            resp = self._request("/audio/speech", json_body={**body, "input": text}, stream=True, timeout=timeout)
            return SpeechStream(resp, self.redact, fmt)
        clips = []
        with progress(len(pieces), "speak") as bar:
            for piece in pieces:
                resp = self._request("/audio/speech", json_body={**body, "input": piece}, timeout=timeout)
                clips.append(self._speech_clip(resp, fmt))
                bar.update(1)
        if len(clips) == 1:
            return clips[0]
        joined = AudioClip.concatenate(clips)
        return joined.encode(clips[0].format) if clips[0].format != "wav" else joined

    def _speech_clip(self, resp: requests.Response, fmt: str) -> AudioClip:
        self._check_ok_body(resp)
        if "text/event-stream" in resp.headers.get("content-type", ""):
            stream = SpeechStream(resp, self.redact, fmt)
            return stream.collect()
        data = resp.content
        if not data:
            raise APIResponseError("the server returned no audio (empty body)", request_id=resp.headers.get("x-request-id"))
        # Servers may ignore response_format; trust the bytes when they say what they are.
        return AudioClip(data, sniff_format(data, strict=fmt == "pcm") or fmt)

    # ---- /audio/transcriptions and /audio/translations -----------------------------------
    def transcribe(
        self,
        audio: AudioInput,
        *,
        model: str = _UNSET,
        response_format: str = _UNSET,
        timestamp_granularities: Iterable[str] = _UNSET,
        language: str | None = _UNSET,
        prompt: str | None = _UNSET,
        temperature: float | None = _UNSET,
        include: Iterable[str] | None = _UNSET,
        chunking_strategy: str | dict | None = _UNSET,
        known_speaker_names: Iterable[str] | None = None,
        known_speaker_references: Iterable[AudioInput] | None = None,
        stream: bool = False,
        timeout: Any = None,
        **extra: Any,
    ) -> Transcript | TranscriptionStream:
        """Speech to text. Uploads over 25 MB are split at silences and the pieces joined.

        The result keeps its input as `transcript.audio`.
        """
        a = lambda name, value, fb: self._arg("transcribe", name, value, fb)  # noqa: E731
        model = _check_model(a("model", model, "whisper-1"))
        asked = a("response_format", response_format, None)
        if asked is not None:
            _check_choice(asked, spec.TRANSCRIPTION_FORMATS, "response_format")
        grans_asked = a("timestamp_granularities", timestamp_granularities, None)
        # Per-model rules: gpt-4o-transcribe takes only json, so the default verbose_json is not sent to it.
        fmt, format_note = relay.choose_transcription_format(model, asked, grans_asked is not None)
        grans = _as_list(grans_asked if grans_asked is not None else ("segment",), "timestamp_granularities")
        for g in grans:
            _check_choice(g, spec.TIMESTAMP_GRANULARITIES, "timestamp_granularities")
        if grans_asked is not None and grans and fmt != "verbose_json":
            raise InvalidInputError(f"timestamp_granularities needs response_format='verbose_json', not {fmt!r}",
                                    param="timestamp_granularities")
        include = _as_list(a("include", include, None), "include")
        for inc in include:
            _check_choice(inc, spec.TRANSCRIPTION_INCLUDE, "include")
        if include and fmt != "json":
            raise InvalidInputError("include=['logprobs'] works only with response_format='json'", param="include")
        chunking = a("chunking_strategy", chunking_strategy, None)
        if chunking is not None and chunking != "auto" and not (isinstance(chunking, dict) and chunking.get("type") == "server_vad"):
            raise InvalidInputError("chunking_strategy must be 'auto' or {'type': 'server_vad', ...}", param="chunking_strategy")
        names = _as_list(known_speaker_names, "known_speaker_names")
        refs = list(known_speaker_references or [])
        if len(names) > spec.MAX_KNOWN_SPEAKERS or len(refs) > spec.MAX_KNOWN_SPEAKERS:
            raise InvalidInputError(f"at most {spec.MAX_KNOWN_SPEAKERS} known speakers", param="known_speaker_names")
        if len(names) != len(refs):
            raise InvalidInputError("known_speaker_names and known_speaker_references must have the same length",
                                    param="known_speaker_references")
        form = self._stt_form(model, fmt, a("prompt", prompt, None), a("temperature", temperature, None), extra)
        lang = a("language", language, None)
        if lang is not None:
            form.append(("language", _check_language(lang)))
        if fmt == "verbose_json":
            form.extend(("timestamp_granularities[]", g) for g in grans)
        form.extend(("include[]", i) for i in include)
        if chunking is not None:
            form.append(("chunking_strategy", _form_value(chunking)))
        for n, r in zip(names, refs):
            form.append(("known_speaker_names[]", n))
            ref = as_audio_clip(r, param="known_speaker_references")
            form.append(("known_speaker_references[]", f"data:{ref.mime_type};base64,{ref.to_base64()}"))
        _check_bool(stream, "stream")
        clip = as_audio_clip(audio)
        if chunking is None and relay.needs_chunking(model, _seconds_or_none(clip)):
            form.append(("chunking_strategy", "auto"))
            self._relay.note(f"chunking:{model}", f"{model} needs chunking_strategy for audio over "
                             f"{spec.DIARIZE_UNCHUNKED_MAX_SECONDS:g} s: sending chunking_strategy='auto'")
        if stream:
            form.append(("stream", "true"))
        if format_note:
            self._relay.note(f"format:{model}", format_note)
        if (model, fmt) in self._relay.refused_formats:
            fmt, form = "json", _json_form(form)  # this server refused it before; the note was given then
        try:
            return self._stt("/audio/transcriptions", clip, form, fmt, stream, timeout, task="transcribe")
        except APIStatusError as err:
            if fmt == "json" or not relay.refuses_response_format(err):
                raise
            self._relay.refused_formats.add((model, fmt))
            self._relay.note(f"format-refused:{model}:{fmt}", f"the server refused response_format={fmt!r} for "
                             f"{model} ({err.message}); asked again for json (text without timestamps)")
            return self._stt("/audio/transcriptions", clip, _json_form(form), "json", stream, timeout,
                             task="transcribe")

    def translate(
        self,
        audio: AudioInput,
        *,
        model: str = _UNSET,
        response_format: str = _UNSET,
        prompt: str | None = _UNSET,
        temperature: float | None = _UNSET,
        timeout: Any = None,
        **extra: Any,
    ) -> Transcript:
        """Speech in any language to English text."""
        a = lambda name, value, fb: self._arg("translate", name, value, fb)  # noqa: E731
        model = _check_model(a("model", model, "whisper-1"))
        fmt = _check_choice(a("response_format", response_format, "verbose_json"), spec.TRANSLATION_FORMATS,
                            "response_format")
        form = self._stt_form(model, fmt, a("prompt", prompt, None), a("temperature", temperature, None), extra)
        clip = as_audio_clip(audio)
        return self._stt("/audio/translations", clip, form, fmt, False, timeout, task="translate")

    def _stt_form(self, model: str, fmt: str, prompt: Any, temperature: Any, extra: dict) -> list[tuple[str, str]]:
        form: list[tuple[str, str]] = [("model", model), ("response_format", fmt)]
        if prompt is not None:
            form.append(("prompt", _check_text(prompt, "prompt", allow_empty=True)))
        if temperature is not None:
            form.append(("temperature", _form_value(_check_number(temperature, "temperature", 0.0, 1.0))))
        for key, value in extra.items():
            if isinstance(value, (list, tuple)):
                name = key if key.endswith("[]") else key + "[]"
                form.extend((name, _form_value(v)) for v in value)
            elif value is not None:
                form.append((key, _form_value(value)))
        return form

    def _stt(self, path: str, clip: AudioClip, form: list, fmt: str, stream: bool, timeout: Any, *, task: str):
        name, data, mime = _upload_clip(clip)
        if len(data) > spec.MAX_UPLOAD_BYTES:
            if stream:
                raise InvalidInputError(
                    f"the audio is {len(data) / 1e6:.1f} MB, over the 25 MB upload limit; use stream=False "
                    "to have it split and transcribed in pieces", param="audio")
            return self._stt_long(path, clip, form, fmt, timeout, task=task)
        resp = self._request(path, form=form, files={"file": (name, data, mime)}, stream=stream, timeout=timeout)
        if stream:
            return TranscriptionStream(resp, self.redact, fmt, clip)
        self._check_ok_body(resp)
        t = Transcript.from_response(resp.content, fmt, task=task)
        t.audio = clip
        return t

    def _stt_long(self, path: str, clip: AudioClip, form: list, fmt: str, timeout: Any, *, task: str) -> Transcript:
        pieces = split_audio(clip)
        # Pieces are joined through their timings, so ask for JSON with timings whatever fmt was
        # (unless the model does not give timings: gpt-4o-transcribe takes only json).
        allowed = relay.transcription_formats(dict(form).get("model", ""))
        piece_fmt = "verbose_json" if fmt in ("verbose_json", "srt", "vtt", "text") else fmt
        if allowed is not None and piece_fmt not in allowed:
            piece_fmt = fmt
        piece_form = [(k, piece_fmt if k == "response_format" else v) for k, v in form]
        done = []
        with progress(len(pieces), task) as bar:
            for offset, piece in pieces:
                name, data, mime = _upload_clip(piece)
                resp = self._request(path, form=piece_form, files={"file": (name, data, mime)}, timeout=timeout)
                self._check_ok_body(resp)
                done.append((offset, Transcript.from_response(resp.content, piece_fmt, task=task)))
                bar.update(1)
        return Transcript.join(done, audio=clip)

    # ---- /chat/completions --------------------------------------------------------------
    def chat(
        self,
        messages: str | list[dict[str, Any]] | Conversation,
        *,
        model: str = _UNSET,
        voice: str | dict = _UNSET,
        audio_format: str = _UNSET,
        modalities: Iterable[str] = _UNSET,
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
        model = _check_model(self._arg("chat", "model", model, "gpt-4o-audio-preview"))
        mods = _as_list(self._arg("chat", "modalities", modalities, ("text", "audio")), "modalities")
        if not mods:
            raise InvalidInputError("modalities is empty; use ['text'] or ['text', 'audio']", param="modalities")
        for m in mods:
            _check_choice(m, spec.CHAT_MODALITIES, "modalities")
        _check_bool(stream, "stream")
        fmt = self._arg("chat", "audio_format", audio_format, "wav")
        if stream and fmt == "wav" and audio_format is _UNSET and "audio_format" not in self._defaults["chat"]:
            fmt = spec.CHAT_STREAM_AUDIO_FORMAT  # a WAV cannot be streamed; pcm16 is what the API streams
        _check_choice(fmt, spec.CHAT_AUDIO_FORMATS, "audio_format")
        if stream and "audio" in mods and fmt != spec.CHAT_STREAM_AUDIO_FORMAT:
            raise InvalidInputError(
                f"streamed audio comes only as pcm16; use audio_format='pcm16' (not {fmt!r}) or stream=False",
                param="audio_format")
        voice = _check_voice(self._arg("chat", "voice", voice, "alloy"))
        conv = messages if isinstance(messages, Conversation) else None
        history, new_message = build_messages(messages, audio)
        if conv is not None and new_message is None and (not history or history[-1]["role"] != "user"):
            raise InvalidInputError("the conversation has no new user message: conv.add_user('...') first, or pass audio=")
        state = self._relay

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

            return ChatStream(resp, self.redact, fmt, on_done=done)
        self._check_ok_body(resp)
        reply = ChatReply.from_response(self._json(resp), audio_format=fmt)
        if ignored_ids(reply):
            # Answered without the earlier turns: ask again, with them as transcripts.
            body["messages"] = wire_messages()
            resp = self._chat_request(body, conv, wire_messages, bridge is not None, stream, timeout)
            self._check_ok_body(resp)
            reply = ChatReply.from_response(self._json(resp), audio_format=fmt)
        finish(reply)
        return reply

    def _chat_request(self, body: dict[str, Any], conv: Conversation | None,
                      wire_messages: Callable[[], list[dict[str, Any]]], bridge: bool, stream: bool,
                      timeout: Any) -> requests.Response:
        """POST a chat request; when the server's error says what to change (nbaudio.relay), change
        it and send again. Each change is made once, so this ends."""
        state = self._relay
        for _ in range(len(body["messages"]) + 2):
            try:
                return self._request("/chat/completions", json_body=body, stream=stream, timeout=timeout)
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
                    state.note("input-audio", "this API does not accept audio input: each recording is transcribed "
                                              "with its /audio/transcriptions and sent as text from now on "
                                              "(audio_bridge=False to get the error instead)")
                else:
                    raise
                body["messages"] = wire_messages()
        return self._request("/chat/completions", json_body=body, stream=stream, timeout=timeout)

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
            self._relay.note("bridge-speech-failed", f"the reply came without audio, and speaking it with "
                                                     f"/audio/speech failed ({err}); the reply is text only")
            return
        reply.audio_bridged = True
        self._relay.note("bridge-speech", "the server answered without audio although audio was asked for (a text "
                                          "model behind a relay ignores `modalities`): the reply was spoken with "
                                          "its /audio/speech (audio_bridge=False to get the reply as it was sent)")

    def _bridge_transcribe(self, data: str, fmt: str, bridge: Mapping[str, Any]) -> str:
        """The words of one input_audio part, from this server's /audio/transcriptions."""
        clip = AudioClip.from_base64(data, fmt)
        options = {"response_format": "json", **bridge.get("transcribe", {})}
        return self.transcribe(clip, **options).text


_IDS_DROPPED_NOTE = ("the earlier replies reached the model without their audio (a relay such as new-api drops the "
                     "assistant `audio` field): they are sent as their transcripts from now on")


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


def _json_form(form: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The transcription form asking for json (granularities need verbose_json, so they go)."""
    return [(k, "json" if k == "response_format" else v) for k, v in form if k != "timestamp_granularities[]"]


def _seconds_or_none(clip: AudioClip) -> float | None:
    try:
        return clip.duration
    except AudioDecodeError:  # e.g. AAC without PyAV: the server may still read it
        return None


def _connection_reason(exc: Exception) -> str:
    text = str(exc)
    for marker, reason in (("Connection refused", "connection refused (is the server running?)"),
                           ("Name or service not known", "unknown host name"),
                           ("nodename nor servname", "unknown host name"),
                           ("Connection reset", "connection reset by the server"),
                           ("RemoteDisconnected", "the server closed the connection without answering"),
                           ("IncompleteRead", "the response was cut short"),
                           # urllib3: the connection closed where the next chunk of a chunked body was due
                           ("Response ended prematurely", "the server closed the connection mid-response"),
                           ("InvalidChunkLength", "the server closed the connection mid-response"),
                           ("CERTIFICATE_VERIFY_FAILED", "TLS certificate check failed")):
        if marker in text:
            return reason
    return type(exc).__name__


# ---- the default client and module-level functions ------------------------------------------

_default: Client | None = None
_default_lock = threading.Lock()


def default_client() -> Client:
    """The process-wide client the module-level functions use (created on first use)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = Client()
    return _default


def set_default_client(client: Client | None) -> None:
    """Replace the client used by nbaudio.speak/transcribe/translate/chat (None: build anew)."""
    global _default
    if client is not None and not isinstance(client, Client):
        raise InvalidInputError("set_default_client takes an nbaudio.Client or None")
    _default = client


def speak(text: str, *, client: Client | None = None, **kwargs: Any) -> AudioClip | SpeechStream:
    """Text to speech on the default client (see Client.speak)."""
    return (client or default_client()).speak(text, **kwargs)


def transcribe(audio: AudioInput, *, client: Client | None = None, **kwargs: Any) -> Transcript | TranscriptionStream:
    """Speech to text on the default client (see Client.transcribe)."""
    return (client or default_client()).transcribe(audio, **kwargs)


def translate(audio: AudioInput, *, client: Client | None = None, **kwargs: Any) -> Transcript:
    """Speech to English text on the default client (see Client.translate)."""
    return (client or default_client()).translate(audio, **kwargs)


def chat(messages: Any, *, client: Client | None = None, **kwargs: Any) -> ChatReply | ChatStream:
    """Chat completion with audio on the default client (see Client.chat)."""
    return (client or default_client()).chat(messages, **kwargs)
