"""Screenshots of the saved notebooks as a reader opens them: JupyterLab and Notebook 7, 1280 and 900 px wide.

    .venv/bin/python tools/notebook_screenshots.py [01 02 ...]     # writes build/screenshots/*.png

Notebook 7 comes from the `notebook` package, which no extra installs (pip install notebook).

The notebooks are opened as saved (not run, so untrusted: scripts in outputs do not run, as for
anyone who opens a notebook they did not run), in Debian's Chromium through Playwright. The
viewport is tall so that every cell is laid out and in the picture.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.browser import jupyter_lab, launch_chromium  # noqa: E402

WIDTHS = (1280, 900)
HEIGHT = 7000
# JupyterLab restores the last workspace's tabs, and the notebook asked for may then not be the one
# in front: `reset` opens it alone.
APPS = {"jupyterlab": "lab/tree/{name}?reset&", "notebook": "notebooks/{name}?"}


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    wanted = [p for p in sorted((ROOT / "notebooks").glob("*.ipynb")) if not argv or p.name[:2] in argv]
    out = ROOT / "build" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "notebooks"
        work.mkdir()
        for p in wanted:
            shutil.copy(p, work / p.name)
        for app, route in APPS.items():
            with jupyter_lab(Path(tmp) / app, work, app=app) as server, sync_playwright() as pw:
                browser = launch_chromium(pw)
                for width in WIDTHS:
                    for p in wanted:
                        page = browser.new_page(viewport={"width": width, "height": HEIGHT})
                        page.goto(f"{server['url']}/{route.format(name=p.name)}token={server['token']}")
                        page.wait_for_selector(".jp-Cell", state="attached", timeout=60_000)
                        page.wait_for_timeout(3000)  # outputs render, fonts settle
                        shot = out / f"{app}_{p.stem}_{width}.png"
                        page.screenshot(path=str(shot), full_page=True)
                        print(shot)
                        page.close()
                browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
