"""The committed notebooks: executed, small, free of secrets, wired for nbval; and `make demo`.

Running them cell by cell and comparing outputs is nbval's job (`pytest --nbval notebooks/`,
see the Makefile); these checks cover what nbval does not.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat  # the test extra installs it: a broken import fails, it is not skipped
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SANITIZE = NOTEBOOKS / "nbval_sanitize.cfg"

# Bytes on disk per notebook, outputs included. The display layer embeds compact Opus players;
# raise a budget only for a reason you can name.
BUDGETS = {
    "01_quickstart.ipynb": 300_000,
    "02_transcripts.ipynb": 520_000,  # +77 kB: the Player widget's saved view (its clip and transcript on reopen)
    "03_voice_chat.ipynb": 350_000,
    "04_classroom.ipynb": 200_000,
    "05_live.ipynb": 200_000,
    "06_compare.ipynb": 350_000,  # a grid of six players, two recordings, a listening test's first trial
    # a lecture, two spoken chat replies with their tool calls, a spoken agent turn; +20 kB: each live
    # widget saves its page code, which now holds the shared microphone plumbing and the latency stamps
    "07_voice_agents.ipynb": 320_000,
}
SECRET = re.compile(r"sk-[A-Za-z0-9_-]{12,}|Bearer\s+[A-Za-z0-9._-]{8,}|api[_-]?key['\"]?\s*[:=]\s*['\"][^'\"*]{8,}",
                    re.IGNORECASE)


def _load(name: str):
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def test_every_notebook_is_listed():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(BUDGETS)


@pytest.mark.parametrize("name", sorted(BUDGETS))
def test_notebook_fits_its_byte_budget(name):
    size = (NOTEBOOKS / name).stat().st_size
    assert size <= BUDGETS[name], f"{name} is {size:,} bytes, over its budget of {BUDGETS[name]:,}"


@pytest.mark.parametrize("name", sorted(BUDGETS))
def test_notebook_is_saved_executed_top_to_bottom(name):
    nb = _load(name)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{name} has no code"
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{name} was not run top to bottom in one kernel: {counts}"
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{name} was saved with an error: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    with_output = sum(bool(c.outputs) for c in code)
    assert with_output >= len(code) // 2, f"{name}: only {with_output} of {len(code)} code cells kept outputs"
    # Rich outputs are what the notebooks are for: players in HTML (static, so GitHub shows them).
    html = [o["data"]["text/html"] for c in code for o in c.outputs if "text/html" in o.get("data", {})]
    assert any("<audio" in h for h in html), f"{name} has no audio player in its outputs"


@pytest.mark.parametrize("name", sorted(BUDGETS))
def test_first_cell_names_the_two_variables_and_never_a_key(name):
    nb = _load(name)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "NBAUDIO_BASE_URL" in first.source and "NBAUDIO_API_KEY" in first.source
    assert "getpass" in first.source, "the key must be typed in, not written in the notebook"
    # Run on the embedded engine: the client shows no URL and no key.
    shown = first.outputs[0]["data"]["text/plain"]
    assert shown == "<nbaudio.Client embedded engine (starts on first use) api_key=none>", shown
    text = (NOTEBOOKS / name).read_text()
    leak = SECRET.search(text)
    assert leak is None, f"{name} contains something like a key: {leak.group(0)[:12]}…"


@pytest.mark.parametrize("name", sorted(BUDGETS))
def test_volatile_cells_are_marked_and_checked_cells_stay(name):
    """Cells whose output varies carry nbval-ignore-output; the deterministic ones are still checked."""
    nb = _load(name)
    code = [c for c in nb.cells if c.cell_type == "code"]
    checked = [c for c in code if "nbval-ignore-output" not in c.metadata.get("tags", [])]
    assert len(checked) >= 3, f"{name}: only {len(checked)} cells have outputs nbval compares"
    for c in checked:
        for o in c.outputs:
            data = o.get("data", {})
            assert "<audio" not in data.get("text/html", ""), f"{name}: a checked cell shows audio:\n{c.source}"
            text = data.get("text/plain", "") + o.get("text", "")
            assert not re.search(r"\b\d+\.\d{3,}\b", _sanitize(text)), \
                f"{name}: a checked cell prints measurements, which vary:\n{c.source}\n{text}"


def _sanitize(text: str) -> str:
    from nbval.plugin import get_sanitize_patterns

    for regex, replace in get_sanitize_patterns(SANITIZE.read_text()):
        text = re.sub(regex, replace, text)
    return text


def test_sanitize_file_masks_what_varies():
    import nbval  # noqa: F401 - the test extra installs it
    line = ("nbaudio: no remote API configured, so using the embedded local engine on 127.0.0.1:41235 "
            "(set NBAUDIO_BASE_URL and NBAUDIO_API_KEY to use a remote API instead)")
    assert _sanitize(line) == _sanitize(line.replace("41235", "38001"))
    assert "PORT" in _sanitize(line)
    reply = "{'role': 'assistant', 'audio': {'id': 'audio_9db48d34d3535dfaedd453d17b70faf5'}}"
    assert _sanitize(reply) == "{'role': 'assistant', 'audio': {'id': 'audio_ID'}}"
    html = '<div id="nbaudio-0123456789ab"><audio src="data:audio/ogg;base64,T2dnUwACAAAAAAAA+/=="></audio></div>'
    assert _sanitize(html) == '<div id="nbaudio-ID"><audio src="data:BASE64"></audio></div>'
    # Words and whole numbers are left alone, so checked outputs still mean something.
    assert _sanitize("(['user', 'assistant'], 6) True") == "(['user', 'assistant'], 6) True"


@pytest.mark.engine  # the demo's kernel starts its own engine
@pytest.mark.timeout(300)
def test_make_demo_writes_the_quickstart_as_html(tmp_path, monkeypatch, capsys):
    """`make demo`: runs 01_quickstart on the embedded engine (even with a remote key set) and prints the HTML path."""
    import nbconvert  # noqa: F401 - the test extra installs it

    from nbaudio import demo

    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-a-real-key-for-the-demo-0000")  # must be ignored
    monkeypatch.chdir(ROOT)
    rc = demo.main(["--out", str(tmp_path)])
    printed = capsys.readouterr().out.strip().splitlines()
    assert rc == 0, printed
    html_path = Path(printed[-1])
    assert html_path == (tmp_path / "quickstart.html").resolve() and html_path.is_file()
    page = html_path.read_text()
    assert page.count("<audio") >= 5, "players missing from the demo page"
    assert 'class="nbaudio-seg"' in page and "nbaudio-ts" in page, "transcript table missing"
    assert "embedded local engine" in page and "api_key=none" in page
    assert "sk-not-a-real-key" not in page
    assert "Traceback" not in page
