"""Where the engine's live reply time goes: a timeline of each Realtime turn, part by part.

    PYTHONPATH=. .venv/bin/python experiments/live_latency.py [--rounds 3] [--ab NAME]

The utterances of `%voice live`'s browser test (a question, a story request, a barge-in) and two
of bench_realtime's questions, spoken by the engine's piper voice, are streamed at the pace of
speech to WS /v1/realtime of an embedded engine with the widget's session (semantic_vad, English
transcription): bench_live's `engine_turn`. The engine runs in this process, so its steps are
timed where they happen (wrapped functions, nothing changed in the engine): when the VAD heard the
pause, each transcription (start and end), speech_stopped, the chat model's first token, each
phrase's speech (start and end). Times are ms after the end of speech was sent; the line per turn
ends with speech_stopped → first output_audio.delta, the engine's share (target ≤ 500 ms).

`--ab NAME` runs the turns twice per round, interleaved, without and with one of the switches in
AB (a change under test, applied by monkeypatching), so both see the same load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TIMELINE: list[tuple[float, str]] = []
EXTRA = ("What is the capital of France?", "How many legs does a spider have?")


def mark(label: str) -> None:
    TIMELINE.append((time.perf_counter(), label))


def _wrap(owner: Any, name: str, label: str, *, done: bool = False, is_async: bool = False) -> None:
    real = getattr(owner, name)
    if is_async:
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            mark(label)
            return await real(*args, **kwargs)
        setattr(owner, name, timed_async)
        return

    def timed(*args: Any, **kwargs: Any) -> Any:
        mark(label)
        try:
            return real(*args, **kwargs)
        finally:
            if done:
                mark(label + " done")
    setattr(owner, name, timed)


def instrument() -> None:
    from nbaudio.server.models import llm
    from nbaudio.server.realtime import preflight, responder, session

    _wrap(session, "transcribe_pcm", "stt", done=True)
    _wrap(session.RealtimeSession, "_guess_transcript", "paused")
    _wrap(session.RealtimeSession, "_speech_stopped", "stopped", is_async=True)
    _wrap(session, "begin_reply", "preflight")
    _wrap(responder, "voice_audio", "tts", done=True)
    _wrap(preflight, "voice_audio", "tts(pre)", done=True)
    real_put = llm.Generation.put

    def put(self: Any, text: str) -> None:
        if not getattr(self, "_marked", False):
            self._marked = True
            mark("token")
        real_put(self, text)
    llm.Generation.put = put
    _wrap(llm.LlamaChat, "generate", "llm")


def _reuse_prompts(on: bool) -> None:
    """B: the chat model keeps a conversation's earlier messages (prompt_blocks); A: it evaluates
    every prompt anew, as a 48-token live turn was before."""
    from nbaudio.server.models import llm, prompt_blocks

    llm.reusable_start = prompt_blocks.reusable_start if on else (lambda starts, shared: 0)


_NEW_PHRASE: dict[str, Any] = {}


def _short_first_phrase(on: bool) -> None:
    """B: a first phrase of 3 words or more, cut before a verb too; A: 5 words or more, at a comma
    or before a conjunction (as before)."""
    import re

    from nbaudio.server.chat import speech

    if not _NEW_PHRASE:
        _NEW_PHRASE.update(end=speech._PHRASE_END, defaults=speech.first_phrase.__defaults__)
    old = re.compile(r"(?<=[,;:\u2013\u2014])\s+|\s+(?=(?:and|but|or|so|because|that|which|who|when|while|"
                     r"where|if|with)\s)")
    speech._PHRASE_END = _NEW_PHRASE["end"] if on else old
    speech.first_phrase.__defaults__ = _NEW_PHRASE["defaults"] if on else (5,)


def _both(on: bool) -> None:
    _reuse_prompts(on)
    _short_first_phrase(on)


AB: dict[str, Callable[[bool], None]] = {"reuse": _reuse_prompts, "phrase": _short_first_phrase, "both": _both}


def turn(client: Any, samples: Any, rate: int) -> tuple[dict[str, float], list[tuple[float, str]]]:
    """bench_live's engine_turn, with the engine's own steps: ({mark: s after the end of speech
    sent}, [(s after it, step)])."""
    from benchmarks.bench_live import engine_turn

    TIMELINE.clear()
    ends: list[float] = []
    marks = engine_turn(client, samples, rate, ends=ends)
    return marks, [(t - ends[0], label) for t, label in TIMELINE]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ab", choices=sorted(AB), default=None)
    parser.add_argument("--quiet", action="store_true", help="no timelines, only the summary")
    args = parser.parse_args()

    import numpy as np

    import nbaudio
    from benchmarks.harness import engine
    from tests.support.live_browser import BARGE_IN, QUESTION, STORY, speak

    instrument()
    server = engine()
    client = nbaudio.Client(server.base_url, max_retries=0)
    texts = (QUESTION, STORY, BARGE_IN, *EXTRA[1:])
    spoken = [speak(server.base_url, None, t) for t in texts]
    lead = [np.concatenate([np.zeros(int(0.4 * rate), np.float32), s]) for s, rate in spoken]
    turn(client, lead[0], spoken[0][1])  # warm-up
    arms = (False, True) if args.ab else (None,)
    shares: dict[Any, list[float]] = {a: [] for a in arms}
    parts: dict[Any, list[dict[str, float]]] = {a: [] for a in arms}
    for r in range(args.rounds):
        for i, (samples, (_, rate)) in enumerate(zip(lead, spoken, strict=True)):
            for arm in arms:
                if args.ab:
                    AB[args.ab](arm)
                marks, line = turn(client, samples, rate)
                # marks are seconds after the end of speech sent
                share = marks["audio"] - marks["stopped"]
                shares[arm].append(share)
                parts[arm].append(marks)
                if not args.quiet:
                    steps = " ".join(f"{label}@{t * 1000:.0f}" for t, label in line)
                    print(f"r{r} u{i} {'' if arm is None else ('B' if arm else 'A')} share {share * 1000:.0f} ms | "
                          f"stopped@{marks['stopped'] * 1000:.0f} {steps} audio@{marks['audio'] * 1000:.0f}",
                          flush=True)
    for arm in arms:
        ms = [m for m in parts[arm]]

        def med(key: str, base: str | None = None, ms: list = ms) -> float:
            return statistics.median([(m[key] - (m[base] if base else 0)) * 1000 for m in ms if key in m])
        name = "" if arm is None else ("A (without) " if not arm else "B (with) ")
        print(f"{name}n={len(ms)} speech_stopped→first audio median {statistics.median(shares[arm]) * 1000:.0f} ms "
              f"(mean {statistics.mean(shares[arm]) * 1000:.0f}); end of speech→stopped {med('stopped'):.0f}, "
              f"stopped→transcribed {med('transcribed', 'stopped'):.0f}, →token {med('token', 'transcribed'):.0f}, "
              f"→audio {med('audio', 'token'):.0f}; end of speech→audio {med('audio'):.0f} ms")


if __name__ == "__main__":
    main()
