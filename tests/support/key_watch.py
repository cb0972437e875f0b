"""The shared engine's API key, watched while nbval runs the notebooks (notebooks/conftest.py).

The notebooks run on the shared engine (nbaudio.shared_engine), which answers only requests with
its per-user key: a random secret of this run, read by each kernel from `engine.key`, so a canary
of its own. Every message a notebook's kernel sends on iopub (outputs, displays, errors, widget
comm messages: all that a saved notebook, its HTML and the kernel's output history are made of)
and the kernel's nbaudio / urllib3 / requests DEBUG logs (to a file, so that the outputs nbval
compares stay as they are) are searched for it after each cell. This rides on the nbval run the
suite makes anyway, where tests/client/test_key_hygiene.py used to run every notebook a second
time with a canary key; it keeps one notebook on a remote API with the key in NBAUDIO_API_KEY.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["DEBUG_LOGGERS", "KeyWatch", "leaks", "write_startup"]

DEBUG_LOGGERS = ("nbaudio", "urllib3", "requests")
LOG_ENV = "NBAUDIO_TEST_KERNEL_LOG"
PIECE = 12  # a piece of the key's random part this long counts as a leak

# Runs in each kernel before the notebook (an IPython startup file): the DEBUG logs to a file only.
# The loggers keep propagating; nothing in the notebooks logs through the root logger.
STARTUP = f"""import logging as _logging, os as _os
_handler = _logging.FileHandler(_os.environ[{LOG_ENV!r}], encoding="utf-8")
_handler.setFormatter(_logging.Formatter("%(levelname)s %(name)s: %(message)s"))
for _name in {DEBUG_LOGGERS!r}:
    _logging.getLogger(_name).setLevel(_logging.DEBUG)
    _logging.getLogger(_name).addHandler(_handler)
del _logging, _os, _handler, _name
"""


def leaks(key: str, text: str) -> bool:
    """`key`, or a long piece of its random part, is in `text`."""
    secret = key.removeprefix("sk-nbaudio-")  # shared_engine's keys: this prefix and a random part
    return key in text or secret[:PIECE] in text or secret[-PIECE:] in text


def write_startup(ipython_dir: Path) -> None:
    """An IPython dir whose default profile runs STARTUP in every kernel started with it."""
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    (startup / "00-nbaudio-debug-logs.py").write_text(STARTUP, encoding="utf-8")


class KeyWatch:
    """What one worker's notebooks sent since the last check, and the keys of the shared engine seen so far."""

    def __init__(self, key_file: Path, log_file: Path) -> None:
        self.key_file = key_file
        self.log_file = log_file
        self.keys: set[str] = set()
        self.sent: list[str] = []
        self.logged: dict[str, str] = {}  # the DEBUG log text of each notebook run so far
        self._log_read = 0

    def message(self, msg: dict[str, Any]) -> None:
        """One iopub message of a kernel, as the front end would get it."""
        self.sent.append(json.dumps(msg.get("content", {}), default=str))

    def logs(self) -> str:
        """The kernels' DEBUG logs written since the last call."""
        try:
            with self.log_file.open("rb") as f:
                f.seek(self._log_read)
                new = f.read()
        except FileNotFoundError:
            return ""
        self._log_read += len(new)
        return new.decode("utf-8", errors="replace")

    def check(self, notebook: str, cell: str) -> None:
        """Fails if a key of the shared engine is in what was sent or logged since the last check."""
        try:
            self.keys.add(self.key_file.read_text().strip())
        except FileNotFoundError:
            pass  # no engine started yet: no key to leak
        sent, self.sent = "\n".join(self.sent), []
        logged = self.logs()
        self.logged[notebook] = self.logged.get(notebook, "") + logged
        for key in self.keys:
            assert not leaks(key, sent), f"the shared engine's key was sent to the front end by {notebook} {cell}"
            assert not leaks(key, logged), f"the shared engine's key is in the DEBUG logs of {notebook} {cell}"

    def notebook_done(self, notebook: str) -> None:
        """Fails if the notebook's kernel logged no request to the engine at DEBUG level (the logs
        searched were not the ones written)."""
        logs = self.logged.pop(notebook, "")
        assert "DEBUG" in logs and "POST /v1/" in logs, f"{notebook}: the kernel's DEBUG logs were not captured"
