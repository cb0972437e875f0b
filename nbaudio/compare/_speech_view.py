"""How a SpeechComparison shows: text/plain always (a caption and one line per cell), and HTML with
every value escaped: a table whose columns are the voices and whose rows are the systems and
speeds; each cell its own player unit (a small waveform that seeks its player), its figures, and
what the transcription model heard with its WER. A cell still running says so."""

from __future__ import annotations

from typing import Any

from .._wire.text import human_bytes, shorten
from ..display.clip_html import clip_block
from ..display.markup import MUTED, escape, wrap
from ..display.player import codec_label

# A SpeechComparison (_speech imports this module).
SpeechComparison = Any
# label -> (a finished cell's HTML, the sentences its plain text should carry too)
Rendered = dict[str, tuple[str, list[str]]]

__all__ = ["CELL_WAVEFORM_PX", "Rendered", "render_cell", "speech_bundle", "speech_html", "speech_text"]

# A cell's waveform: small, so that three voices fit side by side and the notebook stays small.
CELL_WAVEFORM_PX = (240, 44)
_TD = "text-align:left;padding:4px 10px 6px 0;vertical-align:top"
_CELL = "max-width:260px;min-width:180px"
_WARN = "color:#b45309"
_PLAYER_FOLLOWS = "player and waveform when the last clips are in"


def _secs(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} s"


def _figures(spoken: Any) -> str:
    clip = spoken.clip
    bits = [f"{clip.duration:.2f} s of audio", f"first audio {_secs(spoken.ttfb)}", f"whole {_secs(spoken.seconds)}",
            f"{codec_label(clip.format)} {human_bytes(clip.nbytes)}"]
    if clip.cost is not None:
        bits.append(f"cost {clip.cost}")
    return " · ".join(bits)


def _heard(spoken: Any) -> str:
    if spoken.transcribe_error:
        return f"not transcribed: {spoken.transcribe_error}"
    if spoken.transcript is None:
        return ""
    return f"WER {spoken.wer:.0%} · heard: {spoken.transcript.text.strip()}"


def render_cell(grid: SpeechComparison, index: int, *, player: bool = True) -> tuple[str, list[str]]:
    """The HTML of a finished cell (its own player unit) and the notes its plain text needs; without
    `player`, its figures and what was heard only, with a line saying the player follows (what a
    live grid shows while other calls run: the player's compact copy and waveform cost CPU the
    calls need)."""
    run, notes = grid.runs[index], []
    if run is None:
        return f'<div style="{MUTED};font-style:italic">waiting…</div>', notes
    if not run.ok:
        return f'<div style="{_WARN}">{escape(run.error)}</div>', notes
    spoken = run.result
    if player:
        block = clip_block(spoken.clip, notes=notes, waveform_px=CELL_WAVEFORM_PX, caption=False)
    else:
        block = f'<div style="{MUTED};font-style:italic">{_PLAYER_FOLLOWS}</div>'
    heard = _heard(spoken)
    style = _WARN if spoken.transcribe_error else ""
    body = (f'{block}<div style="{MUTED}">{escape(_figures(spoken))}</div>'
            + (f'<div style="font-size:0.9em;{style}">{escape(heard)}</div>' if heard else ""))
    return f'<div class="nbaudio-unit" style="{_CELL}">{body}</div>', notes


def _caption(grid: SpeechComparison) -> str:
    done = sum(r is not None for r in grid.runs)
    state = "" if grid.finished else f" ({done} of {len(grid.runs)} done, the rest running)"
    at_once = "one at a time" if grid.concurrency == 1 else "several at once (times include their sharing)"
    out = (f"{len(grid.cells)} clips of the same text{state}; times from sending to the first audio bytes and to "
           f"the whole clip, run {at_once}")
    if grid.transcribed_by is not None:
        out += f"; heard by {grid.transcribed_by}, WER against the text after {grid.normalizer}"
    return out


def _line(row: dict[str, Any]) -> str:
    if row["duration"] is None:
        return f"{row['cell']}: {row['error'] or 'running'}"
    out = (f"{row['cell']}: {row['duration']:.2f} s of audio, first audio {_secs(row['ttfb'])}, "
           f"whole {_secs(row['seconds'])}, {codec_label(row['format'])} {human_bytes(row['bytes'])}")
    if row["cost"] is not None:
        out += f", cost {row['cost']}"
    if row["wer"] is not None:
        out += f"; WER {row['wer']:.0%}, heard: {shorten(row['heard'] or '', 120)}"
    elif row["error"]:
        out += f"; not transcribed: {row['error']}"
    return out


def speech_text(grid: SpeechComparison) -> str:
    lines = [_caption(grid), f"text: {shorten(grid.text, 200)}"]
    return "\n".join(lines + [_line(r) for r in grid.rows()])


def _grid_table(grid: SpeechComparison, rendered: Rendered) -> str:
    voices = list(dict.fromkeys(c.voice for c in grid.cells))
    rows: dict[tuple[str, Any], dict[Any, int]] = {}
    for i, c in enumerate(grid.cells):
        rows.setdefault((c.system.label, c.speed), {})[c.voice] = i
    name_system = len({c.system.label for c in grid.cells}) > 1 or any(c.system.model for c in grid.cells)
    head = "".join(f'<th style="{_TD}">{escape(v if v is not None else "voice: default")}</th>' for v in voices)
    body = []
    for (system, speed), by_voice in rows.items():
        name = " · ".join(([system] if name_system else []) + ([f"{speed:g}×"] if speed is not None else []))
        cells = []
        for v in voices:
            i = by_voice.get(v)
            html = "" if i is None else rendered[grid.cells[i].label][0]
            cells.append(f'<td style="{_TD}">{html}</td>')
        body.append(f'<tr><th style="{_TD};white-space:nowrap">{escape(name)}</th>{"".join(cells)}</tr>')
    return (f'<div style="overflow-x:auto"><table style="border-collapse:collapse;margin:4px 0">'
            f'<thead><tr><th style="{_TD}"></th>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>')


def speech_html(grid: SpeechComparison, rendered: Rendered) -> str:
    parts = [f'<div style="{MUTED}">{escape(_caption(grid))}</div>',
             f'<div style="margin:4px 0"><b>text</b>: {escape(grid.text)}</div>', _grid_table(grid, rendered)]
    return wrap("".join(parts), "speech-grid", unit=False)


def speech_bundle(grid: SpeechComparison, include: Any = None, exclude: Any = None, *,
                  rendered: Rendered | None = None) -> dict[str, str]:
    """text/plain and (unless left out) text/html; `rendered` holds cells rendered before (the live
    grid's), the others are rendered now."""
    rendered = dict(rendered or {})
    for i, c in enumerate(grid.cells):
        if c.label not in rendered or grid.runs[i] is None:
            rendered[c.label] = render_cell(grid, i)
    bundle: dict[str, str] = {}
    if (include is None or "text/html" in include) and not (exclude is not None and "text/html" in exclude):
        bundle["text/html"] = speech_html(grid, rendered)
    notes = [n for html_, cell_notes in rendered.values() for n in cell_notes]
    bundle["text/plain"] = speech_text(grid) + ("\n" + "\n".join(notes) if notes else "")
    return bundle
