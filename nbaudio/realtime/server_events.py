"""The fields of a Realtime server event that this client reads (the turn record, RealtimeEvent's
shortcuts, the live widget), checked in one place as the event arrives.

An event whose fields are not what the protocol promises (an item that is a string, a committed
buffer without its item_id, audio that is not base64) is an APIResponseError naming the field,
raised by the call that received it (`events()`, `wait_for()`, `update_session()`). It is not
recorded, and the session goes on, as after an `error` event: call events() again for the next
one. Fields nothing here reads are left as the server sent them (`event.data`).
"""

from __future__ import annotations

import re
from typing import Any

from .._wire.fields import Place, base64_field, meta_number, object_field, objects_field, text_field

__all__ = ["checked_event"]

# Fields any server event may carry, by the type the GA protocol gives them (null counts as absent).
_STRINGS = ("event_id", "item_id", "previous_item_id", "response_id", "delta", "transcript", "text")
_OBJECTS = ("item", "response", "session")
_MILLISECONDS = ("audio_start_ms", "audio_end_ms")
_ITEM_STRINGS = ("id", "role", "status")
_PART_STRINGS = ("type", "text", "transcript")
# An event type is named in messages when it looks like one (and so cannot be a piece of a key).
_EVENT_TYPE = re.compile(r"[a-z_.]{1,64}")


def checked_event(data: dict[str, Any]) -> bytes:
    """Check an event (a JSON object with a string `type`); return the pcm16 audio it carries
    (a `response.output_audio.delta`'s), b"" for any other event."""
    kind = data["type"]
    place = Place(f"the Realtime event {kind}" if _EVENT_TYPE.fullmatch(kind) else "a Realtime event")
    for key in _STRINGS:
        text_field(data, key, place)
    for key in _OBJECTS:
        object_field(data, key, place)
    for key in _MILLISECONDS:
        value = data.get(key)
        ms = None if isinstance(value, str) else meta_number(value)
        if value is not None and (ms is None or ms < 0):
            raise place.at(key).wrong(value, "a number of milliseconds")
    if kind == "input_audio_buffer.committed" and not data.get("item_id"):
        raise place.at("item_id").wrong(data.get("item_id"), "the id of the item the audio became")
    if data.get("item") is not None:
        _check_item(data["item"], place.at("item"))
    response = object_field(data, "response", place)
    for key in ("id", "status"):
        text_field(response, key, place.at("response"))
    object_field(response, "usage", place.at("response"))
    for item, at in objects_field(response, "output", place.at("response")):
        _check_item(item, at)
    if kind == "response.output_audio.delta":
        return base64_field(data, "delta", place)
    return b""


def _check_item(item: dict[str, Any], place: Place) -> None:
    for key in _ITEM_STRINGS:
        text_field(item, key, place)
    for part, at in objects_field(item, "content", place):
        for key in _PART_STRINGS:
            text_field(part, key, at)
