"""Systems side by side: every model on every client ("OpenAI vs my relay"), each run on the same
input at once, timed, a failure kept as that system's error. Shared by the comparisons
(compare_transcripts, compare_prompts; compare_speech runs its grid's cells, each a system with a
voice and a speed, the same way).
"""

from __future__ import annotations

import concurrent.futures as cf
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ..client import Client, default_client
from ..errors import InvalidInputError, NbAudioError

__all__ = ["MAX_CONCURRENCY", "Run", "System", "run_systems", "systems"]

# At most this many calls at once unless told: the embedded engine runs 4 at once (--max-concurrent)
# and makes the next wait; a remote API takes more, and a comparison is a handful of systems.
MAX_CONCURRENCY = 4
# What run_systems runs: a System, or anything made of one (compare_speech's SpeechCell).
S = TypeVar("S")


@dataclass(frozen=True)
class System:
    """One thing being compared: a model on a client, under a label that names both when needed."""

    label: str
    client: Client
    client_name: str
    model: str | None


@dataclass
class Run(Generic[S]):
    """What one system gave: `result` (None when it failed), `error` (the exception's text), and
    `seconds` from sending to the whole answer (with others running at once: see run_systems)."""

    system: S
    result: Any = None
    error: str | None = None
    seconds: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


def _clients(clients: Any) -> dict[str, Client]:
    if clients is None:
        return {"default": default_client()}
    if isinstance(clients, Client):
        return {"client": clients}
    if not isinstance(clients, Mapping) or not clients:
        raise InvalidInputError("clients must be a dict {name: nbaudio.Client} with at least one entry "
                                '(e.g. {"OpenAI": Client(), "relay": Client(url, api_key=key)})', param="clients")
    for name, c in clients.items():
        if not isinstance(name, str) or not isinstance(c, Client):
            raise InvalidInputError(f"clients[{name!r}] must be an nbaudio.Client under a name (a string), "
                                    f"not {type(c).__name__}", param="clients")
    return dict(clients)


def _models(models: Any) -> list[str | None]:
    if models is None:
        return [None]
    if isinstance(models, str):
        models = [models]
    if not isinstance(models, Iterable):
        raise InvalidInputError(f"models must be a list of model names, not {type(models).__name__}", param="models")
    out = list(models)
    if not out or not all(isinstance(m, str) and m.strip() for m in out):
        raise InvalidInputError("models must be a non-empty list of model names", param="models")
    if len(set(out)) != len(out):
        raise InvalidInputError(f"models are listed twice: {out}", param="models")
    return out


def systems(models: Any = None, clients: Any = None) -> list[System]:
    """Every model on every client, in the order given; labels are the model ("whisper-1"), the
    client's name when there are several ("relay: whisper-1"), and "default" for neither."""
    named, wanted = _clients(clients), _models(models)
    out = []
    for name, c in named.items():
        for m in wanted:
            parts = ([name] if len(named) > 1 or m is None else []) + ([m] if m is not None else [])
            out.append(System(": ".join(parts), c, name, m))
    return out


def _timed(system: S, call: Callable[[S], Any]) -> Run[S]:
    started = time.perf_counter()
    try:
        result = call(system)
    except (NbAudioError, OSError) as err:  # a refused model, a failed call: that system's row says why
        return Run(system, error=f"{type(err).__name__}: {err}", seconds=time.perf_counter() - started)
    return Run(system, result=result, seconds=time.perf_counter() - started)


def run_systems(found: list[S], call: Callable[[S], Any], *, concurrency: int | None = None,
                on_done: Callable[[Run[S]], None] | None = None) -> list[Run[S]]:
    """`call(system)` for each system, `concurrency` at once (default: MAX_CONCURRENCY, or fewer
    systems), in threads; the runs in the order of `found`. `on_done` sees each run as it ends.

    Latency runs from sending to the whole answer: with several calls at once on one server (the
    engine runs MAX_CONCURRENCY at once on shared cores) it includes their sharing; concurrency=1
    times each alone."""
    if concurrency is not None and (isinstance(concurrency, bool) or not isinstance(concurrency, int)
                                    or concurrency < 1):
        raise InvalidInputError(f"concurrency must be a whole number >= 1, not {concurrency!r}", param="concurrency")
    workers = min(len(found), concurrency or MAX_CONCURRENCY) or 1
    runs: dict[int, Run[S]] = {}
    with cf.ThreadPoolExecutor(workers, thread_name_prefix="nbaudio-compare") as pool:
        futures = {pool.submit(_timed, s, call): i for i, s in enumerate(found)}
        for done in cf.as_completed(futures):
            run = runs[futures[done]] = done.result()
            if on_done is not None:
                on_done(run)
    return [runs[i] for i in range(len(found))]
