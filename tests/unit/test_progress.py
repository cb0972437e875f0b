"""Progress bars in a notebook end as one line with their final state: no stale "0%" text, no widget models."""

from __future__ import annotations

import pytest

from nbaudio import progress as progress_mod
from nbaudio.progress import NotebookBar, progress


class Handle:
    def __init__(self, shown: list) -> None:
        self.shown = shown

    def update(self, bundle, raw=False):
        assert raw
        self.shown.append(bundle)


@pytest.fixture
def shown(monkeypatch) -> list:
    out: list = []

    def display(bundle, raw=False, display_id=None):
        assert raw and display_id is True
        out.append(bundle)
        return Handle(out)

    monkeypatch.setattr("IPython.display.display", display)
    monkeypatch.setattr(progress_mod, "in_kernel", lambda: True)
    monkeypatch.setattr(progress_mod, "REDRAW_S", 0.0)
    return out


def test_notebook_bar_ends_as_its_final_state_in_text(shown):
    with progress(3, "speak") as bar:
        assert isinstance(bar, NotebookBar)
        for _ in range(3):
            bar.update(1)
    assert "<progress" in shown[0]["text/html"] and shown[0]["text/plain"] == "speak: 0/3"
    final = shown[-1]
    assert set(final) == {"text/plain"} and final["text/plain"].startswith("speak: 3/3 in ")
    assert final["text/plain"].endswith(" s")


def test_notebook_bar_that_stops_early_says_where(shown):
    with pytest.raises(ValueError), progress(4, "transcribe") as bar:
        bar.update(1)
        raise ValueError("boom")
    assert shown[-1]["text/plain"].startswith("transcribe: stopped at 1/4 in ")
    bar.close()  # closing twice draws nothing more
    assert len([b for b in shown if set(b) == {"text/plain"}]) == 1


def test_escapes_and_one_piece_draws_nothing(shown):
    with progress(2, "<b>x</b>") as bar:
        bar.update(2)
    assert "<b>x</b>" not in shown[0]["text/html"] and "&lt;b&gt;" in shown[0]["text/html"]
    shown.clear()
    with progress(1, "speak") as bar:
        bar.update(1)
    assert shown == []


def test_a_long_request_says_it_is_running_then_ends_as_one_line(shown, monkeypatch):
    import time

    from nbaudio.progress import Waiting, waiting

    monkeypatch.setattr(progress_mod, "WAIT_SHOWN_AFTER_S", 0.05)
    with waiting("transcribe", "3:00 of audio") as w:
        assert isinstance(w, Waiting)
        time.sleep(0.3)
    assert shown[0]["text/plain"].startswith("transcribe · 3:00 of audio · ")
    assert "<progress" in shown[0]["text/html"]
    final = shown[-1]
    assert set(final) == {"text/plain"} and final["text/plain"].startswith("transcribe: 3:00 of audio in ")


def test_a_quick_request_shows_nothing_and_a_failed_one_says_so(shown, monkeypatch):
    import time

    from nbaudio.progress import waiting

    with waiting("transcribe", "0:05 of audio"):
        pass
    time.sleep(0.1)
    assert shown == []
    monkeypatch.setattr(progress_mod, "WAIT_SHOWN_AFTER_S", 0.01)
    with pytest.raises(ValueError), waiting("translate", "<i>1:00</i> of audio"):
        time.sleep(0.1)
        raise ValueError("boom")
    assert "&lt;i&gt;" in shown[0]["text/html"]
    assert shown[-1]["text/plain"].startswith("translate: <i>1:00</i> of audio stopped after ")


def test_outside_a_notebook_waiting_draws_nothing(monkeypatch):
    from nbaudio.progress import Waiting, waiting

    monkeypatch.setattr(progress_mod, "in_kernel", lambda: False)
    with waiting("transcribe") as w:
        assert not isinstance(w, Waiting)
