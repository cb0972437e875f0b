"""What servers between nbaudio and a model do, and how to tell: OpenAI's own signals, and the
relays that resell its API (new-api / one-api, LiteLLM). The one home of these rules; the client
(`Client.chat`, `Client.transcribe`) and `%%voice` both use them.

- audio ids a server no longer knows (`rejected_audio_ids`), told apart from any 400 that
  merely mentions audio;
- relays that drop the assistant `audio` field (new-api rebuilds requests from structs without
  it), seen as a 400 about an empty assistant message (`dropped_assistant_audio`) or as a
  reply whose prompt did not grow by the earlier turn (`audio_ids_ignored`);
- servers that refuse `input_audio` (`refuses_input_audio`) and text-only backends that ignore
  `modalities`: the audio bridge transcribes or speaks with the same server (`transcribed_messages`);
- response formats wrapped in JSON by a relay (LiteLLM: `unwrap_text_body`, `unwrap_events`, which
  live in nbaudio.transcript, as Transcript.from_response reads through them) and refused by one
  (`refuses_response_format`);
- per-model transcription rules (`transcription_formats`, `choose_transcription_format`,
  `needs_chunking`);
- servers that lack an endpoint and say only "Not Found" (`explain_not_found`).

Each client keeps a `RelayState`: what it learnt about its server, and which notes it gave.
"""

from __future__ import annotations

import hashlib
import inspect
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ._redaction import redact
from ._wire import spec
from .errors import APIStatusError, InvalidInputError, NotFoundError

__all__ = [
    "AUDIO_ID_CODES",
    "RelayNotice",
    "RelayState",
    "audio_ids_ignored",
    "choose_transcription_format",
    "dropped_assistant_audio",
    "explain_not_found",
    "has_input_audio",
    "needs_chunking",
    "refuses_input_audio",
    "refuses_response_format",
    "rejected_audio_ids",
    "transcribed_messages",
    "transcription_formats",
]


class RelayNotice(UserWarning):
    """nbaudio changed what it sends or what it gives back because of how the server behaved."""


@dataclass
class RelayState:
    """What one client learnt about its server; each note is given once per client."""

    audio_ids_dropped: bool = False  # assistant turns by id arrive empty: send transcripts
    refuses_input_audio: bool = False  # transcribe user audio first and send the words
    transcripts: dict[str, str] = field(default_factory=dict)  # sha256 of input_audio data -> its words
    refused_formats: set[tuple[str, str]] = field(default_factory=set)  # (model, response_format) refused
    _noted: set[str] = field(default_factory=set)

    def note(self, key: str, message: str, category: type[UserWarning] = RelayNotice) -> None:
        """Warn once per client and key (a RelayNotice unless told: filter it with the warnings module)."""
        if key in self._noted:
            return
        self._noted.add(key)
        # Notes quote what servers said: every key this process holds is taken out.
        warnings.warn(category(redact(f"nbaudio: {message}")), stacklevel=_outside_nbaudio())

    def noted(self, key: str) -> bool:
        """Whether the note `key` was given (a check that costs something is then skipped)."""
        return key in self._noted

    def __repr__(self) -> str:
        learnt = [name for name, on in (("audio ids dropped", self.audio_ids_dropped),
                                        ("refuses input_audio", self.refuses_input_audio)) if on]
        learnt += [f"refuses {model} {fmt}" for model, fmt in sorted(self.refused_formats)]
        return f"<RelayState {', '.join(learnt) or 'nothing learnt'}; {len(self.transcripts)} transcripts kept>"


def _outside_nbaudio() -> int:
    """The warnings stacklevel of the first frame outside nbaudio, so a notice points at the user's
    call however deep inside the client it was given (a fixed number is right for one path only)."""
    here = inspect.currentframe()  # this function; its caller is note(), and note()'s caller is stacklevel=2
    if here is None or here.f_back is None or here.f_back.f_back is None:  # no frame support (not CPython)
        return 2
    frame, level = here.f_back.f_back, 2
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith("nbaudio."):
        frame, level = frame.f_back, level + 1
    return level


# ---- audio ids --------------------------------------------------------------------------------

# `messages[3].audio.id` (OpenAI: `content.messages[3].audio.id`), `messages.3.audio` (pydantic).
_AUDIO_PARAM = re.compile(r"messages\.?\[?(\d+)\]?\.audio(?:\.id)?\b(?!_)")
_CONTENT_PARAM = re.compile(r"messages\.?\[?(\d+)\]?\.content\b")
# OpenAI's code for an id it does not know; relays and other servers use the others.
AUDIO_ID_CODES = frozenset({"audio_not_found", "audio_expired", "invalid_audio_id", "audio_id_not_found"})
# OpenAI: "Assistant audio audio_675... not found."; the engine: "Audio with id '...' was not found
# or has expired."; others: "audio id expired", "audio ... no longer available".
_AUDIO_ID_TEXT = re.compile(
    r"assistant audio\b.*\bnot found|audio (?:with )?id\b.*\b(?:not found|expired|unknown|no longer)"
    r"|\baudio_\w+\b.*\b(?:not found|expired|no longer)",
    re.IGNORECASE,
)


