"""`Recorder`: record from the browser's microphone into the kernel (an anywidget; its ES module is recorder.js).

    from nbaudio.widgets import Recorder
    rec = Recorder()              # ● Record / ■ Stop, a level meter, elapsed time, a preview player
    rec                           # press Record, speak, press Stop
    rec.clip                      # the AudioClip (16 kHz mono WAV) in the next cell
    rec.transcribe().text         # through the default client (any transcribe() keyword works)
    rec.on_recorded(lambda clip: print(clip.duration))   # runs each time a recording arrives
    %%voice --audio rec           # the last recording as the next chat turn

Works wherever anywidget does (JupyterLab 3/4, Notebook 7, VS Code), on a secure page
(https://, or http://localhost / 127.0.0.1), after the browser's microphone permission.

How the audio gets here, and why. The browser captures PCM with an AudioWorklet and sends
it as 16-bit samples in binary widget buffers (no base64 in JSON), half a second at a time
while recording; the kernel checks the pieces, resamples with soxr and writes the WAV. The
alternative, MediaRecorder, hands over compressed audio in a container the browser picks:
WebM/Opus in Chrome and Firefox, MP4/AAC in Safari. Decoding those needs PyAV, which only the
`[local]` extra installs, and gives samples that went through a lossy codec. Worklet PCM is
exact, looks the same in every browser, and needs nothing beyond numpy and soxr (core
dependencies). It costs more bandwidth (96 kB/s at 48 kHz), which a notebook on localhost or
behind a tunnel carries easily; resampling happens in the kernel rather than in the worklet
because soxr is far better than anything worth writing in JavaScript, and that keeps one
resampler in nbaudio.

Limits: a recording stops by itself at `max_seconds` (5 minutes by default; the kernel also
refuses more), and a recording whose pieces arrive incomplete is rejected with a message
rather than kept with a hole in it.

The kernel receives the recording only between cells (widget messages wait while a cell
runs), so use `rec.clip` in a later cell or `on_recorded(callback)`; `rec.wait()` is for
threads and scripts and refuses to block a notebook cell, where it would never return.

The saved notebook keeps the last recording in the recorder's saved view (nbaudio.widgets.saved_view),
with a player, redrawn each time a recording arrives.
"""

from __future__ import annotations

import numbers
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anywidget
import ipywidgets as widgets
import traitlets
from IPython import get_ipython

from .._wire.text import format_clock
from ..audio import AudioClip
from ..client import Client, default_client
from ..errors import InvalidInputError
from ..transcript import Transcript
from .esm import widget_module
from .page_audio import browser_rate
from .saved_view import SavedView, saved_view_head, show_widget

if TYPE_CHECKING:
    from .._http.streams import TranscriptionStream

__all__ = ["Recorder"]

MAX_SECONDS_LIMIT = 3600.0
# Each piece the browser sends holds about this much; a piece far bigger is not from our front end.
_MAX_CHUNK_SECONDS = 10.0
# The browser stops at max_seconds by sample count; allow one worklet block (50 ms) of rounding.
_OVERRUN_SECONDS = 0.1


def _nothing_recorded(why: str) -> InvalidInputError:
    return InvalidInputError(f"{why}: press ● Record in the recorder, speak, then ■ Stop (and use the "
                             "recording in the next cell, or from rec.on_recorded(callback))")


