"""Speakers in the transcript view: colours that stay distinct for colour-blind readers, the legend with
talk times, rows tagged for the legend's filter, a narrow time column, the waveform's speaker lane."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from nbaudio import AudioClip, Segment, Transcript, display
from nbaudio.display.speakers_html import SPEAKER_PALETTE, speaker_colors
from nbaudio.display.waveform import LANE_HEIGHT
from tests.support.signals import voiced_speech

RATE = 24000
EVIL = '"><img src=x onerror=alert(1)>'


class Tags(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture
def meeting() -> Transcript:
    segs = [Segment(0, 0.0, 3.0, "Welcome.", speaker="Alice"), Segment(1, 3.0, 4.0, "Hi.", speaker=EVIL),
            Segment(2, 4.0, 9.0, "Let us begin with the budget.", speaker="Alice"),
            Segment(3, 9.0, 10.0, "Yes.", speaker="C")]
    return Transcript(text="x", segments=segs, duration=10.0,
                      audio=AudioClip.from_array(voiced_speech(10.0, RATE), RATE))


def _linear(hex_colour: str) -> np.ndarray:
    c = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


# Machado, Oliveira and Fernandes (2009), severity 1.0, on linear RGB.
CVD = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}


@pytest.mark.parametrize("kind", sorted(CVD))
def test_first_five_speaker_colours_stay_apart_for_colour_blind_readers(kind):
    seen = [np.clip(CVD[kind] @ _linear(c), 0, 1) for c in SPEAKER_PALETTE[:5]]
    gaps = [np.linalg.norm(a - b) for i, a in enumerate(seen) for b in seen[i + 1:]]
    # the Tableau palette used before: green and red 0.02 apart for a deuteranope; these stay >= 0.12
    assert min(gaps) > 0.1, (kind, min(gaps))


def test_legend_rows_and_talk_time(meeting):
    page = display.mimebundle(meeting)["text/html"]
    doc = Tags(page)
    legend = [a for t, a in doc.tags if "nbaudio-spk" in (a.get("class") or "")]
    assert [a["data-speaker"] for a in legend] == ["Alice", EVIL, "C"]
    assert legend[0]["title"] == "Alice: 0:08.0 (80% of the talk time), 2 turns, 7 words"
    rows = [a for t, a in doc.tags if t == "tr" and "nbaudio-seg" in (a.get("class") or "")]
    assert [r["data-speaker"] for r in rows] == ["Alice", EVIL, "Alice", "C"]
    colours = speaker_colors(["Alice", EVIL, "C"])
    assert colours["Alice"] in rows[0]["style"] and colours["Alice"] in rows[2]["style"]
    assert colours[EVIL] in rows[1]["style"] and colours["Alice"] != colours[EVIL]
    bar = [a for t, a in doc.tags if t == "div" and a.get("title", "").startswith("Alice:")]
    assert bar and "width:80.00%" in bar[0]["style"]
    text = "".join(doc.text)
    assert "80%" in text and "10%" in text  # talk-time shares readable without scripts


def test_names_are_escaped_and_only_our_scripts_run(meeting):
    page = display.mimebundle(meeting)["text/html"]
    assert "<img src=x" not in page and "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert not any(n.startswith("on") for _, a in Tags(page).tags for n in a)
    scripts = re.findall(r"<script>(.*?)</script>", page, re.DOTALL)
    assert len(scripts) == 2 and all("document.currentScript" in s for s in scripts)  # player + legend filter
    legend_script = next(s for s in scripts if "nbaudio-legend" in s)
    assert page.index("</table>") < page.index(legend_script)  # after the rows it wires


def test_time_column_is_narrow(meeting):
    page = display.mimebundle(meeting)["text/html"]
    heads = re.findall(r"<th ([^>]*)>(time|speaker|text)</th>", page)
    style = {name: attrs for attrs, name in heads}
    # Widths in em on the header cells: JupyterLab's fixed table layout takes them from the first row,
    # and its sanitizer keeps em (tests/browser/test_browser.py checks the times fit in the page).
    widths = {name: re.search(r"width:([\d.]+)em", style[name]) for name in ("time", "speaker", "text")}
    assert widths["time"] and widths["speaker"] and widths["text"] is None
    assert 6 < float(widths["time"].group(1)) < 12  # "0:00.00–2:12.34" and its padding


def test_no_legend_without_speakers():
    t = Transcript(text="a b", segments=[Segment(0, 0.0, 1.0, "a"), Segment(1, 1.0, 2.0, "b")])
    page = display.mimebundle(t)["text/html"]
    assert "nbaudio-legend" not in page and "<script" not in page and "data-speaker" not in page


def test_waveform_speaker_lane(meeting):
    ax = display.plot_waveform(meeting.audio, Figure(figsize=(6, 1)).add_subplot(), segments=meeting)
    polys = [c for c in ax.collections if type(c) is PolyCollection]
    lane = polys[-2]  # then the faint full-height bands
    assert len(lane.get_paths()) == 4
    tops = {round(float(p.vertices[:, 1].max()), 3) for p in lane.get_paths()}
    assert tops == {LANE_HEIGHT}
    faces = lane.get_facecolors()
    assert (faces[0] == faces[2]).all() and not (faces[0] == faces[1]).all()
    lo, hi = ax.get_ylim()
    assert -lo > hi  # room under the envelope for the lane
