"""Waveforms: the min/max envelope, `clip.plot()`, the time axis, segment overlays, long clips."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure

from nbaudio import AudioClip, Segment, Transcript, display
from nbaudio.errors import InvalidInputError
from tests.support.signals import tone, voiced_speech


def brute_envelope(x: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    n = x.shape[0]
    columns = min(columns, n)
    mins, maxs = [], []
    for i in range(columns):
        part = x[i * n // columns:(i + 1) * n // columns]
        mins.append(part.min())
        maxs.append(part.max())
    return np.array(mins), np.array(maxs)


@pytest.mark.parametrize("n", [1, 2, 7, 64, 100, 1001])
@pytest.mark.parametrize("columns", [1, 3, 10, 64, 333])
def test_envelope_matches_brute_force(n, columns):
    rng = np.random.default_rng(n * 1000 + columns)
    x = rng.uniform(-1, 1, n).astype(np.float32)
    mins, maxs = display.envelope(x, columns)
    want_min, want_max = brute_envelope(x, columns)
    np.testing.assert_array_equal(mins, want_min)
    np.testing.assert_array_equal(maxs, want_max)


def test_envelope_of_multichannel_covers_all_channels():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (500, 3)).astype(np.float32)
    mins, maxs = display.envelope(x, 37)
    want_min, _ = brute_envelope(x.min(axis=1), 37)
    _, want_max = brute_envelope(x.max(axis=1), 37)
    np.testing.assert_array_equal(mins, want_min)
    np.testing.assert_array_equal(maxs, want_max)


def test_envelope_finds_a_single_spike():
    x = np.zeros(100_000, dtype=np.float32)
    x[54_321] = 0.9
    x[12_345] = -0.7
    mins, maxs = display.envelope(x, 100)
    assert maxs.argmax() == 54 and maxs.max() == pytest.approx(0.9)
    assert mins.argmin() == 12 and mins.min() == pytest.approx(-0.7)
    assert np.count_nonzero(maxs) == 1 and np.count_nonzero(mins) == 1


@pytest.mark.parametrize("bad", [np.zeros(0), np.zeros((2, 2, 2))])
def test_envelope_rejects_bad_arrays(bad):
    with pytest.raises(InvalidInputError):
        display.envelope(bad, 10)


def test_envelope_rejects_bad_columns():
    with pytest.raises(InvalidInputError):
        display.envelope(np.zeros(10), 0)


def test_plot_returns_axes_and_draws_one_column_per_pixel():
    clip = AudioClip.from_array(voiced_speech(3.0), 24000)
    fig = Figure(figsize=(4, 1), dpi=100)
    ax = fig.add_subplot()
    assert clip.plot(ax=ax) is ax
    band = ax.collections[0]
    verts = band.get_paths()[0].vertices
    width_px = int(round(ax.get_window_extent().width))
    # the band's outline: each column twice (min and max side) plus end points; never all samples
    assert len(verts) <= 2 * (width_px + 2) + 4
    assert ax.get_xlim() == (0.0, pytest.approx(3.0))
    assert verts[:, 1].max() == pytest.approx(float(clip.samples.max()), rel=1e-6)
    assert verts[:, 1].min() == pytest.approx(float(clip.samples.min()), rel=1e-6)


def test_plot_without_axes_opens_a_figure_the_user_owns():
    clip = AudioClip.from_array(tone(0.5), 24000)
    before = set(plt.get_fignums())
    ax = clip.plot(columns=50, alpha=0.5)
    try:
        new = set(plt.get_fignums()) - before
        assert new == {ax.figure.number}
        assert ax.collections[0].get_alpha() == 0.5
    finally:
        plt.close(ax.figure)


def test_display_rendering_leaves_no_figures():
    clip = AudioClip.from_array(tone(0.5), 24000)
    before = plt.get_fignums()
    png = display.waveform_png(clip)
    assert png[:4] == b"\x89PNG" and plt.get_fignums() == before


def test_time_axis_seconds_then_minutes_then_hours():
    def labels_for(duration: float) -> list[str]:
        fig = Figure(figsize=(6, 1))
        ax = fig.add_subplot()
        rate = 100
        ax = display.plot_waveform(AudioClip.from_array(np.zeros(int(duration * rate) or 1), rate), ax, columns=50)
        ticks = ax.xaxis.get_major_locator()()
        fmt = ax.xaxis.get_major_formatter()
        return [fmt(t, i) for i, t in enumerate(ticks)]

    assert labels_for(3.0)[:4] == ["0", "0.5", "1", "1.5"]
    assert labels_for(600.0) == ["0:00", "2:00", "4:00", "6:00", "8:00", "10:00"]
    hour_labels = labels_for(7200.0)
    assert hour_labels[0] == "0:00:00" and all(re.fullmatch(r"\d:\d\d:\d\d", s) for s in hour_labels)


def test_ticks_follow_zoom():
    fig = Figure(figsize=(6, 1))
    ax = display.plot_waveform(AudioClip.from_array(np.zeros(100 * 600), 100), fig.add_subplot(), columns=50)
    ax.set_xlim(30.0, 31.0)
    ticks = ax.xaxis.get_major_locator()()
    assert 4 <= len(ticks) <= 9 and ticks[0] >= 30.0 and ticks[-1] <= 31.0


def test_segment_overlay_bands_and_boundaries():
    clip = AudioClip.from_array(voiced_speech(4.0), 24000)
    t = Transcript(text="", segments=[Segment(0, 0.0, 1.0, "a", speaker="A"), Segment(1, 1.0, 2.5, "b", speaker="B"),
                                      Segment(2, 2.5, 4.0, "c", speaker="A")])
    fig = Figure(figsize=(6, 1))
    ax = display.plot_waveform(clip, fig.add_subplot(), segments=t)
    bands = [c for c in ax.collections if type(c) is PolyCollection]
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(bands[-1].get_paths()) == 3
    colours = bands[-1].get_facecolors()
    assert (colours[0] == colours[2]).all() and not (colours[0] == colours[1]).all()  # one colour per speaker
    assert len(lines) == 1 and len(lines[0].get_segments()) == 4  # boundaries 0, 1, 2.5, 4
    # tuples work too
    ax2 = display.plot_waveform(clip, Figure().add_subplot(), segments=[(0.5, 1.0), (2.0, 3.0, "x")])
    assert len([c for c in ax2.collections if type(c) is PolyCollection][-1].get_paths()) == 2


def test_hour_long_clip_plots():
    rate = 8000
    n = rate * 3600
    x = np.zeros(n, dtype=np.float32)
    # a burst every minute so the envelope has something to find
    for minute in range(60):
        a = minute * 60 * rate
        x[a:a + rate] = tone(1.0, rate, 300.0, amp=0.2 + 0.01 * minute)
    clip = AudioClip.from_array(x, rate)
    fig = Figure(figsize=(9, 2), dpi=100)
    ax = clip.plot(ax=fig.add_subplot())
    verts = ax.collections[0].get_paths()[0].vertices
    assert len(verts) < 2500
    assert ax.get_xlim() == (0.0, 3600.0)
    assert verts[:, 1].max() == pytest.approx(0.79, abs=0.01)
    png = display.waveform_png(clip)
    assert png[:4] == b"\x89PNG"


def test_plot_accepts_samples_and_rate_and_rejects_others():
    ax = display.plot_waveform((tone(0.2), 24000), Figure().add_subplot(), columns=20)
    assert ax.get_xlim()[1] == pytest.approx(0.2)
    with pytest.raises(InvalidInputError):
        display.plot_waveform("not audio", Figure().add_subplot())



def test_an_hour_of_segments_does_not_grey_out_the_wave():
    """1800 segment edges across ~700 px would be a solid grey block: the edge lines are left out then."""
    clip = AudioClip.from_array(tone(60.0, rate=8000), 8000)

    def edge_lines(n: int) -> int:
        ax = Figure(figsize=(7.2, 1.1), dpi=100).add_subplot()
        segs = [Segment(i, 60.0 * i / n, 60.0 * (i + 1) / n, " x") for i in range(n)]
        display.plot_waveform(clip, ax, segments=segs)
        return sum(isinstance(c, LineCollection) for c in ax.collections)

    assert edge_lines(10) == 1  # a few segments: their edges are drawn
    assert edge_lines(1800) == 0
