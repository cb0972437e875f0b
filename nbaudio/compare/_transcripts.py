"""`compare_transcripts`: one recording through several transcription systems at once, each scored
against a reference (WER and CER after Whisper's normaliser: nbaudio.metrics), timed and priced,
with every system's words aligned to the reference and the errors marked.

    cmp = nbaudio.compare_transcripts("talk.wav", models=["whisper-1", "gpt-4o-transcribe"],
                                      clients={"OpenAI": nbaudio.Client(), "relay": relay},
                                      reference="what was said")
    cmp                       # the table, and each system's words against the reference
    cmp.diff("relay: whisper-1", "OpenAI: whisper-1")   # two systems against each other
    cmp.to_dataframe()
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import relay
from .._wire.languages import language_code
from ..audio import AudioClip, AudioInput, as_audio_clip
from ..errors import InvalidInputError, MissingDependencyError
from ..metrics import normalizer_name, require_scoring
from ..pricing import Cost
from ..transcript import Transcript, TranscriptDiff, transcript_diff
from ._systems import Run, System, run_systems, systems

__all__ = ["COLUMNS", "TranscriptComparison", "compare_transcripts", "system_diffs", "transcriber"]

COLUMNS = ("system", "client", "model", "wer", "cer", "substitutions", "deletions", "insertions", "reference_words",
           "seconds", "cost", "cost_usd", "words_timed", "text", "error")


def _wants_words(model: str | None, kwargs: dict[str, Any]) -> bool:
    """Ask for word times unless the caller chose a format, or the model gives none (json only)."""
    if "response_format" in kwargs or "timestamp_granularities" in kwargs:
        return False
    formats = relay.transcription_formats(model or "whisper-1")
    return formats is None or "verbose_json" in formats


def transcriber(clip: AudioClip, kwargs: dict[str, Any], per_system: dict[str, dict[str, Any]] | None = None):
    """The call run_systems makes for each system: `clip` transcribed with `kwargs`, the system's
    model, word times where the model gives them, and `per_system[label]`'s arguments (a prompt)."""
    def call(system: System) -> Transcript:
        args = dict(kwargs) | (per_system or {}).get(system.label, {})
        if system.model is not None:
            args["model"] = system.model
        if _wants_words(system.model, kwargs):
            args.update(response_format="verbose_json", timestamp_granularities=["word", "segment"])
        t = system.client.transcribe(clip, **args)
        t.audio = clip  # every system's words play the one recording
        return t
    return call


