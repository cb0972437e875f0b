"""Issue 16's "Done when": a 1-hour clip and its 1800-segment transcript in a REAL JupyterLab.

    .venv/bin/python tools/long_audio_check.py        # screenshots and a summary in build/long_audio/

Starts JupyterLab on a temp folder (as tests/support/browser.py does), opens a notebook in Debian's
Chromium through Playwright and runs its cells one by one: build a 1 h speech-like clip (no TTS
engine), display it, build and display a Transcript of 1800 segments with the clip attached (the
first options.max_rows = 1000 as rows), display the clip again, the transcript with all 1800 rows
(what showing every row would cost), and the clip with player_format="opus" (encoded over the inline
cap, as a format asked for is). Reports each cell's time as the kernel measured it and as the page
saw it (until the output is visible), checks the page stays responsive (frames, typing, scrolling,
transcript search, click-to-seek) and the saved .ipynb / nbaudio_media sizes. Then, where scripts do
not run: the saved notebook as an unsigned copy (JupyterLab opens it untrusted) and as nbconvert's
static HTML (what nbviewer serves) in a Chromium context with JavaScript off; what a click on a time
does in each.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.browser import jupyter_lab, launch_chromium, wait_for_kernel  # noqa: E402

OUT = ROOT / "build" / "long_audio"
NB = "long_audio.ipynb"
CELL_S = 900  # one cell, kernel and page

SETUP = f"""\
import sys, time, numpy as np
sys.path.insert(0, {str(ROOT)!r})
from tests.support.signals import voiced_speech
import nbaudio
from nbaudio.transcript import Segment, Word, Transcript
t0 = time.perf_counter()
RATE = 16000
base = np.concatenate([voiced_speech(60.0, RATE, seed=s) for s in range(5)])  # 5 distinct minutes
clip = nbaudio.AudioClip.from_array(np.tile(base, 12), RATE)  # 60 minutes, mono 16 kHz WAV
print(f"BUILD clip {{time.perf_counter() - t0:.2f}} s: {{clip.duration:.0f}} s, {{clip.nbytes:,}} bytes")"""

SHOW1 = """\
t0 = time.perf_counter()
display(clip)
print(f"KERNEL clip1 {time.perf_counter() - t0:.3f} s")"""

TRANSCRIPT = """\
t0 = time.perf_counter()
segs = [Segment(i, 2.0 * i, 2.0 * i + 1.9, f" segment {i} says something about topic{i % 97}", speaker="AB"[i % 2],
                words=[Word(f" w{j}", 2.0 * i + 0.18 * j, 2.0 * i + 0.18 * j + 0.15, 0.9) for j in range(10)])
        for i in range(1800)]
tr = Transcript(text="".join(s.text for s in segs), language="english", duration=3600.0, segments=segs, audio=clip)
print(f"BUILD transcript {time.perf_counter() - t0:.3f} s")
t0 = time.perf_counter()
display(tr)
print(f"KERNEL transcript {time.perf_counter() - t0:.3f} s")"""

SHOW2 = """\
t0 = time.perf_counter()
display(clip)
print(f"KERNEL clip2 {time.perf_counter() - t0:.3f} s")"""

# What showing every row would cost (the default shows the first options.max_rows = 1000).
TRANSCRIPT_ALL = """\
t0 = time.perf_counter()
with nbaudio.display.options.override(max_rows=len(tr.segments)):
    display(tr)
print(f"KERNEL transcript_all {time.perf_counter() - t0:.3f} s")"""

# A format asked for explicitly is encoded over the inline cap too (under "auto" the WAV is written as is).
SHOW_OPUS = """\
import resource
t0, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_utime
with nbaudio.display.options.override(player_format="opus"):
    display(clip)
