"""What the teaching notebooks teach is public API: no private module or name of nbaudio in them."""

from __future__ import annotations

import ast
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _python(source: str) -> ast.Module:
    """A cell as the kernel runs it: IPython's transforms turn magics into calls."""
    from IPython.core.inputtransformer2 import TransformerManager

    return ast.parse(TransformerManager().transform_cell(source))


def private_uses(source: str) -> list[str]:
    """nbaudio's names with a leading underscore that `source` imports or reaches by attribute."""
    found = []
    for node in ast.walk(_python(source)):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names
                      if a.name.split(".")[0] == "nbaudio" and any(p.startswith("_") for p in a.name.split("."))]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "nbaudio":
            parts = node.module.split(".") + [a.name for a in node.names]
            if any(p.startswith("_") for p in parts):
                found.append(f"from {node.module} import {', '.join(a.name for a in node.names)}")
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            chain, base = [node.attr], node.value
            while isinstance(base, ast.Attribute):
                chain.append(base.attr)
                base = base.value
            if isinstance(base, ast.Name) and base.id == "nbaudio":
                found.append(".".join(["nbaudio", *reversed(chain)]))
    return found


def test_the_check_sees_private_names():
    assert private_uses("from nbaudio._longform import split_audio") == ["from nbaudio._longform import split_audio"]
    assert private_uses("import nbaudio.display._x\nnbaudio.display._cache.clear()") == [
        "nbaudio.display._x", "nbaudio.display._cache"]
    assert private_uses("from nbaudio.longform import split_audio\nnbaudio.display.options\n%voice reset") == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_saved_notebooks_use_public_names_only(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    sources = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert [u for s in sources for u in private_uses(s)] == []


def test_the_notebook_builder_writes_public_names_only():
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    for name in builder.NOTEBOOK_CELLS:
        sources = [c.source for c in builder.build(name).cells if c.cell_type == "code"]
        assert [u for s in sources for u in private_uses(s)] == [], name
