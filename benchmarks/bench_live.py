"""`%voice live` in a real JupyterLab and Chromium: mouth-to-ear latency.

    python -m benchmarks.bench_live [--quick]

The scenario of the browser test (tests/support/live_browser.py): Chromium's fake microphone
speaks a question, a story request and a barge-in into the widget, which talks to the embedded
engine through the kernel. For each reply the widget measures the time from the end of the
user's utterance (the last loud microphone block before the server's speech_stopped) to the
reply's first sample leaving for the speakers (Web Audio's output latency included).

Beside it, the same three utterances streamed straight to the engine's WS /v1/realtime at the pace
of speech with the same session settings (server VAD, 500 ms of silence ends a turn, English
transcription): end of speech sent → first output_audio.delta. The difference is what the page,
the kernel hop and playback scheduling add.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import ROOT, Result, Stat, engine, ratio, script_main  # noqa: E402

SESSION = {"audio": {"input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": 500},
                               "transcription": {"model": "whisper-1", "language": "en"}}}}
TARGET_S = 1.5


def _engine_turn(client, samples, rate) -> float:
    """Speech (float samples) then silence, at the pace of speech; end of speech → first delta."""
    import numpy as np

    import nbaudio.realtime

    with nbaudio.realtime.connect(client=client, session=SESSION) as rt:
        speech_sent = threading.Event()
        ends = []

        def feed() -> None:
            rt.send_audio(samples, sample_rate=rate, pace=True)
            ends.append(time.perf_counter())
            speech_sent.set()
            rt.send_audio(np.zeros(int(1.5 * rate), np.float32), sample_rate=rate, pace=True)

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        for event in rt.events():
            if event.type == "response.output_audio.delta" and speech_sent.is_set():
                first = time.perf_counter() - ends[0]
                rt.cancel()
                break
        feeder.join()
    return first


def collect(quick: bool = False) -> list[Result]:
    import nbaudio
    from tests.support.browser import CHROMIUM
    from tests.support.live_browser import BARGE_IN, QUESTION, STORY, run_live, speak

    if not CHROMIUM.exists():
        return [Result("live: mouth-to-ear latency", "—", "—", None, f"≤ {TARGET_S:g} s", None,
                       note=f"not measured: {CHROMIUM} is absent (make system-deps)")]
    server = engine()
    client = nbaudio.Client(server.base_url, max_retries=0)
    import numpy as np

    spoken = [speak(server.base_url, None, text) for text in (QUESTION, STORY, BARGE_IN)]
    direct = []
    for _ in range(1 if quick else 2):
        for samples, rate in spoken:
            lead = np.zeros(int(0.4 * rate), np.float32)
            direct.append(_engine_turn(client, np.concatenate([lead, samples]), rate))
    latencies, parts, played = [], [], 0.0
    for _ in range(1 if quick else 2):
        with tempfile.TemporaryDirectory(prefix="nbaudio-bench-live-") as root:
            run = run_live(server.base_url, None, Path(root), shots=ROOT / "build" / "live")
        latencies += [ms / 1000 for ms in run.stats["latenciesMs"]]
        parts += run.stats["latencyParts"]
        played += run.stats["playedMs"] / 1000
    ours, peer = Stat(latencies), Stat(direct)
    to_stopped = Stat([p[0] / 1000 for p in parts])
    to_audio = Stat([p[1] / 1000 for p in parts])
    to_out = Stat([p[2] / 1000 for p in parts])
    return [
        Result("live: mouth-to-ear latency in the browser (end of utterance → first reply sample played), "
               "%voice live on the engine", ours.fmt("s"),
               f"the engine alone, end of speech sent → first output_audio.delta: {peer.fmt('s')}",
               ratio(ours, peer), f"≤ {TARGET_S:g} s", ours.median <= TARGET_S,
               note=f"JupyterLab + Chromium (fake microphone), 3 replies per session; parts: utterance end → "
                    f"speech_stopped at the page {to_stopped.fmt('s')} (500 ms of it is the VAD's silence), → first "
                    f"reply audio at the page {to_audio.fmt('s')}, → first sample out (scheduling + output latency) "
                    f"{to_out.fmt('s')}; {played:.1f} s of reply audio played"),
    ]


if __name__ == "__main__":
    raise SystemExit(script_main("live", collect, __doc__))
