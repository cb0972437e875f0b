"""Transcription bodies a relay wrapped in JSON (LiteLLM does): an srt/vtt body as `{"text": "<body>"}`,
a streamed transcription buffered as `{"text": "data: {...}\\n\\n..."}`, read by
`Transcript.from_response`.
"""

from __future__ import annotations

import re
from typing import Any

from .._wire.fields import parse_json

__all__ = ["unwrap_text_body", "unwrap_events"]


def unwrap_text_body(data: dict[str, Any], response_format: str) -> str | None:
    """The raw srt/vtt body a relay wrapped as `{"text": "<body>"}` (LiteLLM does), else None."""
    if response_format not in ("srt", "vtt") or "segments" in data or "words" in data:
        return None
    inner = data.get("text")
    if isinstance(inner, str) and "-->" in inner:
        return inner
    return None


_EVENT_LINE = re.compile(r"^data:[ \t]?(.*)$", re.MULTILINE)


def unwrap_events(data: dict[str, Any]) -> dict[str, Any] | None:
    """A streamed transcription a relay buffered and wrapped as `{"text": "data: {...}\\n\\n..."}`
    (LiteLLM does), as the JSON body it stands for ({"text", "usage", ...}); else None."""
    inner = data.get("text")
    if not (isinstance(inner, str) and inner.lstrip().startswith("data:")) or "segments" in data:
        return None
    deltas, done = [], None
    for line in _EVENT_LINE.findall(inner):
        try:
            event = parse_json(line)
        except ValueError:
            continue  # `[DONE]` and the like
        if not isinstance(event, dict):
            continue
        if event.get("type") == "transcript.text.delta":
            deltas.append(str(event.get("delta", "")))
        elif event.get("type") == "transcript.text.done":
            done = event
    if done is None and not deltas:
        return None
    body: dict[str, Any] = {"text": str(done.get("text", "".join(deltas))) if done else "".join(deltas)}
    for key in ("usage", "logprobs", "language"):
        if done is not None and done.get(key) is not None:
            body[key] = done[key]
    return body
