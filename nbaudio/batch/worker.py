"""What runs on a worker: one attempt at one input, returned as a row (never raised).

Workers get either the parent's client (threads in the same process) or `WorkerSettings`
(other processes: Dask, ProcessPoolExecutor), from which each process builds one client and
keeps it. Both make exactly one attempt per call (max_retries=0): when the answer is worth
sending again, the worker says after how long (the client's own policy, `transport.should_retry`
and `retry_delay`), and the batch's driver decides, so a 429 pauses every worker, not just
the one that met it.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .._http.transport import retry_delay, should_retry
from .._redaction import Secret
from ..client import Client
from ..errors import APIConnectionError, APIStatusError, NbAudioError, StreamInterruptedError
from ..pricing import Cost, Prices
from .sources import Job

__all__ = ["THROTTLE_STATUSES", "Attempt", "WorkerSettings", "cost_fields", "in_process_client", "speak_job",
           "transcribe_job", "worker_clients"]

# Answers that mean "too many requests now" (a relay's 429, the engine's 503 engine_busy):
# they shrink the batch's concurrency; other retried errors only delay their own input.
THROTTLE_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class WorkerSettings:
    """What a worker process needs to build a client like the parent's: the API root (the
    parent's engine when it uses one, so workers never start engines of their own), the key as
    a Secret (its repr, and so Dask's logs of task arguments, never show it) and the timeout.

    The parent client's `default_headers` and `defaults=` are not carried (Client offers no public
    way to read them back); pass the arguments to transcribe_many instead."""

    base_url: str
    api_key: Secret
    timeout: tuple[float, float]
    prices: Prices | None = None  # the parent's price table (nbaudio.pricing); None: the default

    @classmethod
    def from_client(cls, client: Client) -> WorkerSettings:
        return cls(client.open(), client.api_key, client.timeout, client.prices)

    def client(self) -> Client:
        """This process's client for these settings (built once, then reused with its connections)."""
        digest = hashlib.sha256((self.api_key.get() or "").encode()).hexdigest()
        ident = (self.base_url, digest, self.timeout, self.prices.key() if self.prices is not None else None)
        with _CLIENTS_LOCK:
            found = _CLIENTS.get(ident)
            if found is None:
                found = _CLIENTS[ident] = Client(self.base_url, api_key=self.api_key.get(), timeout=self.timeout,
                                                 max_retries=0, prices=self.prices)
            return found

    def __repr__(self) -> str:
        return f"<WorkerSettings {self.base_url} api_key={'set' if self.api_key else 'none'}>"


_CLIENTS: dict[tuple, Client] = {}
_CLIENTS_LOCK = threading.Lock()


def worker_clients() -> list[Client]:
    """The clients this process built from WorkerSettings (one per distinct settings)."""
    with _CLIENTS_LOCK:
        return list(_CLIENTS.values())


def in_process_client(client: Client) -> Client:
    """The parent's client for threads: the same settings, session and defaults, one attempt per call.

    A shallow copy, so the caller's own client keeps its retries."""
    client.open()
    single = copy.copy(client)
    single.max_retries = 0
    return single


@dataclass
class Attempt:
    """What one attempt gave: the row, and when it failed in a way worth retrying, after how long."""

    row: dict[str, Any]
    retry_in: float | None = None
    throttled: bool = False


def _client(target: Client | WorkerSettings) -> Client:
    return target if isinstance(target, Client) else target.client()


def _error_text(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


def _attempt(target: Client | WorkerSettings, job: Job, attempt: int, work: Any) -> Attempt:
    """Run `work(client, job) -> dict` once; errors become the row's `error`."""
    started = time.monotonic()
    retry_in, throttled = None, False
    try:
        fields = work(_client(target), job)
        error = None
    except APIStatusError as err:
        error = _error_text(err)
        if should_retry(err, err.headers):
            retry_in, throttled = retry_delay(attempt, err.headers), err.status_code in THROTTLE_STATUSES
        fields = {}
    except StreamInterruptedError as err:  # never retried: part of it arrived
        error, fields = _error_text(err), {}
    except APIConnectionError as err:  # no answer: worth another try after a backoff
        error, fields = _error_text(err), {}
        retry_in = retry_delay(attempt, None)
    except (NbAudioError, OSError) as err:  # bad input, an unreadable file, a body that is not audio
        error, fields = _error_text(err), {}
    row = {"source": job.source, **fields, "elapsed": time.monotonic() - started, "attempts": attempt + 1,
           "error": error}
    return Attempt(row, retry_in, throttled)


def _transcribe(kwargs: dict[str, Any]) -> Any:
    def work(client: Client, job: Job) -> dict[str, Any]:
        clip = job.clip()
        t = client.transcribe(clip, **kwargs)
        segments = []
        for s in t.segments:
            seg = {"start": s.start, "end": s.end, "text": s.text}
            if s.speaker is not None:
                seg["speaker"] = s.speaker
            segments.append(seg)
        flags = t.flags
        return {"duration": t.duration if t.duration is not None else clip.duration, "language": t.language,
                "text": t.text, "segments": segments, "words": [w.to_dict() for w in t.all_words()],
                "speakers": t.speakers or None, "flags": len(flags),
                "flag_kinds": ", ".join(f"{k} {n}" for k, n in Counter(f.kind for f in flags).most_common()) or None,
                **cost_fields(t.cost)}
    return work


def cost_fields(cost: Cost | None) -> dict[str, Any]:
    """A row's `cost` ("$0.0012", "free (local)", "unknown") and `cost_usd` (None when unknown)."""
    if cost is None:
        return {"cost": "unknown", "cost_usd": None}
    return {"cost": str(cost), "cost_usd": cost.usd}


def transcribe_job(target: Client | WorkerSettings, job: Job, kwargs: dict[str, Any], attempt: int) -> Attempt:
    """One attempt at transcribing `job` (a task for any Executor: its arguments pickle)."""
    return _attempt(target, job, attempt, _transcribe(kwargs))


def speak_job(target: Client | WorkerSettings, job: Job, kwargs: dict[str, Any], attempt: int) -> Attempt:
    """One attempt at speaking `job.text`; the row carries the clip's encoded bytes."""
    def work(client: Client, job: Job) -> dict[str, Any]:
        clip = client.speak(job.text, **kwargs)
        return {"duration": clip.duration, "format": clip.format, "audio": clip.data, **cost_fields(clip.cost)}
    return _attempt(target, job, attempt, work)
