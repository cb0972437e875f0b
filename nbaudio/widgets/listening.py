"""`ListeningTest`: a blind MOS or A/B listening test in the page (an anywidget; its ES module is listening.js).

    test = nbaudio.listening_test({"alloy": [c1, c2], "echo": [d1, d2]}, kind="mos", seed=0)
    test                  # one trial per item: its clips as samples A, B, … in a shuffled order
    test.results          # DataFrame: trial, item, system, position, rating | preferred, plays, seconds
    test.summary()        # MOS: mean and 95 % t interval per system; A/B: preference share, Wilson interval
    test.save("ratings.csv")

Blind: the page gets only the current trial's audio under opaque ids made afresh for each trial
(no system, item or file name, no later trial), and the kernel keeps which id is which system.
Each sample plays as often as the listener likes (and must be played before it is rated, unless
`require_play=False`); Next stays disabled until every sample has its rating (MOS) or one is
preferred (A/B), and the kernel refuses it too. The order comes from `nbaudio.listening.plan`
(seeded).

Beside the widget, a static output (text/plain and escaped HTML, updated through its display id
after each trial) holds the progress and the ratings (their systems named, and the summary shown,
once the test is finished): a saved notebook keeps them without the widget's state. The answers
reach the kernel as any widget's messages do: between cells, or during them where JupyterLab
sends widget messages over a kernel subshell.
"""

from __future__ import annotations

import math
import numbers
import secrets
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anywidget
import traitlets
from IPython.display import display

from ..audio import AudioClip, as_audio_clip
from ..display.player import player_clip
from ..errors import InvalidInputError
from ..listening.plan import KINDS, plan_trials
from ..listening.report import Progress, report_bundle
from ..listening.results import save_results, summarize, to_dataframe
from .saved_view import standing_in, widget_data

__all__ = ["ListeningTest", "listening_test"]

PROMPTS = {"mos": "How natural does each sample sound?", "ab": "Which sample do you prefer?"}
# The Absolute Category Rating scale of ITU-T P.800, best first.
MOS_SCALE = [[5, "Excellent"], [4, "Good"], [3, "Fair"], [2, "Poor"], [1, "Bad"]]
_MAX_SECONDS = 7 * 24 * 3600.0  # a time on a trial past a week is not from our page


