"""POST /audio/transcriptions and /audio/translations: speech to text (uploads over 25 MB are
split at silences and the pieces joined)."""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import requests

from .. import relay
from .._http.streams import TranscriptionStream
from .._http.validation import (
    UNSET,
    as_list,
    check_bool,
    check_choice,
    check_diarize_arguments,
    check_language,
    check_model,
    check_number,
    check_text,
    is_diarize_model,
    json_ready,
)
from .._wire import spec
from .._wire.spec import WARNING_HEADER
from .._wire.text import format_clock
from ..audio import AudioClip, AudioInput, as_audio_clip
from ..codec import sniff_format
from ..errors import (
    APIResponseError,
    APIStatusError,
    AudioHint,
    InvalidInputError,
)
from ..longform import carried_speaker_label, speaker_references, split_audio
from ..pricing import total_cost
from ..progress import progress, waiting
from ..transcript import Transcript
from .channels import (
    CHANNEL_MODES,
    check_split_arguments,
    downmix_hint,
    speaker_names,
    timed_form,
    transcribe_channels,
)
from .core import BaseClient, check_ok_body, resolve_timeout
from .costs import kept, priced, seconds_or_none

__all__ = ["TranscriptionEndpoints", "known_speaker_clips", "speaker_form", "upload_file"]

# Names under which speakers heard in one piece of a long upload are sent as references with the next
# pieces: not single capital letters, which the API gives speakers it does not recognise.
CARRIED_SPEAKER_PREFIX = "speaker "


