"""The notebooks in a real browser: JupyterLab (headless, loopback, token) + Debian's Chromium via Playwright.

Opens fresh copies of 01_quickstart and 03_voice_chat with their outputs cleared, runs all cells
in the page on the embedded engine, and checks what a reader gets: players that know their
duration and play, waveform images that loaded, transcript timestamps that seek the player, and
the `%%voice` reply with its player. Screenshots go to build/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.browser import CHROMIUM, open_notebook, run_all_cells

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
BUILD = ROOT / "build"
CHECK_MS = 30_000  # one in-page check (an audio element loading, a seek landing)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
    pytest.mark.timeout(900),
]


def _fresh_copy(name: str, dest: Path) -> Path:
    """The notebook without its saved outputs, so every output checked was made in this browser."""
    import nbformat

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    out = dest / name
    nbformat.write(nb, out)
    return out


@pytest.fixture(scope="module")
def lab(labs):
    """A folder of the session's JupyterLab (tests/browser/conftest.py) with scratch copies of the notebooks."""
    with labs.folder("notebooks") as lab:
        for name in ("01_quickstart.ipynb", "03_voice_chat.ipynb"):
            if (NOTEBOOKS / name).exists():
                _fresh_copy(name, lab["dir"])
        yield lab


def _open_and_run(browser, lab, name: str):
    """A page with the notebook open and every cell run; returns the page. Fails on a cell error."""
    page = open_notebook(browser, lab, name)
    run_all_cells(page, name)
    page.wait_for_timeout(500)  # let the last outputs' scripts run
    assert not page.js_errors, f"{name}: JavaScript errors in the page: {page.js_errors}"
    return page


def _screenshot(page, stem: str) -> Path:
    """The whole notebook: the lab scrolls inside a panel, so make the window as tall as the notebook."""
    BUILD.mkdir(exist_ok=True)
    page.evaluate("() => { const a = window.jupyterapp; if (!a.shell.leftCollapsed) a.shell.collapseLeft(); }")
    page.wait_for_timeout(300)
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll("
                           "'.jp-NotebookPanel .jp-WindowedPanel-outer, .jp-NotebookPanel .jp-Notebook')]"
                           ".map(e => e.scrollHeight))")
    page.set_viewport_size({"width": 1280, "height": min(16000, int(height) + 200)})
    page.evaluate("() => document.querySelectorAll('.jp-NotebookPanel .jp-WindowedPanel-outer')"
                  ".forEach(e => { e.scrollTop = 0; })")
    page.wait_for_timeout(500)
    path = BUILD / f"browser_{stem}.png"
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": 1280, "height": 900})
    return path


_AUDIO_STATE = """(a) => ({duration: a.duration, ready: a.readyState, time: a.currentTime, paused: a.paused,
                      error: a.error && a.error.message, src: a.currentSrc.slice(0, 30)})"""


def _cell_text(page, snippet: str) -> str:
    """The rendered output text of the one code cell whose source contains `snippet`."""
    texts = page.evaluate("""(snippet) => {
        const w = window.jupyterapp.shell.currentWidget;
        return w.content.widgets
            .filter(c => c.model.type === 'code' && c.model.sharedModel.getSource().includes(snippet))
            .map(c => [...c.node.querySelectorAll('.jp-OutputArea-output')].map(o => o.innerText).join('\\n'));
    }""", snippet)
    assert len(texts) == 1, f"{len(texts)} cells contain {snippet!r}"
    return (texts[0] or "").strip()


def _check_audio_plays(page, audio) -> dict:
    """The element knows a positive duration, and playing it moves currentTime forward."""
    audio.scroll_into_view_if_needed()
    page.wait_for_function("(a) => a.readyState >= 1 || a.error", arg=audio.element_handle())
    state = audio.evaluate(_AUDIO_STATE)
    assert state["error"] is None and state["duration"] > 0, f"audio element without a duration: {state}"
    audio.evaluate("(a) => { a.currentTime = 0; return a.play(); }")
    page.wait_for_function("(a) => a.currentTime > 0.2 && !a.ended", arg=audio.element_handle())
    audio.evaluate("(a) => a.pause()")
    return audio.evaluate(_AUDIO_STATE)


def _check_images(page, selector: str, at_least: int) -> int:
    imgs = page.locator(selector)
    n = imgs.count()
    assert n >= at_least, f"expected at least {at_least} {selector}, found {n}"
    for i in range(n):
        img = imgs.nth(i)
        img.scroll_into_view_if_needed()
        page.wait_for_function("(im) => im.complete", arg=img.element_handle())
        w = img.evaluate("(im) => im.naturalWidth")
        assert w > 0, f"image {i} of {selector} did not decode"
    return n


