"""`compare_speech`: one text spoken by every voice × speed × model × client, at once, in a grid that
fills in as the clips arrive: each cell its player and waveform, how long until the first audio
and the whole clip, its size, its cost, and what a transcription model heard in it (WER against the
text).

    grid = nbaudio.compare_speech("Meet me at the library.", voices=["alloy", "echo", "nova"],
                                  speeds=[1.0, 1.5])
    grid = nbaudio.compare_speech(text, voices=["alloy"], models=["tts-1", "gpt-4o-mini-tts"],
                                  clients={"OpenAI": nbaudio.Client(), "relay": relay})
    grid.to_dataframe()
    nbaudio.listening_test(grid.clips_by("voice"))     # the same clips, blind
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .._wire import spec
from ..audio import AudioClip
from ..client import Client
from ..errors import InvalidInputError, MissingDependencyError, NbAudioError
from ..metrics import normalizer_name, require_scoring, word_error_rate
from ..pricing import Cost
from ..transcript import Transcript
from ._systems import Run, System, run_systems, systems

__all__ = ["SPEECH_COLUMNS", "SAME_CLIENT", "SpeechCell", "SpeechComparison", "SpokenClip", "compare_speech"]

SPEECH_COLUMNS = ("cell", "client", "model", "voice", "speed", "duration", "ttfb", "seconds", "bytes", "format",
                  "cost", "cost_usd", "heard", "wer", "transcribe_seconds", "error")
# transcribe_with's default: each clip is transcribed by the client that spoke it, with its default model.
SAME_CLIENT = "same client"
_OWN_DIMENSIONS = {"voice": "voices", "speed": "speeds", "model": "models", "stream": None}


@dataclass(frozen=True)
class SpeechCell:
    """One combination of the grid: a system (a model on a client), a voice and a speed (None: not
    sent, the client's default), under a label that names what varies."""

    label: str
    system: System
    voice: str | None
    speed: float | None


@dataclass
class SpokenClip:
    """One cell's result: the clip, `ttfb` (seconds from sending to the first audio bytes), `seconds`
    (to the last byte), and the round trip: the transcript, how long it took, its WER against the
    text, or why it failed (`transcribe_error`; the clip stays)."""

    clip: AudioClip
    ttfb: float | None
    seconds: float
    transcript: Transcript | None = None
    transcribe_seconds: float | None = None
    wer: float | None = None
    transcribe_error: str | None = None


def _text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError("compare_speech takes the text to speak (a non-empty string)", param="text")
    if len(text) > spec.SPEECH_MAX_INPUT:
        raise InvalidInputError(f"text is {len(text)} characters; a speech grid streams each clip, which takes at "
                                f"most {spec.SPEECH_MAX_INPUT}: compare a shorter passage", param="text")
    return text


def _listed(values: Any, name: str, kind: str) -> list[Any]:
    if values is None:
        return [None]
    if isinstance(values, (str, numbers.Real)):
        values = [values]
    if not isinstance(values, Iterable):
        raise InvalidInputError(f"{name} must be a list of {kind}, not {type(values).__name__}", param=name)
    out = list(values)
    if not out:
        raise InvalidInputError(f"{name} must list at least one {kind[:-1]} (or be left out)", param=name)
    return out


def _voices(voices: Any) -> list[str | None]:
    out = _listed(voices, "voices", "voice names")
    if voices is not None and not all(isinstance(v, str) and v.strip() for v in out):
        raise InvalidInputError(f"voices must be voice names (strings), not {out!r}", param="voices")
    if len(set(out)) != len(out):
        raise InvalidInputError(f"voices are listed twice: {out}", param="voices")
    return [None if v is None else str(v) for v in out]  # numpy's str_ as a plain str


def _speeds(speeds: Any) -> list[float | None]:
    out = _listed(speeds, "speeds", "speeds")
    if speeds is None:
        return out
    checked = []
    for s in out:  # numpy scalars (an np.arange of speeds) are numbers.Real; bools are not speeds
        if isinstance(s, bool) or not isinstance(s, numbers.Real) or not spec.SPEED_MIN <= float(s) <= spec.SPEED_MAX:
            raise InvalidInputError(f"speeds must be numbers from {spec.SPEED_MIN} to {spec.SPEED_MAX}, "
                                    f"not {s!r}", param="speeds")
        checked.append(float(s))
    if len(set(checked)) != len(checked):
        raise InvalidInputError(f"speeds are listed twice: {checked}", param="speeds")
    return checked


def _cells(found: list[System], voices: list[str | None], speeds: list[float | None],
           name_system: bool) -> list[SpeechCell]:
    out = []
    for system in found:
        for speed in speeds:
            for voice in voices:
                parts = ([system.label] if name_system else []) + ([voice] if voice is not None else []) + (
                    [f"{speed:g}×"] if speed is not None else [])
                out.append(SpeechCell(" · ".join(parts) or "default", system, voice, speed))
    return out


def _transcriber(spec_: Any) -> tuple[Client | None, str | None] | None:
    """(client or None for each cell's own, model or None for the client's default), or None: no round trip."""
    if spec_ is None:
        return None
    if spec_ == SAME_CLIENT:
        return None, None
    if isinstance(spec_, str) and spec_.strip():
        return None, spec_
    if isinstance(spec_, Client):
        return spec_, None
    if (isinstance(spec_, tuple) and len(spec_) == 2 and isinstance(spec_[0], Client)
            and isinstance(spec_[1], str) and spec_[1].strip()):
        return spec_
    raise InvalidInputError("transcribe_with is a transcription model name (on each clip's own client), a Client, "
                            f"(Client, model), {SAME_CLIENT!r} (the default) or None (no round trip), "
                            f"not {spec_!r}", param="transcribe_with")


def _heard_by(hearer: tuple[Client | None, str | None] | None) -> str | None:
    if hearer is None:
        return None
    client, model = hearer
    who = "each clip's own client" if client is None else "the client given"
    return f"{model or 'the default transcription model'} on {who}"


def _speak_and_hear(text: str, speak_kwargs: dict[str, Any], hearer: tuple[Client | None, str | None] | None,
                    language: str | None):
    def call(cell: SpeechCell) -> SpokenClip:
        args = dict(speak_kwargs)
        for name, value in (("model", cell.system.model), ("voice", cell.voice), ("speed", cell.speed)):
            if value is not None:
                args[name] = value
        started = time.perf_counter()
        first = None
        with cell.system.client.speak(text, stream=True, **args) as stream:
            for chunk in stream:  # the clock stops at the first audio bytes the response brings
                if first is None and chunk:
                    first = time.perf_counter() - started
            clip = stream.result
        spoken = SpokenClip(clip, first, time.perf_counter() - started)
        if hearer is not None:
            _hear(spoken, hearer[0] or cell.system.client, hearer[1], text, language)
        return spoken
    return call


def _hear(spoken: SpokenClip, client: Client, model: str | None, text: str, language: str | None) -> None:
    args: dict[str, Any] = {"model": model} if model is not None else {}
    if language is not None:
        args["language"] = language
    started = time.perf_counter()
    try:
        t = client.transcribe(spoken.clip, **args)
    except (NbAudioError, OSError) as err:  # the clip was made: the cell keeps it and says why it was not heard
        spoken.transcribe_error = f"{type(err).__name__}: {err}"
        return
    spoken.transcribe_seconds = time.perf_counter() - started
    spoken.transcript = t
    spoken.wer = word_error_rate(text, t.text, language or t.language or "en")


@dataclass(eq=False)
class SpeechComparison:
    """The grid: `cells` (SpeechCell), `runs` (nbaudio.compare.Run per cell, in the cells' order; None
    for a cell still running while the grid fills in), the `text`, who transcribed the clips
    (`transcribed_by`, None: no round trip) and the `language` the WER was scored in."""

    text: str
    cells: list[SpeechCell]
    runs: list[Run[SpeechCell] | None]
    transcribed_by: str | None
    language: str | None
    concurrency: int | None = None
    # The IPython cell whose live output already shows this grid in its final state (_live.show).
    shown_live_in: int | None = field(default=None, repr=False)

    @property
    def finished(self) -> bool:
        return all(r is not None for r in self.runs)

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.cells]

    @property
    def normalizer(self) -> str:
        return normalizer_name(self.language or "en")

    def _run(self, label: str) -> Run[SpeechCell]:
        for c, r in zip(self.cells, self.runs, strict=True):
            if c.label == label:
                if r is None:
                    raise InvalidInputError(f"{label!r} is still running", param="cell")
                return r
        raise InvalidInputError(f"{label!r} is not one of the cells: {', '.join(map(repr, self.labels))}",
                                param="cell")

    def clip(self, label: str) -> AudioClip:
        """The clip of the cell named `label`."""
        run = self._run(label)
        if not run.ok:
            raise InvalidInputError(f"{label!r} gave no clip: {run.error}", param="cell")
        return run.result.clip

    @property
    def clips(self) -> dict[str, AudioClip]:
        """{label: clip} of the cells that spoke."""
        return {c.label: r.result.clip for c, r in zip(self.cells, self.runs, strict=True) if r is not None and r.ok}

    def clips_by(self, dimension: str = "voice") -> dict[str, dict[str, AudioClip]]:
        """The clips as {value of `dimension` ("voice", "speed", "model", "client"): {the rest of the
        cell's label: clip}}: what nbaudio.listening_test takes, to rate the voices (or speeds, ...)
        blind on the same items."""
        keys = {"voice": lambda c: c.voice, "speed": lambda c: None if c.speed is None else f"{c.speed:g}×",
                "model": lambda c: c.system.model, "client": lambda c: c.system.client_name}
        if dimension not in keys:
            raise InvalidInputError(f"dimension must be one of {', '.join(keys)}, not {dimension!r}", param="dimension")
        out: dict[str, dict[str, AudioClip]] = {}
        for c, r in zip(self.cells, self.runs, strict=True):
            if r is None or not r.ok:
                continue
            key = keys[dimension](c)
            name = str(key) if key is not None else "default"
            rest = " · ".join(p for p in c.label.split(" · ") if p != name) or "clip"
            out.setdefault(name, {})[rest] = r.result.clip
        return out

    def rows(self) -> list[dict[str, Any]]:
        """One dict per cell (SPEECH_COLUMNS); a running cell has only its names."""
        out = []
        for c, r in zip(self.cells, self.runs, strict=True):
            row: dict[str, Any] = {"cell": c.label, "client": c.system.client_name, "model": c.system.model,
                                   "voice": c.voice, "speed": c.speed}
            if r is not None and not r.ok:
                row["error"] = r.error
            elif r is not None:
                s: SpokenClip = r.result
                cost: Cost | None = s.clip.cost
                row.update(duration=s.clip.duration, ttfb=s.ttfb, seconds=s.seconds, bytes=s.clip.nbytes,
                           format=s.clip.format, cost=str(cost) if cost is not None else None,
                           cost_usd=cost.usd if cost is not None else None, wer=s.wer,
                           transcribe_seconds=s.transcribe_seconds,
                           heard=s.transcript.text if s.transcript is not None else None,
                           error=s.transcribe_error)
            out.append({k: row.get(k) for k in SPEECH_COLUMNS})
        return out

    def to_dataframe(self):
        """The rows as a pandas DataFrame (pandas is optional: see rows())."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("to_dataframe() needs pandas: pip install pandas (or use .rows())") from None
        return pd.DataFrame(self.rows(), columns=list(SPEECH_COLUMNS))

    def __str__(self) -> str:
        from ._speech_view import speech_text

        return speech_text(self)

    def __repr__(self) -> str:
        done = sum(r is not None for r in self.runs)
        return f"<SpeechComparison {len(self.cells)} cells, {done} done>"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        from ._speech_view import speech_bundle

        return speech_bundle(self, include, exclude)

    def _ipython_display_(self) -> None:
        from ._live import show

        show(self)


def compare_speech(text: str, *, voices: Any = None, speeds: Any = None, models: Any = None, clients: Any = None,
                   transcribe_with: Any = SAME_CLIENT, language: str | None = None, concurrency: int | None = None,
                   live: bool | None = None, **speak_kwargs: Any) -> SpeechComparison:
    """Speak `text` with every voice × speed × model × client (`clients`: {name: Client}, default the
    default client; None for a dimension: the client's default), `concurrency` at once (default 4),
    and show them side by side: a grid that fills in as clips arrive (in a notebook, or `live=True`;
    the players once only the last call runs), each cell with its player and waveform, duration,
    time to the first audio bytes and to the whole clip (from sending; with several at once they
    include their sharing), size and cost; and the round trip: what `transcribe_with` heard
    (default: the client that spoke it, its default transcription model; a model name, a Client,
    (Client, model), or None for no round trip) and its WER against the text (Whisper's
    normaliser, `language` or what the transcript says, else English; needs `nbaudio[compare]`).
    Other keyword arguments go to `Client.speak`."""
    text = _text(text)
    for name, plural in _OWN_DIMENSIONS.items():
        if name in speak_kwargs:
            raise InvalidInputError(f"{name}= is the grid's own " + (f"dimension: pass {plural}=[...]" if plural else
                                    "setting (every clip is streamed, to time its first bytes)"), param=name)
    if live is not None and not isinstance(live, bool):
        raise InvalidInputError(f"live must be True, False or None (in a notebook), not {live!r}", param="live")
    hearer = _transcriber(transcribe_with)
    if hearer is not None:
        require_scoring()  # jiwer and the normaliser are there (or it says what to install) before any call
    found = systems(models, clients)
    cells = _cells(found, _voices(voices), _speeds(speeds), name_system=len(found) > 1 or models is not None)
    grid = SpeechComparison(text, cells, [None] * len(cells), _heard_by(hearer), language, concurrency)
    from ._live import LiveGrid

    view = LiveGrid(grid, live)
    where = {c.label: i for i, c in enumerate(cells)}

    def arrived(run: Run[SpeechCell]) -> None:
        grid.runs[where[run.system.label]] = run
        view.update(run.system.label)

    try:
        run_systems(cells, _speak_and_hear(text, speak_kwargs, hearer, language), concurrency=concurrency,
                    on_done=arrived)
    finally:
        view.close()
    return grid
