"""`make demo`: speak, transcribe back and chat on the configured backend (the embedded engine by default).

Run with `python -m nbaudio.demo [--out build]`. Writes the audio it makes into `--out`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import Client
from .errors import NbAudioError
from .metrics import word_error_rate

SENTENCE = "The quick brown fox jumps over the lazy dog. Notebooks can talk now."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nbaudio.demo", description=__doc__)
    parser.add_argument("--out", default="build", help="folder for the audio files (default: build)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    try:
        with Client() as client:
            t0 = time.perf_counter()
            clip = client.speak(SENTENCE, voice="alloy")
            t1 = time.perf_counter()
            print(f"speak:      {clip!r} in {t1 - t0:.2f} s -> {clip.save(out / 'demo_speech.wav')}")
            transcript = client.transcribe(clip, timestamp_granularities=["word", "segment"])
            t2 = time.perf_counter()
            print(f"transcribe: {transcript.text!r} in {t2 - t1:.2f} s "
                  f"(WER {word_error_rate(SENTENCE, transcript.text):.0%})")
            for seg in transcript.segments:
                print(f"  [{seg.start:5.2f} - {seg.end:5.2f}] {seg.text.strip()}")
            reply = client.chat("In one short sentence: why do dogs wag their tails?", voice="coral")
            t3 = time.perf_counter()
            print(f"chat:       {reply.text!r} in {t3 - t2:.2f} s; usage: {reply.usage}")
            if reply.audio is not None:
                print(f"            reply audio {reply.audio!r} -> {reply.audio.save(out / 'demo_reply.wav')}")
    except NbAudioError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
