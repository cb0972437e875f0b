"""The notebook output's waveform image (numpy + Pillow, no matplotlib) and its HTML time labels."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

import nbaudio.widgets as widgets
from nbaudio import AudioClip, Segment, Transcript, display
from nbaudio.display.clip_html import ticks_html
from nbaudio.display.speakers_html import SPEAKER_PALETTE
from tests.support.signals import tone

RATE = 8000
SIZE = (200, 50)


def pixels(png: bytes) -> np.ndarray:
    """(height, width, 4) uint8 RGBA of a PNG."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def hex_rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])


def near(px: np.ndarray, colour: str, tol: int = 24) -> bool:
    return bool(px[3] > 200 and np.abs(px[:3].astype(int) - hex_rgb(colour)).max() <= tol)


@pytest.fixture
def half_silent() -> AudioClip:
    """1 s of silence, then 1 s of a tone at amplitude 0.5."""
    x = np.concatenate([np.zeros(RATE, np.float32), tone(1.0, RATE, 300.0, amp=0.5)])
    return AudioClip.from_array(x, RATE)


def test_first_display_imports_no_matplotlib(tmp_path):
    """A clip and a transcript with speakers shown in a fresh process: matplotlib stays unloaded
    (importing it was most of the first display's time)."""
    script = textwrap.dedent("""
        import sys
        import numpy as np
        from nbaudio import AudioClip, Segment, Transcript
        clip = AudioClip.from_array(np.sin(np.arange(16000) / 9).astype(np.float32), 8000)
        html = clip._repr_mimebundle_()["text/html"]
        t = Transcript(text="", segments=[Segment(0, 0.0, 1.0, "a", speaker="A"),
                                          Segment(1, 1.0, 2.0, "b", speaker="B")], audio=clip)
        html += t._repr_mimebundle_()["text/html"]
        assert html.count('alt="waveform"') == 2 and html.count("nbaudio-tick") > 4, html[:300]
        print(sorted(m for m in sys.modules if m.split(".")[0] == "matplotlib"))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_image_is_the_plot_of_the_envelope(half_silent):
    png = display.waveform_png(half_silent, size_px=SIZE)
    img = pixels(png)
    assert img.shape == (SIZE[1], SIZE[0], 4)
    colour = display.options.color
    silent, loud = img[:-1, 50], img[:-1, 150]  # the last row is the time axis line
    # silence: a line about one pixel thick at zero, transparent above and below
    assert sum(near(p, colour) for p in silent) <= 2 and silent[:10, 3].max() == 0 and silent[-10:, 3].max() == 0
    # the tone spans its peak over the 8 % headroom: ~1/1.08 of the height, centred
    rows = [i for i, p in enumerate(loud) if near(p, colour)]
    assert abs(len(rows) - SIZE[1] / 1.08) <= 2 and abs((rows[0] + rows[-1]) / 2 - SIZE[1] / 2) <= 1.5
    assert img[-1, :, 3].min() > 200  # the axis line runs the whole width (the image is all time axis)


def test_speakers_get_their_lane_and_bands(half_silent):
    t = Transcript(text="", segments=[Segment(0, 0.0, 1.0, "a", speaker="A"), Segment(1, 1.0, 2.0, "b", speaker="B")])
    img = pixels(display.waveform_png(half_silent, segments=t, size_px=SIZE))
    a, b = SPEAKER_PALETTE[:2]
    assert near(img[-3, 50], a) and near(img[-3, 150], b)  # the lane along the bottom
    assert not near(img[-3, 50], b) and not near(img[-3, 150], a)
    # above the silence, a faint band of A's colour (15 % opacity)
    faint = img[5, 50]
    assert 20 <= faint[3] <= 60 and np.abs(faint[:3].astype(int) - hex_rgb(a)).max() <= 40
    # segments without speakers: bands but no lane
    plain = pixels(display.waveform_png(half_silent, segments=[(0.0, 1.0), (1.0, 2.0)], size_px=SIZE))
    assert plain[-3, 50, 3] < 100


def test_segment_edges_are_drawn_unless_they_would_grey_out_the_wave():
    clip = AudioClip.from_array(np.zeros(60 * RATE, np.float32), RATE)

    def grey_columns(n: int) -> int:
        segs = [(60.0 * i / n, 60.0 * (i + 1) / n) for i in range(n)]
        top = pixels(display.waveform_png(clip, segments=segs, size_px=(720, 40)))[3]
        return int((top[:, 3] > 100).sum())  # bands are 15 % opaque; edges ~50 %

    assert grey_columns(10) == 11
    assert grey_columns(1800) == 0


def test_matplotlib_colour_names_still_work(half_silent):
    with display.options.override(color="C1"):  # matplotlib's second colour, a name CSS does not know
        img = pixels(display.waveform_png(half_silent, size_px=SIZE))
    assert near(img[SIZE[1] // 2, 150], "#ff7f0e")


def test_fewer_samples_than_columns_fill_the_width():
    clip = AudioClip.from_array(np.array([0.0, 0.5, -0.5, 0.25], np.float32), RATE)
    img = pixels(display.waveform_png(clip, size_px=SIZE))
    assert img.shape[:2] == (SIZE[1], SIZE[0])
    assert (img[:-1, :, 3] > 200).any(axis=0).all()  # every column shows something


TICK = re.compile(r'<span class="nbaudio-tick" style="([^"]*)">([^<]*)</span>')


def test_time_labels_are_text_placed_along_the_image():
    ticks = TICK.findall(ticks_html(60.0))
    assert [label for _, label in ticks] == ["0:00", "0:10", "0:20", "0:30", "0:40", "0:50", "1:00"]
    first, middle, last = ticks[0][0], ticks[3][0], ticks[-1][0]
    assert first.startswith("left:0.00%;") and "translateX" not in first  # an end label stays inside
    assert middle.startswith("left:50.00%;transform:translateX(-50%)")
    assert last.startswith("right:0.00%;")
    assert [label for _, label in TICK.findall(ticks_html(3.0))][-1] == "3 s"  # short clips: the unit once
    hour = [label for _, label in TICK.findall(ticks_html(7200.0))]
    assert hour[0] == "0:00:00" and all(re.fullmatch(r"\d:\d\d:\d\d", s) for s in hour)


def test_a_small_waveform_gets_as_many_labels_as_fit():
    """A compare grid's 240 px waveform of 1.77 s had labels every 0.25 s: "0.250.5 0.751 1.251.5"."""
    small = [label for _, label in TICK.findall(ticks_html(1.77, 240))]
    assert small == ["0", "1 s"]
    assert len(TICK.findall(ticks_html(1.77, 720))) == 8  # the default width keeps its labels


def test_clip_output_has_the_labels_under_a_seekable_image(half_silent):
    page = display.mimebundle(half_silent)["text/html"]
    wave = page.index('class="nbaudio-wave"')
    assert 'data-x0="0.0" data-x1="1.0" data-dur="2.000000"' in page
    assert wave < page.index('alt="waveform"') < page.index('class="nbaudio-ticks"')
    labels = [label for _, label in TICK.findall(page)]
    assert labels == ["0", "0.25", "0.5", "0.75", "1", "1.25", "1.5", "1.75", "2 s"]


def test_player_widget_gets_the_labels(half_silent):
    el = widgets.Player(half_silent).element
    assert el.x0 == 0.0 and el.x1 == 1.0
    assert el.ticks[0] == [0.0, "0"] and el.ticks[-1] == [1.0, "2 s"]
    assert all(0.0 <= f <= 1.0 for f, _ in el.ticks)
