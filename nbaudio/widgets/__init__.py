"""Widgets where the kernel takes part (ipywidgets; the browser halves are anywidgets, their ES
modules the .js files beside these modules).

    from nbaudio.widgets import Player, Recorder
    player = Player(clip, transcript)     # play/pause, speed, a cursor over the waveform, segments
    player.seek(12.5); player.play()
    player.position, player.current_segment   # follow playback from Python

    rec = Recorder()                      # the browser's microphone into the kernel
    rec.clip, rec.transcribe(), rec.on_recorded(callback)

    live = LiveSession(voice="alloy")     # a spoken conversation with a Realtime model, live
    live.conversation                     # after Stop: its turns, as a Conversation

Modules: `player` (Player and its AudioElement, player.js), `recorder` (Recorder, recorder.js),
`live` (LiveSession, live.js) and `live_bridge` (its Realtime session on a thread); `mic.js` is
what the microphone widgets' modules share, `saved_view.js` what every widget's module does first
(esm.py joins them).
These widgets need a live kernel. Each leaves a saved view beside its output (`saved_view`): plain
HTML saying what it recorded, with a player, which a notebook reopened on a new kernel, GitHub and
nbviewer show in its place.
"""

from __future__ import annotations

from ..errors import MissingDependencyError

try:
    from .live import LiveRecord, LiveSession
    from .player import AudioElement, Player
    from .recorder import Recorder
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the environment
    if exc.name not in ("anywidget", "ipywidgets", "traitlets"):
        raise
    raise MissingDependencyError(
        f"nbaudio.widgets needs ipywidgets and anywidget ({exc.name} is missing): pip install ipywidgets anywidget"
    ) from None

__all__ = ["AudioElement", "LiveRecord", "LiveSession", "Player", "Recorder"]
