"""Batch transcription throughput: a serial loop vs nbaudio.transcribe_many on threads vs on Dask
(a LocalCluster with 2 worker processes), 40 short files on the embedded engine; and the pace
kept behind a relay with a fixed rate limit (achieved / allowed rate, failed rows).

    python -m benchmarks.bench_batch [--quick]

The 40 files (about 1.5 s of speech each, the engine's voice) are made once into build/bench.
The relay is tests/batch/relay.py with a fixed answer after 0.3 s instead of the engine, so the
figure is the limiter's, not the engine's speed: it allows RELAY_RATE requests in any second and
answers the rest 429 / 503 engine_busy with Retry-After.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import CACHE, Result, Stat, engine, interleaved, script_main  # noqa: E402

N_FILES = 40
CONCURRENCY = 4  # the engine runs 4 model requests at once (--max-concurrent)
RELAY_RATE = 5  # requests per second the fake relay allows
RELAY_INPUTS = 120
RELAY_LATENCY = 0.3
RATE_TARGET = 0.9


def corpus() -> list[Path]:
    import nbaudio
    from tests.batch.conftest import sentences

    folder = CACHE / "batch-40"
    files = sorted(folder.glob("*.wav")) if folder.is_dir() else []
    if len(files) != N_FILES:
        nbaudio.speak_many(sentences(), client=nbaudio.Client(engine().base_url), out_dir=folder,
                           response_format="wav")
        files = sorted(folder.glob("*.wav"))
    return files


def bench_throughput(repeats: int) -> list[Result]:
    import distributed

    import nbaudio

    files = corpus()
    client = nbaudio.Client(engine().base_url)
    client.transcribe(files[0], language="en")  # the model's first call allocates its buffers
    t0 = time.perf_counter()
    cluster = distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=2, dashboard_address=None)
    dask = distributed.Client(cluster)
    startup = time.perf_counter() - t0
    executor = dask.get_executor()
    errors: dict[str, int] = {}

    def serial() -> None:
        for f in files:
            client.transcribe(f, language="en")

    def run(name: str, **kw) -> None:
        df = nbaudio.transcribe_many(files, client=client, concurrency=CONCURRENCY, language="en", **kw)
        errors[name] = errors.get(name, 0) + int(df["error"].notna().sum())

    try:
        stats = interleaved({"serial": serial, "threads": lambda: run("threads"),
                             "dask": lambda: run("dask", executor=executor)}, repeats, warmup=0)
    finally:
        dask.close()
        cluster.close()
    serial_s, threads, on_dask = stats["serial"], stats["threads"], stats["dask"]
    per_s = {k: Stat([N_FILES / v for v in s.values]) for k, s in stats.items()}
    speed = {k: f"{per_s[k].median:.2f} files/s" for k in per_s}
    r_threads = threads.median / serial_s.median
    r_dask = on_dask.median / serial_s.median
    return [
        Result(f"transcribe_many on threads, {N_FILES} files of ~1.5 s (concurrency {CONCURRENCY})",
               f"{threads.fmt('s')} ({speed['threads']})",
               f"serial loop of Client.transcribe: {serial_s.fmt('s')} ({speed['serial']})", r_threads, "≤ 0.8×",
               r_threads <= 0.8 and not errors.get("threads"),
               note=f"{errors.get('threads', 0)} error rows; the engine runs 4 requests at once on 2 shared cores"),
        Result(f"transcribe_many on Dask (LocalCluster, 2 worker processes × 2 threads), {N_FILES} files",
               f"{on_dask.fmt('s')} ({speed['dask']})",
               f"serial loop: {serial_s.fmt('s')}", r_dask, "report", None,
               note=(f"{errors.get('dask', 0)} error rows; cluster start {startup:.1f} s (not timed); the workers "
                     "send to the same engine, so Dask adds reach (more machines), not speed, on one machine")),
    ]


def bench_relay() -> Result:
    import numpy as np

    import nbaudio
    from tests.batch.relay import RateLimitedRelay

    clips = [nbaudio.AudioClip.from_array(np.full(1600, (i + 1) / (RELAY_INPUTS + 1), dtype="float32"), 16000)
             for i in range(RELAY_INPUTS)]
    relay = RateLimitedRelay(None, rate=RELAY_RATE, latency=RELAY_LATENCY)
    try:
        df = nbaudio.transcribe_many(clips, client=nbaudio.Client(relay.base_url), concurrency=8)
        achieved = relay.achieved_rate() / RELAY_RATE
        failed = int(df["error"].notna().sum())
        first = next((t for t, ok in relay.arrivals if not ok), 0.0)
        peak = relay.most_in_window(admitted_only=False, since=first)
    finally:
        relay.close()
    return Result(f"pace behind a relay allowing {RELAY_RATE} requests/s ({RELAY_INPUTS} inputs, answers in "
                  f"{RELAY_LATENCY:g} s, concurrency 8 to start)", f"achieved / allowed rate {achieved:.2f}", "—",
                  achieved, f"≥ {RATE_TARGET}, 0 failed rows", achieved >= RATE_TARGET and failed == 0,
                  note=(f"{failed} failed rows; {relay.refused} refused answers (429 / 503) for {RELAY_INPUTS} "
                        f"inputs; at most {peak} requests in one second after the first refusal; "
                        f"{df.summary.stats.requests} requests sent"))


def collect(quick: bool = False) -> list[Result]:
    return bench_throughput(1 if quick else 3) + [bench_relay()]


if __name__ == "__main__":
    raise SystemExit(script_main("batch transcription", collect, __doc__))
