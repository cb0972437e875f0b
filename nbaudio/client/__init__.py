"""The HTTP client: `Client` (one `requests.Session`, the four audio endpoints), the default
client, and the module-level functions that use it.

Settings resolve from arguments, then NBAUDIO_BASE_URL / NBAUDIO_API_KEY, then
OPENAI_BASE_URL / OPENAI_API_KEY (nbaudio.backend). With none of them, requests go to the
embedded local engine (`nbaudio.local`), started once per process on the first request.

The package: core.py (settings, session, the request loop: BaseClient), and one endpoint object per
API, owned by each Client: speech.py (/audio/speech), transcriptions.py (/audio/transcriptions,
/audio/translations), diarizations.py (the engine's /audio/diarizations: re-labelling a transcript's
speakers), chat_completions.py (/chat/completions and the audio bridge); costs.py puts what a
transcription cost on its Transcript (nbaudio.pricing).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
from typing import Any

from .._http.streams import ChatStream, SpeechStream, TranscriptionStream
from .._http.transport import DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, MAX_RESPONSE_BYTES
from .._redaction import Secret
from ..audio import AudioClip, AudioInput
from ..backend import REMOTE_ENV, resolve_backend
from ..chat import ChatReply
from ..errors import InvalidInputError
from ..transcript import Transcript
from .chat_completions import ChatEndpoint
from .core import BaseClient
from .diarizations import DiarizationEndpoint
from .speech import SpeechEndpoint
from .transcriptions import TranscriptionEndpoints

log = logging.getLogger("nbaudio")

__all__ = [
    "ChatStream",
    "Client",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "MAX_RESPONSE_BYTES",
    "SpeechStream",
    "TranscriptionStream",
    "Secret",
    "chat",
    "default_client",
    "diarize",
    "peek_default_client",
    "relabel",
    "set_default_client",
    "speak",
    "transcribe",
    "translate",
]


class _EndpointMethod:
    """A Client method that is one of its endpoint objects' (`client.speak` is the bound
    `SpeechEndpoint.speak` of that client's endpoint): one signature and docstring, the endpoint's."""

    def __init__(self, endpoint: str, method: Any) -> None:
        self._endpoint = endpoint
        self._method = method
        functools.update_wrapper(self, method)

    def __get__(self, client: Client | None, owner: type | None = None) -> Any:
        if client is None:
            return self._method
        return getattr(getattr(client, self._endpoint), self._method.__name__)


class Client(BaseClient):
    """An OpenAI-format audio API client owning one HTTP session. Use it as a context manager.

        with nbaudio.Client("https://relay.example.com/v1", api_key=...) as c:
            clip = c.speak("Hello")

    `defaults` changes the out-of-the-box arguments, per method or for all methods that take
    the key: `Client(defaults={"voice": "coral", "transcribe": {"language": "en"}})`.

    `timeout` (here, or per call) is seconds, or `(connect_seconds, seconds)`:
      - a call that returns a result: `seconds` is the total deadline of each request, covering
        connecting, sending, waiting, the status line and headers (a server trickling them is cut
        off) and reading the whole body, and also every retry and the
        waits between them (a retry whose wait would pass the deadline is not made: the last
        error is raised). A body still arriving at the deadline (a relay trickling bytes) raises
        APITimeoutError; it is not retried. Input split into pieces (speech over 4096
        characters, uploads over 25 MB) makes one request per piece, each with this deadline.
      - a stream: the deadline covers getting the response started (retries included); then
        there is no total limit, but `seconds` without an event (keep-alive comments such as
        `: ping` do not count) or without any bytes makes the stream stalled:
        StreamInterruptedError with `.partial`.
      - connecting alone is limited to DEFAULT_CONNECT_TIMEOUT (10 s) or `connect_seconds`.
    The default is DEFAULT_TIMEOUT (600 s); both are nbaudio.client's. The most taken is a
    week (nbaudio._http.validation.MAX_TIMEOUT): a longer one is InvalidInputError, before anything is sent.

    `max_response_bytes` caps what one answer may decode to (gzip inflated): past it reading stops
    with ResponseTooLargeError. None (the default): each endpoint's own cap,
    nbaudio.client.MAX_RESPONSE_BYTES (128 MB for speech and chat, 64 MB for transcriptions).

    `prices` is what calls cost (nbaudio.Prices; `reply.cost`, `transcript.cost`, `clip.cost`): by
    default OpenAI's published table, and free on the local engine; a dict {model: {field: dollars}}
    changes some of OpenAI's, `nbaudio.Prices.openai(multiplier=0.5)` is a relay selling them at half.

    With no remote API configured, the embedded engine starts on the first request (or when you
    call `open()`); until then `base_url` is None. Reading `base_url` or the repr starts nothing.
    """

    @functools.cached_property
    def speech(self) -> SpeechEndpoint:
        """The /audio/speech endpoint (`speak`)."""
        return SpeechEndpoint(self)

    @functools.cached_property
    def transcriptions(self) -> TranscriptionEndpoints:
        """The /audio/transcriptions and /audio/translations endpoints (`transcribe`, `translate`)."""
        return TranscriptionEndpoints(self)

    @functools.cached_property
    def diarizations(self) -> DiarizationEndpoint:
        """The engine's /audio/diarizations (`diarize`, `relabel`): speakers found again without transcribing."""
        return DiarizationEndpoint(self)

    @functools.cached_property
    def chat_completions(self) -> ChatEndpoint:
        """The /chat/completions endpoint (`chat`), whose audio bridge uses the two above."""
        return ChatEndpoint(self, self.speech, self.transcriptions)

    speak = _EndpointMethod("speech", SpeechEndpoint.speak)
    transcribe = _EndpointMethod("transcriptions", TranscriptionEndpoints.transcribe)
    translate = _EndpointMethod("transcriptions", TranscriptionEndpoints.translate)
    chat = _EndpointMethod("chat_completions", ChatEndpoint.chat)
    diarize = _EndpointMethod("diarizations", DiarizationEndpoint.diarize)
    relabel = _EndpointMethod("diarizations", DiarizationEndpoint.relabel)


