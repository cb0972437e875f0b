"""What `import nbaudio` costs: no engine module (nbaudio.server, its launcher), no widget, batch or
Realtime machinery; those load when first used."""

from __future__ import annotations

import subprocess
import sys


def _loaded_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys; print('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_import_nbaudio_loads_no_engine_module():
    loaded = _loaded_after("import nbaudio")
    assert not {m for m in loaded if m.startswith("nbaudio.server")}
    assert not loaded & {"nbaudio.local", "nbaudio.shared_engine", "nbaudio.widgets", "nbaudio.batch",
                         "nbaudio.realtime", "fastapi", "faster_whisper", "llama_cpp", "pandas"}


def test_a_client_with_a_remote_api_loads_no_engine_module():
    loaded = _loaded_after("import nbaudio\nnbaudio.Client('http://127.0.0.1:9/v1', api_key='k').open()")
    assert not {m for m in loaded if m.startswith("nbaudio.server")}


# What a kernel that only shows audio never needs: plotting, data frames, the HTTP client, widgets,
# the engine's models (the display itself needs numpy, soundfile, PyAV's Opus encoder, soxr and Pillow).
NOT_FOR_A_DISPLAY = {"matplotlib", "pandas", "scipy", "requests", "urllib3", "websockets", "ipywidgets", "anywidget",
                     "faster_whisper", "ctranslate2", "onnxruntime", "llama_cpp", "librosa", "dask", "fastapi"}


def test_import_nbaudio_loads_neither_numpy_nor_the_http_client():
    loaded = {m.split(".")[0] for m in _loaded_after("import nbaudio")}
    assert not loaded & (NOT_FOR_A_DISPLAY | {"numpy", "av", "PIL", "soundfile", "soxr"})
    assert "nbaudio.client" not in _loaded_after("import nbaudio")


def test_the_first_display_of_a_clip_loads_only_what_it_shows(tmp_path):
    """`import nbaudio` and a minute of speech-like WAV displayed, as in a fresh kernel (IPython loaded)."""
    import io

    import numpy as np
    import soundfile as sf

    t = np.arange(60 * 22050) / 22050
    buf = io.BytesIO()
    sf.write(buf, (0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)).astype(np.float32), 22050,
             format="WAV", subtype="PCM_16")
    (tmp_path / "speech.wav").write_bytes(buf.getvalue())
    code = (f"import os, IPython.display\nos.chdir({str(tmp_path)!r})\nimport nbaudio\n"
            "html = nbaudio.AudioClip(open('speech.wav', 'rb').read(), 'wav')._repr_mimebundle_()['text/html']\n"
            "assert '<audio' in html and 'waveform' in html")
    loaded = {m.split(".")[0] for m in _loaded_after(code)}
    assert "numpy" in loaded  # the clip was decoded and shown indeed
    assert not loaded & NOT_FOR_A_DISPLAY, sorted(loaded & NOT_FOR_A_DISPLAY)
