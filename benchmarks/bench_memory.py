"""Peak memory for a 30-minute recording: transcribing it (client and engine) and plotting it.

    python -m benchmarks.bench_memory [--quick]

The input is 30 minutes of speech (the piper voice reading six minutes of varied sentences,
five times over) as a 16 kHz mono 16-bit WAV: 57.6 MB, over the 25 MB upload limit, so the client splits it at silences
and uploads the pieces one after another. Every measurement runs in a fresh process:
- the engine: `python -m nbaudio.cli serve`; its peak RSS (VmHWM) is read from /proc after a
  warm-up transcription and again after the 30-minute one;
- the client: `nbaudio.Client(...).transcribe(path)` in its own process; peak RSS
  (VmHWM) after the imports and at the end;
- plotting: `AudioClip.from_file(path)` then `nbaudio.display.waveform_png` (the notebook
  output) in its own process, the same two readings.
The bounds are stated against the decoded audio (float32 samples: 30 min x 16 kHz x 4 B = 115 MB),
for the engine against the largest piece it is sent (10 min: 38 MB as float32).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import CACHE, ROOT, Result, script_main, speech_wav  # noqa: E402
from nbaudio.longform import MAX_PIECE_SECONDS  # noqa: E402

RATE = 16000
# Bounds on the growth of peak RSS above the process's state before the work, as multiples of
# the decoded float32 audio (see the module docstring and docs/benchmarks.md).
CLIENT_BOUND = 3.0
PLOT_BOUND = 2.0
# The engine sees one piece at a time (the client's pieces are ≤ MAX_PIECE_SECONDS); it holds its
# bytes (0.5x), samples (1x), a padded copy and the features (1.5x) and the decoder's workspace.
ENGINE_BOUND = 5.0

# Peak RSS of this process from /proc (getrusage's ru_maxrss would include the parent's peak
# from before exec on Linux).
HWM = """
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
"""

CLIENT_SCRIPT = HWM + """
import json, sys, time
import nbaudio
before = hwm()
t = time.perf_counter()
text = nbaudio.Client(sys.argv[1], max_retries=0).transcribe(sys.argv[2], language="en")
print(json.dumps({"before": before, "peak": hwm(),
                  "seconds": time.perf_counter() - t, "words": len(text.text.split()),
                  "end": text.segments[-1].end if text.segments else 0.0}))
"""

PLOT_SCRIPT = HWM + """
import json, sys, time
import matplotlib.backends.backend_agg
from nbaudio import AudioClip, display
before = hwm()
t = time.perf_counter()
png = display.waveform_png(AudioClip.from_file(sys.argv[1]))
print(json.dumps({"before": before, "peak": hwm(),
                  "seconds": time.perf_counter() - t, "png": len(png)}))
"""


def long_wav(minutes: int) -> Path:
    """`minutes` of speech as 16 kHz mono 16-bit WAV, built once from the cached varied speech."""
    import numpy as np
    import soundfile as sf

    from nbaudio.audio import AudioClip

    source = speech_wav("long")
    path = CACHE / f"{source.stem}-x{minutes}min-16k.wav"
    if not path.is_file():
        speech = AudioClip.from_file(source).mono().resample(RATE).samples
        reps = int(np.ceil(minutes * 60 * RATE / speech.shape[0]))
        audio = np.tile(speech, reps)[: minutes * 60 * RATE]
        tmp = path.with_suffix(".tmp")
        sf.write(tmp, audio, RATE, format="WAV", subtype="PCM_16")
        tmp.replace(path)
    return path


def vm_hwm(pid: int) -> int:
    """Peak resident set size of a live process (bytes)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc (Linux only)")


def run_json(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True,
                         cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_engine() -> tuple[subprocess.Popen, str]:
    """The engine, once its own warm-up (server/warmup.py: Whisper, piper, the chat model, the turn
    detector) is over: models it loads during the measurement would count as the transcription's."""
    import requests

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "nbaudio.cli", "serve", "--port", str(port), "--log-level",
                             "warning"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            health = requests.get(url + "/health", timeout=10)
            if health.ok and health.json().get("models") != "loading":
                return proc, url + "/v1"
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the engine was not started and warmed up within 300 s")


def collect(quick: bool = False) -> list[Result]:
    import requests

    minutes = 3 if quick else 30
    path = long_wav(minutes)
    decoded = minutes * 60 * RATE * 4  # float32 samples
    piece = min(minutes * 60, MAX_PIECE_SECONDS) * RATE * 4
    mb = lambda n: f"{n / 1e6:.0f} MB"  # noqa: E731
    proc, url = start_engine()
    try:
        warm = speech_wav("paragraph").read_bytes()

        def warm_up(_: int) -> None:
            requests.post(url + "/audio/transcriptions", files={"file": ("w.wav", warm)},
                          data={"model": "whisper-1", "language": "en"}).raise_for_status()

        with ThreadPoolExecutor(2) as pool:  # both Whisper workers
            list(pool.map(warm_up, range(2)))
        engine_before = vm_hwm(proc.pid)
        client = run_json(CLIENT_SCRIPT, url, str(path))
        engine_peak = vm_hwm(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
    plot = run_json(PLOT_SCRIPT, str(path))
    what = f"{minutes}-minute 16 kHz WAV ({path.stat().st_size / 1e6:.1f} MB; decoded float32 {mb(decoded)})"
    c_growth, e_growth, p_growth = (client["peak"] - client["before"], engine_peak - engine_before,
                                    plot["peak"] - plot["before"])
    return [
        Result(f"peak RSS, client process transcribing a {what}",
               f"{mb(client['peak'])} peak; +{mb(c_growth)} over {mb(client['before'])} after imports", "—",
               c_growth / decoded, f"growth ≤ {CLIENT_BOUND:g}× decoded audio", c_growth <= CLIENT_BOUND * decoded,
               note=(f"{client['seconds']:.0f} s end to end (RTF {client['seconds'] / (minutes * 60):.3f}), "
                     f"{client['words']} words, last segment ends at {client['end']:.0f} s; ratio = growth / decoded")),
        Result("peak RSS, engine process (`nbaudio serve`) for the same transcription",
               f"{mb(engine_peak)} peak; +{mb(e_growth)} over {mb(engine_before)} after a warm-up", "—",
               e_growth / piece, f"growth ≤ {ENGINE_BOUND:g}× one decoded piece", e_growth <= ENGINE_BOUND * piece,
               note=(f"the engine sees the client's pieces one at a time (≤ {MAX_PIECE_SECONDS / 60:.0f} min, "
                     f"{mb(piece)} as float32); ratio = growth / one piece")),
        Result(f"peak RSS, plotting the waveform of the {minutes}-minute file (load + display PNG)",
               f"{mb(plot['peak'])} peak; +{mb(p_growth)} over {mb(plot['before'])} after imports", "—",
               p_growth / decoded, f"growth ≤ {PLOT_BOUND:g}× decoded audio", p_growth <= PLOT_BOUND * decoded,
               note=f"{plot['seconds']:.2f} s, PNG {plot['png']:,} B"),
    ]


if __name__ == "__main__":
    raise SystemExit(script_main("peak memory", collect, __doc__))
