"""The live view of a streaming `%%voice` reply: the transcript grows, the audio plays as it arrives."""

from __future__ import annotations

import base64
import functools
import re
import time
import uuid
from collections.abc import Mapping
from importlib import resources
from typing import Any

from IPython.display import display

from .._wire import spec
from ..chat import ChatReply
from ..codec.samples import whole_pcm16_length
from ..display.markup import escape, role_heading, role_style

__all__ = ["LIVE_UPDATE_SECONDS", "StreamingReply"]

# The live view is redrawn at most this often; each redraw also carries the audio since the last.
LIVE_UPDATE_SECONDS = 0.15
_PLACEHOLDER = re.compile(r"NBAUDIO_(STREAM_ID|ACTION|PCM|RATE)")


def _empty() -> dict[str, str]:
    return {"text/plain": "", "text/html": ""}


@functools.cache
def _audio_js() -> str:
    text = resources.files(__package__).joinpath("streaming_reply.js").read_text(encoding="utf-8")
    # the file's comment lines stay out of every output that embeds the script
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("//")).rstrip("\n")


class StreamingReply:
    """A reply as it streams: the transcript grows in one output, pcm16 audio plays from another.

    The audio output is replaced at every update with a script that queues only the new samples
    into a WebAudio context (streaming_reply.js), so playback starts with the first chunk; its last
    state is empty, so the saved notebook keeps just the final reply (with its own player), not
    the chunks.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self.stream_id = uuid.uuid4().hex
        self._text: list[str] = []
        self._pcm = bytearray()
        self._last_update = 0.0
        self._view = display(self._text_bundle(), raw=True, display_id=True)
        self._audio = display(_empty(), raw=True, display_id=True)

    def feed(self, delta: Mapping[str, Any]) -> None:
        self._text.append(delta.get("text") or delta.get("transcript") or "")
        self._pcm.extend(delta.get("audio") or b"")
        if time.monotonic() - self._last_update >= LIVE_UPDATE_SECONDS:
            self._flush()

    def finish(self, reply: ChatReply) -> None:
        self._flush()
        self._audio.update(self._script("done"), raw=True)
        self._view.update(reply)
        self._audio.update(_empty(), raw=True)

    def abort(self, note: str) -> None:
        self._audio.update(self._script("stop"), raw=True)
        self._audio.update(_empty(), raw=True)
        self._view.update(self._text_bundle(note), raw=True)

    def _flush(self) -> None:
        self._last_update = time.monotonic()
        # Send whole samples only; an odd trailing byte waits for the next chunk.
        n = whole_pcm16_length(len(self._pcm))
        if n:
            chunk, self._pcm = bytes(self._pcm[:n]), self._pcm[n:]
            self._audio.update(self._script("play", chunk), raw=True)
        self._view.update(self._text_bundle(), raw=True)

    def _text_bundle(self, note: str | None = None) -> dict[str, str]:
        text = "".join(self._text)
        status = note or "streaming…"
        body = (f'<div style="{role_style("assistant")}">{role_heading("assistant", [self.label, status])}'
                f'<div style="white-space:pre-wrap">{escape(text)}</div></div>')
        return {"text/plain": f"assistant ({status}): {text}", "text/html": body}

    def _script(self, action: str, pcm: bytes = b"") -> dict[str, str]:
        # Values are JSON-safe literals: a hex id, an action word, base64 and an integer.
        values = {"STREAM_ID": self.stream_id, "ACTION": action,
                  "PCM": base64.b64encode(pcm).decode("ascii"), "RATE": str(spec.PCM_SAMPLE_RATE)}
        js = _PLACEHOLDER.sub(lambda m: values[m.group(1)], _audio_js())
        return {"text/plain": "", "text/html": f"<script>{js}</script>"}
