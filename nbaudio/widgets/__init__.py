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

    captions = Captions(language="en")    # live captions of the microphone
    captions.transcript                   # after Stop: a Transcript (segments, words, the recording)

    test = listening_test({"alloy": clips_a, "echo": clips_b})   # a blind MOS (or kind="ab") test
    test.results, test.summary()          # the ratings and their summary, as DataFrames

Modules: `player` (Player and its AudioElement, player.js), `recorder` (Recorder, recorder.js),
`live` (LiveSession, live.js) and `live_bridge` (its Realtime session on a thread), `captions`
(Captions, captions.js) and `captions_bridge` (its transcription session), with what those two
share in `realtime_widget` and `realtime_bridge`, `listening`
(ListeningTest, listening.js; the plan, statistics and static output are nbaudio.listening's); `mic.js` is
what the microphone widgets' modules share, `saved_view.js` what every widget's module does first
(esm.py joins them).
These widgets need a live kernel. Each leaves a saved view beside its output (`saved_view`; the
listening test its own results, nbaudio.listening.report): plain HTML saying what it holds, with a
player, which a notebook reopened on a new kernel, GitHub and nbviewer show in its place.
"""

from __future__ import annotations

from ..errors import MissingDependencyError

try:
    from .captions import Captions
    from .listening import ListeningTest, listening_test
    from .live import LiveRecord, LiveSession
    from .player import AudioElement, Player
    from .recorder import Recorder
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the environment
    if exc.name not in ("anywidget", "ipywidgets", "traitlets"):
        raise
    raise MissingDependencyError(
        f"nbaudio.widgets needs ipywidgets and anywidget ({exc.name} is missing): pip install ipywidgets anywidget"
    ) from None

__all__ = ["AudioElement", "Captions", "ListeningTest", "LiveRecord", "LiveSession", "Player", "Recorder",
           "listening_test"]