class ListeningTest(anywidget.AnyWidget):
    """A blind listening test of `clips`: {system name: [clip per item]} (or {item: clip}, or one clip).

    `kind`: "mos" (rate every sample 1–5) or "ab" (pick the preferred of two; every pair of systems
    on every item). `seed`: the plan's seed (None draws one, kept in `.seed`). `prompt`: the question.
    """

    _esm = Path(__file__).with_name("listening.js")

    kind = traitlets.Unicode("mos").tag(sync=True)
    prompt = traitlets.Unicode("").tag(sync=True)
    scale = traitlets.List([]).tag(sync=True)  # [[answer, label], ...] a MOS sample can get
    total = traitlets.Int(0).tag(sync=True)  # trials in the test
    done = traitlets.Int(0).tag(sync=True)  # trials answered
    # The trial on screen: {"number", "samples": [{"id", "label", "audio", "mime"}]}; {} once finished.
    trial = traitlets.Dict({}).tag(sync=True)
    answers = traitlets.Dict({}).tag(sync=True)  # sample id -> answer, as the kernel holds them
    require_play = traitlets.Bool(True).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)

    def __init__(self, clips: Mapping[str, Any], *, kind: str = "mos", seed: int | None = 0,
                 prompt: str | None = None, require_play: bool = True, **kwargs: Any) -> None:
        if kind not in KINDS:
            raise InvalidInputError(f"kind must be 'mos' or 'ab', not {kind!r}")
        if seed is None:
            seed = secrets.randbits(32)
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise InvalidInputError(f"seed must be a whole number >= 0 (or None for a random one), not {seed!r}")
        self.seed = int(seed)
        self._clips, systems, items = _clip_table(clips)
        self.plan = plan_trials(systems, items, kind, self.seed)
        self._rows: list[dict[str, Any]] = []
        self._ids: dict[str, str] = {}  # sample id on screen -> system
        self._answers: dict[str, tuple[Any, float]] = {}  # system -> (answer, seconds)
        self._plays: dict[str, int] = {}
        self._handles: list[Any] = []  # the static outputs' display handles
        super().__init__(kind=kind, prompt=prompt if prompt is not None else PROMPTS[kind],
                         scale=MOS_SCALE if kind == "mos" else [], total=len(self.plan),
                         require_play=bool(require_play), **kwargs)
        self.on_msg(self._on_browser_msg)
        self._show_trial()

    # ---- results ------------------------------------------------------------------------------
    @property
    def rows(self) -> list[dict[str, Any]]:
        """The answered trials' rows (one per clip heard) as dicts; `results` is the DataFrame."""
        return [dict(row) for row in self._rows]

    @property
    def results(self) -> Any:
        """DataFrame, one row per clip heard: trial, item, system, position, rating (MOS) or preferred
        (A/B), plays, seconds (see nbaudio.listening.results)."""
        return to_dataframe(self._rows, self.kind)

    def summary(self) -> Any:
        """DataFrame: per system the mean rating and its 95 % t interval (MOS), or per pair the
        preference share and its 95 % Wilson interval (A/B); see nbaudio.listening.stats."""
        return summarize(self._rows, self.kind)

    @property
    def finished(self) -> bool:
        return self.done >= self.total

    def save(self, path: str | Path) -> Path:
        """Write the ratings to a .csv or .json file (read back with nbaudio.listening.load_results)."""
        return save_results(self._rows, path, kind=self.kind,
                            about={"seed": self.seed, "prompt": self.prompt, "trials": self.total})

    # ---- display ------------------------------------------------------------------------------
    def _ipython_display_(self) -> None:
        # The widget, then its static output: the one that stays readable in a saved notebook.
        # Reopened on a new kernel, the widget's output is an error that the static output's style
        # rule hides (saved_view.py), and where widgets cannot render it shows nothing.
        data, metadata = widget_data(self)
        display(data, metadata=metadata, raw=True)
        self._handles.append(display(self.results_bundle(), raw=True, display_id=True))

    def results_bundle(self) -> dict[str, str]:
        """The static output shown under the widget (text/plain and escaped text/html): the progress,
        the ratings so far (folded away while the test runs), and the summary once it is finished."""
        bundle = report_bundle(Progress(self.kind, self.seed, self.done, self.total, self._rows))
        return {**bundle, "text/html": standing_in(bundle["text/html"])}

    def _update_report(self) -> None:
        bundle = self.results_bundle()
        for handle in self._handles:
            handle.update(bundle, raw=True)

    # ---- trials ---------------------------------------------------------------------------------
    def _show_trial(self) -> None:
        self._ids, self._answers = {}, {}
        if self.finished:
            with self.hold_sync():
                self.trial, self.answers = {}, {}
            return
        trial = self.plan[self.done]
        samples = []
        for position, system in enumerate(trial.systems):
            sample_id = secrets.token_hex(8)  # no trace of the system: not derived from it or the seed
            self._ids[sample_id] = system
            small = player_clip(self._clips[system][trial.item])
            samples.append({"id": sample_id, "label": _label(position), "audio": small.data,
                            "mime": small.mime_type})
        self._plays = dict.fromkeys(trial.systems, 0)
        with self.hold_sync():
            self.answers = {}
            self.trial = {"number": trial.number, "samples": samples}

    def _on_browser_msg(self, _widget: Any, content: Any, _buffers: list[Any]) -> None:
        if not isinstance(content, dict) or self.finished or content.get("trial") != self.plan[self.done].number:
            return  # not ours, or about a trial that is no longer on screen
        kind, sample = content.get("type"), content.get("id")
        if kind == "next":
            self._next()
        elif isinstance(sample, str) and sample in self._ids:
            if kind == "play":
                self._plays[self._ids[sample]] += 1
            elif kind == "rate":
                self._rate(sample, content.get("value"), content.get("seconds"))

    def _rate(self, sample: str, value: Any, seconds: Any) -> None:
        if self.kind == "mos":
            if isinstance(value, bool) or not isinstance(value, int) or value not in {v for v, _ in MOS_SCALE}:
                return
        elif value is not True:  # A/B: the page says which sample is preferred
            return
        system = self._ids[sample]
        if self.require_play and not self._plays[system]:
            label = _label(self.plan[self.done].systems.index(system))
            self.error = f"play sample {label} before rating it"  # the page enforces this too
            return
        if self.kind == "ab":
            self._answers = {}  # one preferred sample per trial
        self._answers[system] = (value, _page_seconds(seconds))
        by_system = {s: i for i, s in self._ids.items()}
        with self.hold_sync():
            self.error = ""
            self.answers = {by_system[s]: a for s, (a, _) in self._answers.items()}

    def _next(self) -> None:
        trial = self.plan[self.done]
        if self.kind == "mos" and len(self._answers) < len(trial.systems):
            self.error = "rate every sample before going on"
            return
        if self.kind == "ab" and not self._answers:
            self.error = "pick the sample you prefer before going on"
            return
        rows = []
        for position, system in enumerate(trial.systems, start=1):
            if self.kind == "mos":
                answer, seconds = self._answers[system]
                row_answer: dict[str, Any] = {"rating": answer}
            else:
                chosen = next(iter(self._answers))
                answer, seconds = self._answers[chosen]
                row_answer = {"preferred": system == chosen}
            rows.append({"trial": trial.number, "item": trial.item, "system": system, "position": position,
                         **row_answer, "plays": self._plays[system], "seconds": seconds})
        # In one step: where widget messages arrive on a kernel subshell, a cell may read the rows meanwhile.
        self._rows.extend(rows)
        self.error = ""
        self.done += 1
        self._show_trial()
        self._update_report()

    def __repr__(self) -> str:
        systems = len(self._clips)
        state = "finished" if self.finished else f"{self.done} of {self.total} trials answered"
        return f"<ListeningTest {self.kind}: {systems} systems, {state}, seed {self.seed}>"


