"""Shared benchmark harness: interleaved repeats, median and spread, ratios, result records.

Every figure is measured against its peer in the same process on the same machine, with the
two sides interleaved (ours, peer, ours, peer, ...) so that load from other processes hits
both alike. We report the median and the interquartile range (IQR; min-max when n < 4).
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "build" / "bench"  # generated inputs (speech files), reused between runs


@dataclass
class Stat:
    """Summary of repeated measurements of one quantity."""

    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def spread(self) -> tuple[float, float]:
        """(q1, q3) with n >= 4, else (min, max)."""
        v = sorted(self.values)
        if len(v) >= 4:
            q = statistics.quantiles(v, n=4, method="inclusive")
            return q[0], q[2]
        return v[0], v[-1]

    def fmt(self, unit: str) -> str:
        """'12.3 ms (IQR 11.9–12.8 ms, n=9)': every number in the median's scale."""
        lo, hi = self.spread
        kind = "IQR" if len(self.values) >= 4 else "range"
        factor, label = _scale(self.median, unit)
        num = (lambda v: _num(v / factor)) if unit != "×" else (lambda v: f"{v:.3f}")
        return f"{num(self.median)}{label} ({kind} {num(lo)}–{num(hi)}{label}, n={len(self.values)})"


def _scale(v: float, unit: str) -> tuple[float, str]:
    """(divisor, suffix) that makes `v` readable: s -> µs/ms/s, B -> kB/MB, × -> ×."""
    if unit == "s":
        return (1e-6, " µs") if abs(v) < 1e-3 else (1e-3, " ms") if abs(v) < 1 else (1.0, " s")
    if unit == "B":
        return (1e6, " MB") if abs(v) >= 1e6 else (1e3, " kB") if abs(v) >= 1e3 else (1.0, " B")
    return 1.0, unit


def _num(x: float) -> str:
    return (f"{x:.0f}" if abs(x) >= 100 else f"{x:.1f}" if abs(x) >= 10 else f"{x:.2f}" if abs(x) >= 1
            else f"{x:.3f}")


def fmt_value(v: float, unit: str) -> str:
    factor, label = _scale(v, unit)
    return f"{_num(v / factor)}{label}"


@dataclass
class Result:
    """One row of docs/benchmarks.md."""

    figure: str
    ours: str  # nbaudio's value as text (median and spread)
    peer: str  # the peer and its value, or "—"
    ratio: float | None  # ours / peer (or the figure itself when there is no peer)
    target: str  # e.g. "≤ 0.2×"
    met: bool | None  # None: report only
    note: str = ""
    detail: list[str] = field(default_factory=list)  # extra lines printed under the table

    def ratio_text(self) -> str:
        return "—" if self.ratio is None else f"{self.ratio:.3f}"

    def met_text(self) -> str:
        return {True: "yes", False: "**no**", None: "—"}[self.met]


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def interleaved(contenders: dict[str, Callable[[], Any]], repeats: int, warmup: int = 1,
                measure: Callable[[Callable[[], Any]], float] = timed) -> dict[str, Stat]:
    """Run every contender `repeats` times, round-robin, after `warmup` untimed rounds."""
    for _ in range(warmup):
        for fn in contenders.values():
            fn()
    out: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            out[name].append(measure(fn))
    return {name: Stat(v) for name, v in out.items()}


def ratio(ours: Stat, peer: Stat) -> float:
    """Ratio of medians."""
    return ours.median / peer.median


def pair_ratios(ours: Stat, peer: Stat) -> Stat:
    """Per-repeat ratios (the interleaved pairs), for the spread of the ratio itself."""
    return Stat([a / b for a, b in zip(ours.values, peer.values, strict=True)])


def print_results(title: str, results: Iterable[Result]) -> None:
    """Side-by-side table on stdout (what a script run alone prints)."""
    rows = list(results)
    print(f"\n== {title}")
    for r in rows:
        print(f"- {r.figure}\n    nbaudio: {r.ours}\n    peer:    {r.peer}\n"
              f"    ratio:   {r.ratio_text()}   target {r.target}   met: {r.met_text().strip('*')}")
        if r.note:
            print(f"    note:    {r.note}")
        for line in r.detail:
            print(f"    {line}")


