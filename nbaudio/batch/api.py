"""`transcribe_many` and `speak_many`: a corpus in a cell (see nbaudio.batch)."""

from __future__ import annotations

import concurrent.futures as cf
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from .._wire.user_files import folder_reason, os_reason, shown_path, user_path
from ..audio import AudioClip
from ..client import Client, default_client
from ..errors import InvalidInputError
from .journal import Journal
from .limiter import AdaptiveLimiter
from .runner import RunStats, run_jobs
from .sources import Job, audio_jobs, match_references, text_jobs
from .summary import SCALE_OUT, BatchRows, add_wer, summarize
from .worker import WorkerSettings, in_process_client, speak_job, transcribe_job

__all__ = ["DEFAULT_CONCURRENCY", "TRANSCRIBE_COLUMNS", "SPEAK_COLUMNS", "transcribe_many", "speak_many"]

# Inputs in flight at once unless told: what the embedded engine runs at once (--max-concurrent).
DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 256
TRANSCRIBE_COLUMNS = ("source", "duration", "language", "text", "segments", "words", "speakers", "flags",
                      "flag_kinds", "cost", "cost_usd", "elapsed", "attempts", "error")
SPEAK_COLUMNS = ("text", "clip", "path", "duration", "format", "cost", "cost_usd", "elapsed", "attempts", "error")
_NO_PANDAS = ("pandas is not installed, so the result is a list of dict rows "
              "(pip install 'nbaudio[batch]' for a DataFrame)")


def _have_pandas() -> bool:
    try:
        import pandas  # noqa: F401
    except ImportError:
        return False
    return True


def _check_concurrency(concurrency: Any) -> int:
    if concurrency is None:
        return DEFAULT_CONCURRENCY
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InvalidInputError(f"concurrency must be a whole number from 1 to {MAX_CONCURRENCY}, not {concurrency!r}",
                                param="concurrency")
    return concurrency


def _check_executor(executor: Any) -> None:
    if executor is not None and not isinstance(executor, cf.Executor):
        raise InvalidInputError(f"executor must be a concurrent.futures.Executor (e.g. a dask.distributed Client's "
                                f"get_executor()), not {type(executor).__name__}", param="executor")


def _check_client(client: Any) -> Client:
    if client is not None and not isinstance(client, Client):
        raise InvalidInputError(f"client must be an nbaudio.Client, not {type(client).__name__}", param="client")
    return client or default_client()


def _run(task_name: str, jobs: list[Job], task: Any, kwargs: dict[str, Any], *, client: Client | None,
         concurrency: Any, executor: Any, results: Any, finish: Any, resume: Any, columns: tuple[str, ...],
         references: list[str | None] | None = None) -> Any:
    limit = _check_concurrency(concurrency)
    _check_executor(executor)
    journal = Journal(results) if results is not None else None
    client = _check_client(client)
    stats = RunStats(inputs=len(jobs))
    rows: dict[int, dict[str, Any]] = {}
    if journal is not None:
        previous = journal.load()
        for job in jobs:
            row = previous.get(job.key)
            if row is not None and not row.get("error"):
                kept = resume(job, {k: v for k, v in row.items() if k != "key"})
                if kept is not None:
                    rows[job.index] = kept
        stats.resumed = len(rows)
    todo = [j for j in jobs if j.index not in rows]
    if todo:
        if journal is not None:
            journal.open()  # a results file that cannot be written is an error now, before any request
        # Threads share this process's client (a copy making one attempt per call); other executors
        # get its settings and build their own (worker.py says why, and what is not carried).
        in_process = executor is None or isinstance(executor, cf.ThreadPoolExecutor)
        target = in_process_client(client) if in_process else WorkerSettings.from_client(client)
        pool = executor or cf.ThreadPoolExecutor(min(limit, len(todo)), thread_name_prefix="nbaudio-batch")
        try:
            rows.update(run_jobs(todo, task, target, kwargs, executor=pool, limiter=AdaptiveLimiter(limit),
                                 journal=journal, desc=task_name, max_retries=client.max_retries, finish=finish,
                                 stats=stats))
        finally:
            if executor is None:  # interrupted: do not wait for the inputs under way
                pool.shutdown(wait=not stats.interrupted, cancel_futures=True)
    ordered = [{c: rows[i].get(c) for c in columns} for i in sorted(rows)]
    if references is not None:
        add_wer(ordered, [references[i] for i in sorted(rows)])
    have_pandas = _have_pandas()
    notes = [] if have_pandas else [f"{_NO_PANDAS}; {SCALE_OUT}"]
    if journal is not None and journal.failure is not None:
        notes.insert(0, f"the results file stopped after {journal.written} rows of this run "
                        f"({os_reason(journal.failure)}); every row is here")
    summary = summarize(task_name, ordered, stats, note="\n".join(notes) or None)
    if not have_pandas:
        out = BatchRows(ordered)
        out.summary = summary
        return out
    from .frame import BatchFrame

    frame = BatchFrame(ordered, columns=list(ordered[0]) if ordered else list(columns))
    frame.summary = summary
    return frame