class Recorder(anywidget.AnyWidget):
    """Record from the browser's microphone; each recording reaches the kernel as an AudioClip.

    `sample_rate`: the clip's rate in Hz (16000 suits speech models; None keeps the device's
    rate, usually 48000). `max_seconds`: a recording stops by itself after this long.

    `clip` is the last recording; `recordings` counts them (observe it, or register
    `on_recorded(callback)`, called with the clip). `error` says why the microphone could not
    be used (a page that is not secure, permission denied) or why a recording was rejected.
    """

    _esm = widget_module("mic.js", "recorder.js")

    max_seconds = traitlets.Float(300.0).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)  # what the kernel has, shown under the controls
    error = traitlets.Unicode("").tag(sync=True)  # written by both sides; shown in red
    duration = traitlets.Float(0.0).tag(sync=True)  # seconds of the last recording
    recordings = traitlets.Int(0).tag(sync=True)  # recordings received so far (observable)
    saved_view_id = traitlets.Unicode("").tag(sync=True)  # the page hides this saved view while the widget shows
    recording = traitlets.Bool(False)  # a recording is under way (kernel side: pieces are arriving)
    seconds = traitlets.Float(0.0)  # seconds received of the recording under way

    def __init__(self, *, sample_rate: int | None = 16000, max_seconds: float = 300.0, **kwargs: Any) -> None:
        if sample_rate is not None and (isinstance(sample_rate, bool) or not isinstance(sample_rate, numbers.Integral)
                                        or not 8000 <= sample_rate <= 192000):
            raise InvalidInputError(f"sample_rate must be a whole number of Hz from 8000 to 192000 (16000 suits "
                                    f"speech), or None for the microphone's own rate; not {sample_rate!r}")
        try:
            limit = float(max_seconds)
        except (TypeError, ValueError):
            limit = float("nan")
        if not 0 < limit <= MAX_SECONDS_LIMIT:
            raise InvalidInputError(f"max_seconds must be more than 0 and at most {MAX_SECONDS_LIMIT:g} "
                                    f"(an hour), not {max_seconds!r}")
        super().__init__(max_seconds=limit, **kwargs)
        self.sample_rate = int(sample_rate) if sample_rate is not None else None
        self._clip: AudioClip | None = None
        self._take: dict[str, Any] | None = None  # the recording under way: id, rate, pieces
        self._rejected = 0  # recordings refused so far (wakes wait() with the reason)
        self._arrived = threading.Condition()
        self._recorded_handlers = widgets.CallbackDispatcher()
        self.saved_view = SavedView(self.saved_content)
        self.on_msg(self._on_browser_msg)

    # ---- the recording ------------------------------------------------------------------------
    @property
    def clip(self) -> AudioClip:
        """The last recording (InvalidInputError saying what to do when there is none)."""
        if self._clip is None:
            if self.error:
                raise _nothing_recorded(f"no recording: {self.error}")
            raise _nothing_recorded("nothing recorded yet" if not self.recording else "still recording")
        return self._clip

    @property
    def has_clip(self) -> bool:
        return self._clip is not None

    def transcribe(self, *, client: Client | None = None, **kwargs: Any) -> Transcript | TranscriptionStream:
        """Transcribe the last recording (`client`: an nbaudio.Client; default: nbaudio's default)."""
        clip = self.clip
        return (client or default_client()).transcribe(clip, **kwargs)

    def on_recorded(self, callback: Callable[[AudioClip], Any], remove: bool = False) -> None:
        """Call `callback(clip)` each time a recording arrives (`remove=True` unregisters it)."""
        self._recorded_handlers.register_callback(callback, remove=remove)

    def wait(self, timeout: float | None = None) -> AudioClip:
        """The recording, once it has arrived (waits for one under way or not yet started).

        For threads and scripts: in a notebook cell the kernel cannot receive the recording
        until the cell ends, so this raises instead of hanging (use `on_recorded` there).
        """
        with self._arrived:
            if self._clip is not None and self._take is None:
                return self._clip
            if _in_kernel_cell():
                raise InvalidInputError(
                    "rec.wait() cannot wait inside a notebook cell: the kernel receives the recording only "
                    "after the cell ends. Record, then read rec.clip in the next cell, or pass a function to "
                    "rec.on_recorded(callback)")
            seen = (self.recordings, self._rejected)
            if not self._arrived.wait_for(lambda: (self.recordings, self._rejected) != seen, timeout):
                raise TimeoutError(f"no recording arrived within {timeout:g} s")
            return self.clip

    def clear(self) -> None:
        """Forget the recording (the widget's preview goes too)."""
        with self._arrived:
            self._clip, self._take = None, None
        with self.hold_sync():
            self.duration, self.status, self.error = 0.0, "", ""
            self.recording, self.seconds = False, 0.0
        self.send({"type": "clear"})
        self._saved_view.refresh()

    # ---- messages from the browser --------------------------------------------------------------
    def _on_browser_msg(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "rec:start":
            self._start(content)
        elif kind == "rec:chunk":
            self._chunk(content, buffers)
        elif kind == "rec:stop":
            self._stop(content)
        elif kind == "rec:clear":
            self.clear()

    def _start(self, content: dict) -> None:
        take_id = content.get("id")
        if not isinstance(take_id, str) or not take_id:
            return
        rate = browser_rate(content.get("rate"))
        if rate is None:
            self._reject(f"the browser reported a sample rate of {content.get('rate')!r} Hz, which is not usable; "
                         "record again")
            return
        with self._arrived:
            self._take = {"id": take_id, "rate": rate, "pieces": [], "frames": 0, "next": 0, "fault": None}
        with self.hold_sync():
            self.error, self.status = "", ""
            self.recording, self.seconds = True, 0.0

    def _chunk(self, content: dict, buffers: list[Any]) -> None:
        take = self._take
        if take is None or content.get("id") != take["id"] or take["fault"]:
            return  # a piece of a recording that was replaced, cleared or already broken
        if content.get("seq") != take["next"] or len(buffers) != 1:
            take["fault"] = (f"piece {take['next'] + 1} of the recording did not arrive (got "
                             f"{content.get('seq')!r}); nothing was kept")
            return
        data = bytes(buffers[0])
        rate = take["rate"]
        if len(data) % 2 or len(data) > 2 * rate * _MAX_CHUNK_SECONDS:
            take["fault"] = f"a piece of the recording was malformed ({len(data)} bytes); nothing was kept"
            return
        frames = take["frames"] + len(data) // 2
        if frames > (self.max_seconds + _OVERRUN_SECONDS) * rate:
            take["fault"] = (f"the recording ran past max_seconds={self.max_seconds:g}; nothing was kept "
                             "(raise max_seconds to record longer)")
            return
        take["pieces"].append(data)
        take["frames"] = frames
        take["next"] += 1
        self.seconds = frames / rate

    def _stop(self, content: dict) -> None:
        take = self._take
        if take is None or content.get("id") != take["id"]:
            return
        self._take = None
        self.recording = False
        if take["fault"]:
            self._reject(take["fault"])
            return
        if content.get("chunks") != take["next"] or content.get("frames") != take["frames"]:
            self._reject(f"the recording arrived incomplete ({take['frames']} of {content.get('frames')!r} samples "
                         f"in {take['next']} of {content.get('chunks')!r} pieces); record again")
            return
        if not take["frames"]:
            self._reject("nothing was recorded (no sound reached the page before Stop); press ● Record, speak, "
                         "then ■ Stop")
            return
        self._accept(take, stopped_by=content.get("reason"))

    def _accept(self, take: dict, *, stopped_by: Any) -> None:
        import numpy as np

        samples = np.frombuffer(b"".join(take["pieces"]), dtype="<i2")
        clip = AudioClip.from_array(samples, take["rate"], format="wav", name=f"recording-{self.recordings + 1}.wav")
        if self.sample_rate is not None and self.sample_rate != take["rate"]:
            clip = clip.resample(self.sample_rate)
        notes = []
        if stopped_by == "limit":
            notes.append(f"stopped at max_seconds={self.max_seconds:g}")
        elif stopped_by == "ended":
            notes.append("the microphone went away mid-recording")
        if not np.any(samples):
            notes.append("⚠ it is silent (every sample is zero): is the microphone muted?")
        status = f"{clip.duration:.1f} s at {clip.sample_rate / 1000:g} kHz in the kernel (rec.clip)"
        with self._arrived:
            self._clip = clip
            with self.hold_sync():
                self.error = ""
                self.duration = clip.duration
                self.status = "; ".join([status, *notes])
                self.seconds = clip.duration
                self.recordings += 1
            self._arrived.notify_all()
        self._saved_view.refresh()
        self._recorded_handlers(clip)

    def _reject(self, message: str) -> None:
        with self._arrived:
            self._clip, self._take = None, None
            with self.hold_sync():
                self.recording = False
                self.duration, self.status = 0.0, ""
                self.error = message
            self._rejected += 1
            self._arrived.notify_all()
        self._saved_view.refresh()

    # ---- display -----------------------------------------------------------------------------------
    @property
    def saved_view(self) -> SavedView:
        """What the saved notebook shows where the widget cannot render (nbaudio.widgets.saved_view)."""
        return self._saved_view

    @saved_view.setter
    def saved_view(self, view: SavedView) -> None:
        # `%voice listen` gives its own, which adds the replies to what saved_content() says.
        self._saved_view = view
        self.saved_view_id = view.view_id

    def saved_content(self, title: str = "Recorder") -> tuple[str, str]:
        """The saved view's HTML body and plain text: what was recorded, with its player."""
        from ..display import mimebundle

        hint = "the recorder runs with its kernel: run the cell to record"
        if self._clip is not None:
            clip = self._clip
            state = f"{clip.duration:.1f} s recorded ({clip.sample_rate / 1000:g} kHz mono)"
            player = mimebundle(clip, include=["text/html"]).get("text/html", "")
            return saved_view_head(title, state, hint) + player, f"{title}: {state}"
        state = f"nothing recorded ({self.error})" if self.error else "nothing recorded"
        return saved_view_head(title, state, hint), f"{title}: {state}"

    def _ipython_display_(self) -> None:
        show_widget(self, self._saved_view)

    # ---- text ------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        rate = f"{self.sample_rate / 1000:g} kHz" if self.sample_rate else "device rate"
        limit = format_clock(self.max_seconds, decimals=0)
        if self.recording:
            state = f"recording… {self.seconds:.1f} s"
        elif self._clip is not None:
            state = f"{self._clip.duration:.1f} s recorded"
        elif self.error:
            state = self.error
        else:
            state = "nothing recorded yet"
        return f"<Recorder: {state} ({rate} mono, up to {limit})>"


def _in_kernel_cell() -> bool:
    """True on the main thread of a Jupyter kernel, where widget messages wait for the cell to end."""
    shell = get_ipython()
    return getattr(shell, "kernel", None) is not None and threading.current_thread() is threading.main_thread()
