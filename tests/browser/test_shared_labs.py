"""The JupyterLab the browser test files share (tests/support/browser.py SharedLabs): one server for
the folders of one kernel environment, and a folder's kernels end with it, the others' run on."""

from __future__ import annotations

import pytest
import requests

from tests.support.browser import write_notebook

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def _start_kernel(lab) -> None:
    write_notebook(lab["dir"] / "n.ipynb", ["1"])
    requests.post(f"{lab['url']}/api/sessions", params={"token": lab["token"]}, timeout=90,
                  json={"path": f"{lab['path']}/n.ipynb", "type": "notebook",
                        "kernel": {"name": "python3"}}).raise_for_status()


def _session_folders(lab) -> list[str]:
    sessions = requests.get(f"{lab['url']}/api/sessions", params={"token": lab["token"]}, timeout=10).json()
    return sorted(s["path"].split("/")[0] for s in sessions)


def test_folders_share_the_server_and_each_ends_its_own_kernels(labs):
    with labs.folder("first") as first:
        with labs.folder("second") as second:
            assert first["port"] == second["port"] and first["dir"] != second["dir"]
            _start_kernel(first)
            _start_kernel(second)
            assert {first["path"], second["path"]} <= set(_session_folders(first))
        assert first["path"] in _session_folders(first) and second["path"] not in _session_folders(first)
    assert first["path"] not in _session_folders(first)
