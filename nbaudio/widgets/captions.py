"""`Captions`: live captions of the microphone in the notebook (an anywidget; its ES module is
captions.js after mic.js). `%voice captions` shows one.

    from nbaudio.widgets import Captions
    captions = Captions(language="en")
    captions                  # ▶ Start, speak: the words appear as they are recognised
    captions.transcript       # after ■ Stop: the Transcript (segments, words, times, the recording)

The route is the live conversation's (live.py): browser ↔ kernel ↔ server, the kernel holding one
Realtime transcription session (captions_bridge.py), so the key never reaches the page. Each turn
shows its words as the server finds them stable (grey), then its final text (black); with
`translate=True`, the final line is the turn's English translation (the client's
`/v1/audio/translations` of that turn's audio). ■ Stop (or the time limit) replaces the widget by
the finished Transcript, which plays, seeks and saves like any transcript; until then its saved
view (nbaudio.widgets.saved_view) says, in a notebook reopened on a new kernel, that captioning had
not started or was under way.
"""

from __future__ import annotations

import numbers
import threading
import uuid
from collections.abc import Callable
from typing import Any

import anywidget
import ipywidgets as widgets
import traitlets

from .._wire.text import format_clock, plural
from ..client import Client, default_client
from ..errors import InvalidInputError, NbAudioError
from ..transcript import Transcript
from .captions_bridge import CaptionsBridge, CaptionsEnd
from .esm import widget_module
from .page_audio import audio_piece, browser_rate
from .saved_view import SavedView, saved_view_head, show_widget

__all__ = ["Captions", "MAX_MINUTES_LIMIT", "TURN_DETECTION"]

MAX_MINUTES_LIMIT = 60.0  # OpenAI's sessions end after an hour too
DEFAULT_TRANSCRIBE_MODEL = "whisper-1"
# A caption line ends at a pause of half a second: a sentence or two per line, as subtitles are.
TURN_DETECTION = {"type": "server_vad", "silence_duration_ms": 500}
_ENDINGS = {"user": "stopped", "limit": "stopped at the time limit", "microphone": "stopped: the microphone went away",
            "closed": "the connection dropped", "error": "ended by an error", "page": "stopped: the page closed"}