def _sent_ids(messages: list[dict[str, Any]]) -> dict[int, str]:
    return {i: m["audio"]["id"] for i, m in enumerate(messages)
            if m.get("role") == "assistant" and isinstance(m.get("audio"), dict) and m["audio"].get("id")}


def rejected_audio_ids(error: APIStatusError, messages: list[dict[str, Any]]) -> list[str]:
    """The audio ids among `messages` (as sent) that the server says it does not know.

    Empty unless the error is really about an assistant audio id: the param names message N's
    audio (then only that id), or the text names ids, or the code/text is unambiguous (then every
    id sent). A 400 that only mentions audio (a bad `audio.voice`, audio input refused) is not.
    """
    if error.status_code not in (400, 404, 422):
        return []
    sent = _sent_ids(messages)
    if not sent:
        return []
    text = f"{error.message} {error.param or ''}"
    m = _AUDIO_PARAM.search(error.param or "") or _AUDIO_PARAM.search(error.message)
    if m:
        index = int(m.group(1))
        return [sent[index]] if index in sent else []
    if error.param and re.search(r"messages\.?\[?\d+", error.param):
        return []  # names another part of a message (its content, an input_audio part)
    named = [i for i in sent.values() if i in text]
    if named:
        return named
    if (error.code or "") in AUDIO_ID_CODES or _AUDIO_ID_TEXT.search(error.message):
        return list(sent.values())
    return []


# new-api's dto.Message has no `audio` field: `{"role": "assistant", "audio": {"id": ...}}` reaches
# the model as `{"role": "assistant", "content": null}`. OpenAI answers "Invalid value for
# 'content': expected a string, got null." (param `messages.[N].content`); other servers say the
# content is required, missing or empty.
_EMPTY_CONTENT = re.compile(
    r"expected a string, got null|content\b.*\b(?:required|missing|empty|must not be (?:null|empty))"
    r"|(?:missing|required)\b.*\bcontent|assistant message\b.*\b(?:empty|content)",
    re.IGNORECASE,
)


def dropped_assistant_audio(error: APIStatusError, messages: list[dict[str, Any]]) -> bool:
    """True when a 400 says an assistant turn we sent by audio id arrived without content."""
    if error.status_code not in (400, 422, 500) or not _sent_ids(messages):
        return False
    m = _CONTENT_PARAM.search(error.param or "") or _CONTENT_PARAM.search(error.message)
    if m:
        i = int(m.group(1))
        return i < len(messages) and messages[i].get("role") == "assistant" and bool(messages[i].get("audio")) \
            and messages[i].get("content") is None
    return bool(_EMPTY_CONTENT.search(error.message))


# The earlier reply must make the prompt grow by at least this share of its own text tokens.
_MIN_PROMPT_GROWTH = 0.5
_MIN_JUDGED_TOKENS = 8  # a shorter earlier reply says too little to judge by


def audio_ids_ignored(reply_usage: Any, previous: Any, sent_ids: Iterable[str], *, windowed: bool) -> bool:
    """True when the prompt of this turn did not grow by the earlier reply it referred to by id.

    `reply_usage` / `previous.usage` are the server's own token counts (Usage), so no tokenizer
    is guessed at: a turn sent by id costs at least its text tokens (OpenAI counts its audio
    tokens, which are more). Not judged when the history was cut to a window (`max_history`),
    or either count is missing.
    """
    if windowed or previous is None or reply_usage is None or previous.usage is None:
        return False
    if previous.audio_id is None or previous.audio_id not in set(sent_ids):
        return False
    if not reply_usage.prompt_tokens or not previous.usage.prompt_tokens:
        return False
    earlier = previous.usage.completion_text_tokens
    if earlier is None:
        earlier = len(previous.text) // 4  # about four characters a token in English
    if earlier < _MIN_JUDGED_TOKENS:
        return False
    return reply_usage.prompt_tokens - previous.usage.prompt_tokens < _MIN_PROMPT_GROWTH * earlier


# ---- input audio ------------------------------------------------------------------------------

# A server that refuses `input_audio` names the audio input and says it is not supported (OpenAI:
# "Invalid content type. input_audio is only supported by certain models."; relays: "... does not
# support audio input, please transcribe it first"). Both parts must match, so an error about a
# corrupt upload or an expired audio id is not mistaken for a refusal.
_MENTIONS_AUDIO_INPUT = re.compile(r"input[_ ]?audio|audio[_ ]?(?:input|content|part)|音频", re.IGNORECASE)
_REFUSAL = re.compile(
    r"not (?:be )?supported|unsupported|does(?: not|n't) support|only supported|not (?:allowed|accepted|available)"
    r"|transcribe|unknown variant|invalid content type|不支持",
    re.IGNORECASE,
)


def refuses_input_audio(error: APIStatusError) -> bool:
    """True when the server said it does not take `input_audio` parts (a text-only backend)."""
    if error.status_code in (401, 403, 408, 429):
        return False
    text = f"{error.message} {error.param or ''} {error.code or ''}"
    return bool(_MENTIONS_AUDIO_INPUT.search(text) and _REFUSAL.search(text))


