"""A transcript's output where scripts do not run (untrusted notebook, GitHub, nbviewer), and long transcripts.

The browser half (the hint hidden where scripts run, the search box, the row kept in view) is in
tests/browser/test_browser.py.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from nbaudio import AudioClip, Segment, Transcript, Word, display
from nbaudio.display.markup import player_script
from tests.support.signals import voiced_speech

RATE = 16000
EVIL = '"><img src=x onerror=alert(1)>'


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    p = Tags()
    p.feed(page)
    p.close()
    return p.tags


def with_class(page: str, cls: str) -> list[tuple[str, dict[str, str | None]]]:
    return [(t, a) for t, a in tags(page) if cls in (a.get("class") or "").split()]


def texts(page: str, cls: str) -> list[str]:
    """The text of each flat `<div class="cls">` (the hint and the rows' caption are one line each)."""
    return [html.unescape(m) for m in re.findall(rf'<div class="{cls}"[^>]*>([^<]*)</div>', page)]


@pytest.fixture(scope="module")
def speech() -> AudioClip:
    return AudioClip.from_array(voiced_speech(3.0, RATE), RATE, name="talk.wav")


def segments(n: int, step: float = 0.3) -> list[Segment]:
    return [Segment(i, i * step, (i + 1) * step, f" part {i} & <b>", words=[Word(f" w{i}", i * step, i * step + 0.1)])
            for i in range(n)]


def test_hint_shows_only_with_a_player_and_the_script_removes_it(speech):
    page = display.mimebundle(Transcript(text="", segments=segments(3), audio=speech))["text/html"]
    hints = with_class(page, "nbaudio-noscript")
    assert len(hints) == 1 and page.index("nbaudio-noscript") < page.index("<table")
    assert "Scripts are off" in page and "does not seek the player" in page
    # an inline player: no file to link the times to (a data: URI per row would be far too heavy)
    assert "data:audio" in page and not any(t == "a" for t, _ in with_class(page, "nbaudio-ts"))
    assert '.querySelectorAll(".nbaudio-noscript")' in player_script("x") and "removeChild" in player_script("x")
    # no player, no script, nothing that would seek: no hint either
    assert "nbaudio-noscript" not in display.mimebundle(Transcript(text="", segments=segments(3)))["text/html"]


def test_saved_player_times_link_to_the_file_at_a_media_fragment(speech, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    t = Transcript(text="", segments=segments(3), audio=speech)
    with display.options.override(max_inline_bytes=1000):
        page = display.mimebundle(t)["text/html"]
    src = next(a["src"] for tag, a in tags(page) if tag == "audio")
    assert src.startswith("nbaudio_media/talk-")
    links = [a for tag, a in with_class(page, "nbaudio-ts") if tag == "a"]
    assert [a["href"] for a in links] == [f"{src}#t=0.00,0.30", f"{src}#t=0.30,0.60", f"{src}#t=0.60,0.90"]
    assert all(a["data-t"] for a in links)  # the script still seeks in place where it runs
    (hint,) = texts(page, "nbaudio-noscript")
    # untrusted JupyterLab opens a clicked local file in its own tab from the start: no promise of a
    # seek there, but how to get one; the fragment works where the notebook is a web page
    assert "does not seek the player" in hint and "Trust Notebook" in hint and "jupyter trust" in hint
    assert "exported to HTML (nbconvert) a time opens the audio file at that moment" in hint


def test_saved_player_link_of_a_hostile_name_stays_inert(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    clip = AudioClip.from_array(voiced_speech(1.0, RATE), RATE, name=EVIL)
    with display.options.override(max_inline_bytes=100):
        page = display.mimebundle(Transcript(text="", segments=[Segment(0, 0.0, 0.5, EVIL)], audio=clip))["text/html"]
    for tag, attrs in tags(page):
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert not (tag == "img" and attrs.get("src") == "x")


def test_rows_scroll_in_a_height_limited_box_with_search_from_eight_rows():
    few = display.mimebundle(Transcript(text="", segments=segments(7)))["text/html"]
    many = display.mimebundle(Transcript(text="", segments=segments(300)))["text/html"]
    for page in (few, many):
        (tag, box), = with_class(page, "nbaudio-rows")
        assert tag == "div" and "max-height:" in box["style"] and "overflow-y:auto" in box["style"]
        assert page.index("nbaudio-rows") < page.index("<table") < page.index("</table></div>")
    assert "data-search" not in with_class(few, "nbaudio-rows")[0][1]
    assert with_class(many, "nbaudio-rows")[0][1]["data-search"] == "1"
    assert "<input" not in many  # the script adds the search box: nothing dead where scripts are off
    script = player_script("x")
    assert "box.dataset.search" in script and "scrollTop" in script and "scrollIntoView" not in script


def test_rows_past_max_rows_are_said_above_the_rows():
    page = display.mimebundle(Transcript(text="", segments=segments(30)))["text/html"]
    assert "nbaudio-rows-cap" not in page and "data-total" not in page
    with display.options.override(max_rows=10):
        page = display.mimebundle(Transcript(text="", segments=segments(30)))["text/html"]
    (cap,) = texts(page, "nbaudio-rows-cap")
    assert cap.startswith("first 10 of 30 segments shown (to 0:03.00)") and "max_rows = 30" in cap
    assert page.index("nbaudio-rows-cap") < page.index('class="nbaudio-rows"')  # seen without scrolling
    box = with_class(page, "nbaudio-rows")[0][1]
    assert (box["data-total"], box["data-kept"]) == ("30", "10")
    assert 'class="nbaudio-later"' not in page  # no player, so no script would ever show more rows


def test_rows_past_max_rows_ride_along_unrendered_for_the_script(speech):
    t = Transcript(text="", segments=segments(30), audio=speech)
    with display.options.override(max_rows=10, max_hidden_rows=15):
        page = display.mimebundle(t)["text/html"]
    assert len(with_class(page, "nbaudio-seg")) == 10  # rows in the page; the next 15 are script text
    box = with_class(page, "nbaudio-rows")[0][1]
    assert (box["data-total"], box["data-kept"]) == ("30", "25")
    later = re.findall(r'<script type="text/x-nbaudio-rows" class="nbaudio-later">(.*?)</script>', page, re.S)
    assert len(later) == 1 and later[0].count('class="nbaudio-seg"') == 15
    assert 'data-start="3.000"' in later[0] and 'data-start="7.500"' not in later[0]
    assert "<script" not in later[0] and "&lt;b&gt;" in later[0]  # the text is escaped as in the rows
    assert "20 more segments not shown" in page  # what shows without scripts
    with display.options.override(max_rows=10, max_hidden_rows=0):
        assert 'class="nbaudio-later"' not in display.mimebundle(t)["text/html"]
    script = player_script("x")
    assert "script.nbaudio-later" in script and "insertAdjacentHTML" in script and "box.dataset.kept" in script


def test_a_player_that_fails_says_why_where_the_script_runs(speech):
    page = display.mimebundle(speech)["text/html"]
    (audio,) = [a for tag, a in tags(page) if tag == "audio"]
    assert audio["src"].startswith("data:audio/")
    assert "player_format = &quot;mp3&quot;" in page  # the element's fallback sentence, in the static HTML
    assert not with_class(page, "nbaudio-error")  # nothing else shows where scripts are off
    script = player_script("x")
    assert 'a.addEventListener("error",failed)' in script and "a.textContent" in script


def test_three_hundred_segments_are_all_shown_and_escaped():
    """The speed of this (target: 1 % of 10 minutes) is a `make bench` figure, not a test: machines are shared."""
    segs = [Segment(i, 2.0 * i, 2.0 * i + 1.9, f" segment {i} says something <here>", speaker="AB"[i % 2],
                    words=[Word(f" w{j}", 2.0 * i + 0.18 * j, 2.0 * i + 0.18 * j + 0.15, 0.9) for j in range(10)])
            for i in range(300)]
    t = Transcript(text="", duration=600.0, segments=segs)
    page = display.mimebundle(t)["text/html"]
    assert page.count('class="nbaudio-seg"') == 300 and "&lt;here&gt;" in page
