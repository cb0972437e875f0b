"""A `%%voice` cell's text is a message to a voice model: JupyterLab shows it as plain text, not
highlighted as Python (nbaudio's lab extension, labextension/src/index.js), while the notebook's
other code cells stay Python, also after the notebook's language changes and while a cell is edited.

"Highlighted" is what the reader sees: a piece of a line in another colour than the line's text.
The kernel is a plain Python one; nothing is sent to a model.
"""

from __future__ import annotations

import pytest

from tests.support.browser import CHROMIUM, open_notebook, run_cell, write_notebook

NOTEBOOK = "voice_cells.ipynb"
PYTHON_LOOKING = "def summary(notes):\n    import json\n    return len(notes) + 42, 'done'"
CELLS = [f"%%voice --voice coral\n{PYTHON_LOOKING}", PYTHON_LOOKING]
VOICE, PYTHON = 0, 1

# The text of each piece of cell `i`'s editor lines drawn in another colour than the line.
COLOURED = """(i) => {
    const cell = window.jupyterapp.shell.currentWidget.content.widgets[i];
    const lines = [...cell.node.querySelectorAll('.cm-content .cm-line')];
    return lines.flatMap(line => {
        const colour = getComputedStyle(line).color;
        return [...line.querySelectorAll('*')].filter(el => getComputedStyle(el).color !== colour)
                                              .map(el => el.textContent);
    });
}"""
MIME = "(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.mimeType"
# The Python cell highlighted and the %%voice cell not, both at once (so not before Python has loaded).
SETTLED = f"""([voice, python]) => {{
    const coloured = {COLOURED};
    return coloured(python).length >= 5 && coloured(voice).length === 0;
}}"""

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
    pytest.mark.timeout(300),
]


@pytest.fixture(scope="module")
def page(labs, browser):
    with labs.folder("voice_cells") as lab:
        write_notebook(lab["dir"] / NOTEBOOK, CELLS)
        page = open_notebook(browser, lab, NOTEBOOK)
        try:
            yield page
        finally:
            page.close()


def _settled(page, voice: int = VOICE, python: int = PYTHON) -> None:
    """Until cell `python` is highlighted and cell `voice` is not; fails saying what each shows."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(SETTLED, arg=[voice, python])
    except PlaywrightTimeout as exc:
        coloured = {i: page.evaluate(COLOURED, i) for i in (voice, python)}
        mimes = {i: page.evaluate(MIME, i) for i in (voice, python)}
        raise AssertionError(f"cell {voice} should be plain and cell {python} Python; coloured pieces: "
                             f"{coloured}, editor languages: {mimes}") from exc


def test_the_voice_cell_is_plain_text_and_the_python_cell_python(page):
    _settled(page)
    assert page.evaluate(MIME, VOICE) == "text/plain"
    assert page.evaluate(MIME, PYTHON) == "text/x-ipython"
    assert {"def", "import", "return", "42", "'done'"} <= set(page.evaluate(COLOURED, PYTHON))
    # Still so after the kernel has run a cell (the notebook sets no language again).
    run_cell(page, PYTHON)
    _settled(page)
    assert not page.js_errors, page.js_errors


def test_typing_the_magic_makes_a_cell_plain_and_deleting_it_makes_it_python(page):
    magic = "%%voice\n"
    page.evaluate("(i) => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = i; }", PYTHON)
    editor = page.locator(".jp-Notebook .jp-Cell.jp-mod-active .cm-content")
    editor.click()
    page.keyboard.press("Control+Home")
    page.keyboard.type(magic)
    # Both cells are %%voice cells now: neither is highlighted.
    page.wait_for_function(f"(i) => ({COLOURED})(i).length === 0", arg=PYTHON)
    assert page.evaluate(MIME, PYTHON) == "text/plain"
    for _ in magic:
        page.keyboard.press("Backspace")
    _settled(page)
    assert page.evaluate(MIME, PYTHON) == "text/x-ipython"


def test_a_new_notebook_language_leaves_the_voice_cell_plain(page):
    """What a kernel of another language does: the notebook gives every code cell its language."""
    set_language = """(info) => {
        window.jupyterapp.shell.currentWidget.content.model.setMetadata('language_info', info);
    }"""
    python_info = page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.model.getMetadata('language_info')")
    page.evaluate(set_language, {"name": "javascript", "mimetype": "text/javascript",
                                 "codemirror_mode": "javascript"})
    page.wait_for_function(f"(i) => ({MIME})(i) === 'text/javascript'", arg=PYTHON)
    # The extension re-applies plain text once the new language has loaded: on a busy machine later.
    page.wait_for_function(f"(i) => ({MIME})(i) === 'text/plain'", arg=VOICE)
    page.evaluate(set_language, python_info)
    page.wait_for_function(f"(i) => ({MIME})(i) === 'text/x-ipython'", arg=PYTHON)
    page.wait_for_function(f"(i) => ({MIME})(i) === 'text/plain'", arg=VOICE)
    _settled(page)
    assert page.evaluate(MIME, VOICE) == "text/plain"
