"""How short can the end-of-turn wait of `%voice live` be without cutting people off mid-sentence?

    PYTHONPATH=. .venv/bin/python experiments/live_cutoffs.py [--split reported] [--modes high,medium,server:200]

Each English recording of people (tests/fixtures/real_speech/speech, one read sentence each, with
the pauses readers make) is streamed at the pace of speech, with 0.4 s of silence before and 2.5 s
after, to WS /v1/realtime of an embedded engine with English transcription and no replies
(create_response false, so a reply's work does not slow the turn detection down). Per turn detection
mode: how many recordings were cut in two or more turns (a turn ended inside the sentence), and the
wait at the sentence's end: from the end of its last loud 50 ms block (bench_live.speech_end) sent
to speech_stopped. Modes: an eagerness of semantic_vad ("high", "medium", "low") or
"server:MS" (server_vad with that silence_duration_ms). Interleaved per recording, same load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def turn_detection(mode: str) -> dict:
    if mode.startswith("server:"):
        return {"type": "server_vad", "silence_duration_ms": int(mode.split(":")[1]), "create_response": False}
    return {"type": "semantic_vad", "eagerness": mode, "create_response": False}


def speech_end(samples, rate: int) -> int:
    """The end of the last 50 ms block with a sample of a tenth of the recording's peak or more
    (a recording's noise floor can pass bench_live's fixed SOUND_LEVEL)."""
    import numpy as np

    loud = np.flatnonzero(np.abs(samples) >= 0.1 * np.abs(samples).max())
    block = int(0.05 * rate)
    return min(len(samples), (loud[-1] // block + 1) * block)


def run(client, samples, rate: int, mode: str) -> tuple[int, float | None]:
    """(turns heard, seconds from the end of speech sent to the last speech_stopped, None when the
    last turn ended before it: the sentence's end was cut off as a turn of its own, or not heard)."""
    import numpy as np

    import nbaudio.realtime

    session = {"audio": {"input": {"turn_detection": turn_detection(mode),
                                   "transcription": {"model": "whisper-1", "language": "en"}}}}
    lead = np.zeros(int(0.4 * rate), np.float32)
    speech = len(lead) + speech_end(samples, rate)
    x = np.concatenate([lead, samples, np.zeros(int(2.5 * rate), np.float32)])
    ended: list[float] = []
    stops: list[float] = []
    with nbaudio.realtime.connect(client=client, session=session) as rt:
        def feed() -> None:
            rt.send_audio(x[:speech], sample_rate=rate, pace=True)
            ended.append(time.perf_counter())
            rt.send_audio(x[speech:], sample_rate=rate, pace=True)

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        deadline = time.monotonic() + len(x) / rate + 10
        starts = 0
        while (feeder.is_alive() or starts > len(stops)) and time.monotonic() < deadline:
            try:
                event = next(rt.events(timeout=1.0))
            except nbaudio.APITimeoutError:
                continue
            if event.type == "input_audio_buffer.speech_started":
                starts += 1
            elif event.type == "input_audio_buffer.speech_stopped":
                stops.append(time.perf_counter())
        feeder.join()
    wait = stops[-1] - ended[0] if stops and ended and stops[-1] > ended[0] else None
    return len(stops), wait


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="reported")
    parser.add_argument("--modes", default="high,medium,server:200")
    args = parser.parse_args()
    import os

    import nbaudio
    from benchmarks.harness import engine
    from tests.support.real_speech import recordings

    server = engine()
    client = nbaudio.Client(server.base_url, max_retries=0)
    modes = args.modes.split(",")
    found: dict[str, list[tuple[int, float | None]]] = {m: [] for m in modes}
    for rec in recordings(args.split, "en"):
        samples = rec.samples()
        for mode in modes:
            turns, wait = run(client, samples, 16000, mode)
            found[mode].append((turns, wait))
            print(f"{rec.name:34} {mode:11} turns {turns}  wait {wait if wait is None else round(wait, 3)}  "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
    for mode, rows in found.items():
        waits = [w for _, w in rows if w is not None]
        cut = sum(1 for t, _ in rows if t > 1)
        print(f"{mode:11} cut in two or more turns: {cut}/{len(rows)}; wait at the end: median "
              f"{statistics.median(waits):.3f} s (min {min(waits):.3f}, max {max(waits):.3f})" if waits else mode)


if __name__ == "__main__":
    main()
