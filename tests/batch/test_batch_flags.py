"""Flags in batch results: each row counts its transcript's flags (and names their kinds), and the
summary adds them up, in text and in the HTML, from rows as they come and from a results file."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import nbaudio
from nbaudio.batch.runner import RunStats
from nbaudio.batch.summary import summarize
from tests.support.signals import voiced_speech


def segment(i: int, text: str, end: float = 1.0, **numbers) -> dict:
    return {"id": i, "seek": 0, "start": float(i), "end": i + end, "text": text, "tokens": [1], "temperature": 0.0,
            "avg_logprob": -0.2, "compression_ratio": 1.1, "no_speech_prob": 0.01, **numbers}


ANSWERS = {  # by the clip's peak level, which says which input it is
    1: [segment(0, "All fine.", 2.0)],
    2: [segment(0, "Thanks for watching.", no_speech_prob=0.9), segment(1, "la la la la", compression_ratio=3.0)],
    3: [segment(0, "Hm.", 2.0, avg_logprob=-1.6)],
}


@pytest.fixture
def client(httpserver: HTTPServer):
    def handler(request: Request):
        import io

        import soundfile as sf

        samples, _ = sf.read(io.BytesIO(request.files["file"].read()), dtype="float32")
        which = int(round(float(np.abs(samples).max()) * 10))
        segs = ANSWERS[which]
        body = {"task": "transcribe", "language": "english", "duration": 2.0,
                "text": " ".join(s["text"] for s in segs), "segments": segs}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/v1/audio/transcriptions").respond_with_handler(handler)
    with nbaudio.Client(httpserver.url_for("/"), api_key="sk-test-0123456789", max_retries=0) as c:
        yield c


def clips() -> list[nbaudio.AudioClip]:
    speech = voiced_speech(2.0, 16000, seed=8)
    speech = speech / np.abs(speech).max()
    return [nbaudio.AudioClip.from_array((speech * level / 10).astype("float32"), 16000) for level in (1, 2, 3)]


def test_rows_count_flags_and_the_summary_adds_them_up(client, tmp_path):
    rows = nbaudio.transcribe_many(clips(), client=client, results=tmp_path / "run.jsonl")
    by_text = {r["text"]: r for r in rows.to_dict("records")}
    assert by_text["All fine."]["flags"] == 0 and pd.isna(by_text["All fine."]["flag_kinds"])
    assert by_text["Thanks for watching. la la la la"]["flags"] == 2
    assert by_text["Thanks for watching. la la la la"]["flag_kinds"] == "no_speech 1, repetition 1"
    assert by_text["Hm."]["flag_kinds"] == "low_confidence 1"
    s = rows.summary
    assert (s.flags, s.flagged) == (3, 2)
    line = next(line for line in s.lines() if line.startswith("flags:"))
    assert line.startswith("flags: 3 in 2 rows (")
    assert all(k in line for k in ("no_speech 1", "repetition 1", "low_confidence 1"))
    bundle = rows._repr_mimebundle_()
    assert "flags: 3 in 2 rows" in bundle["text/plain"] and "<th>flags</th>" in bundle["text/html"]
    # a second run resumes from the results file: the same counts, nothing sent again
    again = nbaudio.transcribe_many(clips(), client=client, results=tmp_path / "run.jsonl")
    assert (again.summary.flags, again.summary.flagged, again.summary.stats.resumed) == (3, 2, 3)


def test_rows_from_a_frame_with_missing_values_count_as_unflagged():
    rows = [{"source": "a", "flags": float("nan")}, {"source": "b", "flags": 2.0, "flag_kinds": "silent 2"},
            {"source": "c", "error": "boom"}]
    s = summarize("transcribe", rows, RunStats(inputs=3))
    assert (s.flags, s.flagged, s.flag_kinds["silent"]) == (2, 1, 2)
