"""A transcript diff's view: the audio, the scores, and the words with the errors marked.

Each word with a time is a `.nbaudio-ts[data-t]`, so player.js plays the audio from there when
scripts run (a missed word plays from where it should have been); its tooltip says what was said
and heard. The marks do not rest on colour alone: a said word that was not heard is struck
through, a heard word that was not said is underlined, a substitution shows both.
"""

from __future__ import annotations

from .._wire.text import format_clock
from ..transcript import DiffWord, TranscriptDiff
from .clip_html import clip_block
from .markup import MUTED, escape, wrap

__all__ = ["DIFF_STYLES", "MAX_WORDS", "diff_body", "diff_html", "diff_words_html", "legend_html"]

# Beyond this many words the view stops (a long recording's diff would be megabytes); the data holds all.
MAX_WORDS = 3000
DIFF_STYLES = {
    "substitute": "background:#fde7c8;border-radius:3px;padding:0 2px",
    "delete": "background:#fbd5d5;border-radius:3px;padding:0 2px",
    "insert": "background:#d6e6fb;border-radius:3px;padding:0 2px",
}
_TITLES = {"equal": "heard as said", "substitute": "said {ref!r}, heard {hyp!r}", "delete": "said {ref!r}, not heard",
           "insert": "heard {hyp!r}, not said"}


def _label(w: DiffWord) -> str:
    if w.op == "equal":
        return escape(w.hyp)
    if w.op == "substitute":
        return f"<s>{escape(w.ref)}</s>→<u>{escape(w.hyp)}</u>"
    if w.op == "delete":
        return f"<s>{escape(w.ref)}</s>"
    return f"<u>{escape(w.hyp)}</u>"


def _word(w: DiffWord, hours: bool, playable: bool) -> str:
    title = _TITLES[w.op].format(ref=w.ref, hyp=w.hyp)
    style = DIFF_STYLES.get(w.op, "")
    attrs = f' class="nbaudio-diff-{w.op}"'
    if w.start is not None:
        title += f" · {format_clock(w.start, hours=hours)}"
        if playable:
            attrs = f' class="nbaudio-ts nbaudio-diff-{w.op}" data-t="{max(0.0, w.start - 0.05):.3f}"'
            # every word plays: player.js's dotted underline would blur the underline that marks an added word
            style = ";".join(filter(None, [style, "text-decoration:none"]))
    style_attr = f' style="{style}"' if style else ""
    return f'<span{attrs}{style_attr} title="{escape(title)}">{_label(w)}</span>'


def legend_html() -> str:
    return (f'<div style="{MUTED}">'
            f'<span style="{DIFF_STYLES["substitute"]}"><s>said</s>→<u>heard</u></span> substituted · '
            f'<span style="{DIFF_STYLES["delete"]}"><s>said</s></span> missed · '
            f'<span style="{DIFF_STYLES["insert"]}"><u>heard</u></span> added</div>')


def diff_words_html(words: list[DiffWord], *, playable: bool) -> str:
    """The words with their marks, as one wrapped paragraph (at most MAX_WORDS of them)."""
    hours = any(w.end is not None and w.end >= 3600 for w in words)
    shown = " ".join(_word(w, hours, playable) for w in words[:MAX_WORDS])
    more = (f' <span style="{MUTED}">… {len(words) - MAX_WORDS} more words (diff.words or '
            "diff.to_dataframe() hold all)</span>" if len(words) > MAX_WORDS else "")
    return f'<div class="nbaudio-diff" style="line-height:1.9">{shown}{more}</div>'


def _scores(d: TranscriptDiff) -> str:
    c = d.counts
    head = (f"<b>{escape(d.hypothesis_label)}</b> against {escape(d.reference_label)}: "
            f"<b>WER {d.wer:.1%}</b> · CER {d.cer:.1%}")
    tail = (f"{c['substitutions']} substituted, {c['deletions']} missed, {c['insertions']} added of "
            f"{c['reference']} reference words · {d.alignment.normalizer}")
    return f'<div>{head}</div><div style="{MUTED}">{escape(tail)}</div>'


def diff_body(d: TranscriptDiff, notes: list[str], *, audio: bool = True) -> str:
    """The diff's parts (audio when it has some and `audio`, scores, legend, words) without the wrapper."""
    parts = []
    playable = False
    if audio and d.audio is not None:
        block = clip_block(d.audio, notes=notes)
        parts.append(block)
        playable = "<audio" in block
    parts.append(_scores(d))
    parts.append(legend_html())
    parts.append(diff_words_html(d.words, playable=playable))
    return "".join(parts)


def diff_html(d: TranscriptDiff, notes: list[str]) -> str:
    """The whole output of a TranscriptDiff; notes for the plain-text output go to `notes`."""
    return wrap(diff_body(d, notes), "diff", unit=d.audio is not None)

