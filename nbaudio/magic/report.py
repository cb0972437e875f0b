"""What the magics print when something goes wrong or is saved: one line each, with the key redacted."""

from __future__ import annotations

import sys
from pathlib import Path

from .._wire.text import one_line
from ..chat import Conversation
from ..client import Client
from ..errors import NbAudioError

__all__ = ["save_conversation", "show_error"]


def show_error(client: Client, exc: NbAudioError, conv: Conversation | None) -> None:
    """An API or input error as one line on stderr (a cell shows it without a traceback)."""
    kept = ""
    if conv is not None:
        turns = sum(1 for m in conv.messages if m["role"] == "user")
        kept = f" (turn not kept; the conversation still has its {turns} earlier turn{'s' * (turns != 1)})"
    print(client.redact(one_line(f"{type(exc).__name__}: {exc}{kept}")), file=sys.stderr)


def save_conversation(client: Client, conv: Conversation, path: str) -> Path | None:
    """Save `conv` (JSON plus audio files) and say where; a failure is printed, not raised."""
    try:
        saved = conv.save(Path(path).expanduser())
    except (OSError, NbAudioError) as exc:
        print(client.redact(one_line(f"could not save the conversation: {exc}")), file=sys.stderr)
        return None
    print(f"saved {len(conv)} messages to {saved}")
    return saved
