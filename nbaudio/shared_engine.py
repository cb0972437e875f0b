"""One embedded engine per machine, shared by the kernels of one user.

Each kernel used to start its own engine (590-960 MB each: five open notebooks held ~3.9 GB). Now
the first kernel that needs one starts `nbaudio serve` detached from itself, and the others find it
through files in the user's cache dir (`<cache dir>/engine/`, mode 0700):

- `engine.key`: a per-user secret (mode 0600) the engine requires as its API key, so another user
  of the machine cannot use it (the engine listens on loopback only);
- `engine.json`: written by the engine once it listens: its pid, port, nbaudio version and a
  fingerprint of the NBAUDIO_* engine settings in its environment;
- `engine.lock`: held while an engine is being started, so two kernels starting at once start one.

A kernel uses a running engine only when its fingerprint (version, code, NBAUDIO_* engine settings)
matches its own; a kernel with other settings starts another engine, which becomes the one later
kernels find (the first goes on serving the kernels that use it until it is idle). The engine stops itself
after `IDLE_EXIT_SECONDS` with no request open; the client starts a new one when it finds it gone.
`NBAUDIO_ENGINE=kernel` keeps the old way: an engine in each kernel's process.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

from .errors import APIConnectionError
from .server.settings import ENGINE_ENV, default_cache_dir
from .version import __version__

__all__ = ["Endpoint", "IDLE_EXIT_SECONDS", "START_TIMEOUT", "connect", "engine_dir", "fingerprint", "running",
           "stop", "write_state"]

IDLE_EXIT_SECONDS = 1800.0  # an engine nobody used for 30 minutes stops (it starts again in seconds)
START_TIMEOUT = 120.0  # for a new engine to listen (a cold start imports FastAPI and the model libraries)
_HEALTH_TIMEOUT = 5.0
_POLL = 0.1


@dataclass(frozen=True)
class Endpoint:
    """A running shared engine."""

    base_url: str
    api_key: str = field(repr=False)
    pid: int


def engine_dir() -> Path:
    return default_cache_dir() / "engine"


def fingerprint() -> str:
    """What an engine started from this environment would be: the version, the code (an edited
    checkout must not keep talking to an engine running the old code) and the engine settings."""
    env = {name: os.environ[name] for name in ENGINE_ENV if os.environ.get(name)}
    package = Path(__file__).resolve().parent
    code = max(p.stat().st_mtime_ns for p in package.rglob("*.py"))
    text = json.dumps({"version": __version__, "package": str(package), "code": code, "env": env}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def running(folder: Path | None = None) -> Endpoint | None:
    """The shared engine this process may use, if one runs and answers."""
    folder = folder or engine_dir()
    try:
        state = json.loads((folder / "engine.json").read_text())
        key = (folder / "engine.key").read_text().strip()
    except (OSError, ValueError):
        return None
    if state.get("fingerprint") != fingerprint() or not _alive(state.get("pid")):
        return None
    endpoint = Endpoint(f"http://127.0.0.1:{int(state['port'])}/v1", key, int(state["pid"]))
    try:
        r = requests.get(endpoint.base_url + "/models", headers={"Authorization": f"Bearer {key}"},
                         timeout=_HEALTH_TIMEOUT)
    except requests.RequestException:
        return None
    return endpoint if r.status_code == 200 else None


def connect(timeout: float = START_TIMEOUT) -> Endpoint:
    """The running shared engine, or a new one started now (detached; safe when kernels race)."""
    folder = engine_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    found = running(folder)
    if found:
        return found
    with _locked(folder / "engine.lock", timeout):
        return running(folder) or _start(folder, timeout)


def stop(folder: Path | None = None, timeout: float = 10.0) -> bool:
    """Stop the shared engine of this user (if one runs); True if one was stopped."""
    folder = folder or engine_dir()
    try:
        pid = int(json.loads((folder / "engine.json").read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return False
    if not _alive(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(_POLL)
    return True


def write_state(path: Path, port: int) -> None:
    """Called by the engine (`nbaudio serve --state-file`) once it listens."""
    _write_private(path, json.dumps({"pid": os.getpid(), "port": port, "version": __version__,
                                     "fingerprint": fingerprint(), "started": time.time()}))


def remove_state(path: Path) -> None:
    """Called by the engine as it stops: remove its state file if it still names this process."""
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()


# ---- starting one ---------------------------------------------------------------------------------

def _start(folder: Path, timeout: float) -> Endpoint:
    key = "sk-nbaudio-" + secrets.token_urlsafe(24)
    _write_private(folder / "engine.key", key)
    state = folder / "engine.json"
    with contextlib.suppress(FileNotFoundError):
        state.unlink()
    # The key is passed as its file (mode 0600), neither in argv, which every local user can read,
    # nor in the environment, which the engine's own children would inherit.
    env = {name: value for name, value in os.environ.items() if name != "NBAUDIO_SERVE_API_KEY"}
    with open(folder / "engine.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "nbaudio", "serve", "--port", "0", "--state-file", str(state),
             "--api-key-file", str(folder / "engine.key"), "--idle-exit", str(IDLE_EXIT_SECONDS),
             "--log-level", "warning"],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise APIConnectionError(f"the shared local engine exited at start (code {proc.returncode}); see "
                                     f"{folder / 'engine.log'}, or set NBAUDIO_ENGINE=kernel")
        found = running(folder)
        if found and found.pid == proc.pid:
            return found
        time.sleep(_POLL)
    proc.terminate()
    raise APIConnectionError(f"the shared local engine did not start within {timeout:g} s; see "
                             f"{folder / 'engine.log'}, or set NBAUDIO_ENGINE=kernel")


@contextlib.contextmanager
def _locked(path: Path, timeout: float) -> Iterator[None]:
    import fcntl

    with open(path, "a") as f:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise APIConnectionError(f"another kernel has been starting the shared engine for over "
                                             f"{timeout:g} s ({path} is locked)") from None
                time.sleep(_POLL)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process took the pid
        return False
    return True


def _write_private(path: Path, text: str) -> None:
    """Write `text` readable by this user only, atomically (a reader never sees half a file)."""
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
