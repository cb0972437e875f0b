"""transcribe_many / speak_many against the real engine: 40 spoken files, bad files as error rows,
the display, resuming after a killed run, and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

import nbaudio
from nbaudio.metrics import word_error_rate
from tests.batch.conftest import N_FILES

ROOT = Path(__file__).resolve().parents[2]
WER_BOUND = 0.15  # tiny.en on piper's voice: a word or two wrong in 40 short sentences


def test_speak_many_made_every_clip(corpus):
    folder, refs, spoken = corpus
    assert len(spoken) == N_FILES and spoken["error"].isna().all()
    assert all(isinstance(c, nbaudio.AudioClip) and 0.5 < c.duration < 5 for c in spoken["clip"])
    assert sorted(p.name for p in folder.iterdir()) == sorted(Path(p).name for p in spoken["path"])
    assert spoken.summary.done == N_FILES and spoken.summary.errors == 0


def test_forty_files_on_threads_fill_every_row(thread_rows):
    df = thread_rows
    assert len(df) == N_FILES
    assert df["error"].isna().all(), df["error"].dropna().tolist()
    assert (df["duration"] > 0.5).all() and (df["elapsed"] > 0).all()
    assert (df["language"] == "english").all()
    assert all(isinstance(t, str) and t.strip() for t in df["text"])
    assert all(len(s) >= 1 and all(seg["end"] > seg["start"] for seg in s) for s in df["segments"])
    assert df.summary.wer is not None and df.summary.wer <= WER_BOUND, df[["text", "reference", "wer"]]
    # Each row holds its own file's words: its text is nearest its own reference. (Not a bound on
    # each row's WER: piper's voice is random, and one short sentence came back over 0.5 in a
    # clean-clone run; a crossed or empty row is what this catches.)
    for text, reference in zip(df["text"], df["reference"], strict=True):
        own = word_error_rate(reference, text)
        assert own < 1 and own <= min(word_error_rate(other, text) for other in set(df["reference"])), \
            (text, reference)
    bundle = df._repr_mimebundle_()
    assert bundle["text/plain"].startswith(f"transcribe: {N_FILES}/{N_FILES} inputs, 0 errors")
    assert "WER overall" in bundle["text/plain"] and "languages: english 40" in bundle["text/plain"]
    assert ">nan<" not in bundle["text/html"] and ">None<" not in bundle["text/html"]
    first_row = bundle["text/html"].split("<tbody><tr>", 1)[1]
    assert f"<td>{df['wer'].max():.2f}</td>" in first_row.split("</tr>", 1)[0]  # the worst WER first


def test_bad_files_are_error_rows_and_the_rest_is_done(corpus, engine_client, tmp_path):
    folder, refs, _ = corpus
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    corrupt = tmp_path / "<i>corrupt.wav"
    corrupt.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt " + os.urandom(200))
    missing = tmp_path / "missing.wav"
    good = sorted(str(p) for p in folder.iterdir())[:3]
    df = nbaudio.transcribe_many([*good, str(empty), str(corrupt), str(missing)], client=engine_client)
    assert len(df) == 6
    assert df["error"].iloc[:3].isna().all()
    errors = df["error"].iloc[3:].tolist()
    assert "empty" in errors[0] and "0 bytes" in errors[0]
    assert errors[1].startswith(("AudioDecodeError", "BadRequestError"))
    assert "not found" in errors[2]
    bundle = df._repr_mimebundle_()
    assert "3 errors" in bundle["text/plain"]
    assert "&lt;i&gt;corrupt.wav" in bundle["text/html"] and "<i>corrupt" not in bundle["text/html"]


_KILLED_RUN = """
import sys, nbaudio
nbaudio.transcribe_many(sys.argv[1], client=nbaudio.Client(sys.argv[2]), results=sys.argv[3], concurrency=2,
                        language="en")
