"""What the %%voice tests share: the IPython shell they run in, and a scripted chat server.

`shell` (fixture) is IPython's shared test shell with a `RecordingPublisher`, so tests read what
the magics displayed; `voice` registers a fresh VoiceMagics on it, `on_engine` points that at
the embedded engine.

`FakeChatServer` is an OpenAI-format chat server on loopback for the tests that need a server to
misbehave in one particular way (a relay that refuses input_audio, an id the server forgot).
It answers /chat/completions (JSON or SSE, pcm16 audio of a short tone) and
/audio/transcriptions, and keeps every request body it received.
"""

from __future__ import annotations

import base64
import io
import json
import time
import wave
from collections.abc import Callable
from typing import Any

import pytest
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from werkzeug import Request, Response

from nbaudio import Client
from nbaudio.magic import VoiceMagics
from tests.support.signals import tone_pcm16

RATE = 24000
MAX_TOKENS = "--max-tokens 24"  # keeps the local model's replies (and the tests) short
# Variables tests bind in the shared shell; removed after each test.
_TEST_NAMES = ("_voice", "answer", "question", "dog", "key", "rec")


# ---- the shell ------------------------------------------------------------------------------------

class RecordingPublisher(DisplayPublisher):
    """Keeps what the magics display (data, transient display id, update flag) instead of printing it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.outputs: list[dict[str, Any]] = []

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs) -> None:
        self.outputs.append({"data": data, "transient": transient or {}, "update": update})

    def clear_output(self, wait=False) -> None:
        pass


@pytest.fixture
def shell():
    """IPython's shared test shell: displays are recorded, outputs go to the history database too
    (the key tests read it), and what a test configured or bound is removed afterwards."""
    shell = InteractiveShell.instance()
    saved_pub, saved_log_output = shell.display_pub, shell.history_manager.db_log_output
    shell.display_pub = RecordingPublisher(shell=shell)
    shell.history_manager.db_log_output = True
    yield shell
    shell.display_pub = saved_pub
    shell.history_manager.db_log_output = saved_log_output
    shell.config.pop("VoiceMagics", None)  # `%config VoiceMagics.x = ...` in a test must not reach later tests
    for name in _TEST_NAMES:
        shell.user_ns.pop(name, None)


@pytest.fixture
def voice(shell):
    """A fresh VoiceMagics registered on the shell (no state left from other tests)."""
    magics = VoiceMagics(shell)
    shell.register_magics(magics)
    yield magics
    magics.client = None


@pytest.fixture
def on_engine(voice, engine):
    voice.client = Client(engine.base_url)
    yield voice
    voice.client.close()


def cell(shell, line: str, body: str = "") -> None:
    shell.run_cell_magic("voice", line, body)


# ---- the scripted chat server ----------------------------------------------------------------------


def wav_bytes(pcm: bytes) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm)
    return buf.getvalue()


def error(status: int, message: str, *, param: str | None = None, code: str | None = None) -> Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}
    return Response(json.dumps(body), status=status, content_type="application/json")


class FakeChatServer:
    """Replies "reply N" (N counts chat requests); `reject` may veto a request with a Response."""

    def __init__(self, httpserver: Any) -> None:
        self.httpserver = httpserver
        self.chat_bodies: list[dict[str, Any]] = []
        self.transcriptions = 0
        self.reject: Callable[[dict[str, Any]], Response | None] | None = None
        self.transcript_text = "what the user said"
        self.reply_text = "reply {n}"
        self.fail_midstream = False  # send one chunk, then an error event
        self._replies = 0
        httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(self._chat)
        httpserver.expect_request("/v1/audio/transcriptions", method="POST").respond_with_handler(self._transcribe)

    @property
    def base_url(self) -> str:
        return self.httpserver.url_for("/v1")

    def _chat(self, request: Request) -> Response:
        body = request.get_json()
        self.chat_bodies.append(body)
        if self.reject is not None:
            refusal = self.reject(body)
            if refusal is not None:
                return refusal
        self._replies += 1
        n = self._replies
        text = self.reply_text.format(n=n)
        audio_id = f"audio_fake_{n}"
        expires = int(time.time()) + 3600
        pcm = tone_pcm16(0.3, RATE, amp=0.3)
        wants_audio = "audio" in body.get("modalities", ["text"])
        usage = {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30,
                 "completion_tokens_details": {"text_tokens": 5, "audio_tokens": 15}}
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": None if wants_audio else text}
            if wants_audio:
                fmt = body["audio"]["format"]
                data = wav_bytes(pcm) if fmt == "wav" else pcm
                message["audio"] = {"id": audio_id, "data": base64.b64encode(data).decode(), "expires_at": expires,
                                    "transcript": text}
            out = {"id": f"chatcmpl-{n}", "object": "chat.completion", "model": body["model"],
                   "choices": [{"index": 0, "message": message, "finish_reason": "stop"}], "usage": usage}
            return Response(json.dumps(out), content_type="application/json")
        chunks = []
        base = {"id": f"chatcmpl-{n}", "object": "chat.completion.chunk", "model": body["model"]}
        if wants_audio:
            half = len(pcm) // 2 + 1  # odd split: a sample straddles two chunks
            cut = len(text) // 2
            for i, (piece_text, piece) in enumerate(((text[:cut], pcm[:half]), (text[cut:], pcm[half:]))):
                audio = {"transcript": piece_text, "data": base64.b64encode(piece).decode()}
                if i == 0:
                    audio["id"] = audio_id
                chunks.append({**base, "choices": [{"index": 0, "delta": {"audio": audio}}]})
            chunks.append({**base, "choices": [{"index": 0, "delta": {"audio": {"expires_at": expires}},
                                                "finish_reason": "stop"}]})
        else:
            chunks.append({**base, "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": "stop"}]})
        chunks.append({**base, "choices": [], "usage": usage})
        if self.fail_midstream:
            chunks[1:] = [{"error": {"message": "the model crashed", "type": "server_error"}}]
        sse = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        return Response(sse, content_type="text/event-stream")

    def _transcribe(self, request: Request) -> Response:
        self.transcriptions += 1
        return Response(json.dumps({"text": self.transcript_text}), content_type="application/json")


def sent_input_audio(body: dict[str, Any]) -> bool:
    return any(isinstance(m.get("content"), list) and any(p.get("type") == "input_audio" for p in m["content"])
               for m in body["messages"])
