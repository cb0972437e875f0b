"""Speakers in a transcription request: the known speakers a form names, and the transcript's segments
labelled (and, for diarized_json, split where the speaker changes) from the diarizer's turns.

The transcription route asks for speakers when the response format is `diarized_json`, and for
`verbose_json` when the form names known speakers or sets `diarize=true` (an engine extension;
`num_speakers` fixes the count instead of estimating it).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..._wire.spec import KNOWN_SPEAKER_MAX_SECONDS, KNOWN_SPEAKER_MIN_SECONDS, MAX_KNOWN_SPEAKERS
from ...audio import AudioClip
from ...codec import guess_format
from ...transcript import Transcript
from ..api_errors import bad_request, model_unavailable
from ..catalog.weights import WeightError
from ..diarization.encoder import SAMPLE_RATE
from ..diarization.pipeline import Turn, load_diarizer
from ..route_helpers import samples_16k
from .forms import bool_field, text_field

__all__ = ["SpeakerRequest", "read_speaker_request", "diarize", "label_segments", "split_by_speaker"]

_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?:;[\w-]+=[\w.-]+)*;base64,(?P<data>.*)$", re.DOTALL)
# The API's 2-10 s, with room for a codec's padding.
_LENGTH_SLACK_S = 0.1
MAX_SPEAKERS = 32


@dataclass
class SpeakerRequest:
    """What a request asked about speakers; `wanted` is False when it asked for none."""

    wanted: bool = False
    num_speakers: int | None = None
    references: dict[str, AudioClip] = field(default_factory=dict)


def read_speaker_request(form: Any, fmt: str) -> SpeakerRequest:
    """The speaker fields of a transcription form, checked (400 with the API's wording on a bad one)."""
    # Data URLs hold commas, so these lists are read as sent (forms.list_field splits at commas).
    names = [text_field_value(v, "known_speaker_names[]")
             for v in form.getlist("known_speaker_names[]") + form.getlist("known_speaker_names")]
    refs = [text_field_value(v, "known_speaker_references[]")
            for v in form.getlist("known_speaker_references[]") + form.getlist("known_speaker_references")]
    if len(names) != len(refs):
        raise bad_request(f"'known_speaker_names[]' has {len(names)} entries and 'known_speaker_references[]' "
                          f"{len(refs)}; give one reference per name.", param="known_speaker_references[]")
    if len(names) > MAX_KNOWN_SPEAKERS:
        raise bad_request(f"Invalid 'known_speaker_names[]': at most {MAX_KNOWN_SPEAKERS} known speakers, "
                          f"got {len(names)}.", param="known_speaker_names[]")
    references: dict[str, AudioClip] = {}
    for name, ref in zip(names, refs, strict=True):
        name = name.strip()
        if not name or name in references:
            raise bad_request(f"Invalid 'known_speaker_names[]': {name!r} is empty or given twice.",
                              param="known_speaker_names[]")
        references[name] = _reference_clip(name, ref)
    count = text_field(form, "num_speakers")
    num = None
    if count not in (None, ""):
        if not re.fullmatch(r"[0-9]{1,3}", count.strip()) or not 1 <= int(count) <= MAX_SPEAKERS:
            raise bad_request(f"Invalid value for 'num_speakers': {count!r}; use a whole number from 1 to "
                              f"{MAX_SPEAKERS}.", param="num_speakers")
        num = int(count)
    wanted = fmt == "diarized_json" or (fmt == "verbose_json" and (bool(references) or bool_field(form, "diarize")
                                                                   or num is not None))
    return SpeakerRequest(wanted, num, references)


def text_field_value(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise bad_request(f"Invalid type for '{name}': expected strings.", param=name)
    return value


def _reference_clip(name: str, url: str) -> AudioClip:
    param = "known_speaker_references[]"
    m = _DATA_URL.match(url.strip())
    if m is None:
        raise bad_request(f"Invalid 'known_speaker_references[]' for {name!r}: expected a data URL "
                          "(data:audio/wav;base64,...).", param=param)
    try:
        data = base64.b64decode(m.group("data"), validate=False)
    except (binascii.Error, ValueError):
        raise bad_request(f"Invalid 'known_speaker_references[]' for {name!r}: the base64 data does not decode.",
                          param=param) from None
    fmt = guess_format(data, None) if data else None
    if fmt is None:
        raise bad_request(f"Invalid 'known_speaker_references[]' for {name!r}: the data is not audio in a "
                          "supported format.", param=param)
    return AudioClip(data, fmt, name=f"reference for {name}")


def _check_length(name: str, samples: np.ndarray, rate: int) -> None:
    seconds = len(samples) / rate
    if not KNOWN_SPEAKER_MIN_SECONDS - _LENGTH_SLACK_S <= seconds <= KNOWN_SPEAKER_MAX_SECONDS + _LENGTH_SLACK_S:
        raise bad_request(f"Invalid 'known_speaker_references[]' for {name!r}: the sample is {seconds:.1f} s; each "
                          f"must be between {KNOWN_SPEAKER_MIN_SECONDS:g} and {KNOWN_SPEAKER_MAX_SECONDS:g} seconds.",
                          param="known_speaker_references[]")


def diarize(cache_dir: Any, samples: np.ndarray, request: SpeakerRequest, max_seconds: float) -> list[Turn]:
    """The turns of `samples` (blocking: run it in a thread); a diarizer that cannot load is a 503."""
    decoded = {}
    for name, clip in request.references.items():
        ref = samples_16k(clip, "known_speaker_references[]", max_seconds)
        _check_length(name, ref, SAMPLE_RATE)
        decoded[name] = ref
    try:
        diarizer = load_diarizer(cache_dir)
    except WeightError as exc:
        raise model_unavailable("speaker diarization model", exc) from None
    known = {name: diarizer.embed_reference(ref) for name, ref in decoded.items()}
    return diarizer.diarize(samples, num_speakers=request.num_speakers, known=known)


def label_segments(t: Transcript, turns: list[Turn]) -> Transcript:
    """Each segment labelled with the speaker who talks most in it (segments kept as they are)."""
    return t.with_speakers(_spans(turns), split=False)


def split_by_speaker(t: Transcript, turns: list[Turn]) -> Transcript:
    """Segments cut where the speaker changes, by their word timestamps (diarized_json)."""
    return t.with_speakers(_spans(turns), split=True)


def _spans(turns: list[Turn]) -> list[tuple[float, float, str]]:
    return [(t.start, t.end, t.speaker) for t in turns]
