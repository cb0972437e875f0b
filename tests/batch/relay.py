"""A rate-limited relay in front of the real engine, for the faults the engine does not make on
its own: it lets through at most `rate` requests in any `window` seconds (a sliding log, as
relays count "requests per minute") and answers the others 429 with Retry-After, every other
one as the engine's own 503 `engine_busy` instead. Admitted requests go to the engine and its
answer comes back as it is. Every arrival is recorded, so the tests and the benchmark measure
the rate where it matters: at the server.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


class RateLimitedRelay:
    def __init__(self, upstream: str | None, *, rate: int, window: float = 1.0, latency: float = 0.3) -> None:
        # upstream None: admitted requests get a fixed transcription after `latency` seconds
        # (the benchmark measures the client's pacing alone, without the engine's speed).
        self.upstream = upstream.rstrip("/") if upstream else None
        self.latency = latency
        self.rate, self.window = rate, window
        self.arrivals: list[tuple[float, bool]] = []  # (monotonic time, admitted)
        self._admitted: deque[float] = deque()
        self._lock = threading.Lock()
        self._refusals = 0
        relay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                wait = relay._admit()
                if wait is not None:
                    relay._refuse(self, wait)
                    return
                status, content_type, answer = relay._answer(self.path, body, self.headers.get("content-type", ""))
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def _answer(self, path: str, body: bytes, content_type: str) -> tuple[int, str, bytes]:
        if self.upstream is None:
            time.sleep(self.latency)
            return 200, "application/json", json.dumps({"text": "A fixed answer.", "language": "english",
                                                        "duration": 1.5, "segments": []}).encode()
        resp = requests.post(self.upstream + path.removeprefix("/v1"), data=body,
                             headers={"content-type": content_type}, timeout=300)
        return resp.status_code, resp.headers.get("content-type", "application/json"), resp.content

    def _admit(self) -> float | None:
        """None when this request may pass, else the seconds until one may."""
        with self._lock:
            now = time.monotonic()
            while self._admitted and self._admitted[0] <= now - self.window:
                self._admitted.popleft()
            ok = len(self._admitted) < self.rate
            self.arrivals.append((now, ok))
            if ok:
                self._admitted.append(now)
                return None
            self._refusals += 1
            return self._admitted[0] + self.window - now

    def _refuse(self, handler: BaseHTTPRequestHandler, wait: float) -> None:
        if self._refusals % 2:
            status, error = 429, {"message": "Rate limit reached for requests", "type": "requests",
                                  "code": "rate_limit_exceeded"}
        else:
            status, error = 503, {"message": "the engine is busy; retry after the time in Retry-After",
                                  "type": "server_error", "code": "engine_busy"}
        body = json.dumps({"error": error}).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("retry-after", str(math.ceil(wait)))
        handler.send_header("retry-after-ms", str(math.ceil(wait * 1000)))
        handler.send_header("content-length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    # ---- what was measured -----------------------------------------------------------------
    @property
    def refused(self) -> int:
        return sum(1 for _, ok in self.arrivals if not ok)

    def most_in_window(self, *, admitted_only: bool, since: float = -math.inf) -> int:
        """The most requests that arrived within any `window` seconds (from `since` on)."""
        times = [t for t, ok in self.arrivals if (ok or not admitted_only) and t >= since]
        most, lo = 0, 0
        for hi, t in enumerate(times):
            while times[lo] <= t - self.window:
                lo += 1
            most = max(most, hi - lo + 1)
        return most

    def achieved_rate(self) -> float:
        """Admitted requests per second, from the first arrival to the last."""
        admitted = [t for t, ok in self.arrivals if ok]
        if len(admitted) < 2:
            return 0.0
        return (len(admitted) - 1) / (admitted[-1] - admitted[0])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