class TranscriptionEndpoints:
    """`transcribe()` and `translate()`, the /audio/transcriptions and /audio/translations endpoints,
    for the client that owns them."""

    def __init__(self, client: BaseClient) -> None:
        self._client = client

    def transcribe(
        self,
        audio: AudioInput,
        *,
        model: str = UNSET,
        response_format: spec.TranscriptionFormat = UNSET,
        timestamp_granularities: Iterable[spec.TimestampGranularity] = UNSET,
        language: str | None = UNSET,
        prompt: str | None = UNSET,
        temperature: float | None = UNSET,
        include: Iterable[spec.TranscriptionInclude] | None = UNSET,
        chunking_strategy: str | dict | None = UNSET,
        known_speaker_names: Iterable[str] | None = None,
        known_speaker_references: Iterable[AudioInput] | None = None,
        known_speakers: Mapping[str, AudioInput] | Sequence[str] | None = None,
        channels: str = UNSET,
        stream: bool = False,
        timeout: Any = None,
        **extra: Any,
    ) -> Transcript | TranscriptionStream:
        """Speech to text. Uploads over 25 MB are split at silences and the pieces joined.

        The result keeps its input as `transcript.audio`; `transcript.flags` says where not to trust
        it. `known_speakers={"Alice": clip_or_path}` (up to 4; each reference 2-10 s, longer ones are
        cut) names the speakers gpt-4o-transcribe-diarize labels (ask it for
        response_format="diarized_json").

        `channels="split"` transcribes each channel as its own speaker (a call recorded one side per
        channel), one request per channel, merged in time order: speakers `left`/`right` (`ch1`..
        past two), or named by `known_speakers=["Alice", "Bob"]` or `{"left": "Alice"}`. The default,
        "downmix", sends the audio as it is (the API mixes it to mono).
        """
        a = functools.partial(self._client.defaults.pick, "transcribe")  # a(name, value, fallback)
        model = check_model(a("model", model, "whisper-1"))
        asked = a("response_format", response_format, None)
        diarize = is_diarize_model(model)
        check_diarize_arguments(model, {"prompt": a("prompt", prompt, None), "include": a("include", include, None),
                                        "timestamp_granularities": a("timestamp_granularities",
                                                                     timestamp_granularities, None)})
        if asked is not None:
            asked = check_choice(asked, spec.TRANSCRIPTION_FORMATS, "response_format")
        grans_asked = a("timestamp_granularities", timestamp_granularities, None)
        # Per-model rules: gpt-4o-transcribe takes only json, so the default verbose_json is not sent to it.
        fmt, format_note = relay.choose_transcription_format(model, asked, grans_asked is not None)
        grans = as_list(grans_asked if grans_asked is not None else ("segment",), "timestamp_granularities")
        grans = [check_choice(g, spec.TIMESTAMP_GRANULARITIES, "timestamp_granularities") for g in grans]
        if grans_asked is not None and grans and fmt != "verbose_json":
            raise InvalidInputError(f"timestamp_granularities needs response_format='verbose_json', not {fmt!r}",
                                    param="timestamp_granularities")
        include = as_list(a("include", include, None), "include")
        include = [check_choice(inc, spec.TRANSCRIPTION_INCLUDE, "include") for inc in include]
        if include and fmt != "json":
            raise InvalidInputError("include=['logprobs'] works only with response_format='json'", param="include")
        chunking = a("chunking_strategy", chunking_strategy, None)
        if isinstance(chunking, str):
            chunking = chunking.strip().lower()
        server_vad = isinstance(chunking, dict) and chunking.get("type") == "server_vad"
        if chunking is not None and chunking != "auto" and not server_vad:
            raise InvalidInputError("chunking_strategy must be 'auto' or {'type': 'server_vad', ...}",
                                    param="chunking_strategy")
        split = check_choice(a("channels", channels, "downmix"), CHANNEL_MODES, "channels") == "split"
        if split:
            check_split_arguments(stream, known_speaker_names, known_speaker_references)
            speakers = []
        else:
            # The 2-10 s rule is the diarizing model's (other models ignore references): checked where it applies.
            speakers = known_speaker_clips(known_speakers, known_speaker_names, known_speaker_references,
                                           self._client.relay_state.note,
                                           check_length=diarize or fmt == "diarized_json")
        form = _stt_form(model, fmt, a("prompt", prompt, None), a("temperature", temperature, None), extra)
        lang = a("language", language, None)
        if lang is not None:
            lang = check_language(lang)
            form.append(("language", lang))
        if fmt == "verbose_json":
            form.extend(("timestamp_granularities[]", g) for g in grans)
        form.extend(("include[]", i) for i in include)
        if chunking is not None:
            form.append(("chunking_strategy", _form_value(chunking, "chunking_strategy")))
        form.extend(speaker_form(speakers))
        check_bool(stream, "stream")
        self._client.near_misses.warn("transcribe", extra, spec.TRANSCRIPTION_PARAMS)
        clip = as_audio_clip(audio)
        state = self._client.relay_state
        if chunking is None and relay.needs_chunking(model, seconds_or_none(clip)):
            form.append(("chunking_strategy", "auto"))
            state.note(f"chunking:{model}", f"{model} needs chunking_strategy for audio over "
                       f"{spec.DIARIZE_UNCHUNKED_MAX_SECONDS:g} s: sending chunking_strategy='auto'")
        if stream:
            form.append(("stream", "true"))
        if format_note:
            state.note(f"format:{model}", format_note)
        if split:
            names = speaker_names(known_speakers, clip.channels)
            each_fmt, each_form = timed_form(model, fmt, form)
            parts: list[Transcript] = []
            t = transcribe_channels(clip, names, lambda c: kept(self._send(c, each_form, each_fmt, False, timeout,
                                                                             model), parts), state.note)
            t.model, t.cost = model, total_cost(p.cost for p in parts)
        else:
            downmix_hint(clip, functools.partial(state.note, category=AudioHint), state.noted)
            t = self._send(clip, form, fmt, stream, timeout, model)
        if isinstance(t, Transcript):
            t.requested_language = lang
        return t

    def _send(self, clip: AudioClip, form: list, fmt: str, stream: bool, timeout: Any, model: str):
        """One transcription request (or several for an upload over 25 MB); json again when this server
        refuses `fmt` for `model` (learnt once per client)."""
        state = self._client.relay_state
        if (model, fmt) in state.refused_formats:
            fmt, form = "json", _json_form(form)  # this server refused it before; the note was given then
        try:
            return self._stt("/audio/transcriptions", clip, form, fmt, stream, timeout, task="transcribe")
        except APIStatusError as err:
            if fmt == "json" or not relay.refuses_response_format(err):
                raise
            state.refused_formats.add((model, fmt))
            state.note(f"format-refused:{model}:{fmt}", f"the server refused response_format={fmt!r} for "
                       f"{model} ({err.message}); asked again for json (text without timestamps)")
            return self._stt("/audio/transcriptions", clip, _json_form(form), "json", stream, timeout,
                             task="transcribe")

    def translate(
        self,
        audio: AudioInput,
        *,
        model: str = UNSET,
        response_format: spec.TranslationFormat = UNSET,
        prompt: str | None = UNSET,
        temperature: float | None = UNSET,
        timeout: Any = None,
        **extra: Any,
    ) -> Transcript:
        """Speech in any language to English text."""
        a = functools.partial(self._client.defaults.pick, "translate")  # a(name, value, fallback)
        model = check_model(a("model", model, "whisper-1"))
        fmt = check_choice(a("response_format", response_format, "verbose_json"), spec.TRANSLATION_FORMATS,
                           "response_format")
        form = _stt_form(model, fmt, a("prompt", prompt, None), a("temperature", temperature, None), extra)
        self._client.near_misses.warn("translate", extra, spec.TRANSLATION_PARAMS)
        clip = as_audio_clip(audio)
        return self._stt("/audio/translations", clip, form, fmt, False, timeout, task="translate")

    def _stt(self, path: str, clip: AudioClip, form: list, fmt: str, stream: bool, timeout: Any, *, task: str):
        name, data, mime = upload_file(clip)
        if len(data) > spec.MAX_UPLOAD_BYTES:
            if stream:
                raise InvalidInputError(
                    f"the audio is {len(data) / 1e6:.1f} MB, over the 25 MB upload limit; use stream=False "
                    "to have it split and transcribed in pieces", param="audio")
            return self._stt_long(path, clip, form, fmt, timeout, task=task)
        if stream:
            resp = self._client.post(path, form=form, files={"file": (name, data, mime)}, stream=True,
                                     timeout=timeout)
            prices, model = self._client.price_table(resp), dict(form).get("model")
            return TranscriptionStream(resp, self._client.redact, fmt, clip, max_bytes=self._client.response_cap(path),
                                       stall_after=resolve_timeout(timeout, self._client.timeout)[1],
                                       on_done=lambda t: priced(t, prices, model, clip))  # usage comes at the end
        with _waiting_if_long(task, clip, len(data)):
            resp = self._client.post(path, form=form, files={"file": (name, data, mime)}, timeout=timeout)
            t = self._transcript(resp, fmt, task)
        t.audio = clip
        return priced(t, self._client.price_table(resp), dict(form).get("model"), clip)

    def _transcript(self, resp: requests.Response, fmt: str, task: str) -> Transcript:
        """The Transcript in a 2xx body; a body that is an error instead (see check_ok_body) raises."""
        check_ok_body(resp, fmt, self._client.redact)
        try:
            t = Transcript.from_response(resp.content, fmt, task=task)
            # The engine's header carries its warning for the formats with no JSON field (text, srt, vtt).
            t.warning = t.warning or resp.headers.get(WARNING_HEADER) or None
            return t
        except APIResponseError as err:  # its message may quote the server (e.g. the keys it sent)
            raise APIResponseError(self._client.redact(err.message),
                                   request_id=resp.headers.get("x-request-id")).with_hint(err.hint) from None

    def _stt_long(self, path: str, clip: AudioClip, form: list, fmt: str, timeout: Any, *, task: str) -> Transcript:
        pieces = split_audio(clip)
        # Pieces are joined through their timings, so ask for JSON with timings whatever fmt was
        # (unless the model does not give timings: gpt-4o-transcribe takes only json).
        allowed = relay.transcription_formats(dict(form).get("model", ""))
        piece_fmt = "verbose_json" if fmt in ("verbose_json", "srt", "vtt", "text") else fmt
        if allowed is not None and piece_fmt not in allowed:
            piece_fmt = fmt
        piece_form = [(k, piece_fmt if k == "response_format" else v) for k, v in form]
        # Speaker labels are per request: piece 2's "A" need not be piece 1's. Each speaker heard is
        # sent with the following pieces as a known speaker (its longest 2-10 s stretch), while there
        # is room among the API's 4, so the server can match it by voice (see carried_speaker_label).
        carry = piece_fmt == "diarized_json"
        given = [v for k, v in form if k == "known_speaker_names[]"]
        carried: dict[str, AudioClip] = {}
        done = []
        with progress(len(pieces), task) as bar:
            for offset, piece in pieces:
                name, data, mime = upload_file(piece)
                extra = speaker_form([(CARRIED_SPEAKER_PREFIX + k, c) for k, c in carried.items()])
                resp = self._client.post(path, form=piece_form + extra, files={"file": (name, data, mime)},
                                         timeout=timeout)
                t = priced(self._transcript(resp, piece_fmt, task), self._client.price_table(resp),
                           dict(form).get("model"), piece)
                if carry:
                    t = _relabel_piece(t, given, carried)
                    room = spec.MAX_KNOWN_SPEAKERS - len(given) - len(carried)
                    carried.update(speaker_references(piece, t, exclude=set(given) | set(carried), limit=room))
                done.append((offset, t))
                bar.update(1)
        joined = Transcript.join(done, audio=clip)
        joined.model, joined.cost = dict(form).get("model"), total_cost(t.cost for _, t in done)
        return joined