def transcribe_many(sources: Any, *, client: Client | None = None, concurrency: int | None = None,
                    executor: cf.Executor | None = None, results: str | os.PathLike | None = None,
                    references: Any = None, **transcribe_kwargs: Any) -> Any:
    """Transcribe many inputs at once: one row per input, a failure is a row with its `error`.

    `sources`: a folder, a glob ("audio/**/*.wav"), a list of paths / AudioClips / bytes, or a
    pandas Series (a DataFrame column). Rows: source, duration, language, text, segments, words,
    speakers (diarized output), flags (how many stretches of its transcript not to trust: see
    Transcript.flags) and flag_kinds ("no_speech 1, silent 2"), elapsed, attempts, error; with
    `references` (a dict by file name, or a sequence in input order) also reference and wer, the
    summary giving the overall WER and the worst rows first. The keyword arguments go to
    `Client.transcribe` (model, language, timestamp_granularities, channels, ...).

    `concurrency` (default 4) is the most inputs in flight; it adapts: it halves when the
    server answers 429 / 503 (the engine's `engine_busy`), every start waits out the
    `Retry-After`, and it grows back as calls succeed. `executor` runs the work anywhere: any
    `concurrent.futures.Executor`, e.g. `dask.distributed.Client(...).get_executor()` (files go as
    paths, so the workers must see the same files; in-memory clips go as bytes). `results`
    ("runs/x.jsonl") gets each row as it finishes; running again skips the rows done there and
    retries the failed ones. Ctrl-C / Kernel -> Interrupt returns the rows done so far.

    Returns a pandas DataFrame (with `.summary`), or without pandas a list of dict rows.
    """
    jobs = audio_jobs(sources)
    refs = match_references(references, jobs) if references is not None else None
    if transcribe_kwargs.get("stream"):
        raise InvalidInputError("transcribe_many does not stream; leave stream= out", param="stream")

    def resume(job: Job, row: dict[str, Any]) -> dict[str, Any]:
        return row

    return _run("transcribe", jobs, transcribe_job, dict(transcribe_kwargs), client=client, concurrency=concurrency,
                executor=executor, results=results, finish=lambda job, row: row, resume=resume,
                columns=TRANSCRIBE_COLUMNS, references=refs)


def _out_folder(out_dir: Any) -> Path:
    """speak_many's `out_dir`, made if need be and checked writable before the first request."""
    folder = user_path(out_dir, "out_dir")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):  # can a file be made there (a read-only folder or disk)?
            pass
    except OSError as exc:
        raise InvalidInputError(f"out_dir={shown_path(folder)} cannot hold the clips: {folder_reason(folder, exc)}. "
                                "Name a folder you can write to (nothing was sent)", param="out_dir") from None
    return folder


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "clip"


def speak_many(texts: Any, *, out_dir: str | os.PathLike | None = None, client: Client | None = None,
               concurrency: int | None = None, executor: cf.Executor | None = None,
               results: str | os.PathLike | None = None, **speak_kwargs: Any) -> Any:
    """Speak many texts (a list or a pandas Series): one row per text with its `clip`
    (AudioClip), duration, format, elapsed, attempts, error. With `out_dir` each clip is also
    saved there as NNNN-<words>.<format> (`path`); `results` needs `out_dir` (it keeps paths,
    not audio). Concurrency, executors, resuming and Ctrl-C work as in `transcribe_many`; the
    keyword arguments go to `Client.speak` (voice, response_format, speed, ...)."""
    jobs = text_jobs(texts)
    if results is not None and out_dir is None:
        raise InvalidInputError("results= keeps the paths of the clips, so speak_many needs out_dir= with it",
                                param="out_dir")
    if speak_kwargs.get("stream"):
        raise InvalidInputError("speak_many does not stream; leave stream= out", param="stream")
    folder = _out_folder(out_dir) if out_dir is not None else None

    def finish(job: Job, row: dict[str, Any]) -> dict[str, Any]:
        row = {"text": job.text, **{k: v for k, v in row.items() if k != "source"}}
        audio = row.pop("audio", None)
        if audio is not None:
            clip = AudioClip(audio, row.get("format"))
            row["clip"] = clip
            if folder is not None:
                ext = {"opus": "ogg"}.get(clip.format, clip.format)
                try:
                    row["path"] = str(clip.save(folder / f"{job.index + 1:04d}-{_slug(job.text or '')}.{ext}"))
                except InvalidInputError as err:  # the folder went, the disk is full: the clip stays in the row
                    row["error"] = f"the clip was made but not saved: {err}"
        return row

    def resume(job: Job, row: dict[str, Any]) -> dict[str, Any] | None:
        path = row.get("path")
        if not path or not Path(path).is_file():
            return None  # the clip is gone: speak it again
        return {**row, "clip": AudioClip.from_file(path)}

    return _run("speak", jobs, speak_job, dict(speak_kwargs), client=client, concurrency=concurrency,
                executor=executor, results=results, finish=finish, resume=resume, columns=SPEAK_COLUMNS)