@dataclass(eq=False)
class TranscriptComparison:
    """The systems' transcripts of one recording: `runs` (nbaudio.compare.Run: system, transcript or
    error, seconds), `reference` (or None), the `audio`, and each system's diff against the reference
    (or, with none, against the first system that answered)."""

    audio: AudioClip
    runs: list[Run]
    reference: str | None
    language: str
    concurrency: int | None = None
    diffs: dict[str, TranscriptDiff] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        return [r.system.label for r in self.runs]

    @property
    def transcripts(self) -> dict[str, Transcript]:
        """{label: Transcript} of the systems that answered."""
        return {r.system.label: r.result for r in self.runs if r.ok}

    @property
    def baseline(self) -> str | None:
        """What the diffs are against: "reference", or the first system that answered."""
        if self.reference is not None:
            return "reference"
        return next(iter(self.transcripts), None)

    @property
    def normalizer(self) -> str:
        return normalizer_name(self.language)

    def _run(self, label: str) -> Run:
        for r in self.runs:
            if r.system.label == label:
                return r
        raise InvalidInputError(f"{label!r} is not one of the systems: {', '.join(map(repr, self.labels))}",
                                param="system")

    def transcript(self, label: str) -> Transcript:
        run = self._run(label)
        if not run.ok:
            raise InvalidInputError(f"{label!r} gave no transcript: {run.error}", param="system")
        return run.result

    def diff(self, system: str, against: str | None = None) -> TranscriptDiff:
        """`system`'s words against the reference, or against another system's transcript (`against`)."""
        t = self.transcript(system)
        if against is None:
            if self.reference is None:
                raise InvalidInputError("there is no reference: name the system to compare with (against=...)",
                                        param="against")
            return transcript_diff(t, self.reference, language=self.language, hypothesis_label=system)
        return transcript_diff(t, self.transcript(against), language=self.language, hypothesis_label=system,
                               reference_label=against)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per system (COLUMNS): scores against the baseline, latency, cost, text or error."""
        out = []
        for r in self.runs:
            row: dict[str, Any] = {"system": r.system.label, "client": r.system.client_name, "model": r.system.model,
                                   "seconds": r.seconds, "error": r.error}
            if r.ok:
                t: Transcript = r.result
                cost: Cost | None = t.cost
                row.update(model=t.model or r.system.model, text=t.text, cost=str(cost) if cost is not None else None,
                           cost_usd=cost.usd if cost is not None else None,
                           words_timed=bool(t.all_words()))
                d = self.diffs.get(r.system.label)
                if d is not None:
                    c = d.counts
                    row.update(wer=d.wer, cer=d.cer, substitutions=c["substitutions"], deletions=c["deletions"],
                               insertions=c["insertions"], reference_words=c["reference"])
            out.append({k: row.get(k) for k in COLUMNS})
        return out

    def to_dataframe(self):
        """The rows as a pandas DataFrame (pandas is optional: see rows())."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("to_dataframe() needs pandas: pip install pandas (or use .rows())") from None
        return pd.DataFrame(self.rows(), columns=list(COLUMNS))

    def __str__(self) -> str:
        from ._view import comparison_text

        return comparison_text(self)

    def __repr__(self) -> str:
        best = min((r for r in self.rows() if r["wer"] is not None), key=lambda r: r["wer"], default=None)
        tail = f", best {best['system']} WER {best['wer']:.1%}" if best else ""
        return f"<TranscriptComparison {len(self.runs)} systems{tail}>"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        from ._view import comparison_bundle

        return comparison_bundle(self, include, exclude)


def system_diffs(cmp: TranscriptComparison) -> dict[str, TranscriptDiff]:
    """Each system's words against the reference, or without one against the first that answered."""
    base = cmp.baseline
    out = {}
    for label, t in cmp.transcripts.items():
        if cmp.reference is not None:
            out[label] = transcript_diff(t, cmp.reference, language=cmp.language, hypothesis_label=label)
        elif label != base:
            out[label] = transcript_diff(t, cmp.transcripts[base], language=cmp.language, hypothesis_label=label,
                                         reference_label=base)
    return out


def compare_transcripts(audio: AudioInput, *, models: Any = None, clients: Any = None, reference: str | None = None,
                        language: str | None = None, concurrency: int | None = None,
                        **transcribe_kwargs: Any) -> TranscriptComparison:
    """Transcribe `audio` with every model on every client (`clients`: {name: Client}, default the
    default client; `models`: names, default each client's own), at once (`concurrency` calls,
    default 4), and compare: WER and CER against `reference` after Whisper's normaliser (English's
    for English, else the basic one: nbaudio.metrics), latency, cost, and each system's words
    aligned to the reference with substitutions, deletions and insertions marked, each word playing
    the recording from its time. Without `reference` the systems are compared with the first.

    `language` is passed to every transcription and picks the normaliser (default: what the first
    transcript says, else English). Other keyword arguments go to `Client.transcribe`; word times
    are asked for (verbose_json) from models that give them unless you choose a format.
    Needs `nbaudio[compare]` (jiwer, whisper-normalizer)."""
    if reference is not None and not isinstance(reference, str):
        raise InvalidInputError(f"reference must be the text that was said, not {type(reference).__name__}",
                                param="reference")
    require_scoring()  # jiwer and the normaliser are there (or it says what to install) before any call
    clip = as_audio_clip(audio)
    found = systems(models, clients)
    if language is not None:
        transcribe_kwargs["language"] = language
    runs = run_systems(found, transcriber(clip, transcribe_kwargs), concurrency=concurrency)
    heard = next((language_code(r.result.language) for r in runs if r.ok and r.result.language), None)
    cmp = TranscriptComparison(clip, runs, reference, language or heard or "en", concurrency)
    cmp.diffs = system_diffs(cmp)
    return cmp
