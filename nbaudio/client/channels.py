"""`transcribe(..., channels="split")`: each channel of a recording transcribed as its own speaker
(a phone call recorded one side per channel), the results merged in time order.

Client-side, so it works with any API: one ordinary request per channel (concurrently), each
channel sent as lossless mono FLAC, its segments and words labelled with the channel's name
(`left`/`right`, `ch1`..`chN` past two) or the name `known_speakers` gives it. The merged
transcript keeps the original clip as its audio, so the view plays both sides.

The default stays the API's downmix; `downmix_hint` says once per client when a stereo clip sent
downmixed clearly holds different speech in each channel (nbaudio.audio.activity says how that is told).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from .. import relay
from ..audio import AudioClip
from ..errors import InvalidInputError
from ..transcript import Segment, Transcript, Word

__all__ = ["CHANNEL_MODES", "SPLIT_CONCURRENCY", "channel_names", "channel_clips", "check_split_arguments",
           "downmix_hint", "merge_channels", "speaker_names", "timed_form", "transcribe_channels"]

CHANNEL_MODES = ("downmix", "split")
_HINT_KEY = "channels-split-hint"
# Channels in flight at once: a stereo call is two requests; a 16-channel array is not 16 at once.
SPLIT_CONCURRENCY = 4
_KNOWN_SPEAKERS_SHAPE = ("with channels='split', known_speakers names the channels: a list with one name per "
                         "channel, such as ['Alice', 'Bob'] (left, right), or {{channel: name}}, such as "
                         "{{'left': 'Alice'}}, with channels {channels}")


def channel_names(count: int) -> list[str]:
    """'left', 'right' for stereo; 'ch1'..'chN' for more channels."""
    return ["left", "right"] if count == 2 else [f"ch{i + 1}" for i in range(count)]


def speaker_names(known_speakers: Any, count: int) -> list[str]:
    """The speaker name of each of `count` channels: its channel name, or what `known_speakers` gives it
    (a list of names, one per channel, or a mapping from channel name or index to name). Mono refused."""
    if count < 2:
        raise InvalidInputError("channels='split' needs audio with two or more channels; this clip has one. "
                                "Leave channels out (the default, 'downmix') for mono audio", param="channels")
    channels = channel_names(count)
    if known_speakers is None:
        return channels
    shape = _KNOWN_SPEAKERS_SHAPE.format(channels=", ".join(channels))
    if isinstance(known_speakers, Mapping):
        names = list(channels)
        for key, name in known_speakers.items():
            index = _channel_index(key, channels, shape)
            names[index] = _speaker_name(name, shape)
    elif isinstance(known_speakers, Sequence) and not isinstance(known_speakers, (str, bytes)):
        if len(known_speakers) != count:
            raise InvalidInputError(f"known_speakers has {len(known_speakers)} names for {count} channels; "
                                    + shape, param="known_speakers")
        names = [_speaker_name(name, shape) for name in known_speakers]
    else:
        raise InvalidInputError(shape + f", not {type(known_speakers).__name__}", param="known_speakers")
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise InvalidInputError(f"two channels are named {doubled[0]!r}: give each channel its own name",
                                param="known_speakers")
    return names


def _channel_index(key: Any, channels: list[str], shape: str) -> int:
    if isinstance(key, int) and not isinstance(key, bool) and 0 <= key < len(channels):
        return key
    if isinstance(key, str) and key.strip().lower() in channels:
        return channels.index(key.strip().lower())
    raise InvalidInputError(f"known_speakers names a channel {key!r} this clip does not have; " + shape,
                            param="known_speakers")


def _speaker_name(name: Any, shape: str) -> str:
    if not isinstance(name, str) or not name.strip():
        what = "reference audio" if not isinstance(name, str) else "an empty name"
        raise InvalidInputError(f"known_speakers gives {what} for a channel, not a name; " + shape,
                                param="known_speakers")
    return name.strip()


def check_split_arguments(stream: Any, names: Any, references: Any) -> None:
    """Refuse, before anything is sent, what a split cannot do."""
    if stream:
        raise InvalidInputError("channels='split' sends one request per channel and merges them, so it cannot "
                                "stream: use stream=False", param="stream")
    if names is not None or references is not None:
        raise InvalidInputError("with channels='split' each channel is one speaker, so there are no references to "
                                "send: name the channels with known_speakers=['Alice', 'Bob'] instead of "
                                "known_speaker_names= / known_speaker_references=", param="known_speaker_names")


def timed_form(model: str, fmt: str, form: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
    """(format, form) for one channel of a split: one with timings (channels are merged by time),
    verbose_json unless the model gives only json or diarized_json, or logprobs (json only) were asked."""
    allowed = relay.transcription_formats(model)
    keep = fmt in ("json", "diarized_json") and (any(k == "include[]" for k, _ in form) or fmt == "diarized_json")
    if keep or (allowed is not None and "verbose_json" not in allowed):
        return fmt, form
    return "verbose_json", [(k, "verbose_json" if k == "response_format" else v) for k, v in form]


def channel_clips(clip: AudioClip) -> list[AudioClip]:
    """Each channel of `clip` as a mono FLAC clip (lossless, and a format every API reads)."""
    samples, rate = clip.samples, clip.sample_rate
    return [AudioClip.from_array(samples[:, i], rate, format="flac", name=clip.name).encode("flac")
            for i in range(clip.channels)]


def transcribe_channels(clip: AudioClip, names: list[str], send: Callable[[AudioClip], Transcript],
                        note: Callable[[str, str], None]) -> Transcript:
    """`send` each channel of `clip` (concurrently) and merge the results under `names`."""
    clips = channel_clips(clip)
    with ThreadPoolExecutor(max_workers=min(len(clips), SPLIT_CONCURRENCY),
                            thread_name_prefix="nbaudio-channel") as pool:
        parts = list(pool.map(send, clips))
    if any(not t.segments and t.text.strip() for t in parts):
        note("split-untimed", "the server gave no timings (json only), so each channel's text is one segment "
             "from its first to its last sound: the turns are in order of who spoke first, not interleaved")
    return merge_channels([(n, _timed(t, c)) for n, t, c in zip(names, parts, clips, strict=True)], clip)


def _timed(t: Transcript, channel: AudioClip) -> Transcript:
    """`t` with segments: one spanning the channel's sound when the server gave text without timings."""
    if t.segments or not t.text.strip():
        return t
    from ..audio.activity import sounding_spans

    spans = sounding_spans(channel.samples, channel.sample_rate)
    start, end = (spans[0][0], spans[-1][1]) if spans else (0.0, channel.duration)
    return replace(t, segments=[Segment(id=0, start=start, end=end, text=t.text.strip())])


