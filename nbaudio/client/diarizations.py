"""Who spoke when, again, for a transcript you already have: `diarize()` asks the engine's
/audio/diarizations (an nbaudio engine extension: the OpenAI API has no diarization-only route) for
speaker turns, and `relabel()` puts them on the transcript's segments without transcribing it again.

The fix-it loop after diarization: `relabel(t, num_speakers=2)` when it found too many or too few
voices, `relabel(t, known_speakers={...})` to get names, then `t.reassign(i, "Bob")` and
`t.merge_speakers("A", "C")` (Transcript methods, no request) for what is still wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._http.validation import check_number
from .._wire import spec
from .._wire.fields import Place, objects_field, parse_json, seconds_field, text_field
from ..audio import AudioClip, AudioInput, as_audio_clip
from ..errors import APIResponseError, InvalidInputError, NotFoundError
from ..transcript import Transcript
from .core import BaseClient
from .transcriptions import known_speaker_clips, speaker_form, upload_file

__all__ = ["DiarizationEndpoint", "DIARIZATIONS_PATH"]

DIARIZATIONS_PATH = "/audio/diarizations"
MAX_SPEAKERS = 32  # the engine's bound on num_speakers


class DiarizationEndpoint:
    """`diarize()` and `relabel()`, on the engine's /audio/diarizations, for the client that owns them."""

    def __init__(self, client: BaseClient) -> None:
        self._client = client

    def diarize(self, audio: AudioInput, *, num_speakers: int | None = None,
                known_speakers: Mapping[str, AudioInput] | None = None,
                timeout: Any = None) -> list[tuple[float, float, str]]:
        """Speaker turns (start s, end s, speaker) of `audio`, in time order, without transcribing it.

        `num_speakers` fixes how many voices there are (else the engine estimates it);
        `known_speakers={"Alice": clip_or_path}` (up to 4, 2-10 s each) names the voices it recognises,
        the others are A, B, C... Needs the nbaudio engine (an extension of the API)."""
        form: list[tuple[str, str]] = [("model", spec.DIARIZE_MODEL)]
        if num_speakers is not None:
            count = check_number(num_speakers, "num_speakers", lo=1, hi=MAX_SPEAKERS)
            if count != int(count):
                raise InvalidInputError(f"num_speakers must be a whole number, not {num_speakers!r}",
                                        param="num_speakers")
            form.append(("num_speakers", str(int(count))))
        speakers = known_speaker_clips(known_speakers, None, None, self._client.relay_state.note)
        form.extend(speaker_form(speakers))
        name, data, mime = upload_file(as_audio_clip(audio))
        try:
            resp = self._client.post(DIARIZATIONS_PATH, form=form, files={"file": (name, data, mime)},
                                     timeout=timeout)
        except NotFoundError as err:
            raise err.with_hint("speaker turns without a transcription come from the nbaudio engine's "
                                "/v1/audio/diarizations; with another server, transcribe again with "
                                "model='gpt-4o-transcribe-diarize' (and known_speakers=)") from None
        try:
            return _turns(resp.content)
        except APIResponseError as err:  # its message may quote the server
            raise APIResponseError(self._client.redact(err.message),
                                   request_id=resp.headers.get("x-request-id")).with_hint(err.hint) from None

    def relabel(self, transcript: Transcript, *, num_speakers: int | None = None,
                known_speakers: Mapping[str, AudioInput] | None = None, audio: AudioInput | None = None,
                timeout: Any = None) -> Transcript:
        """A copy of `transcript` with its speakers found again from its audio (`transcript.audio`, kept
        by `transcribe()`, or `audio=`), the text and times as they were: segments with word times are
        cut where the speaker changes, others go whole to the speaker who talks most in them."""
        if not isinstance(transcript, Transcript):
            raise InvalidInputError(f"relabel takes a Transcript, not {type(transcript).__name__}",
                                    param="transcript")
        source = audio if audio is not None else transcript.audio
        if source is None:
            raise InvalidInputError("this transcript has no audio (transcribe() keeps it as .audio): pass "
                                    "audio= with the recording it was made from", param="audio")
        clip: AudioClip = as_audio_clip(source, param="audio")
        turns = self.diarize(clip, num_speakers=num_speakers, known_speakers=known_speakers, timeout=timeout)
        out = transcript.with_speakers(turns)
        out.audio = clip
        return out


def _turns(body: bytes) -> list[tuple[float, float, str]]:
    try:
        data = parse_json(body)
    except ValueError as exc:
        raise APIResponseError(f"diarization response is not valid JSON: {exc}") from None
    place = Place("the diarization")
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        raise place.wrong(data, "an object with a list of speaker turns as 'segments'")
    out = []
    for seg, at in objects_field(data, "segments", place):
        speaker = text_field(seg, "speaker", at)
        if not speaker:
            raise at.at("speaker").wrong(speaker, "a speaker label")
        out.append((seconds_field(seg, "start", at), seconds_field(seg, "end", at), speaker))
    return sorted(out)