print(f"KERNEL clip_opus {time.perf_counter() - t0:.3f} s "
      f"(cpu {resource.getrusage(resource.RUSAGE_SELF).ru_utime - c0:.1f} s)")"""

CELLS = [SETUP, SHOW1, TRANSCRIPT, SHOW2, TRANSCRIPT_ALL, SHOW_OPUS]

# The state of one code cell's output in the page.
CELL_STATE = """(i) => {
    const w = window.jupyterapp.shell.currentWidget;
    const c = w.content.widgets[i];
    const out = c.node.querySelector('.jp-OutputArea');
    const text = out ? out.innerText : '';
    const imgs = out ? [...out.querySelectorAll('img')] : [];
    const errs = c.model.outputs.toJSON().filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue);
    return {text: text, audios: out ? out.querySelectorAll('audio').length : 0,
            imgs: imgs.length, imgsLoaded: imgs.every(im => im.complete && im.naturalWidth > 0),
            rows: out ? out.querySelectorAll('tr.nbaudio-seg').length : 0, errs: errs,
            count: c.model.executionCount};
}"""

FRAME = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))"


def frame_ms(page) -> float:
    """Round trip to the page and two animation frames: how long the page takes to paint again."""
    t = time.perf_counter()
    page.evaluate(FRAME)
    return (time.perf_counter() - t) * 1000


def run_cell(page, i: int, marker: str | None, want_audio: int, want_rows: int = 0) -> dict:
    # A frame watcher: the longest gap between two painted frames while the cell runs and renders.
    page.evaluate("""() => { window.__gap = 0; let last = performance.now(); window.__watch = true;
        const tick = (now) => { window.__gap = Math.max(window.__gap, now - last); last = now;
                                if (window.__watch) requestAnimationFrame(tick); };
        requestAnimationFrame(tick); }""")
    # Do not await the command: its promise settles only when the cell has run.
    started = time.perf_counter()
    page.evaluate("(i) => { const w = window.jupyterapp.shell.currentWidget; w.content.activeCellIndex = i;"
                  " void window.jupyterapp.commands.execute('notebook:run-cell'); return null; }", i)
    first_audio = None
    while True:
        st = page.evaluate(CELL_STATE, i)
        if st["errs"]:
            raise SystemExit(f"cell {i} failed: {st['errs']}")
        if first_audio is None and st["audios"] >= want_audio and want_audio:
            first_audio = time.perf_counter() - started
        done = st["count"] is not None and (marker is None or marker in st["text"])
        if done and st["audios"] >= want_audio and st["rows"] >= want_rows and st["imgsLoaded"]:
            break
        if time.perf_counter() - started > CELL_S:
            page.screenshot(path=str(OUT / f"timeout_cell{i}.png"))
            raise SystemExit(f"cell {i} not done in {CELL_S} s: {st}")
        time.sleep(0.05)
    visible = time.perf_counter() - started
    kernel = [line for line in st["text"].splitlines() if line.startswith(("KERNEL", "BUILD"))]
    return {"visible_s": round(visible, 2), "player_visible_s": first_audio and round(first_audio, 2),
            "kernel": kernel, "frame_ms_after": round(frame_ms(page), 1),
            "longest_frame_gap_ms": round(page.evaluate("() => { window.__watch = false; return window.__gap; }"), 1)}


def responsiveness(page, results: dict) -> None:
    w = "window.__nb"
    # Frames while idle, several times.
    results["frame_ms"] = [round(frame_ms(page), 1) for _ in range(5)]
    # Scroll the notebook panel to the bottom and back: it moves and paints within a second.
    scroller = f"""() => {{ const e = {w}.node.querySelector('.jp-WindowedPanel-outer');
        return e ? [e.scrollTop, e.scrollHeight, e.clientHeight] : null; }}"""
    box = page.evaluate(f"() => {{ const r = {w}.node.querySelector('.jp-WindowedPanel-outer').getBoundingClientRect();"
                        " return [r.left, r.top, r.width, r.height]; }")
    page.mouse.move(box[0] + box[2] * 0.9, box[1] + 40)  # near the top right: beside the outputs, not in the rows box
    before = page.evaluate(scroller)
    t = time.perf_counter()
    page.mouse.wheel(0, -1200 if before and before[0] > 0 else 1200)
    try:
        page.wait_for_function(f"(b) => ({scroller})()[0] !== b[0]", arg=before, timeout=5_000)
        ms = round((time.perf_counter() - t) * 1000, 1)
    except Exception:
        ms = "did not move in 5 s"
    results["scroll"] = {"ms": ms, "from": before, "to": page.evaluate(scroller)}
    # Typing into a new cell at the end.
    page.evaluate(f"() => {{ const w = {w}; w.content.activeCellIndex = w.content.widgets.length - 1;"
                  " return window.jupyterapp.commands.execute('notebook:insert-cell-below'); }")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:enter-edit-mode')")
    t = time.perf_counter()
    page.keyboard.type("x = 1 + 1  # typed", delay=0)
    page.wait_for_function(f"() => {w}.content.activeCell.model.sharedModel.getSource() === 'x = 1 + 1  # typed'",
                           timeout=10_000)
    results["typing_ms"] = round((time.perf_counter() - t) * 1000, 1)
    page.keyboard.press("Escape")

    unit = page.locator(".jp-OutputArea-output .nbaudio-transcript.nbaudio-unit").first
    # Search: filter to one segment.
    q = unit.locator("input.nbaudio-search")
    if q.count():
        q.scroll_into_view_if_needed()
        results["rows_caption"] = unit.evaluate("(u) => (u.querySelector('.nbaudio-rows-cap') || {}).textContent")
        results["search_placeholder"] = q.get_attribute("placeholder")
        t = time.perf_counter()
        q.fill("segment 777 ")
        page.wait_for_function("(u) => [...u.querySelectorAll('tr.nbaudio-seg')].filter(r => r.offsetParent)"
                               ".length <= 3", arg=unit.element_handle(), timeout=10_000)
        results["search_ms"] = round((time.perf_counter() - t) * 1000, 1)
        results["search_visible_rows"] = unit.evaluate(
            "(u) => [...u.querySelectorAll('tr.nbaudio-seg')].filter(r => r.offsetParent)"
            ".map(r => r.innerText.slice(0, 60))")
        results["search_count_text"] = unit.evaluate(
            "(u) => (u.querySelector('.nbaudio-search-count') || {}).textContent")
        results["search_keystroke_ms"] = unit.evaluate(KEYSTROKE)
        results["rows_after_search"] = unit.evaluate("(u) => u.querySelectorAll('tr.nbaudio-seg').length")
        page.screenshot(path=str(OUT / "4_search.png"))
        q.fill("")
        page.wait_for_timeout(300)
    else:
        results["search_ms"] = "NO SEARCH BOX"
    # Click-to-seek: a row's time, well into the hour.
    player = unit.locator("audio").first
    results["audio_before"] = player.evaluate(
        "(a) => ({duration: a.duration, ready: a.readyState, error: a.error && a.error.message,"
        " src: a.currentSrc.slice(0, 90)})")
    page.wait_for_function("(a) => a.readyState >= 1 || a.error", arg=player.element_handle(), timeout=60_000)
    row = unit.locator("tr.nbaudio-seg").nth(600)
    ts = row.locator(".nbaudio-ts").first
    target = float(ts.get_attribute("data-t"))
    ts.scroll_into_view_if_needed()
    t = time.perf_counter()
    ts.click()
    try:
        page.wait_for_function("([a, t]) => Math.abs(a.currentTime - t) < 0.5", arg=[player.element_handle(), target],
                               timeout=10_000)
        results["seek"] = {"target": target, "ms": round((time.perf_counter() - t) * 1000, 1)}
    except Exception as exc:  # report, not crash
        results["seek"] = {"target": target, "failed": str(exc).splitlines()[0]}
    results["seek"]["currentTime"] = player.evaluate("(a) => a.currentTime")
    results["seek"]["current_tab"] = page.evaluate("() => window.jupyterapp.shell.currentWidget.title.label")
    results["seek"]["pages"] = len(page.context.pages)
    page.evaluate("() => window.jupyterapp.shell.activateById(window.__nb.id)")
    page.wait_for_timeout(500)
    results["seek"]["row_bg"] = row.evaluate("(tr) => tr.style.background")
    player.evaluate("(a) => a.pause()")
    results["frame_ms_after_seek"] = round(frame_ms(page), 1)
    page.wait_for_timeout(300)
    page.screenshot(path=str(OUT / "5_after_seek.png"))
    # The rows box scrolled to its middle (as the playing row keeps itself in view).
    results["rows_box"] = page.evaluate("""() => { const b = document.querySelector('.nbaudio-rows');
        b.scrollIntoView({block: 'center'}); const before = b.scrollTop; b.scrollTop = b.scrollHeight / 2;
        return {clientHeight: b.clientHeight, scrollHeight: b.scrollHeight, before: before, after: b.scrollTop}; }""")
    page.wait_for_timeout(300)
    page.screenshot(path=str(OUT / "5_transcript_scrolled.png"))


# One keystroke in the search box: the script's input handler alone, then until the next frame is painted.
KEYSTROKE = """async (u) => { const q = u.querySelector('input.nbaudio-search'); const out = [];
    for (const v of ['s', 'se', 'seg', 'segment 1', '']) {
        const t = performance.now(); q.value = v; q.dispatchEvent(new Event('input'));
        const handler = performance.now() - t;
        await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
        out.push({value: v, handler_ms: Math.round(handler), painted_ms: Math.round(performance.now() - t)}); }
    return out; }"""

# What the transcript output offers where its script did not run.
STATIC_STATE = """(o) => { const ts = [...o.querySelectorAll('tr.nbaudio-seg > td:first-child .nbaudio-ts')];
    const hint = o.querySelector('.nbaudio-noscript'); const a = o.querySelector('audio');
    return {hint: hint ? hint.innerText : null, hint_visible: !!(hint && hint.offsetParent),
            scripts: o.querySelectorAll('script').length,
            search_boxes: o.querySelectorAll('input.nbaudio-search').length,
            audio_src: a ? a.getAttribute('src') : null, waveform_imgs: o.querySelectorAll('.nbaudio-wave img').length,
            rows: o.querySelectorAll('tr.nbaudio-seg').length, time_links: ts.filter(e => e.tagName === 'A').length,
            first_href: ts.length ? ts[0].getAttribute('href') : null,
            rows_box: (b => b && [b.clientHeight, b.scrollHeight])(o.querySelector('.nbaudio-rows'))}; }"""


def untrusted_view(browser, lab: dict, work: Path, results: dict) -> None:
    """The saved notebook as a copy JupyterLab never signed: untrusted, so its outputs' scripts do not run."""
    import nbformat

    nb = nbformat.read(work / NB, as_version=4)
    nb.metadata["nbaudio_check"] = "an unsigned copy: JupyterLab opens it untrusted"
    name = "long_audio_untrusted.ipynb"
    nbformat.write(nb, work / name)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    t = time.perf_counter()
    page.goto(f"{lab['url']}/lab/tree/{name}?token={lab['token']}", wait_until="domcontentloaded", timeout=90_000)
    wait_for_kernel(page, name)
    # the workspace also reopens the first notebook in a hidden tab: look only inside this one
    panel = page.evaluate("() => window.jupyterapp.shell.currentWidget.id")
    out = page.locator(f"[id='{panel}'] .jp-OutputArea-output .nbaudio-transcript").first
    out.wait_for()
    r: dict = {"open_s": round(time.perf_counter() - t, 2)}
    r["trusted"] = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets[2].model.trusted")
    r.update(out.evaluate(STATIC_STATE))
    out.locator(".nbaudio-noscript").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.screenshot(path=str(OUT / "6_untrusted.png"))
    # A click on a time (a link to the player file at #t=start,end when the player is a file).
    tabs = "() => Array.from(window.jupyterapp.shell.widgets('main')).map(w => w.title.label)"
    r["tabs_before"] = page.evaluate(tabs)
    link = out.locator("tr.nbaudio-seg").nth(600).locator(".nbaudio-ts").first  # the row's time
    link.scroll_into_view_if_needed()
    pages = len(page.context.pages)
    link.click()
    page.wait_for_timeout(3000)  # JupyterLab opens a clicked file asynchronously
    r["click"] = {"tabs_after": page.evaluate(tabs), "new_browser_pages": len(page.context.pages) - pages,
                  "current_tab": page.evaluate("() => window.jupyterapp.shell.currentWidget.title.label"),
                  "player_time": out.locator("audio").first.evaluate("(a) => a.currentTime")}
    page.screenshot(path=str(OUT / "7_untrusted_after_click.png"))
    # The same with Ctrl held (a link opened in a browser tab, not by JupyterLab?).
    page.evaluate(f"() => window.jupyterapp.shell.activateById('{panel}')")
    page.wait_for_timeout(500)
    link.scroll_into_view_if_needed()
    tabs_now, pages = page.evaluate(tabs), len(page.context.pages)
    link.click(modifiers=["Control"])
    page.wait_for_timeout(3000)
    opened = page.context.pages[pages:]
    r["ctrl_click"] = {"new_tabs": [t for t in page.evaluate(tabs) if t not in tabs_now],
                       "new_browser_pages": [o.url.split("?")[0].rsplit("/", 1)[-1] + " " + o.url.split("#")[-1]
                                             for o in opened]}
    r["page_errors"] = errors
    results["untrusted"] = r
    page.close()