class Captions(anywidget.AnyWidget):
    """Live captions of the microphone through `client` (nbaudio's default when None: with no remote
    API configured, the embedded engine).

    `language`: the language spoken (ISO-639-1, e.g. "en"; None: detected). `translate`: show (and
    keep) English captions of speech in another language. `model`: the transcription model.
    `prompt`: words to expect (names, terms). `max_minutes`: captioning stops by itself after this long.
    """

    _esm = widget_module("mic.js", "captions.js")

    max_minutes = traitlets.Float(15.0).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    ended = traitlets.Bool(False).tag(sync=True)
    saved_view_id = traitlets.Unicode("").tag(sync=True)
    state = traitlets.Unicode("idle")  # kernel side: idle, connecting, live, ended

    def __init__(self, *, client: Client | None = None, language: str | None = None, translate: bool = False,
                 model: str = DEFAULT_TRANSCRIBE_MODEL, prompt: str | None = None, max_minutes: float = 15.0,
                 **kwargs: Any) -> None:
        if isinstance(max_minutes, bool) or not isinstance(max_minutes, numbers.Real) \
                or not 0 < max_minutes <= MAX_MINUTES_LIMIT:
            raise InvalidInputError(f"max_minutes must be more than 0 and at most {MAX_MINUTES_LIMIT:g}, not "
                                    f"{max_minutes!r}", param="max_minutes")
        for name, value in (("language", language), ("prompt", prompt)):
            if value is not None and not isinstance(value, str):
                raise InvalidInputError(f"{name} must be a string, not {type(value).__name__}", param=name)
        if language is not None and not (language.isalpha() and 2 <= len(language) <= 3):
            raise InvalidInputError(f"language must be an ISO-639-1 code such as 'en' or 'fr', not {language!r}",
                                    param="language")
        if not isinstance(model, str) or not model.strip():
            raise InvalidInputError("model must name a transcription model, e.g. 'whisper-1'", param="model")
        if not isinstance(translate, bool):
            raise InvalidInputError(f"translate must be True or False, not {translate!r}", param="translate")
        if client is not None and not isinstance(client, Client):
            raise InvalidInputError(f"client= takes an nbaudio.Client, not {type(client).__name__}", param="client")
        super().__init__(max_minutes=float(max_minutes), **kwargs)
        self._client = client
        self.language, self.translate, self.model, self.prompt = language, translate, model.strip(), prompt
        self._bridge: CaptionsBridge | None = None
        self._display_id: str | None = None
        self._ended = threading.Event()
        self._stop_handlers = widgets.CallbackDispatcher()
        self.result: CaptionsEnd | None = None
        self.saved_view = SavedView(self._saved_content)
        self.saved_view_id = self.saved_view.view_id
        self.on_msg(self._on_page_msg)

    @property
    def client(self) -> Client:
        return self._client if self._client is not None else default_client()

    @property
    def transcript(self) -> Transcript:
        """After ■ Stop: the captions as a Transcript of the recording. InvalidInputError before."""
        if self.result is None:
            raise InvalidInputError("captioning has not ended yet: press ■ Stop in the widget, then read "
                                    "captions.transcript in the next cell (or use captions.on_stop(callback))")
        return self.result.transcript

    def on_stop(self, callback: Callable[[Transcript], Any], remove: bool = False) -> None:
        """Call `callback(transcript)` when captioning ends (on a thread of nbaudio's; keep it short)."""
        self._stop_handlers.register_callback(callback, remove=remove)

    def stop(self) -> None:
        """End captioning (as ■ Stop does)."""
        if self._bridge is not None:
            self._bridge.stop("user")

    def wait(self, timeout: float | None = None) -> Transcript:
        """Wait until captioning has ended (for threads and scripts, not a notebook cell)."""
        if not self._ended.wait(timeout):
            raise TimeoutError(f"captioning did not end within {timeout:g} s")
        return self.transcript

    def session_config(self) -> dict[str, Any]:
        """The transcription session's `session.update` fields."""
        transcription: dict[str, Any] = {"model": self.model}
        if self.language:
            transcription["language"] = self.language
        if self.prompt:
            transcription["prompt"] = self.prompt
        return {"audio": {"input": {"transcription": transcription, "turn_detection": dict(TURN_DETECTION)}}}

    # ---- display -------------------------------------------------------------------------------
    def _ipython_display_(self) -> None:
        try:
            self.client.open()  # start the embedded engine now, in the cell, so its notice prints here
        except NbAudioError as exc:
            self.error = str(exc)
        self._display_id = uuid.uuid4().hex
        show_widget(self, self.saved_view, display_id=self._display_id)

    def _saved_content(self) -> tuple[str, str]:
        title = "Live captions" + (" (English translation)" if self.translate else "")
        if self.state == "idle":
            state = f"not started ({self.error})" if self.error else "not started"
        else:
            state = "under way when the notebook was saved: nothing of it is kept here"
        hint = "they run with their kernel: run the cell to start; when they stop, the transcript stays"
        return saved_view_head(title, state, hint), f"{title}: {state}"

    # ---- messages from the page ----------------------------------------------------------------
    def _on_page_msg(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        bridge = self._bridge
        if kind == "captions:start":
            self._start(content.get("rate"))
        elif bridge is None:
            return
        elif kind == "captions:audio":
            if (piece := audio_piece(content, buffers)) is not None:
                sent_at = content.get("t")
                bridge.audio(*piece, sent_at if isinstance(sent_at, (int, float)) else None)
        elif kind == "captions:stop":
            reason = content.get("reason")
            bridge.stop(reason if reason in _ENDINGS else "user")

    def _start(self, reported: Any) -> None:
        if self._bridge is not None or self.ended:
            return
        rate = browser_rate(reported)
        if rate is None:
            self.send({"type": "ended", "error": f"the browser reported a sample rate of {reported!r} Hz, which is "
                                                 "not usable; reload the page and start again"})
            return
        self.error = ""
        self.state = "connecting"
        self.saved_view.refresh()
        self._bridge = CaptionsBridge(client=self.client, session=self.session_config(), input_rate=rate,
                                      max_seconds=60 * self.max_minutes, translate=self.translate, send=self._page,
                                      on_end=self._finish)
        self._bridge.start()

    def _page(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        if content.get("type") == "ready":
            self.state = "live"
        self.send(content, buffers)

    def _finish(self, end: CaptionsEnd) -> None:
        """On the bridge's thread, once: keep the transcript, tell the page, replace the widget by it."""
        self.result = end
        error = "" if end.error is None else f"{type(end.error).__name__}: {end.error}"
        segments = len(end.transcript.segments)
        summary = (f"{plural(segments, 'line')}, {format_clock(end.seconds, decimals=0)} — "
                   f"{_ENDINGS.get(end.reason, end.reason)}")
        with self.hold_sync():
            self.error = error
            self.state = "ended"
            self.ended = True
        self.send({"type": "ended", "text": summary, "error": error})
        try:
            if self._display_id is not None:
                from IPython.display import update_display

                update_display(end.transcript, display_id=self._display_id)
                self.saved_view.retire()  # the transcript is what the notebook keeps
            self._stop_handlers(end.transcript)
        finally:
            self._ended.set()

    def __repr__(self) -> str:
        if self.result is not None:
            return f"<Captions: {len(self.result.transcript.segments)} lines>"
        return f"<Captions: {self.state}{' (translated to English)' if self.translate else ''}>"