"""


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.is_file() else []


def test_resume_after_a_killed_run_redoes_nothing_and_loses_nothing(corpus, engine, engine_client, tmp_path,
                                                                   monkeypatch):
    folder, refs, _ = corpus
    results = tmp_path / "runs" / "corpus.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_RUN, str(folder), engine.base_url, str(results)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while len(_lines(results)) < 10 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    before = {}
    for line in _lines(results):
        try:
            row = json.loads(line)
        except ValueError:  # the line being written when it was killed
            continue
        before[row["source"]] = row
    assert 10 <= len(before) < N_FILES
    sent: list[str] = []
    original = requests.Session.request

    def counting(self, method, url, *args, **kwargs):
        if url.endswith("/audio/transcriptions"):
            sent.append(url)
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(requests.Session, "request", counting)
    df = nbaudio.transcribe_many(folder, client=engine_client, results=results, language="en")
    assert len(df) == N_FILES and df["error"].isna().all()
    assert len(sent) == N_FILES - len(before)  # the finished rows were not sent again
    assert df.summary.stats.resumed == len(before)
    for _, row in df.iterrows():
        if row["source"] in before:
            assert row["text"] == before[row["source"]]["text"]
            assert row["elapsed"] == before[row["source"]]["elapsed"]
    rows = [json.loads(line) for line in _lines(results) if line.strip().startswith("{") and line.endswith("}")]
    assert {r["source"] for r in rows} == set(df["source"])  # every input is in the results file


def test_interrupt_returns_the_rows_done(corpus, engine_client, tmp_path):
    folder, _, _ = corpus
    results = tmp_path / "interrupted.jsonl"
    stop = threading.Event()

    def interrupt_when_some_are_done() -> None:
        while not stop.is_set():
            if len(_lines(results)) >= 3:
                # What Kernel -> Interrupt does: a real SIGINT to the process (interrupt_main only
                # schedules the handler, which a main thread blocked in a wait may not run until the end).
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.02)

    # A kernel turns SIGINT into KeyboardInterrupt; an earlier test (Dask's cluster) may have left
    # another handler, under which the signal would be ignored (or kill pytest).
    saved = signal.signal(signal.SIGINT, signal.default_int_handler)
    watcher = threading.Thread(target=interrupt_when_some_are_done, daemon=True)
    watcher.start()
    try:
        df = nbaudio.transcribe_many(folder, client=engine_client, results=results, concurrency=2, language="en")
    finally:
        stop.set()
        signal.signal(signal.SIGINT, saved)
    assert df.summary.stats.interrupted
    assert 3 <= len(df) < N_FILES and df["error"].isna().all()
    assert "interrupted" in df._repr_mimebundle_()["text/plain"]
    assert {json.loads(line)["source"] for line in _lines(results)} == set(df["source"])


@pytest.mark.parametrize("kind", ["list", "series"])
def test_sources_as_a_list_of_clips_or_a_series(corpus, engine_client, kind):
    import pandas as pd

    folder, _, spoken = corpus
    if kind == "list":
        sources = list(spoken["clip"][:3])
    else:
        sources = pd.DataFrame({"path": spoken["path"][:3], "n": [1, 2, 3]})["path"]
    df = nbaudio.transcribe_many(sources, client=engine_client, language="en")
    assert len(df) == 3 and df["error"].isna().all()
    for heard, said in zip(df["text"], spoken["text"][:3], strict=True):
        assert word_error_rate(said, heard) <= 0.5, (said, heard)


def test_speak_many_resumes_from_its_results_file(engine_client, tmp_path):
    texts = ["Open your books.", "Read the first page.", "Close the door."]
    results = tmp_path / "speak.jsonl"
    first = nbaudio.speak_many(texts, client=engine_client, out_dir=tmp_path / "clips", results=results)
    again = nbaudio.speak_many(texts, client=engine_client, out_dir=tmp_path / "clips", results=results)
    assert first["error"].isna().all() and list(again["text"]) == texts
    assert again.summary.stats.resumed == 3 and again.summary.stats.requests == 0
    assert [c.data for c in again["clip"]] == [c.data for c in first["clip"]]
    assert all(Path(p).is_file() for p in again["path"])
    with pytest.raises(nbaudio.InvalidInputError, match="out_dir"):
        nbaudio.speak_many(texts, client=engine_client, results=tmp_path / "other.jsonl")