# A single request shows that it is running (progress.waiting) from this much audio: a minute, or,
# when the file is not decoded, its size as a minute of 16 kHz 16-bit WAV.
WAIT_SHOWN_FROM_S = 60.0
WAIT_SHOWN_FROM_BYTES = 1_920_000


def _waiting_if_long(task: str, clip: AudioClip, size: int) -> Any:
    """A long recording is one request that can take a while: the notebook says it is running.
    Short ones say nothing (a line left under every quick transcription would be noise). The
    length is given when the samples are in memory; a file is not decoded just to say it."""
    if clip.is_decoded:
        if clip.duration < WAIT_SHOWN_FROM_S:
            return contextlib.nullcontext()
        return waiting(task, f"{format_clock(clip.duration, decimals=0)} of audio")
    if size < WAIT_SHOWN_FROM_BYTES:
        return contextlib.nullcontext()
    return waiting(task, f"{size / 1e6:.1f} MB of audio")


def _relabel_piece(t: Transcript, given: list[str], carried: dict[str, AudioClip]) -> Transcript:
    """Labels of one piece made consistent with the pieces before it (see carried_speaker_label)."""
    used = set(given) | set(carried)
    mapping: dict[str, str] = {}
    for label in t.speakers:
        mapping[label] = carried_speaker_label(label, given, CARRIED_SPEAKER_PREFIX, used)
        used.add(mapping[label])
    if all(k == v for k, v in mapping.items()):
        return t
    return t.rename_speakers(mapping)


