"""Caption lag of the engine alone, interleaved A/B in one process (benchmarks/NOTES.md, "Caption lag"):
the bench_captions microphone file at the pace of speech to a transcription session, per variant:
A = the way before 2026-12 (each decode of the whole turn, the encoder on 30 s of padded audio),
B = decodes from the anchor (live_turn.LiveTurn.anchor) only, C = B + the encoder on the window's
own audio (short_window.py, the engine's way now); NAME:margin:step[:gap[:least]] adds C with
another stable_words.MARGIN_S, live_turn.STEP_S, stable_words.GAP_S and MIN_PROBABILITY. First,
the time of one quick decode of 3 and 10 s of speech by tiny.en and base, padded and not.
With --browser, each round also runs the bench's JupyterLab + Chromium scenario per variant (the
engine is in this process, so the variant applies to it) and prints the page's lags.

    PYTHONPATH=. .venv/bin/python experiments/caption_lag_ab.py ROUNDS [--browser] [--only NAMES] [NAME:margin:step ...]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main(rounds: int, extra: list[str]) -> None:
    import nbaudio
    from benchmarks.bench_captions import engine_lags
    from benchmarks.harness import engine
    from nbaudio import AudioClip
    from nbaudio.realtime.events import pcm16
    from nbaudio.server.realtime import live_turn, stable_words
    from nbaudio.server.realtime.live_turn import LiveTurn, decode_words
    from tests.support.captions_browser import LEAD_S, microphone_wav, run_captions

    anchor, finish = LiveTurn.anchor, LiveTurn.finish
    turns: list[tuple[int, float, float]] = []

    async def counted_finish(self, *args, **kwargs):
        words = await finish(self, *args, **kwargs)
        turns.append((self.decodes, round(self.decoded_seconds, 1), round(len(args[1]) / 48000, 1)))
        return words

    LiveTurn.finish = counted_finish

    def setup(window: bool, short: bool, margin: float = 0.5, step: float = 0.3, gap: float = 0.0,
              least: float = 0.0) -> None:
        LiveTurn.anchor = anchor if window else (lambda self: (0, ""))
        live_turn.SHORT_WINDOW_S = 28.0 if short else 0.0
        stable_words.MARGIN_S, live_turn.STEP_S, stable_words.GAP_S = margin, step, gap
        stable_words.MIN_PROBABILITY = least

    variants: dict[str, tuple] = {"A": (False, False), "B": (True, False), "C": (True, True)}
    browser = "--browser" in extra
    only = extra[extra.index("--only") + 1].split(",") if "--only" in extra else None
    for spec in [e for e in extra if ":" in e]:
        name, *numbers = spec.split(":")
        variants[name] = (True, True, *(float(x) for x in numbers))
    if only:
        variants = {k: v for k, v in variants.items() if k in only}
    server = engine()
    client = nbaudio.Client(server.base_url, max_retries=0)
    wav = Path(tempfile.mkdtemp()) / "microphone.wav"
    microphone_wav(server.base_url, wav)
    pcm = pcm16(AudioClip.from_file(wav))
    times: dict[str, list[float]] = {}
    for _ in range(0 if only else 3):
        for seconds in (3, 10):
            speech = pcm[int(LEAD_S * 48000):int((LEAD_S + seconds) * 48000)]
            for short in (False, True):
                # the language picks the model: base decodes the English as German here (its time, not its words)
                for language, which in (("en", "tiny.en"), ("de", "base")):
                    setup(True, short)
                    began = time.perf_counter()
                    decode_words(server.app.state.engine, speech, language, None, quick=True)
                    times.setdefault(f"{which} {seconds}s {'short' if short else 'padded'}", []).append(
                        round(time.perf_counter() - began, 2))
    print("one quick decode, s:", times, "load", os.getloadavg()[0], flush=True)
    lags: dict[str, list[float]] = {k: [] for k in variants}
    page: dict[str, list[float]] = {k: [] for k in variants}
    for r in range(rounds):
        for name, variant in variants.items():
            setup(*variant)
            turns.clear()
            got = engine_lags(client, wav)
            lags[name] += got
            q = statistics.quantiles(got, n=4)
            print(f"round {r} {name}: n={len(got)} median={statistics.median(got):.2f} IQR {q[0]:.2f}-{q[-1]:.2f} "
                  f"turns (decodes, audio s decoded, turn s)={turns} load={os.getloadavg()[0]:.1f}", flush=True)
            if browser:
                with tempfile.TemporaryDirectory(prefix="caption-lag-ab-") as root:
                    got = run_captions(server.base_url, Path(root)).lags()
                page[name] += got
                print(f"round {r} {name} browser: n={len(got)} median={statistics.median(got):.2f} "
                      f"load={os.getloadavg()[0]:.1f}", flush=True)
    for name, got in lags.items():
        q = statistics.quantiles(got, n=4)
        print(f"ALL {name}: n={len(got)} median={statistics.median(got):.2f} IQR {q[0]:.2f}-{q[-1]:.2f}", flush=True)
        if page[name]:
            q = statistics.quantiles(page[name], n=4)
            print(f"ALL {name} browser: n={len(page[name])} median={statistics.median(page[name]):.2f} "
                  f"IQR {q[0]:.2f}-{q[-1]:.2f}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2, sys.argv[2:])