def package_versions(names: Iterable[str]) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for n in names:
        try:
            out[n] = version(n)
        except PackageNotFoundError:
            out[n] = "not installed"
    return out


def machine_info() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        import psutil

        mem = f"{psutil.virtual_memory().total / 2**30:.1f} GiB"
    except ImportError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return {"cpu": f"{cpu}, {os.cpu_count()} logical cores", "memory": mem, "os": platform.platform(),
            "python": sys.version.split()[0], "load average (1, 5, 15 min) at start": load}


class LoadSampler:
    """Samples the 1-minute load average while the benchmarks run (other processes' load)."""

    def __init__(self, every: float = 5.0) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()


_ENGINE: Any = None
_ENGINE_LOCK = threading.Lock()


def engine() -> Any:
    """One embedded engine per benchmark process (models load once), warmed up on first use."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            from nbaudio import local

            _ENGINE = local.start()
    return _ENGINE


PARAGRAPH = ("The library opens at nine in the morning. Visitors can borrow up to ten books at a time. "
             "Quiet rooms on the second floor are free for students. Please return your books before the "
             "due date. Late returns cost a small fee for every day.")


def varied_text(sentences: int, seed: int = 8) -> str:
    """Plain English that does not repeat itself (Whisper falls back to slow sampling on text
    that compresses too well, such as one paragraph read over and over)."""
    import random

    rng = random.Random(seed)
    days = ["On Monday", "On Tuesday", "Last winter", "Every morning", "After lunch", "Before the storm",
            "Early on Sunday", "Later that week", "Twice a year", "By the evening"]
    people = ["the baker", "my neighbour", "a young pilot", "the old teacher", "our driver", "a tired nurse",
              "the gardener", "a quiet student", "the mayor", "her brother", "a fisherman", "the painter"]
    verbs = ["carried", "painted", "found", "repaired", "sold", "counted", "borrowed", "cleaned", "described",
             "photographed", "delivered", "measured"]
    things = ["three blue boxes", "a broken clock", "seven ripe pears", "the wooden bench", "an empty bottle",
              "two heavy ladders", "a map of the coast", "the red bicycle", "a basket of eggs", "four paper lanterns"]
    places = ["near the station", "behind the library", "at the market", "on the hill", "by the river",
              "inside the museum", "next to the bakery", "across the bridge", "in the small garden", "at the harbour"]
    endings = ["and nobody noticed.", "while it was raining.", "before anyone woke up.", "with great care.",
               "for the first time.", "and then went home.", "as the bells rang.", "without saying a word."]
    return " ".join(f"{rng.choice(days)} {rng.choice(people)} {rng.choice(verbs)} {rng.choice(things)} "
                    f"{rng.choice(places)} {rng.choice(endings)}" for _ in range(sentences))


def speech_wav(kind: str = "paragraph") -> Path:
    """Real synthetic speech (the engine's piper voice, WAV), made once and cached in build/bench.

    "paragraph": PARAGRAPH read once (13 s); "minute": read five times (67 s); "long": 80
    varied sentences (about 6 minutes).
    """
    import hashlib

    import nbaudio

    text = {"paragraph": PARAGRAPH, "minute": PARAGRAPH * 5, "long": varied_text(80)}[kind]
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"speech-{kind}-{hashlib.sha256(text.encode()).hexdigest()[:8]}.wav"
    if not path.is_file():
        # The client splits text over the 4096-character limit at sentences and joins the clips.
        clip = nbaudio.Client(engine().base_url).speak(text, voice="alloy", response_format="wav")
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(clip.encode("wav").data)
        tmp.replace(path)
    return path


def script_main(title: str, collect: Callable[[bool], list[Result]], doc: str | None = None,
                argv: list[str] | None = None) -> int:
    """The `__main__` of each bench script: parse --quick, collect, print side by side."""
    import argparse

    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run, not for the doc)")
    args = ap.parse_args(argv)
    print_results(title, collect(args.quick))
    return 0
