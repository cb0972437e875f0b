"""A Conversation on disk: the JSON file `Conversation.save` writes and `Conversation.load` reads,
with the user's recordings and the replies' audio as files beside it.

A saved conversation is shared like any file, and what `load` reads goes to a server with the
next `chat()`, so nothing in it is trusted: the JSON must have the shape `save` writes, and the
audio files it names must be plain names in its own folder (no other folder, no `..`, no absolute
path, no link leading out) holding audio that decodes. Anything else is an InvalidInputError
naming the file, the turn and the field.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import os
import warnings
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import Any

from .._wire.fields import parse_json
from .._wire.user_files import os_reason, read_regular_file, shown_path, user_path
from ..audio import AudioClip
from ..errors import APIResponseError, InvalidInputError
from ._reply import ChatReply, Usage, input_audio_part

__all__ = ["AUDIO_NOT_SAVED", "FILE_VERSION", "conversation_path", "load_turns", "save_turns"]

FILE_VERSION = 1  # the "nbaudio_conversation" field of the files this version writes and reads
# Sent in place of a recording that a saved conversation does not have, so the turn stays valid.
AUDIO_NOT_SAVED = "[the user's audio was not saved with this conversation]"
_OMITTED = "<omitted>"  # what files of nbaudio 0.1 held in place of a recording
# A saved reply's fields and the types each may have (None is always allowed).
_REPLY_FIELDS: dict[str, tuple[type, ...]] = {"text": (str,), "transcript": (str,), "audio_id": (str,),
                                              "expires_at": (int, float), "audio_bridged": (bool,),
                                              "usage": (dict,), "audio_file": (str,)}


def conversation_path(path: Any) -> Path:
    """The JSON file of a conversation saved or loaded as `path`: `.json` is added unless the name
    ends with it, so dotted names stay apart (`lesson.1` -> `lesson.1.json`, not `lesson.json`)."""
    p = user_path(path, "path")
    if p.name in ("", ".", ".."):
        raise InvalidInputError(f"path={shown_path(p)} names a folder; give a file name such as 'lesson.json'",
                                param="path")
    return p if p.name.lower().endswith(".json") else p.with_name(p.name + ".json")


# ---- saving ---------------------------------------------------------------------------------


def save_turns(turns: Iterable[tuple[dict[str, Any], ChatReply | None]], path: Any, *, audio: bool,
               transcribed: Collection[int] = ()) -> Path:
    """Write (message, reply) turns as a conversation file (see Conversation.save); the path written.
    `transcribed`: the indices of user turns whose text is the transcript of their audio."""
    p = conversation_path(path)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        records = [_saved_turn(i, m, reply, p, audio) for i, (m, reply) in enumerate(turns)]
        for i in transcribed:
            records[i]["transcribed"] = True
        p.write_text(json.dumps({"nbaudio_conversation": FILE_VERSION, "turns": records}, indent=2,
                                ensure_ascii=False), encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"could not save the conversation as {shown_path(p)}: {os_reason(exc)}",
                                param="path") from None
    return p


def _saved_turn(i: int, m: dict[str, Any], reply: ChatReply | None, p: Path, audio: bool) -> dict[str, Any]:
    rec: dict[str, Any] = {"message": _saved_message(m, p.with_name(f"{p.stem}_{i:03d}"), audio)}
    if reply is not None:
        rec["reply"] = {"text": reply.text, "transcript": reply.transcript, "audio_id": reply.audio_id,
                        "expires_at": reply.expires_at, "audio_bridged": reply.audio_bridged,
                        "usage": reply.usage.raw if reply.usage else None}
        if audio and reply.audio is not None:
            fmt = reply.audio.format
            ext = "wav" if fmt == "pcm" else ("ogg" if fmt == "opus" else fmt)
            rec["reply"]["audio_file"] = reply.audio.save(p.with_name(f"{p.stem}_{i:03d}.{ext}")).name
    return rec


def _saved_message(m: dict[str, Any], stem: Path, audio: bool) -> dict[str, Any]:
    """The message as saved: each input_audio part's bytes go to `<stem>_inK.<format>` (not inline
    base64, so the JSON stays small), or nowhere with `audio=False`."""
    m = copy.deepcopy(m)
    if not isinstance(m.get("content"), list):
        return m
    for k, part in enumerate(m["content"]):
        if not (isinstance(part, dict) and part.get("type") == "input_audio"):
            continue
        fmt = str(part["input_audio"].get("format") or "wav")
        saved: dict[str, Any] = {"format": fmt}
        if audio:
            try:
                data = base64.b64decode(part["input_audio"]["data"], validate=True)
            except (ValueError, TypeError, KeyError):
                raise InvalidInputError(f"{stem.name}: input_audio part {k} has no valid base64 data to save") from None
            f = stem.with_name(f"{stem.name}_in{k}.{fmt if fmt.isalnum() else 'bin'}")
            f.write_bytes(data)
            saved["file"] = f.name
        part["input_audio"] = saved
    return m


# ---- loading --------------------------------------------------------------------------------


def load_turns(path: Any, add: Callable[[dict[str, Any], ChatReply | None, bool], None]) -> None:
    """Read a conversation file and `add(message, reply, transcribed)` each turn in order (see
    Conversation.load)."""
    p = conversation_path(path)
    raw = read_regular_file(p, "conversation file", "path")
    try:
        data = parse_json(raw)
    except ValueError as exc:
        raise _bad(p, f"it is not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("turns"), list):
        raise _bad(p, "it is not a saved conversation: expected a JSON object with a list of \"turns\"")
    version = data.get("nbaudio_conversation", FILE_VERSION)
    if version != FILE_VERSION or isinstance(version, bool):
        raise _bad(p, f"it is a conversation file of version {version!r}; this nbaudio reads version {FILE_VERSION}")
    not_saved = []
    users = 0
    for n, rec in enumerate(data["turns"], 1):
        where = f"turn {n}"
        if not isinstance(rec, dict) or not isinstance(rec.get("message"), dict):
            raise _bad(p, f"{where} has no message (each turn is an object with a \"message\" object)")
        message, lost = _loaded_message(rec["message"], p, where)
        users += message.get("role") == "user"
        if lost:
            not_saved.append(str(users))
        reply = _loaded_reply(rec.get("reply"), p, where)
        try:
            add(message, reply, rec.get("transcribed") is True and not lost)
        except InvalidInputError as exc:
            raise _bad(p, f"{where}: {exc.message}") from None
    if not_saved:
        warnings.warn(f"{p.name}: the user's audio was not saved for turn {', '.join(not_saved)} (saved with "
                      "audio=False, or the file beside the JSON is missing); each such recording is sent as "
                      f"the note {AUDIO_NOT_SAVED!r}", UserWarning, stacklevel=3)


def _bad(p: Path, what: str) -> InvalidInputError:
    return InvalidInputError(f"cannot load the conversation {shown_path(p)}: {what}", param="path")


def _loaded_message(m: dict[str, Any], p: Path, where: str) -> tuple[dict[str, Any], bool]:
    """(the message with its recordings read back as input_audio parts, whether any was not there)."""
    if not isinstance(m.get("content"), list):
        return m, False
    lost = False
    parts = []
    for k, part in enumerate(m["content"]):
        if isinstance(part, dict) and part.get("type") == "input_audio":
            part = _loaded_audio_part(part.get("input_audio"), p, f"{where} message.content[{k}].input_audio")
            if part is None:
                part, lost = {"type": "text", "text": AUDIO_NOT_SAVED}, True
        parts.append(part)
    return {**m, "content": parts}, lost


def _loaded_audio_part(saved: Any, p: Path, field: str) -> dict[str, Any] | None:
    """The input_audio part of a saved recording (from its file, or inline base64), None if not saved."""
    if saved is None:
        saved = {}
    if not isinstance(saved, dict):
        raise _bad(p, f"{field} must be an object, not {type(saved).__name__}")
    if saved.get("file") is not None:
        f = _beside(p, saved["file"], f"{field}.file")
        if f is not None:
            return input_audio_part(_saved_clip(p, f, f"{field}.file"))
    data = saved.get("data")
    if data in (None, "", _OMITTED):
        return None
    if not isinstance(data, str):
        raise _bad(p, f"{field}.data must be base64 text, not {type(data).__name__}")
    try:
        clip = AudioClip(base64.b64decode(data, validate=True), saved.get("format") if isinstance(
            saved.get("format"), str) else None).validate()
    except ValueError as exc:  # binascii.Error, and AudioDecodeError (an InvalidInputError), are ValueErrors
        raise _bad(p, f"{field}.data is not base64 audio that decodes ({exc})") from None
    return input_audio_part(clip)


def _loaded_reply(r: Any, p: Path, where: str) -> ChatReply | None:
    if not r:
        return None
    if not isinstance(r, dict):
        raise _bad(p, f"{where} reply must be an object, not {type(r).__name__}")
    for key, types in _REPLY_FIELDS.items():
        value = r.get(key)
        if value is not None and (not isinstance(value, types) or (bool not in types and isinstance(value, bool))):
            raise _bad(p, f"{where} reply.{key} is {type(value).__name__}; expected "
                          f"{' or '.join(t.__name__ for t in types)}")
    expires = r.get("expires_at")
    if isinstance(expires, float) and not math.isfinite(expires):  # JSON's ints are always finite
        raise _bad(p, f"{where} reply.expires_at is not a finite time")
    clip = None
    if r.get("audio_file") is not None:
        f = _beside(p, r["audio_file"], f"{where} reply.audio_file")
        clip = _saved_clip(p, f, f"{where} reply.audio_file") if f is not None else None
    try:
        usage = Usage.from_dict(r.get("usage"))
    except (ValueError, TypeError, AttributeError, APIResponseError) as exc:  # counts that are not numbers
        raise _bad(p, f"{where} reply.usage is not token counts ({exc})") from None
    return ChatReply(content=None if r.get("audio_id") else r.get("text"), transcript=r.get("transcript"),
                     audio=clip, audio_id=r.get("audio_id"), expires_at=r.get("expires_at"), usage=usage,
                     audio_bridged=bool(r.get("audio_bridged")))


def _beside(p: Path, name: Any, field: str) -> Path | None:
    """The file `name` in the conversation's folder, None if it is not there; a name that is not a
    plain file name, or a link that leads out of the folder, is refused."""
    plain = (isinstance(name, str) and name not in ("", ".", "..") and "\0" not in name
             and not any(sep in name for sep in ("/", "\\", os.sep, os.altsep or "/")))
    if not plain:
        raise _bad(p, f"{field} is {name!r}: a saved conversation names its audio files by plain file name, beside "
                      "the JSON file (no folders, no '..', no absolute paths)")
    f = p.parent / name
    if not os.path.lexists(f):
        return None
    if Path(os.path.realpath(f)).parent != Path(os.path.realpath(p.parent)):
        raise _bad(p, f"{field} {name!r} is a link to a file outside the conversation's folder")
    return f


def _saved_clip(p: Path, f: Path, field: str) -> AudioClip:
    try:
        return AudioClip.from_file(f).validate()
    except InvalidInputError as exc:
        raise _bad(p, f"{field} {f.name!r} is not audio that decodes: {exc.message}") from None