def listening_test(clips: Mapping[str, Any], *, kind: str = "mos", seed: int | None = 0, prompt: str | None = None,
                   require_play: bool = True) -> ListeningTest:
    """A blind listening test of `clips` ({system name: [one clip per item]}): see ListeningTest."""
    return ListeningTest(clips, kind=kind, seed=seed, prompt=prompt, require_play=require_play)


def _page_seconds(value: Any) -> float:
    """The time on a trial the page reported, or NaN when it is not a sensible number of seconds."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= _MAX_SECONDS:
        return math.nan
    return float(value)


def _label(position: int) -> str:
    return string.ascii_uppercase[position] if position < 26 else str(position + 1)


def _clip_table(clips: Any) -> tuple[dict[str, dict[Any, AudioClip]], list[str], list[Any]]:
    """{system: {item: clip}}, the systems and the items, from what the user passed (checked)."""
    if not isinstance(clips, Mapping) or not clips:
        raise InvalidInputError("listening_test takes a dict {system name: clips}, e.g. "
                                "{'alloy': [clip1, clip2], 'echo': [clip3, clip4]}")
    table: dict[str, dict[Any, AudioClip]] = {}
    for system, value in clips.items():
        if not isinstance(system, str) or not system.strip():
            raise InvalidInputError(f"system names must be non-empty strings, not {system!r}")
        if isinstance(value, Mapping):
            pairs = list(value.items())
        elif isinstance(value, list) or (isinstance(value, tuple) and all(isinstance(c, AudioClip) for c in value)):
            pairs = list(enumerate(value, start=1))
        else:
            pairs = [(1, value)]
        if not pairs:
            raise InvalidInputError(f"system {system!r} has no clips")
        table[system] = {item: as_audio_clip(clip, param=f"clips[{system!r}][{item!r}]") for item, clip in pairs}
    systems = list(table)
    items = list(table[systems[0]])
    for system in systems[1:]:
        if set(table[system]) != set(items):
            raise InvalidInputError(f"every system needs a clip for the same items: {systems[0]!r} has "
                                    f"{_items(items)}, {system!r} has {_items(list(table[system]))}")
    return table, systems, items


def _items(items: list[Any]) -> str:
    return f"{len(items)} clips" if all(isinstance(i, int) for i in items) else repr(items)
