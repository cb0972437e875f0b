"""A raw TCP server on loopback for faults an HTTP framework will not produce: resets,
truncated bodies, streams that stop halfway. Each connection is answered by `script(conn)`."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any


class RawServer:
    def __init__(self, script: Callable[[socket.socket], None]) -> None:
        self.script = script
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.requests: list[bytes] = []
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            with conn:
                conn.settimeout(5)
                self.requests.append(read_request(conn))
                try:
                    self.script(conn)
                except OSError:
                    pass

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=2)
        self.sock.close()


def read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def reset(conn: socket.socket) -> None:
    """Close with RST (SO_LINGER 0): the client sees 'connection reset'."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


# ---- replaying a real stream, cut short ----------------------------------------------------------

SSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"


def event_ends(body: bytes) -> list[int]:
    """Offsets just past each SSE event (its closing blank line) in a captured stream body."""
    ends, at = [], 0
    while (i := body.find(b"\n\n", at)) != -1:
        at = i + 2
        ends.append(at)
    return ends


def replay(body: bytes, *, cut: int | None = None, framing: str = "chunked", end: str = "close",
           stall: float = 0.0, content_type: bytes = b"text/event-stream; charset=utf-8",
           hold: threading.Event | None = None) -> Callable[[socket.socket], None]:
    """A RawServer script that sends `body[:cut]` as a 200 response, one chunk per event, then ends:

    framing "chunked": Transfer-Encoding chunked, as the engine sends it (a cut leaves no final chunk);
            "close":   no length at all, the body ends when the connection closes (HTTP/1.0 style).
    end     "close": FIN; "reset": RST; "stall": send nothing for `stall` seconds, then FIN.
    With `cut=None` the whole body is sent, properly terminated.
    `hold`: after sending, wait (at most 30 s) until it is set before ending, e.g. until the
    client has taken in everything sent, so that a reset cannot drop bytes still in flight.
    """
    sent = body if cut is None else body[:cut]
    pieces, at = [], 0
    for e in event_ends(sent) + [len(sent)]:
        if e > at:
            pieces.append(sent[at:e])
            at = e

    def script(conn: socket.socket) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type + b"\r\nx-request-id: req_replay\r\n"
        head += b"Transfer-Encoding: chunked\r\n" if framing == "chunked" else b"Connection: close\r\n"
        conn.sendall(head + b"\r\n")
        for piece in pieces:
            conn.sendall(chunk(piece) if framing == "chunked" else piece)
        if cut is None and framing == "chunked":
            conn.sendall(b"0\r\n\r\n")
            return
        if hold is not None:
            hold.wait(30)
        if end == "reset":
            reset(conn)
        elif end == "stall":
            time.sleep(stall)

    return script


class FaultProxy(RawServer):
    """Forwards each request to a real server (one connection per request) and passes the answer
    back, unless `fault` is set: then the answer is cut after `fault(body)` bytes and the
    connection closed. `bodies` keeps every forwarded request body (JSON decoded when it is JSON)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.fault: Callable[[bytes], int] | None = None
        self.bodies: list[Any] = []
        super().__init__(self._forward)

    def _forward(self, conn: socket.socket) -> None:
        import requests

        head, _, body = self.requests[-1].partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        headers = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length", "connection")}
        try:
            self.bodies.append(json.loads(body))
        except ValueError:
            self.bodies.append(body)
        resp = requests.request(method, self.upstream + path.removeprefix("/v1"), data=body, headers=headers,
                                stream=True, timeout=300)
        answer = b"".join(resp.iter_content(None))
        fault = self.fault
        if fault is not None:
            cut = fault(answer)
            replay(answer, cut=cut, content_type=resp.headers["content-type"].encode())(conn)
            return
        out = f"HTTP/1.1 {resp.status_code} {resp.reason}\r\nContent-Type: {resp.headers.get('content-type', '')}\r\n"
        out += f"Content-Length: {len(answer)}\r\nConnection: close\r\n\r\n"
        conn.sendall(out.encode() + answer)


class ScriptedWebSocket:
    """A WebSocket server on a free loopback port that runs `script(ws)` for each connection."""

    def __init__(self, script, process_request=None) -> None:
        from websockets.sync.server import serve

        self.server = serve(script, "127.0.0.1", 0, process_request=process_request)
        self.port = self.server.socket.getsockname()[1]
        self.headers: list = []
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
