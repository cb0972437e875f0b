"""Per-call client overhead on loopback with a tiny response: nbaudio vs raw requests vs openai.

    python -m benchmarks.bench_client [--quick]

A threaded HTTP/1.1 server on 127.0.0.1 answers POST /v1/audio/speech with a 0.1 s WAV
(4.8 kB). Each client makes the same calls over a kept-alive connection; one measurement is
the mean per-call time over a batch of calls, and batches of the contenders are interleaved.
Peers: `requests.Session().post` (raw: the same HTTP stack with no API logic), `requests.post`
(a new connection per call) and the official `openai` package.
"""

from __future__ import annotations

import io
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import Result, interleaved, pair_ratios, ratio, script_main  # noqa: E402

RAW = "requests.Session().post (raw)"
NEW_CONN = "requests.post (new connection)"
BARE = "Session(trust_env=False).post"
OURS = "nbaudio Client.speak"
OPENAI = "openai audio.speech.create"


def tiny_wav() -> bytes:
    import numpy as np
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.zeros(2400, dtype=np.float32), 24000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One buffered write per response and no Nagle: otherwise delayed ACKs add ~40 ms per call.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    wav = b""

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "audio/wav")
        self.send_header("content-length", str(len(self.wav)))
        self.end_headers()
        self.wfile.write(self.wav)

    def log_message(self, *args: object) -> None:
        pass


def collect(quick: bool = False) -> list[Result]:
    import openai
    import requests

    import nbaudio

    calls, repeats = (50, 3) if quick else (300, 9)
    Handler.wav = tiny_wav()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    body = {"model": "tts-1", "input": "hi", "voice": "alloy", "response_format": "wav"}
    headers = {"Authorization": "Bearer sk-bench"}
    session = requests.Session()
    bare = requests.Session()
    bare.trust_env = False  # skips the per-call proxy/netrc lookup, as nbaudio does for loopback
    nb = nbaudio.Client(base, api_key="sk-bench")
    oa = openai.OpenAI(base_url=base, api_key="sk-bench")
    one_call = {
        RAW: lambda: session.post(base + "/audio/speech", json=body, headers=headers).content,
        BARE: lambda: bare.post(base + "/audio/speech", json=body, headers=headers).content,
        NEW_CONN: lambda: requests.post(base + "/audio/speech", json=body, headers=headers).content,
        OURS: lambda: nb.speak("hi", response_format="wav"),
        OPENAI: lambda: oa.audio.speech.create(model="tts-1", input="hi", voice="alloy", response_format="wav").read(),
    }

    def per_call(fn):  # mean seconds per call over one batch
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - t0) / calls

    try:
        stats = interleaved(one_call, repeats, measure=per_call)
    finally:
        server.shutdown()
        server.server_close()
    ours, raw, oai, floor = stats[OURS], stats[RAW], stats[OPENAI], stats[BARE]
    detail = [f"{name:32} {s.fmt('s')}" for name, s in stats.items()]
    figure = f"per-call client overhead, loopback, 4.8 kB WAV response ({calls} calls per batch)"
    return [
        Result(figure + " — vs raw", ours.fmt("s"), f"{RAW}: {raw.fmt('s')}", ratio(ours, raw), "≤ 1.1×",
               ratio(ours, raw) <= 1.1, detail=detail,
               note=(f"per-batch ratios {pair_ratios(ours, raw).fmt('×')}. requests.Session looks up proxy and "
                     "netrc settings in the environment on every call; nbaudio reads them once per client. "
                     f"Against {BARE} (no lookup: the floor of requests) nbaudio is "
                     f"{ratio(ours, floor):.2f}×")),
        Result(figure + " — vs openai", ours.fmt("s"), f"openai {openai.__version__}: {oai.fmt('s')}",
               ratio(ours, oai), "< 1× (below openai)", ratio(ours, oai) < 1.0,
               note=f"per-batch ratios {pair_ratios(ours, oai).fmt('×')}"),
    ]


if __name__ == "__main__":
    raise SystemExit(script_main("client overhead", collect, __doc__))
