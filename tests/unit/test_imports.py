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
