"""tools/build_notebooks.py is how the notebooks are made: the saved notebooks hold exactly the cells
it builds (sources, cell types, nbval tags), so the two cannot drift apart. Outputs come from running
them (`--execute`) and are checked by nbval in `make test`."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _builder():
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILDER = _builder()


def _cells(nb) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(c.cell_type, c.source, tuple(c.metadata.get("tags", ()))) for c in nb.cells]


def test_every_saved_notebook_is_built_by_the_tool():
    saved = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert saved == sorted(BUILDER.NOTEBOOK_CELLS)


@pytest.mark.parametrize("name", sorted(BUILDER.NOTEBOOK_CELLS))
def test_the_saved_notebook_is_what_the_tool_builds(name):
    built = BUILDER.build(name)
    saved = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    assert _cells(saved) == _cells(built), f"rebuild it: python tools/build_notebooks.py --execute {name[:2]}"


def _saved_widget_modules(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    return [m["state"]["_esm"] for m in state.values() if "_esm" in m.get("state", {})]


@pytest.mark.parametrize("name", sorted(BUILDER.NOTEBOOK_CELLS))
def test_saved_widgets_carry_todays_javascript(name):
    """A widget saved with the notebook (shown where no kernel runs) carries the ES module nbaudio
    ships now, not the one of the day it was saved."""
    from importlib import resources

    from nbaudio.widgets.esm import widget_module

    shipped = {widget_module("mic.js", "recorder.js"), widget_module("mic.js", "live_hops.js", "live.js"),
               widget_module("mic.js", "captions.js"),
               widget_module("player.js"),
               # the listening test's module is its file as it is (anywidget reads the path)
               resources.files("nbaudio.widgets").joinpath("listening.js").read_text(encoding="utf-8")}
    for module in _saved_widget_modules(ROOT / "notebooks" / f"{name}.ipynb"):
        assert module in shipped, (f"{name} holds widget JavaScript nbaudio no longer ships ({module[:60]!r}…): "
                                   f"python tools/build_notebooks.py --execute {name[:2]}")
