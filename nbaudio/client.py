"""The HTTP client: one `requests.Session`, the four audio endpoints, retries, validation.

Settings resolve from arguments, then NBAUDIO_BASE_URL / NBAUDIO_API_KEY, then
OPENAI_BASE_URL / OPENAI_API_KEY. With none of them, requests go to the embedded local
engine (`nbaudio.local`), started once per process on first use.
"""

from __future__ import annotations

import difflib
import email.utils
import json
import logging
import math
import numbers
import os
import random
import re
import threading
import time
import unicodedata
import warnings
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlsplit

import requests

from . import relay, spec
from ._deadline import MIN_WAIT, Deadline, DeadlineExceeded, read_body
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
    ParameterNameWarning,
    error_in_ok_body,
    make_status_error,
)
from .relay_errors import NOT_RETRIED_CODES
from .transcript import Transcript

__all__ = ["Client", "Secret", "speak", "transcribe", "translate", "chat", "default_client", "set_default_client"]

log = logging.getLogger("nbaudio")

# Seconds a request may take in all (connect, send, wait, read the whole body, retries and the
# waits between them; for a stream: until it starts, then the longest silence): long
# transcriptions take a while. See Client's docstring.
DEFAULT_TIMEOUT = 600.0
DEFAULT_CONNECT_TIMEOUT = 10.0  # at most this for connecting, whatever the timeout
NEAR_MISS_CUTOFF = 0.8  # difflib ratio from which an unknown argument is taken for a typo ("voise")
DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY = 0.5  # seconds, doubled each retry
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 60.0  # a server's Retry-After above this is not waited for; our own backoff is used
RETRY_JITTER = 0.25  # up to 25% shorter, so clients that failed together do not retry together
RETRY_STATUSES = frozenset({408, 409, 429})  # plus every 5xx
USER_AGENT = "nbaudio/0.1"

_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}$")
# 404 messages that say only that there is nothing at the path (FastAPI, nginx, Express, Go).
_GENERIC_NOT_FOUND = re.compile(
    r"^\W*(?:(?:http\s*)?404\W*)?(?:page\s+|file\s+|route\s+)?not\s*found\W*$|^cannot post\b|"
    r"^HTTP 404 with an empty body$|^no route\b|^404 page not found$", re.IGNORECASE)
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
    """(connect seconds, total seconds) from `timeout=seconds` or `timeout=(connect, seconds)`."""
    def positive(v: Any, what: str) -> float:
        if not _is_real(v) or not math.isfinite(v) or v <= 0:
            raise InvalidInputError(f"{what} must be a positive number of seconds, not {v!r}", param="timeout")
        return float(v)

    if isinstance(timeout, tuple):
        if len(timeout) != 2:
            raise InvalidInputError("timeout as a tuple must be (connect_seconds, seconds)", param="timeout")
        connect, total = positive(timeout[0], "connect timeout"), positive(timeout[1], "timeout")
        return min(connect, total), total
    t = positive(timeout, "timeout")
    return min(DEFAULT_CONNECT_TIMEOUT, t), t


def _check_key_characters(key: str) -> None:
    """Keys are printable ASCII; anything else (a zero-width space pasted with the key, a tab) would
    fail only when the request is sent, as a UnicodeEncodeError. Says where, never what the key is."""
    for i, c in enumerate(key):
        if not "!" <= c <= "~":
            name = unicodedata.name(c, f"U+{ord(c):04X}")
            raise InvalidInputError(
                f"api_key has a {name} (U+{ord(c):04X}) at character {i + 1} of {len(key)}: keys are plain ASCII "
                "letters, digits and punctuation. Copy the key again (copies from web pages and PDFs often bring "
                "invisible characters), or set it with %voice login", param="api_key")


def _check_header(name: Any, value: Any) -> None:
    if not isinstance(name, str) or not isinstance(value, str):
        raise InvalidInputError("default_headers must map header names to string values", param="default_headers")
    for what, text in (("name", name), ("value", value)):
        try:
            text.encode("latin-1")
        except UnicodeEncodeError:
            raise InvalidInputError(f"default_headers[{name!r}]: the {what} has characters HTTP headers cannot "
                                    "carry (only latin-1); remove them", param="default_headers") from None
        if "\r" in text or "\n" in text:
            raise InvalidInputError(f"default_headers[{name!r}]: the {what} contains a line break",
                                    param="default_headers")


