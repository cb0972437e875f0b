"""The committed build of nbaudio's JupyterLab extension (labextension/, `make labextension`) is whole
and is what the wheel installs: pyproject.toml's data-files name every file of it, each at its place
under {sys.prefix}/share/jupyter/labextensions (tests/browser/test_browser_voice_cells.py runs it)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "share" / "jupyter" / "labextensions" / "nbaudio-lab"


def test_the_build_is_of_the_source_package_and_names_an_entry_that_exists():
    built = json.loads((BUILD / "package.json").read_text())
    source = json.loads((ROOT / "labextension" / "package.json").read_text())
    assert {k: built[k] for k in ("name", "version", "dependencies")} == \
           {k: source[k] for k in ("name", "version", "dependencies")}
    entry = BUILD / built["jupyterlab"]["_build"]["load"]
    assert entry.is_file()
    plugin_id = "nbaudio-lab:voice-cells"
    assert plugin_id in (ROOT / "labextension" / "src" / "index.js").read_text()
    assert any(plugin_id in js.read_text() for js in (BUILD / "static").glob("*.js"))


def test_the_wheel_carries_every_file_of_the_build_where_jupyterlab_looks():
    with open(ROOT / "pyproject.toml", "rb") as f:
        data_files = tomllib.load(f)["tool"]["setuptools"]["data-files"]
    installed = {}
    for target, patterns in data_files.items():
        for pattern in patterns:
            for path in ROOT.glob(pattern):
                installed[path.relative_to(ROOT)] = Path(target) / path.name
    built = {path.relative_to(ROOT) for path in BUILD.rglob("*") if path.is_file()}
    assert set(installed) == built
    # The same place below the venv as below the checkout.
    assert all(target == source for source, target in installed.items())
