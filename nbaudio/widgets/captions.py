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

from collections.abc import Callable
from typing import Any

from .._wire.text import format_clock, plural
from ..client import Client
from ..errors import InvalidInputError
from ..transcript import Transcript
from .captions_bridge import CaptionsBridge, CaptionsEnd
from .esm import widget_module
from .realtime_widget import DEFAULT_TRANSCRIBE_MODEL, ENDINGS, MAX_MINUTES_LIMIT, RealtimeWidget

__all__ = ["Captions", "MAX_MINUTES_LIMIT", "TURN_DETECTION"]

# A caption line ends at a pause of half a second: a sentence or two per line, as subtitles are.
TURN_DETECTION = {"type": "server_vad", "silence_duration_ms": 500}


class Captions(RealtimeWidget):
    """Live captions of the microphone through `client` (nbaudio's default when None: with no remote
    API configured, the embedded engine).

    `language`: the language spoken (ISO-639-1, e.g. "en"; None: detected). `translate`: show (and
    keep) English captions of speech in another language. `model`: the transcription model.
    `prompt`: words to expect (names, terms). `max_minutes`: captioning stops by itself after this long.
    """

    _esm = widget_module("mic.js", "captions.js")
    _page_prefix = "captions"

    def __init__(self, *, client: Client | None = None, language: str | None = None, translate: bool = False,
                 model: str = DEFAULT_TRANSCRIBE_MODEL, prompt: str | None = None, max_minutes: float = 15.0,
                 **kwargs: Any) -> None:
        self._check_max_minutes(max_minutes)
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
        self._check_client(client)
        super().__init__(client=client, max_minutes=max_minutes, **kwargs)
        self.language, self.translate, self.model, self.prompt = language, translate, model.strip(), prompt
        self.result: CaptionsEnd | None = None

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

    def wait(self, timeout: float | None = None) -> Transcript:
        """Wait until captioning has ended (for threads and scripts, not a notebook cell)."""
        self._wait_for_end(timeout, "captioning")
        return self.transcript

    def session_config(self) -> dict[str, Any]:
        """The transcription session's `session.update` fields."""
        transcription: dict[str, Any] = {"model": self.model}
        if self.language:
            transcription["language"] = self.language
        if self.prompt:
            transcription["prompt"] = self.prompt
        return {"audio": {"input": {"transcription": transcription, "turn_detection": dict(TURN_DETECTION)}}}

    def _saved_title_and_hint(self) -> tuple[str, str]:
        return ("Live captions" + (" (English translation)" if self.translate else ""),
                "they run with their kernel: run the cell to start; when they stop, the transcript stays")

    def _new_bridge(self, rate: int) -> CaptionsBridge:
        return CaptionsBridge(client=self.client, session=self.session_config(), input_rate=rate,
                              max_seconds=60 * self.max_minutes, translate=self.translate, send=self._page,
                              on_end=self._finish)

    def _finish(self, end: CaptionsEnd) -> None:
        """On the bridge's thread, once: keep the transcript, tell the page, replace the widget by it."""
        self.result = end
        error = "" if end.error is None else f"{type(end.error).__name__}: {end.error}"
        segments = len(end.transcript.segments)
        summary = (f"{plural(segments, 'line')}, {format_clock(end.seconds, decimals=0)} — "
                   f"{ENDINGS.get(end.reason, end.reason)}")
        self._show_end(end.transcript, summary, error, end.transcript)

    def __repr__(self) -> str:
        if self.result is not None:
            return f"<Captions: {len(self.result.transcript.segments)} lines>"
        return f"<Captions: {self.state}{' (translated to English)' if self.translate else ''}>"
