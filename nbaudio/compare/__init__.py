"""Side by side: one text spoken by several voices, speeds, models and clients, in a grid that fills
in as the clips arrive (`compare_speech`), the same recording through several transcription systems
(`compare_transcripts`) or with and without a prompt (`compare_prompts`: WER, and how many of a
glossary's terms were heard), a batch's transcripts against their references (`batch_diffs`), and
the pieces a comparison is
made of, for others to build on: `systems` / `run_systems` (every model on every client, at once,
timed), the scores (nbaudio.metrics) and the costs (nbaudio.pricing).

Inside: `_systems` (System, Run, running them), `_transcripts` (compare_transcripts,
TranscriptComparison), `_view` (its text and HTML), `_prompts` (compare_prompts), `_speech`
(compare_speech, SpeechComparison), `_speech_view` (its text and HTML), `_live` (the grid filling
in), `_batch` (batch_diffs).
"""

from ._batch import BatchDiffs, batch_diffs
from ._prompts import PromptComparison, compare_prompts
from ._speech import SAME_CLIENT, SpeechCell, SpeechComparison, SpokenClip, compare_speech
from ._systems import MAX_CONCURRENCY, Run, System, run_systems, systems
from ._transcripts import TranscriptComparison, compare_transcripts

__all__ = ["MAX_CONCURRENCY", "SAME_CLIENT", "BatchDiffs", "PromptComparison", "Run", "SpeechCell",
           "SpeechComparison", "SpokenClip", "System", "TranscriptComparison", "batch_diffs", "compare_prompts",
           "compare_speech", "compare_transcripts", "run_systems", "systems"]