def merge_channels(parts: Sequence[tuple[str, Transcript]], audio: AudioClip | None) -> Transcript:
    """One transcript of speakers from per-channel transcripts: every segment and word labelled with
    its channel's speaker name, in order of start time (ties: channel order, then each channel's own
    order); texts joined in that order."""
    tagged: list[tuple[float, int, int, Segment]] = []
    words: list[tuple[float, int, int, Word]] = []
    for ch, (name, t) in enumerate(parts):
        for k, seg in enumerate(t.segments):
            tagged.append((seg.start, ch, k, replace(seg, speaker=name, words=list(seg.words))))
        for k, w in enumerate(t.words):
            words.append((w.start, ch, k, replace(w)))
    segments = [seg for *_, seg in sorted(tagged, key=lambda x: x[:3])]
    for i, seg in enumerate(segments):
        seg.id = i
    langs = [t.language for _, t in parts if t.language]
    return Transcript(
        text=" ".join(s.text.strip() for s in segments if s.text.strip()),
        language=max(langs, key=langs.count) if langs else None,
        duration=audio.duration if audio is not None else max((t.duration or 0.0 for _, t in parts), default=None),
        segments=segments, words=[w for *_, w in sorted(words, key=lambda x: x[:3])],
        usage=_usage([t.usage for _, t in parts]), task=parts[0][1].task if parts else "transcribe", audio=audio,
        warning="; ".join(dict.fromkeys(t.warning for _, t in parts if t.warning)) or None,
    )


def _usage(usages: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    """The requests' usage added up, when each is the duration kind (the others have no common sum)."""
    if not usages or any(u is None or u.get("type") != "duration" for u in usages):
        return None
    seconds = [u.get("seconds") for u in usages]
    if not all(isinstance(s, (int, float)) and not isinstance(s, bool) for s in seconds):
        return None
    return {"type": "duration", "seconds": sum(seconds)}


def downmix_hint(clip: AudioClip, note: Callable[[str, str], None], given: Callable[[str], bool]) -> None:
    """Say once (per client) that channels='split' exists when a stereo `clip` about to be sent
    downmixed holds different speech in each channel."""
    if given(_HINT_KEY) or not clip.is_decoded or clip.channels != 2:
        return
    from ..audio.activity import channel_activity

    activity = channel_activity(clip.samples, clip.sample_rate)
    if activity.distinct_speech:
        left, right = activity.own_seconds
        note(_HINT_KEY, f"this stereo clip has different sound in each channel (left alone {left:.0f} s, right "
             f"alone {right:.0f} s), as in a call recorded one side per channel; the API hears it mixed to one. "
             "transcribe(..., channels='split') transcribes each channel as its own speaker")

