"""Chat views: a reply (text, tool calls, spoken audio, usage) and a whole conversation, turn by turn."""

from __future__ import annotations

from typing import Any

from ..audio import AudioClip
from ..chat import ChatReply, Conversation, message_text
from ..errors import AudioDecodeError
from .clip_html import clip_block
from .markup import MUTED, escape, role_heading, role_style, wrap

__all__ = ["conversation_html", "reply_html"]


def _tool_calls_html(calls: list[dict[str, Any]] | None) -> list[str]:
    lines = []
    for call in calls or []:
        fn = call.get("function") or {}
        lines.append(f'<pre style="margin:2px 0;{MUTED}">'
                     f'tool call {escape(fn.get("name", ""))}({escape(fn.get("arguments", ""))})</pre>')
    return lines


def _tool_runs_html(runs: list[Any]) -> list[str]:
    """Each function the model called on the way: its arguments and what it gave back."""
    return [f'<pre style="margin:2px 0;{MUTED};white-space:pre-wrap">ran {escape(str(run))}</pre>' for run in runs]


def _reply_body(reply: ChatReply, notes: list[str], *, waveform: bool = True) -> str:
    parts = []
    details = []
    if reply.model:
        details.append(reply.model)
    if reply.finish_reason and reply.finish_reason != "stop":
        details.append(f"finish: {reply.finish_reason}")
    parts.append(role_heading("assistant", details))
    if reply.text:
        spoken = not reply.content and bool(reply.transcript)
        label = f'<span style="{MUTED}" title="transcript of the audio">(spoken) </span>' if spoken else ""
        parts.append(f'<div style="white-space:pre-wrap">{label}{escape(reply.text)}</div>')
    if reply.refusal and reply.content:
        parts.append(f'<div style="color:#e45756">refused: {escape(reply.refusal)}</div>')
    parts.extend(_tool_runs_html(reply.tool_runs))
    parts.extend(_tool_calls_html(reply.tool_calls))
    if reply.audio is not None:
        parts.append(clip_block(reply.audio, waveform=waveform, notes=notes))
    meta = []
    if reply.usage is not None:
        meta.append(f"tokens: {reply.usage}")
    if reply.cost is not None:
        meta.append(f"cost: {reply.cost}")
    if reply.audio_id:
        meta.append(f"audio id {reply.audio_id}")
    if meta:
        parts.append(f'<div style="{MUTED}">{escape(" · ".join(meta))}</div>')
    return "".join(parts)


def _turn(role: str, body: str) -> str:
    """One turn as a player unit: the player script wires its own player and timestamps."""
    return f'<div class="nbaudio-unit" style="{role_style(role)}">{body}</div>'


def reply_html(reply: ChatReply, notes: list[str]) -> str:
    """The whole output of a ChatReply; notes for the plain-text output go to `notes`."""
    return wrap(_turn("assistant", _reply_body(reply, notes)), "chat", unit=False)


def _input_audio_html(part: dict[str, Any], notes: list[str], waveform: bool = False) -> str:
    data = part.get("data")
    if not isinstance(data, str) or not data or data == "<omitted>":
        return f'<div style="{MUTED}">(audio {escape(part.get("format", ""))} not kept)</div>'
    try:
        clip = AudioClip.from_base64(data, part.get("format"))
        return clip_block(clip, waveform=waveform, notes=notes)
    except AudioDecodeError as exc:
        return (f'<div style="{MUTED}">(audio {escape(part.get("format", ""))} could not be decoded: '
                f"{escape(exc)})</div>")


def _message_html(message: dict[str, Any], notes: list[str], waveform: bool = False) -> str:
    role = str(message.get("role", "?"))
    parts = [role_heading(role)]
    text = message_text(message)
    if text:
        italic = ";font-style:italic;color:#888" if role in ("system", "developer") else ""
        parts.append(f'<div style="white-space:pre-wrap{italic}">{escape(text)}</div>')
    content = message.get("content")
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "input_audio":
                parts.append(_input_audio_html(part.get("input_audio") or {}, notes, waveform))
    if message.get("audio") and not text:
        parts.append(f'<div style="{MUTED}">audio {escape(message["audio"].get("id", ""))}</div>')
    parts.extend(_tool_calls_html(message.get("tool_calls")))
    return _turn(role, "".join(parts))


def conversation_html(conv: Conversation, notes: list[str], *, waveforms: bool = False) -> str:
    """The whole output of a Conversation; notes for the plain-text output go to `notes`. A long
    dialogue stays compact (players without waveforms) unless `waveforms` (the live record)."""
    parts = []
    for message, reply in conv.turns():
        if reply is not None:
            parts.append(_turn("assistant", _reply_body(reply, notes, waveform=waveforms)))
        else:
            parts.append(_message_html(message, notes, waveforms))
    if not parts:
        parts.append(f'<div style="{MUTED}">(empty conversation)</div>')
    return wrap("".join(parts), "conversation", unit=False)
