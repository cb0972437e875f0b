"""`compare_prompts`: does a prompt help? The same recording transcribed with each prompt (and
without), at once, scored against the reference: WER overall, and how many of a glossary's terms
(names, jargon) that the reference says each transcript has, with every system's words aligned to
the reference as in compare_transcripts.

    cmp = nbaudio.compare_prompts("standup.wav", reference="what was said",
                                  prompts={"none": None, "glossary": "Kubernetes, Grafana, Jenkins."},
                                  terms=["Kubernetes", "Grafana", "Jenkins"])
    cmp                      # the table, the prompts, each transcript's words against the reference
    cmp.to_dataframe()       # wer, terms_heard / terms_said, term_recall, terms_missed per prompt
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._wire.languages import language_code
from .._wire.text import shorten
from ..audio import AudioInput, as_audio_clip
from ..errors import InvalidInputError, MissingDependencyError
from ..metrics import TermRecall, require_scoring, term_recall
from ..transcript import TranscriptDiff
from ._systems import System, run_systems, systems
from ._transcripts import TranscriptComparison, system_diffs, transcriber

__all__ = ["PROMPT_COLUMNS", "PromptComparison", "compare_prompts"]

PROMPT_COLUMNS = ("system", "prompt_name", "client", "model", "prompt", "wer", "substitutions", "deletions",
                  "insertions", "reference_words", "terms_heard", "terms_said", "term_recall", "terms_missed",
                  "seconds", "cost", "text", "error")
_HEAD = ("system", "WER", "terms heard", "terms missed", "S / D / I", "seconds", "")
NO_PROMPT = "no prompt"


def _prompts(prompts: Any) -> dict[str, str | None]:
    if isinstance(prompts, Mapping):
        named = dict(prompts)
    elif isinstance(prompts, (list, tuple)):
        named = {NO_PROMPT if p is None else f"prompt {i}": p for i, p in enumerate(prompts, start=1)}
    else:
        raise InvalidInputError('prompts must be a dict {name: prompt or None}, e.g. {"none": None, "glossary": '
                                '"Kubernetes, Grafana."}', param="prompts")
    if len(named) < 1 or not all(isinstance(k, str) and k.strip() for k in named):
        raise InvalidInputError("prompts must name each prompt (non-empty strings as keys)", param="prompts")
    for name, p in named.items():
        if p is not None and not isinstance(p, str):
            raise InvalidInputError(f"prompts[{name!r}] must be the prompt's text or None (no prompt), "
                                    f"not {type(p).__name__}", param="prompts")
    return named


@dataclass(eq=False)
class PromptComparison:
    """The transcripts of one recording with each prompt: `comparison` (a TranscriptComparison whose
    systems are the prompts, on each model and client), the `prompts` by name, the glossary's
    `terms`, and `prompt_of` (system label -> prompt name)."""

    comparison: TranscriptComparison
    prompts: dict[str, str | None]
    terms: list[str]
    prompt_of: dict[str, str]

    @property
    def labels(self) -> list[str]:
        return self.comparison.labels

    def recall(self, label: str) -> TermRecall | None:
        """How many of the terms the reference says the system `label` heard (None: it failed, or no terms)."""
        t = self.comparison.transcripts.get(label)
        if t is None or not self.terms:
            return None
        return term_recall(self.comparison.reference, t.text, self.terms, self.comparison.language)

    def diff(self, system: str, against: str | None = None) -> TranscriptDiff:
        """`system`'s words against the reference, or against another prompt's transcript (`against`)."""
        return self.comparison.diff(system, against)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per prompt and system (PROMPT_COLUMNS)."""
        out = []
        for row in self.comparison.rows():
            name = self.prompt_of[row["system"]]
            tr = self.recall(row["system"])
            row = dict(row, prompt_name=name, prompt=self.prompts[name])
            if tr is not None:
                row.update(terms_heard=tr.heard, terms_said=tr.said, term_recall=tr.recall,
                           terms_missed=", ".join(tr.missed))
            out.append({k: row.get(k) for k in PROMPT_COLUMNS})
        return out

    def to_dataframe(self):
        """The rows as a pandas DataFrame (pandas is optional: see rows())."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError("to_dataframe() needs pandas: pip install pandas (or use .rows())") from None
        return pd.DataFrame(self.rows(), columns=list(PROMPT_COLUMNS))

    def caption(self) -> str:
        cmp = self.comparison
        said = [t for t in self.terms if term_recall(cmp.reference, cmp.reference, [t], cmp.language).said]
        terms = (f"; terms heard: of the {len(said)} glossary terms the reference says ({len(self.terms)} given), "
                 "how many each transcript has" if self.terms else "")
        how = "one at a time" if cmp.concurrency == 1 else "at the same time"
        return (f"The same recording with {len(self.prompts)} prompts, run {how}; WER against the reference after "
                f"{cmp.normalizer}{terms}")

    @staticmethod
    def cells(row: dict[str, Any]) -> list[str]:
        """A row's texts in the table (_HEAD's order)."""
        wer = "" if row["wer"] is None else f"{row['wer']:.1%}"
        heard = "" if row["terms_said"] is None else (f"{row['terms_heard']}/{row['terms_said']}"
                                                       if row["terms_said"] else "none said")
        sdi = ("" if row["substitutions"] is None
               else f"{row['substitutions']} / {row['deletions']} / {row['insertions']}")
        secs = "" if row["seconds"] is None else f"{row['seconds']:.2f}"
        return [row["system"], wer, heard, row["terms_missed"] or "", sdi, secs, row["error"] or ""]

    def __str__(self) -> str:
        lines = [self.caption()]
        for r in self.rows():
            cells = self.cells(r)
            bits = [f"{h} {c}" for h, c in zip(_HEAD[1:-1], cells[1:-1], strict=True) if c]
            lines.append(f"{r['system']}: {', '.join(bits)}" + (f" ({cells[-1]})" if cells[-1] else ""))
        lines += [f"{name}: {shorten(p, 200) if p is not None else '(none)'}" for name, p in self.prompts.items()]
        lines.append(f"reference: {shorten(self.comparison.reference, 200)}")
        lines += [f"{label}: {d.marked_text()}" for label, d in self.comparison.diffs.items()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<PromptComparison {len(self.prompts)} prompts, {len(self.comparison.runs)} transcripts>"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        from ..display.markup import MUTED, escape
        from ._view import comparison_html, table_html

        notes: list[str] = []
        bundle: dict[str, str] = {}
        if (include is None or "text/html" in include) and not (exclude is not None and "text/html" in exclude):
            prompts = "".join(f'<div><b>{escape(name)}</b>: ' + (escape(p) if p is not None else
                              f'<span style="{MUTED}">(none)</span>') + "</div>" for name, p in self.prompts.items())
            head = (f'<div style="{MUTED}">{escape(self.caption())}</div>'
                    + table_html(_HEAD, self.rows(), self.cells) + f'<div style="margin-top:4px">{prompts}</div>')
            bundle["text/html"] = comparison_html(self.comparison, notes, head=head)
        bundle["text/plain"] = str(self) + ("\n" + "\n".join(notes) if notes else "")
        return bundle


def compare_prompts(audio: AudioInput, *, prompts: Any, reference: str, terms: list[str] | None = None,
                    models: Any = None, clients: Any = None, language: str | None = None,
                    concurrency: int | None = None, **transcribe_kwargs: Any) -> PromptComparison:
    """Transcribe `audio` with each of `prompts` ({name: prompt text, or None for none}) on every
    model and client (as compare_transcripts: `models`, `clients`), at once, and compare: WER
    against `reference` (Whisper's normaliser, nbaudio.metrics), and, given `terms` (the glossary's
    names and jargon), how many of the terms the reference says each transcript has
    (nbaudio.metrics.term_recall), with each transcript's words aligned to the reference.
    Other keyword arguments go to `Client.transcribe`. Needs `nbaudio[compare]`."""
    if not isinstance(reference, str) or not reference.strip():
        raise InvalidInputError("compare_prompts measures against a reference: pass the text that was said",
                                param="reference")
    if "prompt" in transcribe_kwargs:
        raise InvalidInputError("prompt= is what is compared here: pass prompts={name: prompt}", param="prompt")
    if terms is not None and (isinstance(terms, str) or not all(isinstance(t, str) and t.strip() for t in terms)):
        raise InvalidInputError("terms must be a list of the glossary's terms (strings)", param="terms")
    named = _prompts(prompts)
    require_scoring()
    clip = as_audio_clip(audio)
    found = systems(models, clients)
    runs_of, prompt_of, per_system = [], {}, {}
    for name, prompt in named.items():
        for s in found:
            label = name if len(found) == 1 else f"{name} · {s.label}"
            runs_of.append(System(label, s.client, s.client_name, s.model))
            prompt_of[label] = name
            per_system[label] = {"prompt": prompt} if prompt is not None else {}
    if language is not None:
        transcribe_kwargs["language"] = language
    runs = run_systems(runs_of, transcriber(clip, transcribe_kwargs, per_system), concurrency=concurrency)
    heard = next((language_code(r.result.language) for r in runs if r.ok and r.result.language), None)
    cmp = TranscriptComparison(clip, runs, reference, language or heard or "en", concurrency)
    cmp.diffs = system_diffs(cmp)
    return PromptComparison(cmp, named, list(terms or []), prompt_of)
