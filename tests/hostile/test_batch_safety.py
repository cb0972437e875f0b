"""A batch whose results or clips cannot be written (issue 26, item 11).

The README promises "a failure is a row, never an exception": a `results=` or `out_dir=` that
cannot be written is an InvalidInputError before the first request (naming the path and the
system's reason), and a write that fails mid-run (a full disk) keeps every row in memory, returns
them, and says where the results file stops. The failures are the operating system's own: a
path under a file, /dev/full (every write: "No space left on device"), a file-size limit
(RLIMIT_FSIZE, in a subprocess: writes past it fail with "File too large").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

import nbaudio
from nbaudio import AudioClip
from nbaudio.errors import InvalidInputError

pytestmark = pytest.mark.timeout(180)
ROOT = Path(__file__).resolve().parents[2]
WAV = AudioClip.from_array(0.3 * np.sin(np.arange(8000) / 5.0), 16000).data  # 0.5 s
LONG_WAV = AudioClip.from_array(0.3 * np.sin(np.arange(32000) / 5.0), 16000).data  # 2 s
N = 6


@pytest.fixture
def server(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request("/v1/audio/transcriptions").respond_with_json(
        {"text": "hello there", "language": "english", "duration": 0.5, "segments": []})
    httpserver.expect_request("/v1/audio/speech").respond_with_data(WAV, content_type="audio/wav")
    return httpserver


@pytest.fixture
def client(server):
    with nbaudio.Client(server.url_for("/v1"), api_key="sk-batch-safety", max_retries=0) as c:
        yield c


@pytest.fixture
def inputs(tmp_path) -> list[str]:
    folder = tmp_path / "audio"
    folder.mkdir()
    paths = []
    for i in range(N):
        (folder / f"take{i}.wav").write_bytes(WAV)
        paths.append(str(folder / f"take{i}.wav"))
    return paths


def _unwritable_places(tmp_path) -> list[tuple[Path, str]]:
    """(results path, the reason the system gives) for places no write can reach, as any user."""
    (tmp_path / "a_file").write_text("x")
    places = [(tmp_path / "a_file" / "runs.jsonl", "a_file' is a file, not a folder"),
              (tmp_path / "a_file" / "deeper" / "runs.jsonl", "a_file' is a file, not a folder"),
              (tmp_path / ("x" * 300 + ".jsonl"), "File name too long")]
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    readonly.chmod(0o555)
    if not os.access(readonly, os.W_OK):  # root writes anywhere: then this case says nothing
        places.append((readonly / "runs.jsonl", "Permission denied"))
    return places


def test_results_that_cannot_be_written_are_refused_before_any_request(server, client, inputs, tmp_path):
    for path, reason in _unwritable_places(tmp_path):
        with pytest.raises(InvalidInputError) as err:
            nbaudio.transcribe_many(inputs, client=client, results=path)
        assert reason in str(err.value) and path.name[:40] in str(err.value) and err.value.param == "results"
        with pytest.raises(InvalidInputError) as err:
            nbaudio.speak_many(["hello"], client=client, out_dir=tmp_path / "clips", results=path)
        assert reason in str(err.value)
    assert server.log == [], "requests were sent for a batch whose results cannot be written"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_as_results_is_refused_not_waited_on(server, client, inputs, tmp_path):
    os.mkfifo(tmp_path / "pipe.jsonl")
    with pytest.raises(InvalidInputError, match="pipe"):
        nbaudio.transcribe_many(inputs, client=client, results=tmp_path / "pipe.jsonl")
    assert server.log == []


def test_out_dir_that_is_a_file_is_refused_before_any_request(server, client, tmp_path):
    (tmp_path / "clips").write_text("a file, not a folder")
    cases = [(tmp_path / "clips", "clips' is a file, not a folder"), (tmp_path / "clips" / "sub", "is a file"),
             (tmp_path / ("y" * 300), "File name too long")]
    for out_dir, reason in cases:
        with pytest.raises(InvalidInputError) as err:
            nbaudio.speak_many(["hello", "there"], client=client, out_dir=out_dir)
        assert reason in str(err.value) and err.value.param == "out_dir"
    assert server.log == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_full_disk_keeps_every_row_and_says_where_the_file_stops(server, client, inputs, tmp_path):
    results = tmp_path / "runs.jsonl"
    results.symlink_to("/dev/full")  # every write: ENOSPC, as on a full disk
    with pytest.warns(UserWarning, match="No space left on device") as caught:
        rows = nbaudio.transcribe_many(inputs, client=client, results=results, concurrency=2)
    assert len(rows) == N and all(not e for e in rows["error"]) and set(rows["text"]) == {"hello there"}
    message = str(caught[0].message)
    assert "runs.jsonl" in message and "before any row of this run" in message and "returned" in message
    assert "results file stopped" in str(rows.summary)


_FSIZE_RUN = """
import json, os, resource, signal, sys, warnings
import nbaudio
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of killing us
resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
client = nbaudio.Client({url!r}, api_key="sk-batch-safety", max_retries=0)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    rows = nbaudio.{call}
def plain(key, value):  # a DataFrame's missing value is NaN; the clip is told by whether it is there
    return value is not None if key == "clip" else None if isinstance(value, float) and value != value else value