def _is_real(value: Any) -> bool:
    """A real number (numpy's too), but not a bool: `speed=True` is a mistake, not 1.0."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and type(value).__name__ != "bool_"


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


def _should_retry(err: APIStatusError, headers: Mapping[str, str]) -> bool:
    flag = headers.get("x-should-retry")
    if flag in ("true", "false"):
        return flag == "true"
    if err.code in NOT_RETRIED_CODES:  # out of credit: waiting does not help
        return False
    # err.status_code, not the HTTP status: a relay's 500 that wraps a 400 is not worth resending.
    return err.status_code in RETRY_STATUSES or err.status_code >= 500


# ---- argument checks (all before any request) -------------------------------------------


def _check_choice(value: Any, choices: Iterable[str], param: str) -> str:
    """`value` if it is one of `choices`; stray whitespace and capitals (" wav", "WAV") are dropped."""
    choices = tuple(choices)
    if isinstance(value, str) and value not in choices and value.strip().lower() in choices:
        value = value.strip().lower()
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
    voice = voice.strip()  # "alloy " would be an unknown voice to the server
    if voice.lower() in spec.VOICES and voice != voice.lower():
        return voice.lower()
    return voice


def _check_number(value: Any, param: str, lo: float, hi: float) -> float:
    if not _is_real(value) or not math.isfinite(value):
        raise InvalidInputError(f"{param} must be a number from {lo} to {hi}, not {value!r}", param=param)
    if not lo <= value <= hi:
        raise InvalidInputError(f"{param}={value} is out of range; use a value from {lo} to {hi}", param=param)
    return float(value) if not isinstance(value, int) else value  # numpy numbers are not JSON


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
    """(filename, bytes, content type) for a multipart upload, converting formats the API does not take.

    The name is always `audio.<ext>` with the extension of what the bytes are (sniffed, not the
    label or the user's file name): relays pick the decoder, and bill, by the upload's extension,
    and an uppercase, missing or wrong one (`Talk.WAV`, bytes with no name) breaks some of them."""
    clip.validate()
    data = clip.data
    fmt = sniff_format(data, strict=clip.format == "pcm") or clip.format
    if fmt in ("pcm", "aac"):
        clip, fmt = clip.encode("wav"), "wav"
        data = clip.data
    ext = {"opus": "ogg"}.get(fmt, fmt)
    return f"audio.{ext}", data, spec.MIME_TYPES.get(fmt, "application/octet-stream")


class Client:
    """An OpenAI-format audio API client owning one HTTP session. Use it as a context manager.

        with nbaudio.Client("https://relay.example.com/v1", api_key=...) as c:
            clip = c.speak("Hello")

    `defaults` changes the out-of-the-box arguments, per method or for all methods that take
    the key: `Client(defaults={"voice": "coral", "transcribe": {"language": "en"}})`.

    `timeout` (here, or per call) is seconds, or `(connect_seconds, seconds)`:
      - a call that returns a result: `seconds` is the total deadline of each request, covering
        connecting, sending, waiting and reading the whole body, and also every retry and the
        waits between them (a retry whose wait would pass the deadline is not made: the last
        error is raised). A body still arriving at the deadline (a relay trickling bytes) raises
        APITimeoutError; it is not retried. Input split into pieces (speech over 4096
        characters, uploads over 25 MB) makes one request per piece, each with this deadline.
      - a stream: the deadline covers getting the response started (retries included); then
        there is no total limit, but `seconds` without an event (keep-alive comments such as
        `: ping` do not count) or without any bytes makes the stream stalled:
        StreamInterruptedError with `.partial`.
      - connecting alone is limited to DEFAULT_CONNECT_TIMEOUT (10 s) or `connect_seconds`.
    The default is DEFAULT_TIMEOUT (600 s).
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
            _check_key_characters(api_key)
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
            _check_header(k, v)
            self._session.headers[k] = v
        self._closed = False
        self._lock = threading.Lock()
        self._warned: set[tuple[str, str]] = set()  # (method, argument) near misses already warned about
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
        """POST with retries, all within one deadline (see the class docstring).

        Returns a response with status < 400: its body read when not `stream`, unread when `stream`."""
        if self._closed:
            raise InvalidInputError("this Client is closed; create a new one")
        url = self.base_url + path
        connect, total = _check_timeout(timeout) if timeout is not None else self.timeout
        deadline = Deadline(total)
        last_error: Exception | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                headers = getattr(last_error, "headers", None)
                delay = _retry_delay(attempt - 1, headers)
                if delay >= deadline.remaining():
                    log.info("not retrying %s: waiting %.2fs would pass the %gs timeout", path, delay, total)
                    break
                log.info("retrying %s in %.2fs (attempt %d of %d): %s", path, delay, attempt + 1,
                         self.max_retries + 1, last_error)
                time.sleep(delay)
            started = time.monotonic()
            left = max(MIN_WAIT, deadline.remaining())
            try:
                resp = self._session.post(url, json=json_body, data=form, files=files, headers=self._headers(),
                                          timeout=(min(connect, left), left), stream=True)
                if not stream or resp.status_code >= 400:
                    # Read now, as it arrives and before the deadline: a body cut short counts as a
                    # connection failure (retried), one still trickling in at the deadline as a timeout.
                    read_body(resp, deadline)
            except DeadlineExceeded as exc:
                raise APITimeoutError(
                    f"POST {path}: no complete answer within the {total:g}s timeout (the body was still "
                    f"arriving: {exc.received} bytes so far); pass a larger timeout= if the server is slow") from None
            except requests.exceptions.Timeout as exc:
                last_error = APITimeoutError(self.redact(f"request to {path} timed out after {total:g}s: {type(exc).__name__}"))
                if deadline.expired():
                    break
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
            if isinstance(err, NotFoundError):
                self._explain_not_found(err, path)
            if not _should_retry(err, resp.headers):
                raise err
            last_error = err
        assert last_error is not None
        raise last_error

    def _explain_not_found(self, err: NotFoundError, path: str) -> None:
        """A bare "Not Found" says nothing: name the request and say the server may lack the endpoint.
        A specific message (an unknown model, an expired audio id) is kept, with where it came from."""
        where = f"POST {path} at {self.redact(self.base_url)}"
        if err.code is not None or not _GENERIC_NOT_FOUND.search(err.message):
            err.message = f"{err.message} ({where})"
        else:
            err.message = (
                f"{where} answered 404 ({err.message!r}): this server may not offer {path} (LiteLLM, for one, "
                f"has no /audio/translations). Check base_url (usually ending in /v1) and the server's docs, or "
                f"use a server that has this endpoint")
        err.args = (err.message,)

    def _where(self) -> str:
        parts = urlsplit(self._base_url or "")
        return f"{parts.scheme}://{parts.netloc}" if parts.netloc else "the API"

    def _json(self, resp: requests.Response) -> Any:
        try:
            return resp.json()
        except ValueError:
            snippet = self.redact(resp.text)[:120]  # redact before cutting: a cut key is no longer found
            raise APIResponseError(
                f"the server answered {resp.status_code} but the body is not JSON: {snippet!r}",
                request_id=resp.headers.get("x-request-id"),
            ) from None

    def _check_ok_body(self, resp: requests.Response, expect: str) -> None:
        """Relays answer 200 with errors (a JSON error, a login page, "upstream error: ..."): raise
        APIResponseError with the server's own message when the body is not what `expect`
        (see errors.error_in_ok_body) asked for."""
        message = error_in_ok_body(resp.content, resp.headers.get("content-type", ""), expect, self.redact)
        if message is not None:
            raise self._ok_body_error(resp.status_code, message, expect, resp.headers.get("x-request-id"))

    def _ok_body_error(self, status: int, message: str, expect: str, request_id: str | None) -> APIResponseError:
        """The error for a success status whose body is the server's `message` instead of a result."""
        what = {"audio": "audio", "chat": "a chat completion"}.get(expect, "a transcription")
        return APIResponseError(self.redact(f"the server answered {status} with an error instead of {what}: {message}"),
                                request_id=request_id)

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
            speed = _check_number(speed, "speed", spec.SPEED_MIN, spec.SPEED_MAX)
        if instructions is not None:
            _check_text(instructions, "instructions", max_len=spec.SPEECH_MAX_INPUT)
        if stream_format is not None:
            stream_format = _check_choice(stream_format, spec.SPEECH_STREAM_FORMATS, "stream_format")
        _check_bool(stream, "stream")
        self._warn_near_misses("speak", extra, spec.SPEECH_PARAMS)
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
            return SpeechStream(resp, self.redact, fmt, stall_after=self._stall_after(timeout))
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
        request_id = resp.headers.get("x-request-id")
        if "text/event-stream" in resp.headers.get("content-type", ""):
            return SpeechStream(resp, self.redact, fmt).collect()
        data = resp.content
        if not data:
            raise APIResponseError("the server returned no audio (empty body)", request_id=request_id)
        # Servers may ignore response_format; trust the bytes when they say what they are.
        sniffed = sniff_format(data, strict=fmt == "pcm")
        if sniffed is not None:
            return AudioClip(data, sniffed)
        # Not a known audio format: JSON, a web page or text is the server talking (a 200 error).
        self._check_ok_body(resp, "audio")
        if fmt != "pcm":  # headerless PCM is the one format with no signature to find
            raise APIResponseError(
                f"the server answered {resp.status_code} with {len(data)} bytes that are not {fmt} audio (nor any "
                f"known format; they begin {data[:16].hex(' ')}); try response_format='wav' or another server",
                request_id=request_id)
        return AudioClip(data, "pcm")

    def _stall_after(self, timeout: Any) -> float:
        """How long a stream may go without data (keep-alive comments do not count): the timeout."""
        return (_check_timeout(timeout) if timeout is not None else self.timeout)[1]

    def _warn_near_misses(self, method: str, extra: Mapping[str, Any], known: Iterable[str]) -> None:
        """Unknown arguments go into the body as they are (new API fields work), but one that is
        a near miss of a known parameter (`voise=`) is most likely a typo: warn, once per client."""
        known = tuple(known)
        for key in extra:
            if key in known or (method, key) in self._warned:
                continue
            match = difflib.get_close_matches(key, known, n=1, cutoff=NEAR_MISS_CUTOFF)
            if match:
                self._warned.add((method, key))
                warnings.warn(
                    f"{method}() got {key}=, which it does not know; did you mean {match[0]}=? It is sent to the "
                    f"server as it is (unknown arguments go into the request body)", ParameterNameWarning,
                    stacklevel=3)

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
            asked = _check_choice(asked, spec.TRANSCRIPTION_FORMATS, "response_format")
        grans_asked = a("timestamp_granularities", timestamp_granularities, None)
        # Per-model rules: gpt-4o-transcribe takes only json, so the default verbose_json is not sent to it.
        fmt, format_note = relay.choose_transcription_format(model, asked, grans_asked is not None)
        grans = _as_list(grans_asked if grans_asked is not None else ("segment",), "timestamp_granularities")
        grans = [_check_choice(g, spec.TIMESTAMP_GRANULARITIES, "timestamp_granularities") for g in grans]
        if grans_asked is not None and grans and fmt != "verbose_json":
            raise InvalidInputError(f"timestamp_granularities needs response_format='verbose_json', not {fmt!r}",
                                    param="timestamp_granularities")
        include = _as_list(a("include", include, None), "include")
        include = [_check_choice(inc, spec.TRANSCRIPTION_INCLUDE, "include") for inc in include]
        if include and fmt != "json":
            raise InvalidInputError("include=['logprobs'] works only with response_format='json'", param="include")
        chunking = a("chunking_strategy", chunking_strategy, None)
        if isinstance(chunking, str):
            chunking = chunking.strip().lower()
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
        self._warn_near_misses("transcribe", extra, spec.TRANSCRIPTION_PARAMS)
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
        self._warn_near_misses("translate", extra, spec.TRANSLATION_PARAMS)
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
            return TranscriptionStream(resp, self.redact, fmt, clip, stall_after=self._stall_after(timeout))
        t = self._transcript(resp, fmt, task)
        t.audio = clip
        return t

    def _transcript(self, resp: requests.Response, fmt: str, task: str) -> Transcript:
        """The Transcript in a 2xx body; a body that is an error instead (see _check_ok_body) raises."""
        self._check_ok_body(resp, fmt)
        try:
            return Transcript.from_response(resp.content, fmt, task=task)
        except APIResponseError as err:  # its message may quote the server (e.g. the keys it sent)
            raise APIResponseError(self.redact(err.message), request_id=resp.headers.get("x-request-id")) from None

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
                done.append((offset, self._transcript(resp, piece_fmt, task)))
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
        mods = [_check_choice(m, spec.CHAT_MODALITIES, "modalities") for m in mods]
        self._warn_near_misses("chat", extra, spec.CHAT_PARAMS)
        _check_bool(stream, "stream")
        fmt = self._arg("chat", "audio_format", audio_format, "wav")
        if stream and fmt == "wav" and audio_format is _UNSET and "audio_format" not in self._defaults["chat"]:
            fmt = spec.CHAT_STREAM_AUDIO_FORMAT  # a WAV cannot be streamed; pcm16 is what the API streams
        fmt = _check_choice(fmt, spec.CHAT_AUDIO_FORMATS, "audio_format")
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

            return ChatStream(resp, self.redact, fmt, on_done=done, stall_after=self._stall_after(timeout))
        self._check_ok_body(resp, "chat")
        reply = ChatReply.from_response(self._json(resp), audio_format=fmt)
        if ignored_ids(reply):
            # Answered without the earlier turns: ask again, with them as transcripts.
            body["messages"] = wire_messages()
            resp = self._chat_request(body, conv, wire_messages, bridge is not None, stream, timeout)
            self._check_ok_body(resp, "chat")
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
