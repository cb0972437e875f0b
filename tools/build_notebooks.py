"""Write the teaching notebooks from their cell lists, and (with --execute) run them and keep the outputs.

    python tools/build_notebooks.py                 # sources only (outputs dropped)
    python tools/build_notebooks.py --execute       # run each on the embedded engine, save with outputs
    python tools/build_notebooks.py --execute 01 04 # just these

Each notebook's cells are in tools/notebook_cells/, one module per notebook. Editing the notebooks
in Jupyter works too; this script is how they were made and the easy way to re-run them all.
Cell tags steer nbval (`make test`):
  nbval-ignore-output  outputs vary from run to run (audio, timings, model text); still must run
  (no tag)             outputs are compared after notebooks/nbval_sanitize.cfg
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script: its sibling package
from notebook_cells import NOTEBOOK_CELLS  # noqa: E402


def build(name: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = NOTEBOOK_CELLS[name]()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "pygments_lexer": "ipython3"},
    }
    for i, cell in enumerate(nb.cells):
        cell.id = f"{name[:2]}-{i:02d}"  # stable ids: rebuilding does not churn the diff
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="notebook name prefixes, e.g. 01 03")
    parser.add_argument("--execute", action="store_true", help="run each notebook and save it with outputs")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from nbaudio.demo import execute

    names = [n for n in NOTEBOOK_CELLS if not args.only or any(n.startswith(p) for p in args.only)]
    for name in names:
        nb = build(name)
        path = NOTEBOOKS / f"{name}.ipynb"
        if args.execute:
            started = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="nbaudio-nb-") as scratch:
                work = Path(scratch) / path.name
                nbformat.write(nb, work)
                nb = execute(work, cwd=NOTEBOOKS)  # as nbval runs them: relative paths are the notebooks'

            for cell in nb.cells:
                cell.metadata.pop("execution", None)
            print(f"{name}: ran in {time.perf_counter() - started:.0f} s", end=", ")
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
