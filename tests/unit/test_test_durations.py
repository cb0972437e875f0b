"""The order `make test` hands out test files: longest first, by the saved times (tests/support/durations.py)."""

from __future__ import annotations

import json
from collections import defaultdict
from types import SimpleNamespace

from tests.support import durations


def _items(*nodeids: str) -> list[SimpleNamespace]:
    return [SimpleNamespace(nodeid=n) for n in nodeids]


def test_longest_files_go_first_and_each_keeps_its_tests_in_order():
    items = _items("a.py::t1", "c.py::t1", "b.py::t1", "a.py::t2", "b.py::t2", "notebooks/x.ipynb::Cell 0")
    durations.longest_first(items, {"b.py": 500.0, "c.py": 1.0, "notebooks/x.ipynb": 90.0})
    # a.py has no time: it counts as UNKNOWN_S, between x.ipynb and c.py
    assert [i.nodeid for i in items] == ["b.py::t1", "b.py::t2", "notebooks/x.ipynb::Cell 0", "a.py::t1", "a.py::t2",
                                         "c.py::t1"]


def test_a_run_saves_its_file_totals_over_the_saved_ones(tmp_path, monkeypatch):
    path = tmp_path / "durations.json"
    path.write_text(json.dumps({"old.py": 7.0, "a.py": 99.0}))
    monkeypatch.setattr(durations, "_seconds", defaultdict(float))
    for phase in (0.5, 2.0, 0.25):
        durations.record(SimpleNamespace(nodeid="a.py::t", duration=phase))
    durations.record(SimpleNamespace(nodeid="notebooks/x.ipynb::Cell 3", duration=4.0))
    config = SimpleNamespace(option=SimpleNamespace(keyword="", markexpr=""))
    durations.save(config, path)
    assert durations.load(path) == {"old.py": 7.0, "a.py": 2.75, "notebooks/x.ipynb": 4.0}


def test_workers_and_filtered_runs_save_nothing(tmp_path, monkeypatch):
    path = tmp_path / "durations.json"
    monkeypatch.setattr(durations, "_seconds", defaultdict(float, {"a.py": 3.0}))
    durations.save(SimpleNamespace(option=SimpleNamespace(keyword="", markexpr=""), workerinput={}), path)
    durations.save(SimpleNamespace(option=SimpleNamespace(keyword="slow", markexpr="")), path)
    durations.save(SimpleNamespace(option=SimpleNamespace(keyword="", markexpr="not engine")), path)
    assert not path.exists()
    assert durations.load(path) == durations.SEED  # nothing saved yet: the seed's order
