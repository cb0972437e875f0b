"""The entry point of every `_repr_mimebundle_`: an object's notebook output as a mimebundle."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from typing import Any

from ..audio import AudioClip
from ..chat import ChatReply, Conversation
from ..errors import InvalidInputError
from ..transcript import Transcript, TranscriptDiff
from .chat_html import conversation_html, reply_html
from .clip_html import clip_html
from .diff_html import diff_html
from .settings import options
from .transcript_html import transcript_html
from .waveform import labelled_png, segment_spans

__all__ = ["mimebundle"]

_RENDERERS: dict[type, Callable[[Any, list[str]], str]] = {
    AudioClip: clip_html, Transcript: transcript_html, ChatReply: reply_html, Conversation: conversation_html,
    TranscriptDiff: diff_html,
}


def _wants(mime: str, include: Iterable[str] | None, exclude: Iterable[str] | None) -> bool:
    return (include is None or mime in include) and not (exclude is not None and mime in exclude)


def mimebundle(obj: Any, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None, *,
               waveforms: bool = False) -> dict[str, str]:
    """The notebook output of an nbaudio object: `text/html` plus `text/plain` (always).
    `waveforms`: a Conversation shows a waveform under each player (the live record), not only
    players (a long dialogue stays compact).

    The only side effect is the one the size cap asks for: a player above
    `options.max_inline_bytes` is written under `options.media_dir` (once; same bytes, same name).
    With `text/html` excluded, a clip or transcript with audio gives its waveform as `image/png`.
    """
    render = next((fn for cls, fn in _RENDERERS.items() if isinstance(obj, cls)), None)
    if render is None:
        raise InvalidInputError(f"nbaudio.display has no view for {type(obj).__name__}")
    notes: list[str] = []
    bundle: dict[str, str] = {}
    if _wants("text/html", include, exclude):
        bundle["text/html"] = (conversation_html(obj, notes, waveforms=True) if waveforms and
                               isinstance(obj, Conversation) else render(obj, notes))
    elif _wants("image/png", include, exclude):
        clip = obj if isinstance(obj, AudioClip) else getattr(obj, "audio", None)
        if isinstance(clip, AudioClip):
            segs = obj.segments if isinstance(obj, Transcript) and obj.segments else None
            spans = tuple(segment_spans(segs)) if segs else None
            size, key = options.waveform_px, ("labelled waveform", spans, options.waveform_px, options.color)
            png = clip.cached(key, lambda: labelled_png(clip, spans, size))  # no HTML: labels in the picture
            bundle["image/png"] = base64.b64encode(png).decode("ascii")
    plain = str(obj) if isinstance(obj, TranscriptDiff) else repr(obj)  # a diff's words are its point
    if notes:
        plain += "\n" + "\n".join(notes)
    bundle["text/plain"] = plain
    return bundle
