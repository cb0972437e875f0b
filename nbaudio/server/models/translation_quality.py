"""How well the engine's Whisper translates each language to English, as measured, and the warning
a translation from a poorly translated language carries.

The figures are chrF (0-100) from `experiments/translation_quality.py` (docs/translation.md: five
espeak-ng sentences per language through /v1/audio/translations, scored with sacrebleu); run it
again after changing the model and update the table here, which it checks.
"""

from __future__ import annotations

from ..._wire.spec import WARNING_HEADER

__all__ = ["CHRF_BY_LANGUAGE", "POOR_CHRF", "translation_warning", "WARNING_HEADER"]

# chrF below this keeps little of the meaning (an invented sentence scores about 15-25).
POOR_CHRF = 45
# Measured 2026-12-02 on Whisper base (docs/translation.md). On espeak-ng's robotic speech every
# language scores under POOR_CHRF: base often answers in the source language ("Guten Morgen. Die
# Katzer Schrift auf dem Lofa.") or invents a sentence ("That's all for today. See you in the next
# video."). A person's recording does better, but the engine cannot tell which it got.
CHRF_BY_LANGUAGE: dict[str, float] = {"es": 44, "de": 31, "it": 21, "nl": 21, "pt": 20, "ru": 15, "fr": 13}


def translation_warning(language: str | None, language_name: str | None = None) -> str | None:
    """A warning for a translation from `language` (an ISO code) when the engine translates it
    poorly or was never measured on it; None for a language it translates well."""
    if not language or language == "en":
        return None
    name = language_name or language
    score = CHRF_BY_LANGUAGE.get(language)
    if score is None:
        return (f"the local engine's translation from {name} was not measured (docs/translation.md); "
                "check it before relying on it")
    if score < POOR_CHRF:
        return (f"the local engine translates {name} poorly (chrF {score:.0f} of 100 on test sentences, "
                "docs/translation.md): this text may not say what was spoken")
    return None
