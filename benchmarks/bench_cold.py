"""What a user waits for after starting the engine: `nbaudio serve` started fresh (models not yet
in memory, the OS file cache warm as on any second run), then the first request of each kind.

    python -m benchmarks.bench_cold [--quick]

Figures, each from a new `nbaudio serve` process:
- start → listening, and start → "ready" (the engine's warm-up: nbaudio/server/warmup.py);
- the first speak / transcribe / chat after "ready", beside the same request again (warm);
- the first Realtime reply: speech streamed at the pace of speech right after "ready", end of
  speech → first output_audio.delta (server VAD, 500 ms of silence ends the turn), target ≤ 1.0 s;
- the same Realtime turn sent the moment the engine listens (before it is ready): what someone
  who does not wait sees.
The first display in a fresh kernel is in the display area.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import Result, Stat, engine, script_main  # noqa: E402

REALTIME_TARGET_S = 1.0
QUESTION = "What is the capital of France?"


class ColdEngine:
    """`nbaudio serve` in a new process on a free port; times from its start."""

    def __init__(self) -> None:
        import requests

        from tests.support.browser import free_port

        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "nbaudio", "serve", "--port", str(self.port),
                                      "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.listening = self._until(lambda: requests.get(self.base_url[:-3] + "/health", timeout=1).ok)

    def _until(self, test, timeout: float = 300.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if test():
                    return time.monotonic() - self.t0
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("the engine did not start")

    def wait_ready(self) -> float:
        import requests

        return self._until(lambda: requests.get(self.base_url[:-3] + "/health", timeout=5).json()["models"] == "ready")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def _requests(base_url: str, wav: bytes) -> dict[str, float]:
    import requests

    out = {}
    t = time.monotonic()
    requests.post(base_url + "/audio/speech", timeout=300, json={
        "model": "tts-1", "voice": "alloy", "input": "Good morning, class. Today we talk about rivers."}
    ).raise_for_status()
    out["speak"] = time.monotonic() - t
    t = time.monotonic()
    requests.post(base_url + "/audio/transcriptions", timeout=300, data={"model": "whisper-1"},
                  files={"file": ("q.wav", wav, "audio/wav")}).raise_for_status()
    out["transcribe"] = time.monotonic() - t
    t = time.monotonic()
    requests.post(base_url + "/chat/completions", timeout=300, json={
        "model": "gpt-4o-mini", "max_tokens": 30, "messages": [{"role": "user", "content": QUESTION}]}
    ).raise_for_status()
    out["chat"] = time.monotonic() - t
    return out


def _realtime_turn(base_url: str, samples, rate: int) -> float:
    import nbaudio
    from benchmarks.bench_live import engine_turn

    with nbaudio.Client(base_url, max_retries=0) as client:
        return engine_turn(client, samples, rate)["audio"]  # end of speech sent → first audio


def collect(quick: bool = False) -> list[Result]:
    import numpy as np
    import requests

    from nbaudio import AudioClip

    warm = engine()  # only to speak the question once
    wav = requests.post(warm.base_url + "/audio/speech", timeout=300, json={
        "model": "tts-1", "voice": "alloy", "input": QUESTION, "response_format": "wav"}).content
    clip = AudioClip(wav)
    samples = np.concatenate([np.zeros(int(0.4 * clip.sample_rate), np.float32), clip.mono().samples])
    runs = 1 if quick else 3
    listening, ready, first, again, rt_ready, rt_now = [], [], [], [], [], []
    for _ in range(runs):
        cold = ColdEngine()
        try:
            ready.append(cold.wait_ready())
            listening.append(cold.listening)
            rt_ready.append(_realtime_turn(cold.base_url, samples, clip.sample_rate))
            first.append(_requests(cold.base_url, wav))
            again.append(_requests(cold.base_url, wav))
        finally:
            cold.close()
        cold = ColdEngine()  # a user who speaks the moment it listens
        try:
            rt_now.append(_realtime_turn(cold.base_url, samples, clip.sample_rate))
        finally:
            cold.close()
    rows = []
    rt, now = Stat(rt_ready), Stat(rt_now)
    rows.append(Result("cold start: first Realtime reply after `nbaudio serve` says ready (end of speech → first "
                       "audio)", rt.fmt("s"), f"sent the moment it listens: {now.fmt('s')}", None,
                       f"≤ {REALTIME_TARGET_S:g} s", rt.median <= REALTIME_TARGET_S,
                       note=f"start → listening {Stat(listening).fmt('s')}, start → ready {Stat(ready).fmt('s')} "
                            f"(the warm-up loads and runs every model a first request needs); {runs} fresh engines"))
    for kind in ("speak", "transcribe", "chat"):
        cold_s, warm_s = Stat([f[kind] for f in first]), Stat([a[kind] for a in again])
        rows.append(Result(f"cold start: first {kind} request after ready", cold_s.fmt("s"),
                           f"the same request again: {warm_s.fmt('s')}", cold_s.median / warm_s.median,
                           "≤ 1.5× the warm request", cold_s.median <= 1.5 * warm_s.median))
    return rows


if __name__ == "__main__":
    raise SystemExit(script_main("cold start", collect, __doc__))
