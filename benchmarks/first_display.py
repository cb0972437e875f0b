"""The first display of a clip in a fresh kernel (issue 29), for bench_display: each repeat in a new
process, so that the imports the display triggers (numpy, PyAV, Pillow...) are paid as a reader pays them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.harness import ROOT, Result, Stat

__all__ = ["FIRST_DISPLAY_SCRIPT", "bench_first_display"]

FIRST_DISPLAY_SCRIPT = """
import json, os, sys, tempfile, time
import IPython.display  # a kernel has IPython loaded before any cell runs
os.chdir(tempfile.mkdtemp())
wav = open(sys.argv[2], "rb").read()
t = time.perf_counter()
if sys.argv[1] == "nbaudio":
    import nbaudio
    imported = time.perf_counter() - t
    clip = nbaudio.AudioClip(wav, "wav", name="speech.wav")
    show = clip._repr_mimebundle_
else:
    from IPython.display import Audio
    imported = time.perf_counter() - t
    clip = Audio(data=wav)
    show = clip._repr_html_  # what the notebook's formatter calls
cpu, t = time.process_time(), time.perf_counter()
show()
first, first_cpu = time.perf_counter() - t, time.process_time() - cpu
t = time.perf_counter()
show()
again = time.perf_counter() - t
print(json.dumps({"import": imported, "first": first, "cpu": first_cpu, "again": again}))
"""


def _first_display(who: str, wav: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", FIRST_DISPLAY_SCRIPT, who, str(wav)], capture_output=True, text=True,
                         check=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_first_display(wav: Path, repeats: int) -> Result:
    """The first display of a clip of `wav` (60 s) in a fresh process, imports included, beside IPython's Audio."""
    runs: dict[str, list[dict[str, float]]] = {"nbaudio": [], "ipython": []}
    for _ in range(repeats):  # alternating, so that load from other processes hits both alike
        for who in runs:
            runs[who].append(_first_display(who, wav))

    def stat(who: str, key: str) -> Stat:
        return Stat([r[key] for r in runs[who]])

    ours, peer = stat("nbaudio", "first"), stat("ipython", "first")
    return Result(
        "first display in a fresh kernel, 60 s of 22.05 kHz speech WAV (the imports it triggers included)",
        ours.fmt("s"), f"IPython.display.Audio(data=WAV bytes), first display: {peer.fmt('s')}", ours.median,
        "≤ 0.3 s", ours.median <= 0.3,
        note=f"`import nbaudio` {stat('nbaudio', 'import').fmt('s')}; CPU time of the first display "
             f"{stat('nbaudio', 'cpu').fmt('s')}; displayed again {stat('nbaudio', 'again').fmt('s')}; "
             "ratio = the median itself (s)")
