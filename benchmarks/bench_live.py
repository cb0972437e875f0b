"""`%voice live` in a real JupyterLab and Chromium: mouth-to-ear latency.

    python -m benchmarks.bench_live [--quick]

The scenario of the browser test (tests/support/live_browser.py): Chromium's fake microphone
speaks a question, a story request and a barge-in into the widget, which talks to the embedded
engine through the kernel. For each reply the widget measures the time from the end of the
user's utterance (the last loud microphone block before the server's speech_stopped) to the
reply's first sample leaving for the speakers (Web Audio's output latency included), and the same
time hop by hop (live_hops.js and nbaudio/widgets/live_hops.py: stamps at the page and the kernel).

Beside it, the same three utterances streamed straight to the engine's WS /v1/realtime at the pace
of speech with the same session settings (the widget's turn detection, English transcription):
end of speech sent → first output_audio.delta, and the engine's own share, speech_stopped → first
output_audio.delta, part by part (end-of-turn wait, transcript, first reply text, first phrase
spoken). The end of speech is where the page counts it: the end of the last 50 ms block with a
sample of SOUND_LEVEL or more (the TTS's own trailing silence, ~0.3 s, is not speech). The
difference is what the page, the kernel hop and playback scheduling add.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import ROOT, Result, Stat, engine, fmt_value, ratio, script_main  # noqa: E402

TARGET_S = 1.0  # mouth to ear in the browser
ENGINE_TARGET_S = 0.5  # speech_stopped → first output_audio.delta on the engine
SOUND_LEVEL = 0.02  # a microphone block with a peak this loud is speech (live.js counts the same)
BLOCK_S = 0.05  # the page's microphone blocks

# The hops of a reply's way from mouth to ear, in order (live_hops.js), and what each is.
HOPS = {"tail": "speech end → the end of its 50 ms block",
        "capture": "block captured → the page has it (audio clock)",
        "to_send": "→ the piece holding it sent", "to_kernel": "→ the kernel has it",
        "in_kernel": "→ sent to the engine",
        "turn_end": "→ the kernel has speech_stopped (the end-of-turn wait)",
        "engine": "→ the kernel has the first reply audio", "to_page": "→ the page has it",
        "schedule": "→ its scheduled start", "output": "→ the speakers (output latency)"}

# What each engine turn records: seconds from the end of speech sent to each of these events.
_MARKS = {"input_audio_buffer.speech_stopped": "stopped",
          "conversation.item.input_audio_transcription.completed": "transcribed",
          "response.output_audio_transcript.delta": "token", "response.output_audio.delta": "audio"}


def session() -> dict:
    """The session %voice live asks for (its turn detection), with English transcription."""
    from nbaudio.widgets.live import TURN_DETECTION

    return {"audio": {"input": {"turn_detection": dict(TURN_DETECTION),
                                "transcription": {"model": "whisper-1", "language": "en"}}}}


def engine_turn(client, samples, rate, *, ends: list[float] | None = None) -> dict[str, float]:
    """Speech (float samples) then silence, at the pace of speech: seconds from the end of speech
    sent to speech_stopped, the transcript, the reply's first text and its first audio. `ends`, if
    given, gets the end of speech sent (time.perf_counter()), to place other stamps by."""
    import numpy as np

    import nbaudio.realtime

    with nbaudio.realtime.connect(client=client, session=session()) as rt:
        speech_sent = threading.Event()
        ends = [] if ends is None else ends
        marks: dict[str, float] = {}

        speech = speech_end(samples, rate)

        def feed() -> None:
            rt.send_audio(samples[:speech], sample_rate=rate, pace=True)
            ends.append(time.perf_counter())
            speech_sent.set()
            rest = np.concatenate([samples[speech:], np.zeros(int(2.5 * rate), np.float32)])
            rt.send_audio(rest, sample_rate=rate, pace=True)

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        for event in rt.events():
            name = _MARKS.get(event.type)
            if name and name not in marks:
                marks[name] = time.perf_counter()
            if name == "audio" and speech_sent.is_set():
                rt.cancel()
                break
        feeder.join()
    return {k: v - ends[0] for k, v in marks.items()}


def speech_end(samples, rate: int) -> int:
    """Where the speech of `samples` ends as the page counts it: the end of the last BLOCK_S block
    holding a sample of SOUND_LEVEL or more."""
    import numpy as np

    loud = np.flatnonzero(np.abs(samples) >= SOUND_LEVEL)
    block = int(BLOCK_S * rate)
    return len(samples) if not len(loud) else min(len(samples), (loud[-1] // block + 1) * block)


def hop_row(hops: list[dict[str, float]]) -> Result:
    """The browser's mouth-to-ear time of each reply split by hop (medians over the replies)."""
    def med(key: str) -> str:
        values = [h[key] for h in hops if h.get(key) is not None]  # whole ms
        if not values:
            return "—"
        ms = Stat(values).median
        return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"

    chain = "; ".join(f"{k} {med(k)}" for k in HOPS)
    total = Stat([sum(h[k] for k in HOPS) / 1000 for h in hops]) if hops else None
    return Result("live: the browser's lag by hop (medians over the replies)", chain or "—",
                  "—", None, "report only", None,
                  note=("; ".join(f"{k}: {v}" for k, v in HOPS.items())
                        + f"; the hops add up to {total.fmt('s') if total else '—'}. Beside the chain: the "
                        f"kernel's speech_stopped → the page has it {med('stopped_to_page')}; within the "
                        f"engine hop, speech_stopped → the transcript {med('transcribed')}, → the first reply "
                        f"text {med('token')} (at the kernel). Clocks: wall (Date.now() and time.time(), one "
                        f"machine) across the page and the kernel, the audio clock for the capture"))


