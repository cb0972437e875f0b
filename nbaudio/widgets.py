"""Interactive players where the kernel takes part (ipywidgets; the browser side is an anywidget).

    from nbaudio.widgets import Player
    player = Player(clip, transcript)     # play/pause, speed, a cursor over the waveform, segments
    player.seek(12.5); player.play()
    player.position, player.current_segment   # follow playback from Python

    rec = Recorder()                      # the browser's microphone into the kernel (nbaudio.recorder)
    rec.clip, rec.transcribe(), rec.on_recorded(callback)

Everything static (saved notebooks, GitHub, nbviewer) is in `nbaudio.display`; these widgets
need a live kernel. State lives in traitlets, so a Player can be built, driven and checked
without a browser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from .audio import AudioClip, as_audio_clip
from .errors import InvalidInputError
from .recorder import Recorder  # first: it raises the clear MissingDependencyError without ipywidgets/anywidget

import anywidget  # noqa: E402
import ipywidgets as widgets  # noqa: E402
import traitlets  # noqa: E402

if TYPE_CHECKING:
    from .transcript import Segment, Transcript

__all__ = ["Player", "AudioElement", "Recorder"]

_SPEEDS = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0)

# The browser half: an <audio> element (no native controls; the ipywidgets drive it) over the
# waveform image, with a cursor that follows playback and click-to-seek on the waveform.
_ESM = r"""
function blobUrl(view, type) {
  if (!view || !view.byteLength) return "";
  return URL.createObjectURL(new Blob([view], { type }));
}
function render({ model, el }) {
  const wrap = document.createElement("div");
  wrap.style.cssText = "position:relative;width:100%;max-width:" + model.get("width") + "px;cursor:pointer";
  const img = document.createElement("img");
  img.style.cssText = "width:100%;display:block";
  img.alt = "waveform";
  const cursor = document.createElement("div");
  cursor.style.cssText = "position:absolute;top:0;bottom:18%;width:2px;background:#e45756;pointer-events:none";
  const audio = document.createElement("audio");
  audio.preload = "auto";
  wrap.append(img, cursor);
  el.append(wrap, audio);
  let audioUrl = "", imgUrl = "", frame = 0;

  function place(t) {
    const d = model.get("duration") || 1, x0 = model.get("x0"), x1 = model.get("x1");
    cursor.style.left = ((x0 + (x1 - x0) * Math.min(1, Math.max(0, t / d))) * 100) + "%";
  }
  function report() {
    model.set("position", audio.currentTime);
    model.save_changes();
  }
  function animate() {
    place(audio.currentTime);
    frame = audio.paused ? 0 : requestAnimationFrame(animate);
  }
  function loadAudio() {
    if (audioUrl) URL.revokeObjectURL(audioUrl);
    audioUrl = blobUrl(model.get("audio"), model.get("mime"));
    audio.src = audioUrl;
    audio.playbackRate = model.get("rate");
  }
  function loadImage() {
    if (imgUrl) URL.revokeObjectURL(imgUrl);
    imgUrl = blobUrl(model.get("waveform"), "image/png");
    img.src = imgUrl;
    img.style.display = imgUrl ? "block" : "none";
    place(model.get("position"));
  }
  function syncPlaying() {
    if (model.get("playing") && audio.paused) {
      audio.play().catch(() => { model.set("playing", false); model.save_changes(); });
    } else if (!model.get("playing") && !audio.paused) {
      audio.pause();
    }
  }
  audio.addEventListener("play", () => {
    if (!model.get("playing")) { model.set("playing", true); model.save_changes(); }
    if (!frame) animate();
  });
  audio.addEventListener("pause", () => {
    if (model.get("playing")) { model.set("playing", false); model.save_changes(); }
    report();
  });
  audio.addEventListener("timeupdate", report);
  audio.addEventListener("seeked", () => { place(audio.currentTime); report(); });
  audio.addEventListener("ratechange", () => {
    if (audio.playbackRate !== model.get("rate")) audio.playbackRate = model.get("rate");
  });
  wrap.addEventListener("click", (e) => {
    const b = wrap.getBoundingClientRect(), x0 = model.get("x0"), x1 = model.get("x1");
    const f = ((e.clientX - b.left) / b.width - x0) / (x1 - x0);
    audio.currentTime = Math.max(0, Math.min(1, f)) * (model.get("duration") || 0);
  });
  model.on("change:audio", loadAudio);
  model.on("change:mime", loadAudio);
  model.on("change:waveform", loadImage);
  model.on("change:playing", syncPlaying);
  model.on("change:rate", () => { audio.playbackRate = model.get("rate"); });
  model.on("msg:custom", (msg) => {
    if (msg && msg.type === "seek") { audio.currentTime = msg.time; place(msg.time); }
  });
  loadAudio();
  loadImage();
  audio.currentTime = model.get("position") || 0;
  return () => {
    audio.pause();
    if (frame) cancelAnimationFrame(frame);
    if (audioUrl) URL.revokeObjectURL(audioUrl);
    if (imgUrl) URL.revokeObjectURL(imgUrl);
  };
}
export default { render };
"""


class AudioElement(anywidget.AnyWidget):
    """An <audio> element with its waveform; `position` and `playing` come back from the browser."""

    _esm = _ESM
    audio = traitlets.Bytes(b"").tag(sync=True)
    mime = traitlets.Unicode("audio/ogg").tag(sync=True)
    waveform = traitlets.Bytes(b"").tag(sync=True)
    width = traitlets.Int(720).tag(sync=True)
    duration = traitlets.Float(0.0).tag(sync=True)
    x0 = traitlets.Float(0.0).tag(sync=True)  # where the time axis starts/ends in the image (fractions)
    x1 = traitlets.Float(1.0).tag(sync=True)
    position = traitlets.Float(0.0).tag(sync=True)  # seconds
    playing = traitlets.Bool(False).tag(sync=True)
    rate = traitlets.Float(1.0).tag(sync=True)

    def seek(self, seconds: float) -> None:
        """Move playback to `seconds` (clamped to the clip)."""
        t = min(max(0.0, float(seconds)), self.duration)
        self.position = t
        self.send({"type": "seek", "time": t})


def _segment_label(seg: "Segment", hours: bool) -> str:
    from .display import format_clock

    text = " ".join(seg.text.split())
    who = f"{seg.speaker}: " if seg.speaker else ""
    label = f"{format_clock(seg.start, decimals=1, hours=hours)}  {who}{text}"
    return label if len(label) <= 90 else label[:89] + "…"


class Player(widgets.VBox):
    """Play/pause, playback speed, a cursor over the waveform, and a segment list that seeks.

    `Player(clip)`, `Player(clip, transcript)`, or `Player(transcript)` when the transcript
    knows its audio. `update(clip=..., transcript=...)` swaps either in place.
    """

    def __init__(self, clip: Any, transcript: "Transcript | None" = None, *,
                 speeds: Sequence[float] = _SPEEDS, **kwargs: Any) -> None:
        if not speeds or any(not (0.25 <= float(s) <= 4.0) for s in speeds):
            raise InvalidInputError(f"speeds must be playback rates between 0.25 and 4, not {speeds!r}")
        self.element = AudioElement()
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
        self.segment_list = widgets.Select(options=[], rows=6, layout=widgets.Layout(width="100%"))
        self.clip: AudioClip | None = None
        self.transcript: "Transcript | None" = None
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
    def update(self, clip: Any = None, transcript: "Transcript | None" = None) -> None:
        """Show another clip and/or transcript (a new clip without a transcript clears the segments)."""
        from . import display
        from .transcript import Transcript

        if isinstance(clip, Transcript):
            clip, transcript = None, clip
        if clip is None and transcript is not None:
            clip = transcript.audio if transcript.audio is not None else self.clip
        if clip is None:
            raise InvalidInputError("Player needs audio: pass a clip, or a transcript that has .audio")
        new_clip = as_audio_clip(clip)
        if new_clip is not self.clip and transcript is None:
            transcript = None
        elif transcript is None:
            transcript = self.transcript
        self.clip, self.transcript = new_clip, transcript
        self._segments = list(transcript.segments) if transcript is not None else []

        small = display.player_clip(new_clip)
        width, height = display.options.waveform_px
        el = self.element
        with el.hold_sync():
            el.playing = False
            el.audio = small.data
            el.mime = small.mime_type
            el.duration = new_clip.duration
            el.width = width
            el.x0, el.x1 = display._WAVE_LEFT, display._WAVE_RIGHT
            el.waveform = display.waveform_png(new_clip, segments=self._segments or None, size_px=(width, height))
            el.position = 0.0
        hours = new_clip.duration >= 3600
        self._syncing = True
        try:
            self.segment_list.options = [(_segment_label(s, hours), i) for i, s in enumerate(self._segments)]
            self.segment_list.value = None
        finally:
            self._syncing = False
        self.segment_list.layout.display = "" if self._segments else "none"
        self._on_position()

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
    def current_segment(self) -> "Segment | None":
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
        from .display import format_clock

        t = self.element.position
        duration = self.clip.duration if self.clip is not None else 0.0
        hours = duration >= 3600
        self.time_label.value = f"{format_clock(t, decimals=1, hours=hours)} / {format_clock(duration, decimals=1, hours=hours)}"
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
