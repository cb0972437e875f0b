"""The batch's parts without the engine: the limiter's arithmetic (on a clock the test moves),
the results file's handling of a line a kill cut short, what sources are refused before anything
is sent, and the result without pandas (a subprocess where pandas cannot be imported)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import nbaudio
from nbaudio.batch.journal import Journal
from nbaudio.batch.limiter import DECREASE_RATE, AdaptiveLimiter
from nbaudio.batch.sources import audio_jobs, match_references

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_limiter_halves_once_per_burst_pauses_everyone_and_grows_back():
    clock = Clock()
    lim = AdaptiveLimiter(8, clock=clock)
    tickets = [lim.start() for _ in range(8)]
    assert lim.wait() == float("inf")  # full
    clock.now += 0.1
    for t in tickets[:5]:  # five refusals of one burst: one cut, not five
        lim.done(t, throttled=True, retry_in=1.5)
    assert lim.allowed == 4 and lim.throttled == 5
    assert lim.wait() == pytest.approx(1.5)  # nobody starts before the Retry-After
    clock.now += 1.5
    for t in tickets[5:]:
        lim.done(t)
    assert lim.wait() == 0.0
    for _ in range(40):
        lim.done(lim.start())
    assert lim.allowed == 8  # grown back to the maximum


def test_limiter_paces_starts_at_a_share_of_the_rate_that_succeeded():
    clock = Clock()
    lim = AdaptiveLimiter(4, clock=clock)
    for _ in range(5):  # successes 0.25 s apart: 4 per second
        lim.done(lim.start())
        clock.now += 0.25
    lim.done(lim.start(), throttled=True, retry_in=0.0)
    assert lim.rate == pytest.approx(DECREASE_RATE * 4.0, rel=0.05)
    lim.start()
    assert lim.wait() == pytest.approx(1 / lim.rate)


def test_results_file_ignores_a_line_cut_short_and_appends_on_a_new_line(tmp_path):
    path = tmp_path / "runs" / "x.jsonl"
    path.parent.mkdir()
    path.write_text(json.dumps({"key": "a", "source": "a.wav", "text": "hi", "error": None}) + "\n"
                    + '{"key": "b", "source": "b.wav", "te', encoding="utf-8")
    journal = Journal(path)
    assert list(journal.load()) == ["a"]
    journal.append("b", {"source": "b.wav", "text": "there", "error": None})
    journal.close()
    assert {k: r["text"] for k, r in Journal(path).load().items()} == {"a": "hi", "b": "there"}


@pytest.mark.parametrize("name", ["x.parquet", "x.csv"])
def test_results_must_be_appendable(tmp_path, name):
    with pytest.raises(nbaudio.InvalidInputError, match="jsonl"):
        nbaudio.transcribe_many([b"RIFF"], results=tmp_path / name, client=nbaudio.Client("http://127.0.0.1:9"))


def test_sources_refused_before_anything_is_sent(tmp_path):
    (tmp_path / "notes.txt").write_text("not audio")
    with pytest.raises(nbaudio.InvalidInputError, match="no audio files"):
        audio_jobs(tmp_path)
    with pytest.raises(nbaudio.InvalidInputError, match="matches no files"):
        audio_jobs(str(tmp_path / "*.wav"))
    with pytest.raises(nbaudio.InvalidInputError, match="more than once"):
        audio_jobs(["a.wav", "./a.wav"])
    with pytest.raises(nbaudio.InvalidInputError, match="must be a path"):
        audio_jobs([3])
    with pytest.raises(nbaudio.InvalidInputError, match="empty"):
        audio_jobs([])
    with pytest.raises(nbaudio.InvalidInputError, match="one per input"):
        match_references(["one"], audio_jobs(["a.wav", "b.wav"]))
    assert match_references({"a": "x"}, audio_jobs(["dir/a.wav", "b.wav"])) == ["x", None]


_NO_PANDAS = """
import sys
sys.modules["pandas"] = None  # `import pandas` raises ImportError from here on
import numpy as np, nbaudio
from tests.batch.relay import RateLimitedRelay
relay = RateLimitedRelay(None, rate=100, latency=0.0)
clips = [nbaudio.AudioClip.from_array(np.full(1600, i / 10, dtype="float32"), 16000) for i in range(1, 4)]
rows = nbaudio.transcribe_many(clips, client=nbaudio.Client(relay.base_url))
print(type(rows).__name__, len(rows), rows[0]["text"], rows[0]["error"])
print(rows._repr_mimebundle_()["text/plain"])
"""


def test_without_pandas_rows_are_dicts_and_it_says_how_to_scale_out():
    out = subprocess.run([sys.executable, "-c", _NO_PANDAS], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    first, text = out.stdout.split("\n", 1)
    assert first == "BatchRows 3 A fixed answer. None", out.stdout + out.stderr[-2000:]
    assert "nbaudio[batch]" in text and "get_executor()" in text
