"""Benchmark of the notebook display layer (a script, not a test).

    python -m benchmarks.bench_display [--quick]

1. Waveform of one hour of 24 kHz audio: `nbaudio.display.plot_waveform` against
   `librosa.display.waveshow` on the same signal, the same Agg figure size, each followed by
   a full draw (rasterisation) of the figure. librosa's first call (numba compilation) is a
   warm-up and not counted; the two are interleaved. Target: nbaudio <= 0.2x librosa's time.
2. Notebook size for a displayed 60 s speech clip: an .ipynb (nbformat) holding the display
   output of the nbaudio `AudioClip` against one holding `IPython.display.Audio` of the same
   samples. Target: nbaudio <= 0.15x IPython's bytes. The speech is the embedded engine's piper
   voice reading a paragraph (made once, cached in build/bench).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `benchmarks` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import Result, interleaved, pair_ratios, ratio, script_main, speech_wav  # noqa: E402
from nbaudio import AudioClip, display  # noqa: E402
from tests.support.signals import voiced_speech  # noqa: E402

FIG_SIZE = (7.2, 1.1)  # inches at 100 dpi: the display waveform's 720 x 110 px
DPI = 100


def hour_signal(rate: int = 24000) -> np.ndarray:
    """One hour of speech-like audio: a 60 s voiced signal repeated, with a varying gain."""
    minute = voiced_speech(60.0, rate, seed=1)
    gains = np.linspace(0.4, 1.0, 60, dtype=np.float32)
    return np.concatenate([minute * g for g in gains]).astype(np.float32)


def bench_waveform(repeats: int) -> Result:
    import librosa
    import librosa.display
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rate = 24000
    y = hour_signal(rate)
    clip = AudioClip.from_array(y, rate)  # built once, as a clip in a notebook already is

    def new_axes():
        fig = Figure(figsize=FIG_SIZE, dpi=DPI)
        FigureCanvasAgg(fig)
        return fig, fig.add_subplot()

    def ours() -> None:
        fig, ax = new_axes()
        display.plot_waveform(clip, ax)
        fig.canvas.draw()

    def theirs() -> None:
        fig, ax = new_axes()
        librosa.display.waveshow(y, sr=rate, ax=ax)
        fig.canvas.draw()

    # The warm-up round covers imports, the font cache and librosa's numba compilation.
    stats = interleaved({"nbaudio": ours, "librosa": theirs}, repeats)
    png = interleaved({"png": lambda: display.waveform_png(clip, size_px=(int(FIG_SIZE[0] * DPI),
                                                                          int(FIG_SIZE[1] * DPI)))}, repeats)["png"]
    r = ratio(stats["nbaudio"], stats["librosa"])
    return Result(
        f"waveform render, 1 h of {rate // 1000} kHz audio ({y.shape[0]:,} samples), "
        f"{FIG_SIZE[0]}×{FIG_SIZE[1]} in @ {DPI} dpi, plot + draw",
        stats["nbaudio"].fmt("s"), f"librosa {librosa.__version__} waveshow: {stats['librosa'].fmt('s')}",
        r, "≤ 0.2×", r <= 0.2,
        note=f"per-pair ratios {pair_ratios(stats['nbaudio'], stats['librosa']).fmt('×')}",
        detail=[f"nbaudio display PNG straight to bytes (what a notebook output uses): {png.fmt('s')}"])


def speech_clip(seconds: float = 60.0) -> tuple[AudioClip, str]:
    """The first minute of the engine's piper voice reading a paragraph five times."""
    spoken = AudioClip.from_file(speech_wav("minute"))
    samples = spoken.mono().samples[: int(seconds * spoken.sample_rate)]
    return (AudioClip.from_array(samples, spoken.sample_rate, name="speech.wav"),
            f"piper speech, {spoken.sample_rate} Hz mono")


def notebook_bytes(outputs: list[dict]) -> int:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    cell = new_code_cell("clip", execution_count=1)
    cell.outputs = [new_output("display_data", data=o["data"], metadata=o["metadata"]) for o in outputs]
    nb = new_notebook(cells=[cell])
    return len(nbformat.writes(nb).encode("utf-8"))


def bench_notebook_size(repeats: int) -> Result:
    from IPython.core.formatters import format_display_data
    from IPython.display import Audio

    clip, source = speech_clip(60.0)

    def bundle(obj) -> dict:
        data, metadata = format_display_data(obj)
        return {"data": data, "metadata": metadata}

    empty = notebook_bytes([])
    ours = notebook_bytes([bundle(clip)])
    ipy = notebook_bytes([bundle(Audio(data=clip.samples, rate=clip.sample_rate))])
    render = interleaved({"render": lambda: display.mimebundle(clip)}, repeats)["render"]
    small = display.player_clip(clip)
    png = display.waveform_png(clip)
    r = ours / ipy
    return Result(
        f".ipynb bytes, one displayed {clip.duration:.0f} s speech clip ({source})",
        f"{ours:,} B", f"IPython.display.Audio: {ipy:,} B", r, "≤ 0.15×", r <= 0.15,
        note=(f"whole .ipynb files; output bytes alone (minus the {empty:,} B empty notebook): "
              f"{(ours - empty) / (ipy - empty):.3f}×"),
        detail=[f"nbaudio output = player {display.codec_label(small.format)} {small.sample_rate} Hz "
                f"{small.nbytes:,} B + waveform PNG {len(png):,} B, base64 in HTML; IPython = 16-bit "
                f"{clip.sample_rate} Hz WAV, base64",
                f"nbaudio mimebundle render time: {render.fmt('s')}"])


def collect(quick: bool = False) -> list[Result]:
    repeats = 3 if quick else 9
    return [bench_waveform(repeats), bench_notebook_size(repeats)]


if __name__ == "__main__":
    raise SystemExit(script_main("display layer", collect, __doc__))
