"""Side by side: the same recording through several transcription systems (`compare_transcripts`),
a batch's transcripts against their references (`batch_diffs`), and the pieces a comparison is
made of, for others to build on: `systems` / `run_systems` (every model on every client, at once,
timed), the scores (nbaudio.metrics) and the costs (nbaudio.pricing).

Inside: `_systems` (System, Run, running them), `_transcripts` (compare_transcripts,
TranscriptComparison), `_view` (its text and HTML), `_batch` (batch_diffs).
"""

from ._batch import BatchDiffs, batch_diffs
from ._systems import MAX_CONCURRENCY, Run, System, run_systems, systems
from ._transcripts import TranscriptComparison, compare_transcripts

__all__ = ["MAX_CONCURRENCY", "BatchDiffs", "Run", "System", "TranscriptComparison", "batch_diffs",
           "compare_transcripts", "run_systems", "systems"]
