"""The Realtime API on the embedded engine: how soon a spoken turn is answered, and how soon the
answer stops when the user talks over it.

    python -m benchmarks.bench_realtime [--quick]

Questions are spoken by the engine's own TTS, resampled to 24 kHz and streamed to WS /v1/realtime
in 40 ms appends at the pace of speech, with server VAD (silence_duration_ms 500) and English
transcription. Figures:
- `input_audio_buffer.speech_stopped` -> first `response.output_audio.delta` (each turn in a fresh
  session, so every reply starts from the same context); beside it, the chat-completions stream's
  time from the request (the same question as `input_audio` WAV) to its first audio chunk: the same
  work (Whisper, the chat model, the first phrase spoken) without the VAD.
- barge-in: `speech_started` of speech sent over a reply as soon as its first audio arrives -> the
  last audio delta of that reply received (deltas already queued are dropped, the response task is
  cancelled). The engine makes audio faster than it plays, so later speech would find the reply
  already complete: then only the client's own playback can stop (and truncate the item).
"""

from __future__ import annotations

import base64
import io
import sys
import threading
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import Result, Stat, engine, ratio, script_main  # noqa: E402

QUESTIONS = ("What is the capital of France?", "Which animal says moo on the farm?",
             "What color is the sky on a clear day?", "How many legs does a spider have?",
             "What do bees make from flowers?")
STORY = "Please tell me a long story about a brave little dog who lived near the sea and loved to swim."
SESSION = {"audio": {"input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": 500},
                               "transcription": {"model": "whisper-1", "language": "en"}}}}
RATE = 24000
CHUNK_MS = 40


def _speech(url: str, text: str) -> tuple[bytes, bytes]:
    """(wav as spoken by the engine, the same as pcm16 at 24 kHz with 0.3 s before and 1 s after)."""
    import numpy as np
    import requests
    import soundfile as sf

    from nbaudio.codec import resample

    wav = requests.post(url + "/audio/speech", json={"model": "tts-1", "voice": "alloy", "input": text,
                                                     "response_format": "wav"}, timeout=120).content
    x, rate = sf.read(io.BytesIO(wav), dtype="float32")
    x = np.concatenate([np.zeros(RATE * 3 // 10, np.float32), resample(x, rate, RATE), np.zeros(RATE, np.float32)])
    return wav, (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()


def _stream(rt, pcm: bytes) -> threading.Thread:
    """Send `pcm` in CHUNK_MS appends at the pace of speech, from a thread."""
    def run() -> None:
        rt.send_audio(pcm, chunk_ms=CHUNK_MS, pace=True)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _stream_then(rt, first: bytes, second: bytes, go: threading.Event) -> threading.Thread:
    """`first`, silence until `go` is set, then `second` without its leading silence, at the pace of
    speech from one thread: the user talks over the reply the moment its first audio arrives."""
    quiet = bytes(2 * RATE * CHUNK_MS // 1000)

    def run() -> None:
        rt.send_audio(first, chunk_ms=CHUNK_MS, pace=True)
        while not go.is_set():
            rt.send_audio(quiet, chunk_ms=CHUNK_MS, pace=True)
        rt.send_audio(second[2 * RATE // 4:], chunk_ms=CHUNK_MS, pace=True)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def collect(quick: bool = False) -> list[Result]:
    import requests

    import nbaudio
    import nbaudio.realtime

    url = engine().base_url
    client = nbaudio.Client(url, max_retries=0)
    spoken = {q: _speech(url, q) for q in (*QUESTIONS, STORY)}
    turns = 4 if quick else 12

    def realtime_turn(question: str) -> float:
        with nbaudio.realtime.connect(client=client, session=SESSION) as rt:
            feeder = _stream(rt, spoken[question][1])
            stopped = None
            for event in rt.events():
                if event.type == "input_audio_buffer.speech_stopped":
                    stopped = time.perf_counter()
                elif event.type == "response.output_audio.delta" and stopped is not None:
                    first = time.perf_counter() - stopped
                    rt.cancel()
                    break
            feeder.join()
            return first

    def chat_first_audio(question: str) -> float:
        wav = spoken[question][0]
        body = {"model": "gpt-4o-audio-preview", "modalities": ["text", "audio"], "stream": True,
                "audio": {"voice": "alloy", "format": "pcm16"},
                "messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {
                    "data": base64.b64encode(wav).decode(), "format": "wav"}}]}]}
        t0 = time.perf_counter()
        with requests.post(url + "/chat/completions", json=body, stream=True, timeout=120) as resp:
            resp.raise_for_status()
            for line in resp.iter_lines():
                if line.startswith(b"data: {") and b'"data"' in line:
                    return time.perf_counter() - t0
        raise AssertionError("the chat stream carried no audio")

    def barge_in() -> tuple[float, float]:
        with nbaudio.realtime.connect(client=client, session=SESSION) as rt:
            speaking = threading.Event()
            feeder = _stream_then(rt, spoken[STORY][1], spoken[QUESTIONS[1]][1], speaking)
            started = last = first = None
            received = 0  # bytes of reply audio
            for event in rt.events():
                if event.type == "response.output_audio.delta":
                    last = time.perf_counter()
                    received += len(event.audio)
                    if first is None:
                        first = last
                        speaking.set()
                elif event.type == "input_audio_buffer.speech_started" and first is not None:
                    started = time.perf_counter()
                    # what a player started at the first delta would still have to play
                    ahead.append(received / (2 * RATE) - (started - first))
                elif event.type == "response.done" and first is not None:
                    assert event["response"]["status"] == "cancelled", event["response"]["status"]
                    done = time.perf_counter() - started
                    break
            feeder.join()
            return max(0.0, last - started), done

    realtime_turn(QUESTIONS[0]), chat_first_audio(QUESTIONS[0])  # warm-up: every model loaded
    rt_times, chat_times = [], []
    for i in range(turns):
        question = QUESTIONS[i % len(QUESTIONS)]
        rt_times.append(realtime_turn(question))
        chat_times.append(chat_first_audio(question))
    ahead: list[float] = []
    barges = [barge_in() for _ in range(2 if quick else 5)]
    first, chat = Stat(rt_times), Stat(chat_times)
    reaction, cancelled = Stat([b[0] for b in barges]), Stat([b[1] for b in barges])
    return [
        Result("realtime: speech_stopped → first output_audio.delta (server VAD, 24 kHz, real-time pace)",
               first.fmt("s"), f"chat-completions stream, request → first audio: {chat.fmt('s')}",
               ratio(first, chat), "≤ 0.8 s", first.median <= 0.8,
               note="each turn in a fresh session; English transcription (tiny.en); 40 ms appends; the chat "
                    "path (no language parameter) also detects the language with Whisper base first"),
        Result("realtime barge-in: speech_started → last audio delta of the interrupted reply", reaction.fmt("s"),
               "—", None, "≤ 0.3 s", reaction.median <= 0.3,
               note=f"speech_started → response.done (cancelled): {cancelled.fmt('s')}; the reply's audio arrives "
                    f"faster than it plays: at speech_started the client held {Stat(ahead).fmt('s')} not yet "
                    "played, which it must drop itself (and truncate the item to what was heard)"),
    ]


if __name__ == "__main__":
    raise SystemExit(script_main("realtime", collect, __doc__))
