"""Per-call client overhead on loopback with a tiny response: nbaudio vs raw requests vs openai.

    python benchmarks/bench_client.py [--calls 300] [--repeats 5]

A threaded HTTP/1.1 server on 127.0.0.1 answers POST /v1/audio/speech with a 0.1 s WAV
(4.8 kB). Each client makes the same calls over a kept-alive connection; we report the
median per-call time over repeats (and the spread), and the ratio to raw `requests`.
Peers: `requests.Session().post` (the floor: same HTTP stack, no API logic),
`requests.post` (a new connection per call), and the official `openai` package.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import soundfile as sf


def tiny_wav() -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.zeros(2400, dtype=np.float32), 24000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


WAV = tiny_wav()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One buffered write per response and no Nagle: otherwise delayed ACKs add ~40 ms per call.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def do_POST(self):  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "audio/wav")
        self.send_header("content-length", str(len(WAV)))
        self.end_headers()
        self.wfile.write(WAV)

    def log_message(self, *args):
        pass


def run(fn, calls: int) -> float:
    fn()  # warm-up: connection set up
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    body = {"model": "tts-1", "input": "hi", "voice": "alloy", "response_format": "wav"}
    headers = {"Authorization": "Bearer sk-bench"}

    import requests

    import nbaudio

    session = requests.Session()
    nb = nbaudio.Client(base, api_key="sk-bench")
    contenders = {
        "requests.Session().post (raw)": lambda: session.post(base + "/audio/speech", json=body, headers=headers).content,
        "requests.post (new connection)": lambda: requests.post(base + "/audio/speech", json=body, headers=headers).content,
        "nbaudio Client.speak": lambda: nb.speak("hi", response_format="wav"),
    }
    try:
        import openai

        oa = openai.OpenAI(base_url=base, api_key="sk-bench")
        contenders["openai audio.speech.create"] = lambda: oa.audio.speech.create(
            model="tts-1", input="hi", voice="alloy", response_format="wav").read()
    except ImportError:
        print("(openai not installed: pip install openai to include it)", file=sys.stderr)

    results: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.repeats):
        for name, fn in contenders.items():  # interleaved, so drift hits all alike
            results[name].append(run(fn, args.calls))
    server.shutdown()

    raw = statistics.median(results["requests.Session().post (raw)"])
    print(f"per-call time, {args.calls} calls x {args.repeats} repeats, tiny response on loopback")
    print(f"{'client':34} {'median':>10} {'spread':>16} {'vs raw':>8}")
    for name, times in results.items():
        med = statistics.median(times)
        print(f"{name:34} {med * 1e6:8.0f}µs {min(times) * 1e6:7.0f}-{max(times) * 1e6:<7.0f}µs {med / raw:7.2f}x")
    nb_med = statistics.median(results["nbaudio Client.speak"])
    print(f"\ntarget: nbaudio <= 1.10x raw -> {nb_med / raw:.2f}x "
          f"({'met' if nb_med / raw <= 1.10 else 'missed'})")
    if "openai audio.speech.create" in results:
        oa_med = statistics.median(results["openai audio.speech.create"])
        print(f"target: nbaudio below openai -> {nb_med / oa_med:.2f}x of openai "
              f"({'met' if nb_med < oa_med else 'missed'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