def test_quickstart_in_browser(browser, lab):
    page = _open_and_run(browser, lab, "01_quickstart.ipynb")
    try:
        # Players: the spoken clip, the second voice, the transcript's, the German clip, the chat reply.
        audios = page.locator(".jp-OutputArea-output audio")
        assert audios.count() >= 5, f"expected 5 players, found {audios.count()}"
        for i in range(audios.count()):
            _check_audio_plays(page, audios.nth(i))
        # Waveforms of the clips and the transcript (the chat reply shows none), and the matplotlib figure.
        _check_images(page, ".jp-OutputArea-output img[alt=waveform]", 4)
        _check_images(page, ".jp-OutputArea-output img:not([alt=waveform])", 1)

        # The transcript: clicking a word's timestamp seeks its player there and highlights the segment.
        unit = page.locator(".nbaudio-transcript.nbaudio-unit").first
        unit.scroll_into_view_if_needed()
        player = unit.locator("audio")
        player.evaluate("(a) => { a.pause(); a.currentTime = 0; }")
        unit.locator("details summary").first.click()
        words = unit.locator("details .nbaudio-ts")
        assert words.count() >= 6, f"expected the word timestamps, found {words.count()}"
        target = words.nth(words.count() - 2)  # "lazy": well inside the clip
        t = float(target.get_attribute("data-t"))
        assert t > 0.5, f"the second-to-last word starts at {t} s"
        target.click()
        page.wait_for_function("([a, t]) => a.currentTime >= t - 0.01 && !a.paused", arg=[player.element_handle(), t])
        row_bg = unit.locator("tr.nbaudio-seg").first.evaluate("(tr) => tr.style.background")
        assert "rgba" in row_bg, f"the segment being played is not highlighted ({row_bg!r})"
        player.evaluate("(a) => a.pause()")
        # And a segment's own timestamp seeks back to its start.
        unit.locator("tr.nbaudio-seg .nbaudio-ts").first.click()
        page.wait_for_function("(a) => a.currentTime < 1.0", arg=player.element_handle())
        player.evaluate("(a) => a.pause()")

        # The round-trip check printed True, and the chat reply shows as a chat turn with text.
        assert _cell_text(page, "misheard = [") == "True"
        chat = page.locator(".jp-OutputArea-output .nbaudio-chat")
        assert chat.count() == 1 and len(chat.inner_text().strip()) > 20, chat.all_inner_texts()
        _screenshot(page, "01_quickstart")
        unit.screenshot(path=str(BUILD / "browser_01_transcript.png"))
    finally:
        page.close()


def _cell_outputs(page, snippet: str):
    """Locator of the output area of the one code cell whose source contains `snippet`."""
    mark = f"cell-{abs(hash(snippet))}"
    hits = page.evaluate("""([snippet, mark]) => {
        const w = window.jupyterapp.shell.currentWidget;
        const cells = w.content.widgets.filter(
            c => c.model.type === 'code' && c.model.sharedModel.getSource().includes(snippet));
        cells.forEach(c => { c.node.dataset.nbaudioTest = mark; });
        return cells.length;
    }""", [snippet, mark])
    assert hits == 1, f"{hits} cells contain {snippet!r}"
    return page.locator(f'[data-nbaudio-test="{mark}"] .jp-OutputArea').first


def test_voice_chat_in_browser(browser, lab):
    if not (lab["dir"] / "03_voice_chat.ipynb").exists():
        pytest.fail("notebooks/03_voice_chat.ipynb is missing")
    page = _open_and_run(browser, lab, "03_voice_chat.ipynb")
    try:
        # The first %%voice cell: the streamed reply ended as a chat turn with text, waveform and a player.
        first = _cell_outputs(page, "What is the capital of France?")
        turn = first.locator(".nbaudio-chat")
        assert turn.count() == 1, f"no chat turn in the %%voice output: {first.inner_text()[:300]!r}"
        assert "assistant" in turn.inner_text() and len(turn.inner_text().strip()) > 30
        assert "streaming…" not in first.inner_text(), "the live view was not replaced by the final reply"
        assert "audio id audio_" in turn.inner_text()
        _check_audio_plays(page, turn.locator("audio"))
        _check_images(page, ".jp-OutputArea-output .nbaudio-chat img[alt=waveform]", 5)

        # Every turn (two typed, one spoken, one in each named conversation) shows a playable reply.
        players = page.locator(".jp-OutputArea-output .nbaudio-chat audio")
        assert players.count() >= 5, f"expected 5 reply players, found {players.count()}"
        for i in range(players.count()):
            _check_audio_plays(page, players.nth(i))
        # The spoken question's own clip, and the replay of the last reply.
        assert page.locator(".jp-OutputArea-output .nbaudio-clip audio").count() >= 2

        # The deterministic cells printed what the notebook says they print.
        assert _cell_text(page, "conv = %voice history") == "['system', 'user', 'assistant', 'user', 'assistant']"
        assert _cell_text(page, "tutor = %voice history --name tutor") == "(['system', 'user', 'assistant'], 7)"
        assert _cell_text(page, "%voice reset") == "conversation 'default' forgotten"
        # The local model's answers were right (each check cell tests a reply's text).
        for check in ('"Paris" in _voice.text', '"Rome" in', '"Berlin" in', '"56" in', '"bonjour" in'):
            shown = _cell_text(page, check)
            assert shown.rstrip(")").endswith("True") and "False" not in shown, (check, shown)
        _screenshot(page, "03_voice_chat")
        turn.screenshot(path=str(BUILD / "browser_03_voice_turn.png"))
    finally:
        page.close()