def known_speaker_clips(known_speakers: Mapping[str, AudioInput] | None, names: Iterable[str] | None,
                        references: Iterable[AudioInput] | None, note: Callable[[str, str], None], *,
                        check_length: bool = True) -> list[tuple[str, AudioClip]]:
    """(name, reference clip) pairs from `known_speakers={name: audio}` or the two parallel lists,
    checked: at most 4, names unique and non-empty, each reference 2-10 s (a longer one is cut to
    its first 10 s, with a note saying so; a shorter one is refused)."""
    if known_speakers is not None and (names is not None or references is not None):
        raise InvalidInputError("give known_speakers={name: audio} or known_speaker_names= with "
                                "known_speaker_references=, not both", param="known_speakers")
    if known_speakers is not None:
        if not isinstance(known_speakers, Mapping):
            raise InvalidInputError("known_speakers must be a dict of name -> reference audio, such as "
                                    "{'Alice': 'alice.wav'}", param="known_speakers")
        pairs = list(known_speakers.items())
    else:
        listed, refs = as_list(names, "known_speaker_names"), list(references or [])
        if len(listed) != len(refs):
            raise InvalidInputError("known_speaker_names and known_speaker_references must have the same length",
                                    param="known_speaker_references")
        pairs = list(zip(listed, refs, strict=True))
    if len(pairs) > spec.MAX_KNOWN_SPEAKERS:
        raise InvalidInputError(f"{len(pairs)} known speakers: the API takes at most {spec.MAX_KNOWN_SPEAKERS}",
                                param="known_speaker_names")
    out: list[tuple[str, AudioClip]] = []
    for name, ref in pairs:
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError(f"a known speaker's name must be a non-empty string, not {name!r}",
                                    param="known_speaker_names")
        name = name.strip()
        if any(name == n for n, _ in out):
            raise InvalidInputError(f"the known speaker {name!r} is given twice", param="known_speaker_names")
        clip = as_audio_clip(ref, param="known_speaker_references")
        out.append((name, _reference_clip(name, clip, note) if check_length else clip))
    return out


