"""nbaudio: hear, see and talk to OpenAI-format audio APIs from a notebook.

    import nbaudio
    clip = nbaudio.speak("Hello there")          # AudioClip: plays and shows its waveform
    text = nbaudio.transcribe(clip)              # Transcript with segment timestamps
    reply = nbaudio.chat("Is a golden retriever a good family dog?")   # ChatReply with audio

With no NBAUDIO_BASE_URL / OPENAI_BASE_URL / API key set, calls go to the embedded local
engine (install `nbaudio[local]`), started once per process.
"""

from __future__ import annotations

from typing import Any

from .audio import AudioClip
from .chat import ChatReply, Conversation, Usage
from .errors import (
    APIConnectionError,
    APIError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AudioDecodeError,
    AudioHint,
    AudioTooLongError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    InvalidInputError,
    MissingDependencyError,
    NbAudioError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTooLargeError,
    StreamInterruptedError,
    UnprocessableEntityError,
    UnsupportedMediaTypeError,
)
from .pricing import Cost, Prices
from .transcript import Flag, Segment, Transcript, TranscriptDiff, Word
from .version import __version__ as __version__  # re-exported: nbaudio.__version__

__all__ = [
    "Client", "speak", "transcribe", "translate", "relabel", "diarize", "chat", "default_client",
    "set_default_client", "AudioClip", "Transcript", "Segment", "Word", "Flag", "AudioHint", "ChatReply",
    "Conversation", "Usage",
    "NbAudioError", "InvalidInputError", "AudioDecodeError", "AudioTooLongError", "MissingDependencyError",
    "APIError", "APIStatusError", "BadRequestError", "AuthenticationError", "PermissionDeniedError",
    "NotFoundError", "ConflictError", "RequestTooLargeError", "UnsupportedMediaTypeError",
    "UnprocessableEntityError", "RateLimitError", "InternalServerError", "APIResponseError",
    "APIConnectionError", "APITimeoutError", "StreamInterruptedError", "Recorder",
    "transcribe_many", "speak_many", "listening_test", "compare_speech", "compare_transcripts", "compare_prompts",
    "batch_diffs", "Prices", "Cost",
    "TranscriptDiff",
]


# The client (requests, urllib3 and what they import: most of what `import nbaudio` cost) loads on
# first use, so a kernel that only shows clips does not wait for it. `nbaudio.chat` is the chat()
# function, as when the client was imported here: the import of the subpackage of that name
# (above) bound it on this module, so that binding goes and __getattr__ answers instead.
globals().pop("chat", None)  # the subpackage nbaudio.chat, bound here by the import machinery (not on a reload)
_CLIENT = frozenset({"Client", "speak", "transcribe", "translate", "relabel", "diarize", "chat", "default_client",
                     "set_default_client"})


def __getattr__(name: str) -> Any:
    if name in _CLIENT:
        from . import client

        value = globals()[name] = getattr(client, name)
        return value
    # The widgets import ipywidgets; `nbaudio.Recorder` loads them on first use, not at `import nbaudio`.
    if name == "Recorder":
        from .widgets import Recorder

        return Recorder
    if name == "listening_test":
        from .widgets import listening_test

        return listening_test
    # Batches (nbaudio.batch) load on first use too: pandas and Dask stay out of `import nbaudio`.
    if name in ("transcribe_many", "speak_many"):
        from . import batch

        return getattr(batch, name)
    # Comparisons load the display with them, on first use.
    if name in ("compare_speech", "compare_transcripts", "compare_prompts", "batch_diffs"):
        from . import compare

        return getattr(compare, name)
    # `nbaudio.realtime.connect(...)` after a plain `import nbaudio` (websockets loads when a session opens).
    if name == "realtime":
        import importlib

        return importlib.import_module(".realtime", __name__)  # `from . import` would ask __getattr__ again
    raise AttributeError(f"module 'nbaudio' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext nbaudio`: registers the %%voice / %voice magics, and a check that warns when a
    cell contains an API key (see nbaudio.magic.keyguard)."""
    from .magic import load_ipython_extension as _load

    _load(ipython)