# A transcript long enough to scroll: 40 segments over 60 s, every tenth about apples.
LONG_TRANSCRIPT = '''
import numpy as np
import nbaudio.display
from nbaudio import AudioClip, Segment, Transcript

nbaudio.display.options.max_inline_bytes = 100_000  # the player goes beside the notebook: times become links
rate = 16000
t = np.arange(60 * rate) / rate
wave = 0.3 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.7 * t))
clip = AudioClip.from_array(wave.astype(np.float32), rate, name="long.wav")
segs = [Segment(i, 1.5 * i, 1.5 * i + 1.5, f" line {i} about {'apples' if i % 10 == 3 else 'pears'}")
        for i in range(40)]
Transcript(text="", duration=60.0, segments=segs, audio=clip)
'''.strip()


def _saved_untrusted(dest: Path) -> Path:
    """A notebook with the long transcript's output saved in it and no signature: JupyterLab does not trust it."""
    import nbformat

    import nbaudio
    from nbaudio.display import mimebundle

    ns: dict = {}
    head, last = LONG_TRANSCRIPT.rsplit("\n", 1)
    cwd, limit = os.getcwd(), nbaudio.display.options.max_inline_bytes
    os.chdir(dest)  # the player file is written beside the notebook, as the kernel would
    try:
        exec(head, ns)
        bundle = mimebundle(eval(last, ns))
    finally:
        os.chdir(cwd)
        nbaudio.display.options.max_inline_bytes = limit
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(LONG_TRANSCRIPT, execution_count=1)
    cell.outputs = [nbformat.v4.new_output("execute_result", data=bundle, execution_count=1)]
    nb.cells = [cell]
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    path = dest / "long_transcript.ipynb"
    nbformat.write(nb, path)
    return path


