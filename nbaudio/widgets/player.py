"""`Player`: play/pause, speed, a cursor over the waveform and a segment list that seeks, driven
from Python (ipywidgets; the browser side, `AudioElement`, is an anywidget whose ES module is player.js).

    from nbaudio.widgets import Player
    player = Player(clip, transcript)     # play/pause, speed, a cursor over the waveform, segments
    player.seek(12.5); player.play()
    player.position, player.current_segment   # follow playback from Python

The widget needs a live kernel; its saved view (nbaudio.widgets.saved_view: the clip and transcript
as nbaudio.display shows them) stands in for it in a saved notebook. State lives in traitlets, so
a Player can be built, driven and checked without a browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anywidget
import ipywidgets as widgets
import traitlets

from .._wire.text import format_clock, one_line, shorten
from ..audio import AudioClip, as_audio_clip
from ..display.player import player_clip
from ..display.settings import options
from ..display.waveform import WAVE_LEFT, WAVE_RIGHT, time_ticks
from ..display.waveform_image import waveform_png
from ..errors import InvalidInputError
from ..transcript import Segment, Transcript
from .esm import widget_module
from .saved_view import SavedView, saved_view_head, show_widget

__all__ = ["AudioElement", "Player"]

_SPEEDS = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)
SEGMENT_ROWS = 6  # the segment list shows at most this many rows, then scrolls


class AudioElement(anywidget.AnyWidget):
    """An <audio> element with its waveform; `position` and `playing` come back from the browser."""

    _esm = widget_module("player.js")
    audio = traitlets.Bytes(b"").tag(sync=True)
    mime = traitlets.Unicode("audio/ogg").tag(sync=True)
    waveform = traitlets.Bytes(b"").tag(sync=True)
    width = traitlets.Int(720).tag(sync=True)
    duration = traitlets.Float(0.0).tag(sync=True)
    x0 = traitlets.Float(0.0).tag(sync=True)  # where the time axis starts/ends in the image (fractions)
    x1 = traitlets.Float(1.0).tag(sync=True)
    # The time labels under the image: [[fraction of the time axis, label], ...] (text, not pixels in the image).
    ticks = traitlets.List([]).tag(sync=True)
    position = traitlets.Float(0.0).tag(sync=True)  # seconds
    playing = traitlets.Bool(False).tag(sync=True)
    rate = traitlets.Float(1.0).tag(sync=True)
    saved_view_id = traitlets.Unicode("").tag(sync=True)  # the page hides this saved view while the widget shows

    def seek(self, seconds: float) -> None:
        """Move playback to `seconds` (clamped to the clip)."""
        t = min(max(0.0, float(seconds)), self.duration)
        self.position = t
        self.send({"type": "seek", "time": t})


def _segment_label(seg: Segment, hours: bool) -> str:
    who = f"{seg.speaker}: " if seg.speaker else ""
    return shorten(f"{format_clock(seg.start, decimals=1, hours=hours)}  {who}{one_line(seg.text)}", 90)


class Player(widgets.VBox):
    """Play/pause, playback speed, a cursor over the waveform, and a segment list that seeks.

    `Player(clip)`, `Player(clip, transcript)`, or `Player(transcript)` when the transcript
    knows its audio. `update(clip=..., transcript=...)` swaps either in place.
    """

    def __init__(self, clip: Any, transcript: Transcript | None = None, *,
                 speeds: Sequence[float] = _SPEEDS, **kwargs: Any) -> None:
        if not speeds or any(not (0.25 <= float(s) <= 4.0) for s in speeds):
            raise InvalidInputError(f"speeds must be playback rates between 0.25 and 4, not {speeds!r}")
        self.saved_view = SavedView(self._saved_content)
        self.element = AudioElement(saved_view_id=self.saved_view.view_id)
        self.play_button = widgets.ToggleButton(value=False, description="Play", icon="play",
                                                tooltip="play / pause", layout=widgets.Layout(width="90px"))
        speed_options = [(f"{float(s):g}×", float(s)) for s in speeds]
        if 1.0 not in [v for _, v in speed_options]:
            speed_options.append(("1×", 1.0))
            speed_options.sort(key=lambda o: o[1])
        self.speed = widgets.Dropdown(options=speed_options, value=1.0, description="speed",
                                      layout=widgets.Layout(width="160px"),
                                      style={"description_width": "initial"})
        self.time_label = widgets.Label(value="")
        # width "auto", not "100%": the select's own border made a 100% one 2 px wider than the box.
        self.segment_list = widgets.Select(options=[], rows=SEGMENT_ROWS,
                                           layout=widgets.Layout(width="auto", max_width="100%"))
        self.clip: AudioClip | None = None
        self.transcript: Transcript | None = None
        self._segments: list[Segment] = []
        self._syncing = False  # set while the kernel moves the selection, so it does not seek

        widgets.link((self.play_button, "value"), (self.element, "playing"))
        widgets.link((self.speed, "value"), (self.element, "rate"))
        self.play_button.observe(self._on_playing, names="value")
        self.element.observe(self._on_position, names="position")
        self.segment_list.observe(self._on_select, names="value")
        controls = widgets.HBox([self.play_button, self.speed, self.time_label],
                                layout=widgets.Layout(align_items="center"))
        super().__init__(children=[self.element, controls, self.segment_list], **kwargs)
        self.update(clip, transcript)

    # ---- content ----------------------------------------------------------------------
    def update(self, clip: Any = None, transcript: Transcript | None = None) -> None:
        """Show another clip and/or transcript (a new clip without a transcript clears the segments)."""
        if isinstance(clip, Transcript):
            clip, transcript = None, clip
        if clip is None and transcript is not None:
            clip = transcript.audio if transcript.audio is not None else self.clip
        if clip is None:
            raise InvalidInputError("Player needs audio: pass a clip, or a transcript that has .audio")
        new_clip = as_audio_clip(clip)
        if transcript is None and new_clip is self.clip:
            transcript = self.transcript  # the same clip keeps its segments
        self.clip, self.transcript = new_clip, transcript
        self._segments = list(transcript.segments) if transcript is not None else []

        small = player_clip(new_clip)
        width, height = options.waveform_px
        el = self.element
        with el.hold_sync():
            el.playing = False
            el.audio = small.data
            el.mime = small.mime_type
            el.duration = new_clip.duration
            el.width = width
            el.x0, el.x1 = WAVE_LEFT, WAVE_RIGHT
            el.waveform = waveform_png(new_clip, segments=self._segments or None, size_px=(width, height))
            el.ticks = [list(tick) for tick in time_ticks(new_clip.duration)]
            el.position = 0.0
        hours = new_clip.duration >= 3600
        self._syncing = True
        try:
            self.segment_list.options = [(_segment_label(s, hours), i) for i, s in enumerate(self._segments)]
            self.segment_list.value = None
        finally:
            self._syncing = False
        self.segment_list.layout.display = "" if self._segments else "none"
        # As many rows as segments (up to SEGMENT_ROWS): three segments leave no empty box below them.
        self.segment_list.rows = max(2, min(SEGMENT_ROWS, len(self._segments)))
        self._on_position()
        self.saved_view.refresh()

    def _saved_content(self) -> tuple[str, str]:
        """The saved view (nbaudio.widgets.saved_view): the audio and transcript as nbaudio shows them."""
        from ..display import mimebundle

        clip, transcript = self.clip, self.transcript
        state = f"{clip.name or 'audio'}, {clip.duration:.1f} s"
        if self._segments:
            state += f", {len(self._segments)} segments"
        if transcript is not None and transcript.audio is not None:
            parts = [transcript]  # its own player, with times that seek
        else:
            parts = [clip] + ([transcript] if transcript is not None else [])
        body = "".join(mimebundle(part, include=["text/html"]).get("text/html", "") for part in parts)
        hint = "its controls run with the kernel: run the cell for them; this plays the same audio"
        return saved_view_head("Player", state, hint) + body, f"Player: {state}"

    def _ipython_display_(self) -> None:
        show_widget(self, self.saved_view)

    # ---- control ----------------------------------------------------------------------
    @property
    def position(self) -> float:
        """Playback position in seconds (as last reported by the browser, or set by `seek`)."""
        return self.element.position

    @position.setter
    def position(self, seconds: float) -> None:
        self.seek(seconds)

    @property
    def playing(self) -> bool:
        return self.element.playing

    @property
    def rate(self) -> float:
        return self.element.rate

    @rate.setter
    def rate(self, value: float) -> None:
        value = float(value)
        if not 0.25 <= value <= 4.0:
            raise InvalidInputError(f"playback rate must be between 0.25 and 4, not {value}")
        if value not in [v for _, v in self.speed.options]:
            self.speed.options = sorted([*self.speed.options, (f"{value:g}×", value)], key=lambda o: o[1])
        self.speed.value = value

    def seek(self, seconds: float) -> None:
        self.element.seek(seconds)

    def play(self) -> None:
        self.element.playing = True

    def pause(self) -> None:
        self.element.playing = False

    @property
    def current_segment(self) -> Segment | None:
        """The segment under the playback position, if any."""
        i = self._segment_index(self.element.position)
        return self._segments[i] if i is not None else None

    # ---- internals --------------------------------------------------------------------
    def _segment_index(self, t: float) -> int | None:
        for i, s in enumerate(self._segments):
            if s.start <= t < s.end:
                return i
        return None

    def _on_playing(self, change: dict | None = None) -> None:
        playing = self.play_button.value
        self.play_button.description = "Pause" if playing else "Play"
        self.play_button.icon = "pause" if playing else "play"

    def _on_position(self, change: dict | None = None) -> None:
        t = self.element.position
        duration = self.clip.duration if self.clip is not None else 0.0
        hours = duration >= 3600
        now, total = format_clock(t, decimals=1, hours=hours), format_clock(duration, decimals=1, hours=hours)
        self.time_label.value = f"{now} / {total}"
        i = self._segment_index(t)
        if i is not None and self.segment_list.value != i:
            self._syncing = True
            try:
                self.segment_list.value = i
            finally:
                self._syncing = False

    def _on_select(self, change: dict) -> None:
        if self._syncing or change["new"] is None:
            return
        self.seek(self._segments[change["new"]].start)

    def __repr__(self) -> str:
        segs = f", {len(self._segments)} segments" if self._segments else ""
        return f"<Player {self.clip!r}{segs} at {self.position:.2f} s{' playing' if self.playing else ''}>"
