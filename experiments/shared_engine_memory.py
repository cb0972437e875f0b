"""Memory of five notebook kernels using the local engine: one engine each (NBAUDIO_ENGINE=kernel)
against one shared engine (the default, nbaudio.shared_engine).

    .venv/bin/python experiments/shared_engine_memory.py [--kernels 5]

Each "kernel" is a Python process doing what a notebook's first cells do with no remote API
configured: speak a sentence, transcribe it, ask the chat model a short question; then it waits.
When all are ready, the memory of every process involved (the kernels and any engine they
started) is summed as PSS (proportional set size: a shared library's pages are split between the
processes that map them, so the sum is what the machine really holds). The kernels start at
once, so the shared mode also goes through the start-up race.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KERNEL = ("import sys, nbaudio\n"
          "clip = nbaudio.speak('A kernel of a notebook.')\n"
          "nbaudio.transcribe(clip, language='en')\n"
          "nbaudio.chat('Say hello.', max_tokens=16)\n"
          "print('ready', flush=True)\n"
          "sys.stdin.read()\n")


def measure(mode: str, kernels: int, cache_dir: str) -> tuple[float, int]:
    """(PSS in MB of the kernels and their engines, number of engine processes)."""
    import psutil

    env = {k: v for k, v in os.environ.items() if not k.startswith(("NBAUDIO_BASE", "NBAUDIO_API", "OPENAI_"))}
    env.update(NBAUDIO_ENGINE=mode, NBAUDIO_CACHE_DIR=cache_dir)
    procs = [subprocess.Popen([sys.executable, "-c", KERNEL], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, env=env) for _ in range(kernels)]
    try:
        for p in procs:
            while (line := p.stdout.readline()) and line.strip() != "ready":
                pass
        involved = set()
        for p in procs:
            proc = psutil.Process(p.pid)
            involved.add(proc)
            involved.update(proc.children(recursive=True))
        engines = sum(1 for p in involved if "serve" in " ".join(p.cmdline())) if mode == "shared" else kernels
        total = sum(p.memory_full_info().pss for p in involved) / 2**20
        return total, engines
    finally:
        for p in procs:
            p.stdin.close()
            p.wait(timeout=30)
        if mode == "shared":
            os.environ["NBAUDIO_CACHE_DIR"] = cache_dir
            from nbaudio import shared_engine

            shared_engine.stop(Path(cache_dir) / "engine")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kernels", type=int, default=5)
    args = ap.parse_args(argv)
    cache = str(ROOT / "build" / "test-cache")  # the joined Whisper base, if a test run made it
    with tempfile.TemporaryDirectory():
        per_kernel, n1 = measure("kernel", args.kernels, cache)
        shared, n2 = measure("shared", args.kernels, cache)
    print(f"{args.kernels} kernels, one engine each: {per_kernel:,.0f} MB PSS ({n1} engines)")
    print(f"{args.kernels} kernels, one shared engine: {shared:,.0f} MB PSS ({n2} engine)")
    print(f"shared / per-kernel: {shared / per_kernel:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