def test_transcript_untrusted_then_run(browser, lab):
    name = _saved_untrusted(lab["dir"]).name
    page = open_notebook(browser, lab, name)
    try:
        out = page.locator(".jp-OutputArea-output .nbaudio-transcript")
        out.wait_for()
        # Untrusted: the script did not run, so the hint shows and no search box was added; the rows scroll.
        hint = out.locator(".nbaudio-noscript")
        assert hint.count() == 1 and hint.is_visible() and "Scripts are off" in hint.inner_text()
        # JupyterLab opens a clicked local link in its own tab from the start (it drops the #t=): the
        # hint promises no seek here, it says how to get one
        assert "does not seek the player" in hint.inner_text() and "Trust Notebook" in hint.inner_text()
        assert out.locator("input.nbaudio-search").count() == 0
        assert "#t=" in (out.locator("tr.nbaudio-seg a.nbaudio-ts").first.get_attribute("href") or "")
        # The time column is as wide as its times and no wider than a third (JupyterLab lays output
        # tables out fixed: a width:1% column once let the times run over the text).
        first = out.locator("tr.nbaudio-seg").first
        fit = first.evaluate("""(tr) => { const [t, x] = tr.querySelectorAll('td');
            const tb = t.getBoundingClientRect(), xb = x.getBoundingClientRect();
            return [t.scrollWidth <= t.clientWidth, tb.right <= xb.left + 1,
                    tb.width / tr.getBoundingClientRect().width]; }""")
        assert fit[0] and fit[1] and fit[2] < 0.34, f"the time column overflows or is too wide: {fit}"
        box = out.locator(".nbaudio-rows")
        sizes = box.evaluate("(b) => [b.clientHeight, b.scrollHeight]")
        assert 0 < sizes[0] < sizes[1], f"the rows do not scroll in a limited box when untrusted: {sizes}"
        BUILD.mkdir(exist_ok=True)
        out.screenshot(path=str(BUILD / "browser_transcript_untrusted.png"))

        # Run the cell: its new output is trusted, the script runs.
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_function("""() => {
            const w = window.jupyterapp.shell.currentWidget;
            const c = w.content.widgets[0];
            return c.model.executionCount === 1 && w.sessionContext.session.kernel.status === 'idle'
                && c.node.querySelector('input.nbaudio-search') !== null; }""", timeout=120_000)
        assert out.locator(".nbaudio-noscript").count() == 0, "the hint shows where scripts run"
        cells_before = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets.length")
        search = out.locator("input.nbaudio-search")
        search.click()
        search.press_sequentially("apples")  # letters that are notebook shortcuts in command mode
        rows = out.locator("tr.nbaudio-seg")
        shown = rows.evaluate_all("(rs) => rs.filter(r => r.style.display !== 'none').length")
        assert shown == 4 and "4 of 40 segments" in out.locator(".nbaudio-search-count").inner_text()
        assert page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets.length") == cells_before
        search.fill("")
        assert rows.evaluate_all("(rs) => rs.filter(r => r.style.display !== 'none').length") == 40

        # Playing a late segment scrolls the rows' box to it, and not the notebook.
        box.evaluate("(b) => { b.scrollTop = 0; }")
        scroller = page.locator(".jp-NotebookPanel .jp-WindowedPanel-outer").first
        page_top = scroller.evaluate("(s) => s.scrollTop")
        player = out.locator("audio")
        player.evaluate("(a) => { a.currentTime = 51; return a.play(); }")
        page.wait_for_function("""([b, r]) => { const bb = b.getBoundingClientRect(), rb = r.getBoundingClientRect();
                                   return r.style.background !== '' && rb.top >= bb.top && rb.bottom <= bb.bottom; }""",
                               arg=[box.element_handle(), rows.nth(34).element_handle()])
        player.evaluate("(a) => a.pause()")
        assert box.evaluate("(b) => b.scrollTop") > 0
        assert scroller.evaluate("(s) => s.scrollTop") == page_top, "playing scrolled the notebook"

        # A time that is a link to the player file seeks in place; JupyterLab does not open the file too.
        tabs = "() => Array.from(window.jupyterapp.shell.widgets('main')).length"
        open_tabs = page.evaluate(tabs)
        link = rows.nth(10).locator("a.nbaudio-ts")
        link.scroll_into_view_if_needed()
        link.click()
        page.wait_for_function("(a) => Math.abs(a.currentTime - 15) < 0.5", arg=player.element_handle())
        player.evaluate("(a) => a.pause()")
        page.wait_for_timeout(1000)  # JupyterLab opens a clicked file asynchronously
        assert page.evaluate(tabs) == open_tabs, "clicking a time opened the audio file in a new tab"
        out.screenshot(path=str(BUILD / "browser_transcript_trusted.png"))
        assert not page.js_errors, f"JavaScript errors in the page: {page.js_errors}"
    finally:
        page.close()