# ---- the default client and module-level functions ------------------------------------------

_default: Client | None = None
_default_lock = threading.Lock()
# What NBAUDIO_* / OPENAI_* held when the default client was built from them (None: it was set by
# set_default_client, which wins over the environment). A digest: the key is not kept twice.
_default_env: str | None = None


def _remote_env_digest() -> str:
    values = "\0".join(os.environ.get(name, "") for name in REMOTE_ENV)
    return hashlib.sha256(values.encode("utf-8", "surrogatepass")).hexdigest()


def default_client() -> Client:
    """The process-wide client the module-level functions use (created on first use).

    Built from the environment; when NBAUDIO_* / OPENAI_* change afterwards (a notebook sets
    os.environ after a first call), the next call builds it anew from them and logs which
    variable changed, instead of going on talking to the old server."""
    global _default, _default_env
    digest = _remote_env_digest()
    if _default is None or (_default_env is not None and _default_env != digest):
        with _default_lock:
            if _default is not None and _default_env is not None and _default_env != digest:
                log.info("NBAUDIO_* / OPENAI_* changed since the default client was made; making a new one "
                         "(%s)", resolve_backend().describe())
                # Not closed: a conversation may still hold it; its session goes with the last reference.
                _default = None
            if _default is None:
                _default, _default_env = Client(), digest
    return _default


def peek_default_client() -> Client | None:
    """The default client if one was created (by default_client() or set_default_client()), else None.

    Never creates one: for code that only looks (the key guard), not code that sends."""
    return _default


def set_default_client(client: Client | None) -> None:
    """Replace the client used by nbaudio.speak/transcribe/translate/chat (None: build anew)."""
    global _default
    global _default_env
    if client is not None and not isinstance(client, Client):
        raise InvalidInputError("set_default_client takes an nbaudio.Client or None")
    _default, _default_env = client, None


def speak(text: str, *, client: Client | None = None, **kwargs: Any) -> AudioClip | SpeechStream:
    """Text to speech on the default client (see Client.speak)."""
    return (client or default_client()).speak(text, **kwargs)


def transcribe(audio: AudioInput, *, client: Client | None = None, **kwargs: Any) -> Transcript | TranscriptionStream:
    """Speech to text on the default client (see Client.transcribe)."""
    return (client or default_client()).transcribe(audio, **kwargs)


def translate(audio: AudioInput, *, client: Client | None = None, **kwargs: Any) -> Transcript:
    """Speech to English text on the default client (see Client.translate)."""
    return (client or default_client()).translate(audio, **kwargs)


def diarize(audio: AudioInput, *, client: Client | None = None, **kwargs: Any) -> list[tuple[float, float, str]]:
    """Speaker turns of `audio` on the default client, without transcribing (see Client.diarize)."""
    return (client or default_client()).diarize(audio, **kwargs)


def relabel(transcript: Transcript, *, client: Client | None = None, **kwargs: Any) -> Transcript:
    """A transcript's speakers found again from its audio on the default client (see Client.relabel)."""
    return (client or default_client()).relabel(transcript, **kwargs)


def chat(messages: Any, *, client: Client | None = None, **kwargs: Any) -> ChatReply | ChatStream:
    """Chat completion with audio on the default client (see Client.chat)."""
    return (client or default_client()).chat(messages, **kwargs)
