"""Streamed spoken chat: time to the first audio chunk against time to the whole reply.

    python -m benchmarks.bench_stream [--quick]

The embedded engine (SmolLM2-135M + piper) answers the same question, temperature 0, with
audio out. Interleaved per round:
- nbaudio `Client.chat(..., stream=True)`: time from the call to the first delta carrying audio;
- raw HTTP (`requests.post(stream=True)` reading SSE lines): the same moment, no client logic;
- nbaudio `Client.chat(...)` without streaming: time to the complete reply (text and audio).
Target: first audio ≤ 0.25× the full reply.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import Result, Stat, engine, ratio, script_main  # noqa: E402

QUESTION = "Describe a golden retriever to someone who has never seen a dog, in five or six sentences."
PARAMS = {"max_tokens": 160, "temperature": 0.0, "seed": 7}


def collect(quick: bool = False) -> list[Result]:
    import requests

    import nbaudio

    repeats = 3 if quick else 7
    url = engine().base_url
    client = nbaudio.Client(url, max_retries=0)
    info: dict[str, float | str] = {}

    def nb_first_audio() -> float:
        t0 = time.perf_counter()
        first = None
        with client.chat(QUESTION, voice="alloy", stream=True, **PARAMS) as stream:
            for delta in stream:
                if first is None and delta["audio"]:
                    first = time.perf_counter() - t0
            info["stream total"] = time.perf_counter() - t0
        assert first is not None, "the stream carried no audio"
        return first

    def raw_first_audio() -> float:
        body = {"model": "gpt-4o-audio-preview", "modalities": ["text", "audio"], "stream": True,
                "audio": {"voice": "alloy", "format": "pcm16"},
                "messages": [{"role": "user", "content": QUESTION}], **PARAMS}
        t0 = time.perf_counter()
        first = None
        with requests.post(url + "/chat/completions", json=body, stream=True) as resp:
            resp.raise_for_status()
            for line in resp.iter_lines():
                if first is None and line.startswith(b"data: {"):
                    delta = json.loads(line[6:])["choices"][0]["delta"] if b'"choices"' in line else {}
                    if (delta.get("audio") or {}).get("data"):
                        first = time.perf_counter() - t0
        assert first is not None, "the stream carried no audio"
        return first

    def nb_full() -> float:
        t0 = time.perf_counter()
        reply = client.chat(QUESTION, voice="alloy", **PARAMS)
        info["audio seconds"] = reply.audio.duration
        info["words"] = len((reply.transcript or "").split())
        return time.perf_counter() - t0

    nb_first_audio(), raw_first_audio(), nb_full()  # warm-up: every model loaded
    rounds = [(nb_first_audio(), raw_first_audio(), nb_full()) for _ in range(repeats)]
    first, raw, full = (Stat([r[i] for r in rounds]) for i in range(3))
    r = ratio(first, full)
    return [Result(
        f"streamed chat, time to first audio chunk ({info['words']} words, {info['audio seconds']:.1f} s reply)",
        first.fmt("s"), f"non-streamed full reply: {full.fmt('s')}", r, "≤ 0.25×", r <= 0.25,
        note=(f"raw HTTP SSE first audio {raw.fmt('s')}: nbaudio's stream is {ratio(first, raw):.2f}× raw; "
              f"the whole stream took {info['stream total']:.2f} s in the last round"))]


if __name__ == "__main__":
    raise SystemExit(script_main("streamed chat", collect, __doc__))
