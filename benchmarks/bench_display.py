"""Benchmark of the notebook display layer (a script, not a test).

    python benchmarks/bench_display.py [--repeats 7] [--no-librosa]

1. Waveform of one hour of 24 kHz audio: `nbaudio.display.plot_waveform` against
   `librosa.display.waveshow` on the same signal, the same Agg figure size, each followed by
   a full draw (rasterisation) of the figure. librosa's first call (numba compilation) is a
   warm-up and not counted. Target: nbaudio <= 0.2x librosa's time.
2. Notebook size for a displayed 60 s speech clip: an .ipynb (nbformat) holding the display
   output of the nbaudio `AudioClip` against one holding `IPython.display.Audio` of the same
   samples. Target: nbaudio <= 0.15x IPython's bytes. The speech is espeak-ng's reading of a
   paragraph when espeak-ng is installed, else a synthetic voiced signal (the output says which).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nbaudio import AudioClip, display  # noqa: E402
from tests.display_signals import voiced_speech  # noqa: E402

FIG_SIZE = (7.2, 1.1)  # inches at 100 dpi: the display waveform's 720 x 110 px
DPI = 100
PARAGRAPH = (
    "Audio models can now listen and speak. This notebook sends a question to a speech endpoint, "
    "plays the answer, shows its waveform, and transcribes it again with word timestamps. "
    "Every output stays small, because the player embeds a compact copy of the sound instead "
    "of a large uncompressed wave file, and the waveform is drawn from a short envelope rather "
    "than from every sample. "
)


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def summary(times: list[float]) -> str:
    med = statistics.median(times)
    return f"median {med * 1000:8.1f} ms  (min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}, n={len(times)})"


def hour_signal(rate: int = 24000) -> np.ndarray:
    """One hour of speech-like audio: a 60 s voiced signal repeated, with a varying gain."""
    minute = voiced_speech(60.0, rate, seed=1)
    gains = np.linspace(0.4, 1.0, 60, dtype=np.float32)
    return np.concatenate([minute * g for g in gains]).astype(np.float32)


def bench_waveform(repeats: int, with_librosa: bool) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rate = 24000
    y = hour_signal(rate)
    clip = AudioClip.from_array(y, rate)  # built once, as a clip in a notebook already is
    print(f"\n[1] waveform of {y.shape[0] / rate / 3600:.0f} h at {rate} Hz ({y.shape[0]:,} samples), "
          f"figure {FIG_SIZE[0]}x{FIG_SIZE[1]} in @ {DPI} dpi, plot + draw")

    def new_axes():
        fig = Figure(figsize=FIG_SIZE, dpi=DPI)
        FigureCanvasAgg(fig)
        return fig, fig.add_subplot()

    def ours() -> None:
        fig, ax = new_axes()
        display.plot_waveform(clip, ax)
        fig.canvas.draw()

    def ours_png() -> None:
        display.waveform_png(clip, size_px=(int(FIG_SIZE[0] * DPI), int(FIG_SIZE[1] * DPI)))

    ours()  # warm-up: imports, font cache
    t_ours = timed(ours, repeats)
    t_png = timed(ours_png, repeats)
    t_env = timed(lambda: display.envelope(y, 720), repeats)
    print(f"  nbaudio plot_waveform + draw : {summary(t_ours)}")
    print(f"  nbaudio display PNG (to bytes): {summary(t_png)}")
    print(f"  nbaudio envelope alone        : {summary(t_env)}")
    if not with_librosa:
        return
    try:
        import librosa
        import librosa.display
    except ImportError:
        print("  librosa is not installed (pip install librosa): no comparison")
        return

    def theirs() -> None:
        fig, ax = new_axes()
        librosa.display.waveshow(y, sr=rate, ax=ax)
        fig.canvas.draw()

    theirs()  # warm-up: numba compiles librosa's helpers on first use
    # Interleaved, so both sides see the same machine load.
    pairs = [(timed(ours, 1)[0], timed(theirs, 1)[0]) for _ in range(repeats)]
    t_ours, t_theirs = [a for a, _ in pairs], [b for _, b in pairs]
    print(f"  nbaudio (interleaved run)     : {summary(t_ours)}")
    print(f"  librosa {librosa.__version__} waveshow + draw: {summary(t_theirs)}")
    ratio = statistics.median(t_ours) / statistics.median(t_theirs)
    pair_ratios = [a / b for a, b in pairs]
    print(f"  ratio nbaudio / librosa: {ratio:.3f} of medians (per pair: median {statistics.median(pair_ratios):.3f}, "
          f"max {max(pair_ratios):.3f})   target <= 0.2   {'OK' if ratio <= 0.2 else 'MISSED'}")


def speech_clip(seconds: float = 60.0) -> tuple[AudioClip, str]:
    espeak = shutil.which("espeak-ng")
    if espeak:
        text = PARAGRAPH * 6
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "speech.wav"
            subprocess.run([espeak, "-w", str(wav), text], check=True, capture_output=True)
            spoken = AudioClip.from_file(wav)
        samples = spoken.samples[: int(seconds * spoken.sample_rate)]
        if samples.shape[0] >= seconds * spoken.sample_rate - 1:
            return (AudioClip.from_array(samples, spoken.sample_rate, name="speech.wav"),
                    f"espeak-ng speech, {spoken.sample_rate} Hz mono")
    rate = 24000
    return (AudioClip.from_array(voiced_speech(seconds, rate), rate, name="speech.wav"),
            f"synthetic voiced signal (tests/display_signals.py), {rate} Hz mono")


def notebook_bytes(outputs: list[dict]) -> int:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    cell = new_code_cell("clip", execution_count=1)
    cell.outputs = [new_output("display_data", data=o["data"], metadata=o["metadata"]) for o in outputs]
    nb = new_notebook(cells=[cell])
    return len(nbformat.writes(nb).encode("utf-8"))


def bench_notebook_size(repeats: int) -> None:
    from IPython.core.formatters import format_display_data
    from IPython.display import Audio

    clip, source = speech_clip(60.0)
    print(f"\n[2] .ipynb bytes for a displayed {clip.duration:.0f} s clip ({source})")

    def bundle(obj) -> dict:
        data, metadata = format_display_data(obj)
        return {"data": data, "metadata": metadata}

    empty = notebook_bytes([])
    ours = notebook_bytes([bundle(clip)])
    ipy = notebook_bytes([bundle(Audio(data=clip.samples, rate=clip.sample_rate))])
    t_render = timed(lambda: display.mimebundle(clip), repeats)
    small = display.player_clip(clip)
    png = display.waveform_png(clip)
    print(f"  empty notebook               : {empty:>10,} B")
    print(f"  nbaudio AudioClip output     : {ours:>10,} B  (player {display._CODEC_LABEL[small.format]} "
          f"{small.sample_rate} Hz {small.nbytes:,} B + waveform PNG {len(png):,} B, base64 in HTML)")
    print(f"  IPython.display.Audio output : {ipy:>10,} B  (WAV 16-bit {clip.sample_rate} Hz, base64)")
    ratio = (ours - empty) / (ipy - empty)
    ratio_total = ours / ipy
    print(f"  ratio nbaudio / IPython: {ratio:.3f} of the output bytes ({ratio_total:.3f} of whole files)"
          f"   target <= 0.15   {'OK' if ratio_total <= 0.15 else 'MISSED'}")
    print(f"  nbaudio mimebundle render time: {summary(t_render)}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--no-librosa", action="store_true", help="skip the librosa comparison")
    args = ap.parse_args(argv)
    import matplotlib

    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, matplotlib {matplotlib.__version__}")
    bench_waveform(args.repeats, not args.no_librosa)
    bench_notebook_size(args.repeats)


if __name__ == "__main__":
    main()