def static_view(browser, work: Path, results: dict) -> None:
    """nbconvert's HTML of the saved notebook (what nbviewer serves) with JavaScript off, as GitHub shows outputs."""
    import nbformat
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter().from_notebook_node(nbformat.read(work / NB, as_version=4))
    path = work / "long_audio.html"
    path.write_text(html, encoding="utf-8")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(path.as_uri(), wait_until="load", timeout=90_000)
    out = page.locator(".nbaudio-transcript").first
    r: dict = {"html_bytes": len(html.encode())}
    r.update(out.evaluate(STATIC_STATE))
    out.locator(".nbaudio-noscript").scroll_into_view_if_needed()
    page.screenshot(path=str(OUT / "8_static_no_js.png"))
    link = out.locator("tr.nbaudio-seg").nth(600).locator(".nbaudio-ts").first  # the row's time
    if link.evaluate("(e) => e.tagName") == "A":
        with context.expect_page(timeout=20_000) as opened:
            link.click()
        tab = opened.value
        tab.wait_for_load_state("load", timeout=60_000)
        tab.wait_for_timeout(1500)
        r["click"] = {"opened": tab.url.rsplit("/", 2)[-1],
                      "media": tab.evaluate("() => { const m = document.querySelector('video,audio');"
                                            " return m && {time: m.currentTime, duration: m.duration}; }")}
        tab.screenshot(path=str(OUT / "9_static_link_opened.png"))
    results["static_no_js"] = r
    context.close()


