"""Make docs/quickstart.png for the README: the transcript and chat outputs of the quickstart.

    python -m nbaudio.demo            # writes build/quickstart.html
    python tools/readme_screenshot.py           # crops two outputs of it into docs/quickstart.png

Uses Debian's Chromium through Playwright (no browser download).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.support.browser import launch_chromium  # noqa: E402 - Chromium's path and flags have one home


def main() -> int:
    page_path = ROOT / "build" / "quickstart.html"
    if not page_path.exists():
        print("run `python -m nbaudio.demo` first (make demo)", file=sys.stderr)
        return 2
    shot = ROOT / "build" / "quickstart_page.png"
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 900, "height": 900})
        page.goto(page_path.as_uri())
        page.wait_for_timeout(1000)
        page.locator(".nbaudio-transcript details summary").first.click()  # show the word times

        def y(js: str) -> int:
            return int(page.evaluate("() => {" + js + "}"))

        cell = ("const c=[...document.querySelectorAll('.jp-Cell')].find(e=>e.textContent.includes(%r));"
                "return c.getBoundingClientRect().top + window.scrollY;")
        bottom = "return document.querySelector(%r).getBoundingClientRect().bottom + window.scrollY;"
        spans = [(y(cell % "transcript = nbaudio.transcribe"), y(bottom % ".nbaudio-transcript table")),
                 (y(cell % "reply = nbaudio.chat("), y(bottom % ".nbaudio-chat"))]
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    im = Image.open(shot).convert("RGB")
    parts = [im.crop((0, top - 8, im.width, end + 12)) for top, end in spans]
    out = Image.new("RGB", (im.width, sum(p.height for p in parts)), "white")
    at = 0
    for p in parts:
        out.paste(p, (0, at))
        at += p.height
    dest = ROOT / "docs" / "quickstart.png"
    dest.parent.mkdir(exist_ok=True)
    out.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(dest, optimize=True)
    print(f"{dest} ({dest.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
