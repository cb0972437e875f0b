"""Helpers of the Realtime tests: the engine's own speech as 24 kHz pcm16, streamed at the pace of
speech, events checked against the openai SDK's types, and loose transcript comparison."""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
from typing import Any

import numpy as np
import soundfile as sf

RATE = 24000
CHUNK_MS = 40


def pcm24(wav: bytes, *, lead_s: float = 0.3, tail_s: float = 0.9) -> bytes:
    """WAV bytes as pcm16 mono at 24 kHz, with silence before and after (a VAD turn needs the tail)."""
    from nbaudio.codec import resample

    samples, rate = sf.read(io.BytesIO(wav), dtype="float32")
    if samples.ndim > 1:
        samples = samples.mean(axis=1)
    x = resample(samples, rate, RATE)
    x = np.concatenate([np.zeros(int(lead_s * RATE), np.float32), x, np.zeros(int(tail_s * RATE), np.float32)])
    return (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()


def silence(seconds: float) -> bytes:
    return bytes(2 * int(seconds * RATE))


def speech_then_quiet(pcm: bytes, quiet_s: float) -> bytes:
    """`pcm` (one utterance) up to where its speech ends, as the engine's VAD finds it, then `quiet_s`
    of silence: no silence of the recording's own is left to end a turn by itself."""
    from nbaudio.server.realtime.config import ServerVad
    from nbaudio.server.realtime.vad import TurnDetector

    detector = TurnDetector(ServerVad())
    step = 2 * RATE // 10
    turns = [t for k in range(0, len(pcm), step) for t in detector.feed(pcm[k:k + step])]
    paused = [t.ms for t in turns if t.kind == "paused"][-1]
    return pcm[:paused * 2 * RATE // 1000] + silence(quiet_s)


def appends(pcm: bytes, chunk_ms: int = CHUNK_MS) -> list[dict[str, Any]]:
    step = 2 * RATE * chunk_ms // 1000
    return [{"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm[k:k + step]).decode()}
            for k in range(0, len(pcm), step)]


def stream(send: Any, pcm: bytes, *, chunk_ms: int = CHUNK_MS, pace: float = 1.0) -> threading.Thread:
    """Send `pcm` as appends from a thread at `pace` x real time (the caller keeps reading events)."""
    def run() -> None:
        start = time.monotonic()
        for i, event in enumerate(appends(pcm, chunk_ms)):
            send(event)
            ahead = start + (i + 1) * chunk_ms / 1000 / pace - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def stream_then(send: Any, first: bytes, second: bytes, go: threading.Event, *,
                chunk_ms: int = CHUNK_MS) -> threading.Thread:
    """Stream `first`, then silence until `go` is set, then `second` (its leading silence skipped),
    all at the pace of speech from one thread: the user talks over a reply the moment it starts."""
    quiet = silence(chunk_ms / 1000)

    def pieces():
        yield from appends(first, chunk_ms)
        while not go.is_set():
            yield appends(quiet, chunk_ms)[0]
        yield from appends(second[int(0.25 * RATE) * 2:], chunk_ms)

    def run() -> None:
        start = time.monotonic()
        for i, event in enumerate(pieces()):
            send(event)
            ahead = start + (i + 1) * chunk_ms / 1000 - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


_ADAPTER = None


def check_event(data: dict[str, Any]) -> Any:
    """`data` validated as the SDK's RealtimeServerEvent (its union is discriminated by `type`, so
    an unknown type, a missing required field or a wrong type fails)."""
    global _ADAPTER
    from pydantic import TypeAdapter

    if _ADAPTER is None:
        from openai.types.realtime import RealtimeServerEvent

        _ADAPTER = TypeAdapter(RealtimeServerEvent)
    return _ADAPTER.validate_python(data)


def recv(conn: Any, timeout: float = 120.0) -> dict[str, Any]:
    """The next server event from an SDK connection, as JSON, after checking it against the SDK's types."""
    data = json.loads(conn.recv_bytes())
    check_event(data)
    return data


def until(conn: Any, kind: str, seen: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Read (and check) events until one of type `kind`; the ones before it go into `seen`."""
    while True:
        event = recv(conn)
        if seen is not None:
            seen.append(event)
        if event["type"] == kind:
            return event


def words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9']+", text.lower()) if len(w) > 2}


def overlap(said: str, heard: str) -> float:
    """Share of the longer words of `said` found in `heard`."""
    a = words(said)
    return len(a & words(heard)) / max(1, len(a))