def main() -> int:
    import nbformat
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="nbaudio_long_") as tmp:
        root = Path(tmp)
        work = root / "nb"
        work.mkdir()
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, work / NB)
        with jupyter_lab(root, work) as lab, sync_playwright() as pw:
            browser = launch_chromium(pw)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(30_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{lab['url']}/lab/tree/{NB}?token={lab['token']}", wait_until="domcontentloaded",
                      timeout=90_000)
            wait_for_kernel(page, NB)
            page.evaluate("() => { window.__nb = window.jupyterapp.shell.currentWidget; }")
            page.evaluate("() => { const a = window.jupyterapp; if (!a.shell.leftCollapsed) a.shell.collapseLeft(); }")
            results["setup"] = run_cell(page, 0, "BUILD clip", 0)
            print("setup", results["setup"], flush=True)
            results["clip1"] = run_cell(page, 1, "KERNEL clip1", 1)
            print("clip1", results["clip1"], flush=True)
            page.locator(".jp-Cell").nth(1).screenshot(path=str(OUT / "1_clip.png"))
            results["transcript"] = run_cell(page, 2, "KERNEL transcript", 1, want_rows=1)
            print("transcript", results["transcript"], flush=True)
            page.set_viewport_size({"width": 1280, "height": 1800})  # the whole cell, not cut at 900 px
            page.wait_for_timeout(300)
            page.locator(".jp-Cell").nth(2).screenshot(path=str(OUT / "2_transcript.png"))
            page.set_viewport_size({"width": 1280, "height": 900})
            results["clip2"] = run_cell(page, 3, "KERNEL clip2", 1)
            print("clip2", results["clip2"], flush=True)
            page.locator(".jp-Cell").nth(3).screenshot(path=str(OUT / "3_clip_again.png"))
            results["transcript_all_rows"] = run_cell(page, 4, "KERNEL transcript_all", 1, want_rows=1)
            print("transcript_all_rows", results["transcript_all_rows"], flush=True)
            results["clip_opus"] = run_cell(page, 5, "KERNEL clip_opus", 1)
            print("clip_opus", results["clip_opus"], flush=True)
            page.locator(".jp-Cell").nth(5).screenshot(path=str(OUT / "3b_clip_opus.png"))
            results["rows_rendered"] = [page.evaluate(CELL_STATE, i)["rows"] for i in (2, 4)]
            (OUT / "results.json").write_text(json.dumps(results, indent=2))
            responsiveness(page, results)
            media = work / "nbaudio_media"
            results["media_before_save"] = {p.name: p.stat().st_size for p in sorted(media.glob("*.*"))}
            page.evaluate("() => window.__nb.context.save()")
            page.wait_for_function("() => !window.__nb.context.model.dirty", timeout=60_000)
            results["page_errors"] = errors
            (OUT / "results.json").write_text(json.dumps(results, indent=2))
            untrusted_view(browser, lab, work, results)
            static_view(browser, work, results)
            browser.close()
            media = work / "nbaudio_media"
            results["ipynb_bytes"] = (work / NB).stat().st_size
            files = sorted(p for p in media.rglob("*") if p.is_file()) if media.exists() else []
            saved = nbformat.read(work / NB, as_version=4)
            results["output_bytes_per_cell"] = [len(json.dumps(c.get("outputs", []))) for c in saved.cells]
            results["media_files"] = {p.relative_to(media).as_posix(): p.stat().st_size for p in files}
            results["media_bytes"] = sum(results["media_files"].values())
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