def _parts(turns: list[dict[str, float]]) -> str:
    """The engine's share of a turn, part by part (medians)."""
    def part(a: str, b: str) -> str:
        return fmt_value(Stat([t[b] - t[a] for t in turns]).median, "s")

    return (f"end of speech → speech_stopped {fmt_value(Stat([t['stopped'] for t in turns]).median, 's')} "
            f"(the end-of-turn wait, and the 0.1 s appends), → transcript {part('stopped', 'transcribed')}, → "
            f"first reply text {part('transcribed', 'token')}, → first audio (first phrase spoken) "
            f"{part('token', 'audio')}")


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
            direct.append(engine_turn(client, np.concatenate([lead, samples]), rate))
    latencies, parts, played, hops, gaps = [], [], 0.0, [], [0, 0]
    for _ in range(1 if quick else 2):
        with tempfile.TemporaryDirectory(prefix="nbaudio-bench-live-") as root:
            run = run_live(server.base_url, None, Path(root), shots=ROOT / "build" / "live")
        latencies += [ms / 1000 for ms in run.stats["latenciesMs"]]
        parts += run.stats["latencyParts"]
        hops += [h for h in run.stats.get("hops") or [] if h]
        gaps = [gaps[0] + run.stats.get("gaps", 0), gaps[1] + run.stats.get("gapMs", 0)]
        played += run.stats["playedMs"] / 1000
    ours = Stat(latencies)
    peer = Stat([t["audio"] for t in direct])
    engine_part = Stat([t["audio"] - t["stopped"] for t in direct])
    to_stopped = Stat([p[0] / 1000 for p in parts])
    to_audio = Stat([p[1] / 1000 for p in parts])
    to_out = Stat([p[2] / 1000 for p in parts])
    turn = session()["audio"]["input"]["turn_detection"]
    return [
        Result("live: mouth-to-ear latency in the browser (end of utterance → first reply sample played), "
               "%voice live on the engine", ours.fmt("s"),
               f"the engine alone, end of speech sent (its last loud block) → first output_audio.delta: "
               f"{peer.fmt('s')}",
               ratio(ours, peer), f"≤ {TARGET_S:g} s", ours.median <= TARGET_S,
               note=f"JupyterLab + Chromium (fake microphone), 3 replies per session, turn detection {turn}; parts: "
                    f"utterance end → speech_stopped at the page {to_stopped.fmt('s')} (the end-of-turn wait), → "
                    f"first reply audio at the page {to_audio.fmt('s')}, → first sample out (scheduling + output "
                    f"latency) {to_out.fmt('s')}; {played:.1f} s of reply audio played, with {gaps[0]} silences inside "
                    f"replies ({gaps[1] / 1000:.2f} s: a piece that came after the one before had played)"),
        Result("live: the engine's share, speech_stopped → first output_audio.delta (WS /v1/realtime, the same "
               "utterances at the pace of speech)", engine_part.fmt("s"), "—", None, f"≤ {ENGINE_TARGET_S:g} s",
               engine_part.median <= ENGINE_TARGET_S, note=_parts(direct)),
        hop_row(hops),
    ]


if __name__ == "__main__":
    raise SystemExit(script_main("live", collect, __doc__))
