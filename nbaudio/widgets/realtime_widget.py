"""What the live widgets share (LiveSession, live.py; Captions, captions.py): the kernel's half of a
widget whose page sends the microphone to a Realtime session the kernel holds (realtime_bridge.py).

Both are shown with their saved view (saved_view.py) and keep it up to date; both take the page's
start, audio and stop messages (prefixed with the widget's name) and start one bridge; both end the
same way: the page is told, and the widget's output is replaced by what the session left.
"""

from __future__ import annotations

import numbers
import threading
import uuid
from typing import Any

import anywidget
import ipywidgets as widgets
import traitlets

from ..client import Client, default_client
from ..errors import InvalidInputError, NbAudioError
from .page_audio import audio_piece, browser_rate
from .realtime_bridge import RealtimeBridge
from .saved_view import SavedView, saved_view_head, show_widget

__all__ = ["RealtimeWidget", "ENDINGS", "MAX_MINUTES_LIMIT", "DEFAULT_TRANSCRIBE_MODEL"]

MAX_MINUTES_LIMIT = 60.0  # OpenAI's sessions end after an hour too
DEFAULT_TRANSCRIBE_MODEL = "whisper-1"
# How a session ended (the bridge's reason, or the page's), as the widget's summary says it.
ENDINGS = {
    "user": "stopped",
    "limit": "stopped at the time limit",
    "microphone": "stopped: the microphone went away",
    "closed": "the connection dropped",
    "error": "ended by an error",
    "page": "stopped: the page closed",
}


class RealtimeWidget(anywidget.AnyWidget):
    """The shared half of a live widget. A subclass sets `_esm` and `_page_prefix` (its messages'
    "prefix:kind") and says how its bridge is made (`_new_bridge`), what its saved view calls it
    (`_saved_title_and_hint`) and, where the page sends more than start, audio and stop, what those
    do (`_on_command`); at the end its `_finish` calls `_show_end`."""

    _page_prefix = ""

    max_minutes = traitlets.Float(15.0).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)  # why the session cannot start or ended badly
    ended = traitlets.Bool(False).tag(sync=True)
    saved_view_id = traitlets.Unicode("").tag(sync=True)  # the page hides this saved view while the widget shows
    state = traitlets.Unicode("idle")  # kernel side: idle, connecting, live, ended

    def __init__(self, *, client: Client | None, max_minutes: float, **kwargs: Any) -> None:
        super().__init__(max_minutes=float(max_minutes), **kwargs)
        self._client = client
        self._bridge: RealtimeBridge | None = None
        self._display_id: str | None = None
        self._ended = threading.Event()
        self._stop_handlers = widgets.CallbackDispatcher()
        self.saved_view = SavedView(self._saved_content)
        self.saved_view_id = self.saved_view.view_id
        self.on_msg(self._on_page_msg)

    # ---- checks a subclass makes of its arguments, before the widget is made ---------------------
    @staticmethod
    def _check_max_minutes(max_minutes: Any) -> None:
        if isinstance(max_minutes, bool) or not isinstance(max_minutes, numbers.Real) \
                or not 0 < max_minutes <= MAX_MINUTES_LIMIT:
            raise InvalidInputError(f"max_minutes must be more than 0 and at most {MAX_MINUTES_LIMIT:g}, not "
                                    f"{max_minutes!r}", param="max_minutes")

    @staticmethod
    def _check_client(client: Any) -> None:
        if client is not None and not isinstance(client, Client):
            raise InvalidInputError(f"client= takes an nbaudio.Client, not {type(client).__name__}",
                                    param="client")

    # ---- what a subclass says ------------------------------------------------------------------
    def _new_bridge(self, rate: int) -> RealtimeBridge:
        raise NotImplementedError

    def _saved_title_and_hint(self) -> tuple[str, str]:
        raise NotImplementedError

    def _on_command(self, kind: str, content: dict[str, Any], bridge: RealtimeBridge) -> None:
        """A message from the page besides start, audio and stop (`kind` without the prefix)."""

    # ---- what it holds -------------------------------------------------------------------------
    @property
    def client(self) -> Client:
        return self._client if self._client is not None else default_client()

    def stop(self) -> None:
        """End the session (as ■ Stop does)."""
        if self._bridge is not None:
            self._bridge.stop("user")

    def _wait_for_end(self, timeout: float | None, what: str) -> None:
        if not self._ended.wait(timeout):
            raise TimeoutError(f"{what} did not end within {timeout:g} s")

    # ---- display -------------------------------------------------------------------------------
    def _ipython_display_(self) -> None:
        try:
            # Start the embedded engine now, in the cell, so its notice prints here.
            self.client.open()
        except NbAudioError as exc:
            self.error = str(exc)
        self._display_id = uuid.uuid4().hex
        show_widget(self, self.saved_view, display_id=self._display_id)

    def _saved_content(self) -> tuple[str, str]:
        """The saved view (nbaudio.widgets.saved_view) until what the session left replaces the widget."""
        title, hint = self._saved_title_and_hint()
        if self.state == "idle":
            state = f"not started ({self.error})" if self.error else "not started"
        else:
            state = "under way when the notebook was saved: nothing of it is kept here"
        return saved_view_head(title, state, hint), f"{title}: {state}"

    # ---- messages from the page ----------------------------------------------------------------
    def _on_page_msg(self, _widget: Any, content: Any, buffers: list[Any]) -> None:
        if not isinstance(content, dict):
            return
        prefix, _, kind = str(content.get("type")).partition(":")
        bridge = self._bridge
        if prefix != self._page_prefix:
            return
        if kind == "start":
            self._start(content.get("rate"))
        elif bridge is None:
            return
        elif kind == "audio":
            if (piece := audio_piece(content, buffers)) is not None:
                sent_at = content.get("t")  # the page's clock when it sent the piece, where it says
                bridge.audio(*piece, sent_at if isinstance(sent_at, (int, float)) else None)
        elif kind == "stop":
            reason = content.get("reason")
            bridge.stop(reason if reason in ENDINGS else "user")
        else:
            self._on_command(kind, content, bridge)

    def _start(self, reported: Any) -> None:
        if self._bridge is not None or self.ended:
            return
        rate = browser_rate(reported)
        if rate is None:
            self._page({"type": "ended", "error": f"the browser reported a sample rate of {reported!r} Hz, which is "
                                                  "not usable; reload the page and start again"})
            return
        self.error = ""
        self.state = "connecting"
        self.saved_view.refresh()
        self._bridge = self._new_bridge(rate)
        self._bridge.start()

    def _page(self, content: dict[str, Any], buffers: list[bytes] | None = None) -> None:
        if content.get("type") == "ready":
            self.state = "live"
        self.send(content, buffers)

    # ---- the end -------------------------------------------------------------------------------
    def _show_end(self, left: Any, summary: str, error: str, handed: Any) -> None:
        """On the bridge's thread, once: tell the page (`summary`, `error`), replace the widget's output
        by what the session `left`, and call the on_stop callbacks with `handed`."""
        with self.hold_sync():
            self.error = error
            self.state = "ended"
            self.ended = True
        self.send({"type": "ended", "text": summary, "error": error})
        try:
            if self._display_id is not None:
                from IPython.display import update_display

                update_display(left, display_id=self._display_id)
                self.saved_view.retire()  # what the session left says it all
            self._stop_handlers(handed)
        finally:
            self._ended.set()