def _reference_clip(name: str, clip: AudioClip, note: Callable[[str, str], None]) -> AudioClip:
    lo, hi = spec.KNOWN_SPEAKER_MIN_SECONDS, spec.KNOWN_SPEAKER_MAX_SECONDS
    seconds = clip.duration
    if seconds < lo:
        raise InvalidInputError(f"the reference for known speaker {name!r} is {seconds:.1f} s; the API takes "
                                f"{lo:g}-{hi:g} s of that speaker alone: give a longer clip", param="known_speakers")
    if seconds > hi:
        note(f"reference-cut:{name}:{seconds:.3f}", f"the reference for known speaker {name!r} is {seconds:.1f} s, "
             f"over the API's {hi:g} s: sending its first {hi:g} s")
        return clip.slice(0.0, hi).encode("wav")
    if clip.format in ("pcm", "aac"):  # headerless PCM and raw AAC are not files the API decodes
        return clip.encode("wav")
    return clip


def speaker_form(speakers: Iterable[tuple[str, AudioClip]]) -> list[tuple[str, str]]:
    """The known_speaker_names[] / known_speaker_references[] (data URLs) form fields."""
    form: list[tuple[str, str]] = []
    for name, clip in speakers:
        form.append(("known_speaker_names[]", name))
        form.append(("known_speaker_references[]", f"data:{clip.mime_type};base64,{clip.to_base64()}"))
    return form


def upload_file(clip: AudioClip) -> tuple[str, bytes, str]:
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


def _stt_form(model: str, fmt: str, prompt: Any, temperature: Any, extra: dict) -> list[tuple[str, str]]:
    form: list[tuple[str, str]] = [("model", model), ("response_format", fmt)]
    if prompt is not None:
        form.append(("prompt", check_text(prompt, "prompt", allow_empty=True)))
    if temperature is not None:
        form.append(("temperature", _form_value(check_number(temperature, "temperature", 0.0, 1.0), "temperature")))
    for key, value in extra.items():
        if isinstance(value, (list, tuple)):
            name = key if key.endswith("[]") else key + "[]"
            form.extend((name, _form_value(v, f"{key}[{i}]")) for i, v in enumerate(value))
        elif value is not None:
            form.append((key, _form_value(value, key)))
    return form


def _form_value(value: Any, param: str) -> str:
    """A form field's text; the value made ready as JSON first (numpy numbers taken, NaN refused)."""
    value = json_ready(value, param)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, allow_nan=False)
    return str(value)


def _json_form(form: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The transcription form asking for json (granularities need verbose_json, so they go)."""
    return [(k, "json" if k == "response_format" else v) for k, v in form if k != "timestamp_granularities[]"]