def has_input_audio(messages: list[dict[str, Any]]) -> bool:
    return any(isinstance(m.get("content"), list) and any(
        isinstance(p, dict) and p.get("type") == "input_audio" for p in m["content"]) for m in messages)


def transcribed_messages(messages: list[dict[str, Any]], state: RelayState,
                         transcribe: Callable[[str, str], str]) -> list[dict[str, Any]]:
    """`messages` with each `input_audio` part replaced by its words, as text.

    `transcribe(base64_data, format)` is called once per recording; the words are kept in
    `state.transcripts`, so a conversation's earlier recordings are not transcribed again.
    """
    out = []
    for m in messages:
        content = m.get("content")
        if not (isinstance(content, list) and any(isinstance(p, dict) and p.get("type") == "input_audio"
                                                  for p in content)):
            out.append(m)
            continue
        texts = []
        for part in content:
            if part.get("type") == "input_audio":
                data, fmt = part["input_audio"]["data"], part["input_audio"].get("format", "wav")
                key = hashlib.sha256(data.encode("ascii", "replace")).hexdigest()
                if key not in state.transcripts:
                    state.transcripts[key] = transcribe(data, fmt).strip()
                texts.append(state.transcripts[key])
            elif part.get("type") == "text":
                texts.append(part.get("text", ""))
        out.append({**m, "content": "\n\n".join(t for t in texts if t)})
    return out


# ---- transcription formats ------------------------------------------------------------------

def transcription_formats(model: str) -> tuple[str, ...] | None:
    """The response formats `model` takes, or None when it takes all of them (or is unknown)."""
    return spec.TRANSCRIPTION_MODEL_FORMATS.get(spec.base_model(model))


def choose_transcription_format(model: str, asked: str | None, granularities_asked: bool) -> tuple[str, str | None]:
    """(response_format to send, a note saying what changed or None).

    `asked` is None when the caller chose nothing; then the default, verbose_json, is sent to
    models that take it and json to the others. A format the model does not take, asked for
    explicitly, raises InvalidInputError before anything is sent.
    """
    allowed = transcription_formats(model)
    if asked is None:
        if allowed is None or "verbose_json" in allowed:
            return "verbose_json", None
        fmt = "json"
        note = (f"{model} returns only {', '.join(allowed)}: asking for json (text without segment "
                "timestamps; use whisper-1 for timestamps)")
        if granularities_asked:
            raise InvalidInputError(
                f"timestamp_granularities needs response_format='verbose_json', which {model} does not take "
                f"(it takes {', '.join(allowed)}); use whisper-1 for timestamps", param="timestamp_granularities")
        return fmt, note
    if allowed is not None and asked not in allowed:
        raise InvalidInputError(
            f"{model} takes response_format {' or '.join(allowed)}, not {asked!r}; use one of those, or "
            "whisper-1 for verbose_json, srt and vtt", param="response_format")
    return asked, None


def needs_chunking(model: str, seconds: float | None) -> bool:
    """True when `model` needs a chunking_strategy for audio this long (None: length unknown)."""
    return spec.base_model(model) == spec.DIARIZE_MODEL and (seconds is None or
                                                            seconds > spec.DIARIZE_UNCHUNKED_MAX_SECONDS)


_FORMAT_REFUSAL = re.compile(r"not (?:be )?supported|unsupported|not compatible|incompatible|invalid|only|must be",
                             re.IGNORECASE)


def refuses_response_format(error: APIStatusError) -> bool:
    """True when a 400 says the response_format we sent is not one this server/model takes."""
    if error.status_code not in (400, 422):
        return False
    about = error.param == "response_format" or "response_format" in error.message
    return about and bool(_FORMAT_REFUSAL.search(error.message))


# ---- endpoints a server lacks -----------------------------------------------------------------

# 404 messages that say only that there is nothing at the path (FastAPI, nginx, Express, Go).
_GENERIC_NOT_FOUND = re.compile(
    r"^\W*(?:(?:http\s*)?404\W*)?(?:page\s+|file\s+|route\s+)?not\s*found\W*$|^cannot post\b|"
    r"^HTTP 404 with an empty body$|^no route\b|^404 page not found$", re.IGNORECASE)


def explain_not_found(err: NotFoundError, where: str, path: str) -> None:
    """Make a 404's message say which request it answered (`where`: "POST /audio/speech at URL").

    A bare "Not Found" says nothing, so it also says the server may lack the endpoint; a
    specific message (an unknown model, an expired audio id) is kept, with where it came from."""
    if err.code is not None or not _GENERIC_NOT_FOUND.search(err.message):
        err.message = f"{err.message} ({where})"
    else:
        err.message = (
            f"{where} answered 404 ({err.message!r}): this server may not offer {path} (LiteLLM, for one, "
            f"has no /audio/translations). Check base_url (usually ending in /v1) and the server's docs, or "
            f"use a server that has this endpoint")
    err.args = (err.message,)
