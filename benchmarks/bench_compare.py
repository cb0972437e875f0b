"""What the speech grid adds to its calls: `nbaudio.compare_speech` of 3 voices × 2 speeds on the
embedded engine (each clip streamed, timed to its first bytes, heard back by the engine's Whisper,
scored), filling in under a display id as each clip arrives, against the same 12 calls made
directly (speak streamed and read to its end, then transcribe, per combination) on a thread pool
of the same size, with no grid, no rendering and no scoring.

    python -m benchmarks.bench_compare [--quick]

The baseline is the right one for a grid that runs its calls at once: with 4 calls on the engine
at a time, a serial sum would flatter the grid and one call's time would ignore the engine's own
queue. The grid's display goes to IPython's display machinery (an InteractiveShell whose publisher
keeps each output, as a kernel's would send it), so its rendering (waveforms, player copies, the
HTML of every update) is in the figure. The two alternate, the order swapped every round (grid
first, then direct first), so a slow spell on the shared cores falls on both. Beside the ratio,
which the engine's own spread dominates, the detail gives what the grid itself spends: the time
inside its display updates, wall and CPU (the updating thread's own, `time.thread_time`: what takes
cores from the engine, which the wall time, waiting on the engine's threads, overstates), split by
how many calls were still running: two or more (the engine busy), only the last one (a core to
spare: whisper decodes a request on one thread), none (after the last call answered, the only part
that lengthens the whole one for one).
"""

from __future__ import annotations

import concurrent.futures as cf
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import Result, Stat, engine, pair_ratios, script_main  # noqa: E402

TEXT = "Meet me at the library after lunch. Bring the red notebook."
VOICES = ["alloy", "echo", "nova"]
SPEEDS = [1.0, 1.5]
CONCURRENCY = 4  # compare_speech's default, the engine's --max-concurrent
TARGET = 1.05


def _shell() -> Any:
    """IPython's shell with a publisher that keeps what is displayed (the grid's outputs go somewhere real)."""
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    class Kept(DisplayPublisher):
        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            self.outputs: list[Any] = []

        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kw) -> None:
            self.outputs.append(data)

    shell = InteractiveShell.instance()
    shell.display_pub = Kept(shell=shell)
    return shell


def bench_grid(repeats: int) -> list[Result]:
    import nbaudio

    client = nbaudio.Client(engine().base_url)
    shell = _shell()
    combos = [(v, s) for s in SPEEDS for v in VOICES]
    updates: list[int] = []

    def direct_one(voice: str, speed: float) -> None:
        with client.speak(TEXT, voice=voice, speed=speed, stream=True) as stream:
            for _ in stream:
                pass
        client.transcribe(stream.result)

    def direct() -> None:
        with cf.ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(lambda c: direct_one(*c), combos))

    def grid() -> None:
        shell.display_pub.outputs.clear()
        g = nbaudio.compare_speech(TEXT, voices=VOICES, speeds=SPEEDS, clients={"engine": client},
                                   concurrency=CONCURRENCY, live=True)
        assert all(r["error"] is None for r in g.rows()), g.rows()
        updates.append(len(shell.display_pub.outputs))

    from nbaudio.compare import _live

    # per update: (calls still running, wall seconds, CPU seconds of the updating thread)
    spent: list[tuple[int, float, float]] = []
    update, close = _live.LiveGrid.update, _live.LiveGrid.close

    def timed(method):
        def timed_method(view, *args):
            running = sum(r is None for r in view.grid.runs)
            t0, c0 = time.perf_counter(), time.thread_time()
            method(view, *args)
            spent.append((running, time.perf_counter() - t0, time.thread_time() - c0))
        return timed_method

    def cpu(when) -> float:
        return sum(c for running, _, c in spent if when(running))

    _live.LiveGrid.update, _live.LiveGrid.close = timed(update), timed(close)
    try:
        direct()
        grid()  # warm-up, both
        runs: dict[str, list[float]] = {"grid": [], "direct": []}
        inside, tail = [], []
        busy_cpu, last_cpu, after_cpu = [], [], []
        for i in range(repeats):
            for name in (("grid", "direct") if i % 2 == 0 else ("direct", "grid")):
                spent.clear()
                t0 = time.perf_counter()
                (grid if name == "grid" else direct)()
                runs[name].append(time.perf_counter() - t0)
                if name == "grid":
                    inside.append(sum(w for _, w, _ in spent))
                    tail.append(sum(w for running, w, _ in spent if running == 0))
                    busy_cpu.append(cpu(lambda running: running >= 2))
                    last_cpu.append(cpu(lambda running: running == 1))
                    after_cpu.append(cpu(lambda running: running == 0))
    finally:
        _live.LiveGrid.update, _live.LiveGrid.close = update, close
    ours, peer = Stat(runs["grid"]), Stat(runs["direct"])
    ratio = ours.median / peer.median
    per_pair = pair_ratios(ours, peer)
    html = shell.display_pub.outputs[-1]["text/html"] if shell.display_pub.outputs else ""
    return [Result(
        f"compare_speech: {len(combos)} clips on the engine ({len(VOICES)} voices × {len(SPEEDS)} speeds, each "
        f"streamed and heard back), {CONCURRENCY} at once, vs the same calls on a pool of {CONCURRENCY}",
        ours.fmt("s"), f"direct calls {peer.fmt('s')}", ratio, f"≤ {TARGET}×", ratio <= TARGET,
        note=("the grid's wall time includes its live display (first shown, then updated as each clip arrives: "
              f"{updates[-1] if updates else '?'} outputs), the cells' waveforms and player copies, and the WER "
              "of each round trip"),
        detail=[f"per-pair ratios (grid ÷ direct, interleaved): {per_pair.fmt('×')}",
                f"time inside the grid's display updates: {Stat(inside).fmt('s')}; after the last call answered "
                f"(the last cell's update and the final one): {Stat(tail).fmt('s')}, "
                f"{Stat([t / g for t, g in zip(tail, ours.values, strict=True)]).fmt('×')} of the grid's time",
                f"CPU time of the display updates (the updating thread's): while 2 or more calls ran "
                f"{Stat(busy_cpu).fmt('s')}; while only the last one ran {Stat(last_cpu).fmt('s')}; "
                f"after it answered {Stat(after_cpu).fmt('s')}",
                f"final grid output: {len(html) / 1000:.0f} kB of HTML",
                f"raw: grid {', '.join(f'{v:.2f}' for v in ours.values)} s; "
                f"direct {', '.join(f'{v:.2f}' for v in peer.values)} s"])]


def collect(quick: bool = False) -> list[Result]:
    return bench_grid(2 if quick else 7)


if __name__ == "__main__":
    raise SystemExit(script_main("compare", collect, __doc__))
