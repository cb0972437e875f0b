"""The first checks of a client's message, the same in both kinds of session (session.py for a
conversation, transcription.py for a transcription session): a JSON object, its `event_id`, a
`type` the session takes, and no field that type does not have. Each refusal is a
RealtimeEventError the session answers with an error event (naming the event_id where known)."""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

from ...errors import RealtimeEventError
from .. import untrusted_json
from ..untrusted_json import UntrustedJSONError
from .config import require

__all__ = ["decode_event", "event_type"]


def decode_event(raw: str | bytes) -> tuple[dict[str, Any], str | None]:
    """The message as an event (a JSON object) and its event_id (None when it has none that is a string)."""
    try:
        event = untrusted_json.loads(raw)
    except UntrustedJSONError as exc:
        raise RealtimeEventError(f"The message {exc}; send each event as a JSON object.",
                                 code="invalid_json") from None
    if not isinstance(event, dict):
        raise RealtimeEventError("An event is a JSON object with a 'type'.", param="type")
    return event, event.get("event_id") if isinstance(event.get("event_id"), str) else None


def event_type(event: dict[str, Any], fields: Mapping[str, Set[str]], not_taken: str) -> str:
    """The event's type, one of `fields` (each type's fields besides `type` and `event_id`), once
    its fields are all that type's; `not_taken` ends the refusal of any other type (what the
    session takes)."""
    kind = event.get("type")
    if not isinstance(kind, str) or kind not in fields:  # a list or object is no name (nor hashable)
        raise RealtimeEventError(f"Invalid value for 'type': {str(kind)[:80]!r} {not_taken}", param="type",
                                 code="invalid_event")
    require(event, "event", set(fields[kind]) | {"type", "event_id"})
    return kind