print(json.dumps({{"rows": [{{k: plain(k, v) for k, v in row.items()}} for row in rows.to_dict("records")],
                  "warnings": [str(w.message) for w in caught], "summary": str(rows.summary)}}, default=str))
"""


def _run_limited(call: str, url: str, limit: int) -> dict:
    """Run `nbaudio.<call>` in a subprocess whose files may not grow past `limit` bytes."""
    script = _FSIZE_RUN.format(limit=limit, url=url, call=call)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, env=env,
                          timeout=150, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE and SIGXFSZ as on Linux")
def test_a_write_that_fails_mid_run_loses_nothing_and_a_second_run_redoes_only_the_rest(server, inputs, tmp_path):
    results = tmp_path / "runs.jsonl"
    out = _run_limited(f"transcribe_many({inputs!r}, client=client, results={str(results)!r}, concurrency=1)",
                       server.url_for("/v1"), limit=700)
    rows, warned = out["rows"], out["warnings"]
    assert len(rows) == N and all(not r["error"] for r in rows) and all(r["text"] == "hello there" for r in rows)
    lines = _whole_lines(results)
    assert 0 < len(lines) < N, "the limit should stop the file part way"
    (message,) = [w for w in warned if "File too large" in w]
    assert "after the row of '…" in message or "after the row of '/" in message
    assert Path(lines[-1]["source"]).name in message  # the last row the file holds
    assert f"({len(lines)} rows written by this run)" in message
    # The journal holds what it says: running again (no limit) redoes only the rows it lacks.
    before = len(server.log)
    again = nbaudio.transcribe_many(inputs, client=nbaudio.Client(server.url_for("/v1"), api_key="sk-x"),
                                    results=results)
    assert len(again) == N and len(server.log) - before == N - len(lines)


def _whole_lines(path: Path) -> list[dict]:
    """The rows of a results file; a line cut short by the failed write is not one."""
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            pass
    return rows


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE and SIGXFSZ as on Linux")
def test_clips_that_cannot_be_saved_stay_in_their_rows(httpserver, tmp_path):
    def speech(request):  # a LONG text's clip is four times longer: past the file-size limit
        text = request.get_json()["input"]
        return Response(LONG_WAV if text.startswith("LONG") else WAV, content_type="audio/wav")

    httpserver.expect_request("/v1/audio/speech").respond_with_handler(speech)
    out_dir = tmp_path / "clips"
    texts = ["short 0", "short 1", "LONG 2", "short 3", "LONG 4", "short 5"]
    out = _run_limited(f"speak_many({texts!r}, client=client, out_dir={str(out_dir)!r}, concurrency=1)",
                       httpserver.url_for("/v1"), limit=len(WAV) + 100)
    rows = out["rows"]
    assert len(rows) == N and all(r["clip"] for r in rows), "every clip made is in its row"
    unsaved = [r["text"] for r in rows if r["error"]]
    assert unsaved == ["LONG 2", "LONG 4"]
    assert all("not saved" in r["error"] and "File too large" in r["error"] for r in rows if r["error"])
    assert all(Path(r["path"]).read_bytes() == WAV for r in rows if not r["error"])