def test_exported_html_without_scripts_links_times_to_the_audio(browser, tmp_path):
    """nbconvert's HTML (what nbviewer serves) with JavaScript off: the hint shows, a time opens the file there."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(_saved_untrusted(tmp_path), as_version=4)
    page_html, _ = HTMLExporter().from_notebook_node(nb)
    path = tmp_path / "long_transcript.html"
    path.write_text(page_html, encoding="utf-8")
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(CHECK_MS)
        page.goto(path.as_uri(), wait_until="load")
        out = page.locator(".nbaudio-transcript").first
        hint = out.locator(".nbaudio-noscript")
        assert hint.is_visible() and "Scripts are off" in hint.inner_text()
        assert "exported to HTML (nbconvert) a time opens the audio file at that moment" in hint.inner_text()
        assert out.locator("input.nbaudio-search").count() == 0
        src = out.locator("audio").get_attribute("src")
        assert src.startswith("nbaudio_media/") and (tmp_path / src).is_file()
        link = out.locator("tr.nbaudio-seg").nth(10).locator("a.nbaudio-ts")
        assert link.get_attribute("href") == f"{src}#t=15.00,16.50"
        with context.expect_page() as opened:
            link.click()
        tab = opened.value
        tab.wait_for_load_state("load")
        assert tab.url.endswith(f"{src}#t=15.00,16.50")
        # the browser's own media page honours the fragment: it starts at 15 s, not at 0
        tab.wait_for_function("() => { const m = document.querySelector('video,audio'); "
                              "return m && m.readyState >= 1 && m.currentTime >= 14.9; }")
        BUILD.mkdir(exist_ok=True)
        out.screenshot(path=str(BUILD / "browser_transcript_static.png"))
    finally:
        context.close()


def test_a_player_the_browser_cannot_play_says_so(browser):
    """Raw PCM under player_format="original" (audio/L16): Chromium fires `error`, the script shows the fix."""
    import numpy as np

    from nbaudio import AudioClip
    from nbaudio.display import mimebundle, options

    pcm = AudioClip.from_array(np.zeros(8000, np.float32), 8000).encode("pcm")
    with options.override(player_format="original"):
        out = mimebundle(pcm)["text/html"]
    assert "data:audio/L16" in out
    page = browser.new_page()
    try:
        page.set_default_timeout(CHECK_MS)
        page.set_content(f"<html><body>{out}</body></html>")
        note = page.locator(".nbaudio-error")
        note.wait_for()
        assert "cannot play audio/L16" in note.inner_text()
        assert 'player_format = "mp3"' in note.inner_text()
    finally:
        page.close()


def test_rows_past_max_rows_are_searched_played_and_filtered(browser):
    """40 segments, 10 rendered: the other 30 join the table for a search, a late playback and the speaker filter."""
    import numpy as np

    from nbaudio import AudioClip, Segment, Transcript
    from nbaudio.display import mimebundle, options

    rate = 8000
    t = np.arange(60 * rate) / rate
    clip = AudioClip.from_array((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate, name="late.wav")
    segs = [Segment(i, 1.5 * i, 1.5 * i + 1.5, f" line {i} about {'apples' if i % 10 == 3 else 'pears'}",
                    speaker="AB"[i % 2]) for i in range(40)]
    with options.override(max_rows=10):
        out = mimebundle(Transcript(text="", duration=60.0, segments=segs, audio=clip))["text/html"]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.set_default_timeout(CHECK_MS)
        page.set_content(f"<html><body>{out}</body></html>")
        unit = page.locator(".nbaudio-transcript")
        rows = unit.locator("tr.nbaudio-seg")
        assert rows.count() == 10 and "the next 30 show when a search" in unit.locator(".nbaudio-rows-cap").inner_text()
        search = unit.locator("input.nbaudio-search")
        assert search.get_attribute("placeholder") == "search 40 segments"
        search.fill("apples")
        assert rows.count() == 40 and unit.locator(".nbaudio-search-count").inner_text() == "4 of 40 segments"
        assert unit.locator(".nbaudio-rows-cap").count() == 0 and unit.locator(".nbaudio-rows-more").count() == 0
        # the speaker filter applies to the rows added too: of lines 1 and 10-19, A's (even) stay
        search.fill("line 1")
        assert unit.locator(".nbaudio-search-count").inner_text() == "11 of 40 segments"
        unit.locator('.nbaudio-spk[data-speaker="A"]').click()
        shown = rows.evaluate_all("(rs) => rs.filter(r => r.offsetParent).map(r => +r.dataset.start / 1.5)")
        assert shown == [10, 12, 14, 16, 18], shown
        unit.locator('.nbaudio-spk[data-speaker="A"]').click()
        search.fill("")

        # a speaker chosen before the rows are added: the added rows follow the choice too
        page.set_content(f"<html><body>{out}</body></html>")
        unit.locator('.nbaudio-spk[data-speaker="A"]').click()
        search.fill("line 1")
        shown = rows.evaluate_all("(rs) => rs.filter(r => r.offsetParent).map(r => +r.dataset.start / 1.5)")
        assert shown == [10, 12, 14, 16, 18], shown

        # a fresh page: playback past the 10th row adds the rest, highlights the playing one and keeps it in view
        page.set_content(f"<html><body>{out}</body></html>")
        box, player = unit.locator(".nbaudio-rows"), unit.locator("audio")
        player.evaluate("(a) => { a.currentTime = 52; return a.play(); }")
        page.wait_for_function("""(b) => { const r = b.querySelectorAll('tr.nbaudio-seg')[34];
            if (!r || !r.style.background) return false;
            const bb = b.getBoundingClientRect(), rb = r.getBoundingClientRect();
            return rb.top >= bb.top && rb.bottom <= bb.bottom; }""", arg=box.element_handle())
        player.evaluate("(a) => a.pause()")
        assert rows.count() == 40
        assert not errors, f"JavaScript errors in the page: {errors}"
    finally:
        page.close()
