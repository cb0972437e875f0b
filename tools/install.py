"""Create the virtual environment and install nbaudio into it, printing progress a newcomer can follow.

    python tools/install.py --venv .venv --extras local,demo --chat-build background --stamp .venv/.demo
    python tools/install.py --venv .venv --extras local,test --stamp .venv/.installed

Used by the Makefile (`make demo`, `make test`). pip's own output goes to build/install.log; the
terminal gets what is happening now (resolving, downloading how much, compiling what, installing)
and a line every HEARTBEAT_S seconds while a long step runs, so a long first install never looks
hung. On failure the end of the log is shown with the command to retry.

The one slow part is llama-cpp-python (the local chat model): PyPI has no Linux wheel, so pip
compiles llama.cpp, minutes on two cores. Everything else is installed without it (the `local`
extra is `speech` plus the chat model), and the compile runs beside that install:
  --chat-build background  a detached worker (this script, --build-chat) compiles the wheel while
                           the rest downloads, installs it when the rest is in, then touches the
                           stamp; `make demo` meanwhile runs the notebook up to its chat part
                           (nbaudio/demo.py waits for the worker through the files below).
  --chat-build foreground  (default) waits for a worker already running, else compiles here.
pip caches the compiled wheel (keyed by the sdist, not CMAKE_ARGS): after `make clean` nothing compiles.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEARTBEAT_S = 20
# Steps that take minutes, with what to tell the user (measured on 2 cores).
SLOW_BUILDS = {
    "llama-cpp-python": "compiles llama.cpp from source (C++; 3.5 minutes on 2 idle cores, longer on busy ones)",
}
# How llama.cpp is compiled: not for this CPU only (a native build segfaults on some machines) and
# without the multimodal library (LLAVA_BUILD), which nbaudio never uses; nbaudio/server/catalog/
# packages.py gives these two flags in its hint. Then without llama.cpp's `common` helpers, which
# nothing in the wheel uses once LLAVA is off (llama_cpp_no_common.cmake says how). CPU time of the
# compile (llama-cpp-python 0.3.36, 2 busy cores): 510 s as before, 441 s without LLAVA, 216 s
# without `common` too (83 compile steps instead of 140, a 14 MB wheel instead of 20). A CMAKE_ARGS
# set in the environment wins.
CHAT_CMAKE_ARGS = "-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF"
NO_COMMON = ROOT / "tools" / "llama_cpp_no_common.cmake"
CHAT_BUILD_ENV = {"CMAKE_ARGS": f"{CHAT_CMAKE_ARGS} -DCMAKE_PROJECT_llama.cpp_INCLUDE={shlex.quote(str(NO_COMMON))}"}
_SIZE = re.compile(r"\(([\d.]+) (kB|MB|GB)\)")
_UNIT = {"kB": 1e-3, "MB": 1.0, "GB": 1e3}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SELF_EXTRAS = re.compile(r"nbaudio\[([\w,-]+)\]")


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m} min {s:02d} s" if m else f"{s} s"


def _canonical(requirement: str) -> str:
    match = _NAME.match(requirement)
    return re.sub(r"[-_.]+", "-", match.group()).lower() if match else requirement


# ---- what to install in which order ---------------------------------------------------------

@dataclass
class Plan:
    """The pip install of nbaudio's `extras`, split so nothing waits for a compile it does not need."""

    extras: list[str]  # nbaudio's extras for the first step (`local` becomes `speech`)
    # After the compile: the requirements compiled from source (SLOW_BUILDS) and the others of
    # their extra (the chat model's weights package requires llama-cpp-python itself).
    chat: list[str] = field(default_factory=list)

    @property
    def compiled(self) -> list[str]:
        return [r for r in self.chat if _canonical(r) in SLOW_BUILDS]

    def first_step(self, root: Path = ROOT) -> list[str]:
        return ["-e", f"{root}[{','.join(self.extras)}]"]


def plan(extras: list[str], optional: dict[str, list[str]]) -> Plan:
    """Split `extras` (of pyproject's `optional`): an extra that names a SLOW_BUILDS requirement is
    replaced by the extras it includes (`nbaudio[...]`), and its requirements wait for the compile."""
    out = Plan(extras=[])
    for extra in extras:
        if extra not in optional:
            raise SystemExit(f"install.py: nbaudio has no extra {extra!r} (pyproject.toml has {', '.join(optional)})")
        items = optional[extra]
        if not any(_canonical(r) in SLOW_BUILDS for r in items):
            out.extras.append(extra)
            continue
        for requirement in items:
            included = _SELF_EXTRAS.fullmatch(requirement)
            if included:
                out.extras.extend(included.group(1).split(","))
            else:
                out.chat.append(requirement)
    out.extras = list(dict.fromkeys(out.extras))
    return out


def pyproject_extras(root: Path = ROOT) -> dict[str, list[str]]:
    with open(root / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["optional-dependencies"]


# ---- progress -----------------------------------------------------------------------------------

class Progress:
    def __init__(self) -> None:
        self.started = time.monotonic()
        self.packages = 0
        self.megabytes = 0.0
        self.step = "resolving dependencies"
        self.step_started = self.started
        self.lock = threading.Lock()

    def say(self, text: str) -> None:
        print(f"  [{_clock(time.monotonic() - self.started):>11}] {text}", flush=True)

    def set_step(self, step: str) -> None:
        with self.lock:
            self.step, self.step_started = step, time.monotonic()
        self.say(step)

    def feed(self, line: str) -> None:
        text = line.strip()
        if text.startswith(("Collecting ", "Processing ")):
            self.packages += 1
            if self.packages % 25 == 0:
                self.say(f"resolving: {self.packages} packages so far, {self.megabytes:.0f} MB downloaded")
        elif text.startswith("Downloading "):
            m = _SIZE.search(text)
            if m:
                size = float(m.group(1)) * _UNIT[m.group(2)]
                self.megabytes += size
                if size >= 50:
                    self.say(f"downloading {text.split()[1].split('-')[0]} ({size:.0f} MB)")
        elif "Building wheel for" in text and "started" in text:
            name = _canonical(text.split("Building wheel for ", 1)[1])
            self.set_step(f"building {name}" + (f": {SLOW_BUILDS[name]}" if name in SLOW_BUILDS else ""))
        elif text.startswith("Installing collected packages"):
            count = text.count(",") + 1
            self.set_step(f"installing {count} package{'s' if count != 1 else ''} into the environment")

    @contextmanager
    def heartbeat(self):
        done = threading.Event()

        def beat() -> None:
            while not done.wait(HEARTBEAT_S):
                with self.lock:
                    step, since = self.step, time.monotonic() - self.step_started
                self.say(f"... still {step.split(':')[0]} ({_clock(since)}; {self.packages} packages, "
                         f"{self.megabytes:.0f} MB downloaded so far)")

        threading.Thread(target=beat, daemon=True).start()
        try:
            yield
        finally:
            done.set()


def run_pip(python: Path, args: list[str], log_path: Path, progress: Progress | None = None, *,
            compile_chat: bool = False) -> int:
    """pip in the venv of `python`, its output appended to `log_path` (and fed to `progress`);
    `compile_chat`: with CHAT_BUILD_ENV (llama.cpp's flags, for its compile only)."""
    env = {**CHAT_BUILD_ENV, **os.environ} if compile_chat else None
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"\n$ {python} -m pip {' '.join(args)}\n")
        log.flush()
        proc = subprocess.Popen([str(python), "-m", "pip", *args, "--progress-bar", "off"], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, bufsize=1, env=env)
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            if progress is not None:
                progress.feed(line)
        return proc.wait()


# ---- the chat model's build: one at a time per venv, visible to the demo ------------------------

@dataclass
class ChatBuild:
    """The files of a venv's llama-cpp-python build. The worker holds an exclusive flock on `lock`
    while it runs and writes `status` (JSON: state building/installed/failed, log, started, the
    requirements it installs);
    nbaudio/demo.py reads both (`--chat-build`). `pip_lock` serialises pip runs in the venv, so the
    worker's install never overlaps another step's."""

    venv: Path

    @property
    def lock(self) -> Path:
        return self.venv / ".nbaudio-chat-build.lock"

    @property
    def status(self) -> Path:
        return self.venv / ".nbaudio-chat-build.json"

    @property
    def pip_lock(self) -> Path:
        return self.venv / ".nbaudio-pip.lock"

    def write_status(self, state: str, log: Path, started: float, **more: object) -> None:
        tmp = self.status.with_suffix(".tmp")
        tmp.write_text(json.dumps({"state": state, "log": str(log), "started": started, "lock": str(self.lock),
                                   **more}), encoding="utf-8")
        os.replace(tmp, self.status)

    def running(self) -> bool:
        import fcntl

        if not self.lock.exists():
            return False
        with open(self.lock, "a") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
        return False


@contextmanager
def flocked(path: Path, blocking: bool = True):
    """An exclusive flock on `path` for the block; yields False (and holds nothing) when not
    `blocking` and another process holds it."""
    import fcntl

    with open(path, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True


def chat_installed(python: Path, requirements: list[str]) -> bool:
    """Whether the venv already satisfies `requirements`: pip's own answer, offline (a dry run that
    may not use an index)."""
    out = subprocess.run([str(python), "-m", "pip", "install", "--dry-run", "--no-deps", "--no-index", "--quiet",
                          "--report", "-", *requirements], capture_output=True, text=True)
    return out.returncode == 0 and not json.loads(out.stdout or "{}").get("install")


def build_chat(venv: Path, requirements: list[str], stamp: Path | None, log_path: Path) -> int:
    """The worker: compile the SLOW_BUILDS among `requirements` into wheels (pip caches them),
    install all of them once no other pip runs in the venv, touch `stamp`. Exits at once when
    another worker holds the venv's build."""
    build = ChatBuild(venv)
    python = venv / "bin" / "python"
    with flocked(build.lock, blocking=False) as mine:
        if not mine:
            return 0
        started = time.time()
        log_path.write_text(f"llama-cpp-python for {venv}, started {time.ctime(started)}\n", encoding="utf-8")
        build.write_status("building", log_path, started, pid=os.getpid(), requirements=requirements)
        os.nice(10)  # the notebook the newcomer is waiting for comes first; the compile takes what is left
        with tempfile.TemporaryDirectory(prefix="nbaudio-chat-wheel-") as wheels:
            # -v: the compiler's lines reach the log ("[31/78] ..."), and the demo tells how far it is.
            compiled = Plan(extras=[], chat=requirements).compiled
            code = run_pip(python, ["wheel", "-v", "--no-deps", "-w", wheels, *compiled], log_path,
                           compile_chat=True) if compiled else 0
            if code == 0:
                with flocked(build.pip_lock):
                    # The wheels just built are found first; the rest comes from the index.
                    code = run_pip(python, ["install", "--find-links", wheels, *requirements], log_path,
                                   compile_chat=True)
        if code == 0 and stamp is not None:
            stamp.touch()  # before the lock is released: whoever waits on it finds the stamp
        build.write_status("installed" if code == 0 else "failed", log_path, started, returncode=code,
                           seconds=round(time.time() - started), requirements=requirements)
    return code


def start_chat_worker(venv: Path, requirements: list[str], stamp: Path | None, log_path: Path) -> None:
    """Start build_chat in a process of its own (it outlives this script and a Ctrl-C of make)."""
    args = [sys.executable, str(Path(__file__).resolve()), "--venv", str(venv), "--chat-log", str(log_path),
            *(["--stamp", str(stamp)] if stamp else []), "--build-chat", *requirements]
    with open(log_path, "a", encoding="utf-8") as log:  # what the worker itself might say (a traceback)
        subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, cwd=ROOT)


def wait_for_chat_worker(build: ChatBuild, log: Path, progress: Progress) -> None:
    if not build.running():
        return
    progress.set_step(f"waiting for the llama.cpp compile already running (log: {log})")
    with progress.heartbeat(), flocked(build.lock):
        pass


# ---- the install ----------------------------------------------------------------------------------

def _fail(step: str, log_path: Path, code: int) -> int:
    tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
    print("\n".join(["", f"{step} failed; the end of its log:", *tail, "",
                     f"Full log: {log_path}. Fix the cause and run the same make command again."]), file=sys.stderr)
    return code


def install_speaker_weights(python: Path, log_path: Path, progress: Progress) -> None:
    # The speaker encoder's weights ship in resemblyzer's wheel, which requires torch: installed
    # without its dependencies (nbaudio never imports it; nbaudio/server/diarization/weights.py reads
    # the file and checks its SHA-256), so diarization works offline from the start.
    pin = subprocess.run([str(python), "-c", "from nbaudio.server.diarization.weights import RESEMBLYZER; "
                          "print(RESEMBLYZER)"], capture_output=True, text=True, check=True).stdout.strip()
    progress.set_step(f"installing the speaker encoder's weights ({pin}, without its dependencies)")
    with progress.heartbeat():
        code = run_pip(python, ["install", "--no-deps", pin], log_path, progress)
    if code:
        print(f"pip could not install {pin}; diarization will fetch it on first use. Log: {log_path}",
              file=sys.stderr)


def install_chat_here(python: Path, build: ChatBuild, requirements: list[str], log_path: Path, chat_log: Path,
                      progress: Progress) -> int:
    """The foreground way: wait for a worker already compiling, then compile what is still missing."""
    wait_for_chat_worker(build, chat_log, progress)
    if not requirements or chat_installed(python, requirements):
        return 0
    with flocked(build.pip_lock), progress.heartbeat():
        progress.set_step(f"installing {', '.join(requirements)}")
        if code := run_pip(python, ["install", *requirements], log_path, progress, compile_chat=True):
            return _fail("pip", log_path, code)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--venv", default=".venv")
    p.add_argument("--extras", default="local,demo", help="comma-separated extras of nbaudio to install")
    p.add_argument("--chat-build", choices=("foreground", "background"), default="foreground",
                   help="compile llama-cpp-python here (default) or in a worker beside the rest")
    p.add_argument("--stamp", help="file touched once everything is installed")
    p.add_argument("--log", default=str(ROOT / "build" / "install.log"))
    p.add_argument("--chat-log", default=str(ROOT / "build" / "chat-build.log"))
    p.add_argument("--build-chat", nargs="+", metavar="REQUIREMENT", help=argparse.SUPPRESS)  # the worker
    args = p.parse_args(argv)
    venv, log_path, chat_log = Path(args.venv), Path(args.log), Path(args.chat_log)
    stamp = Path(args.stamp) if args.stamp else None
    for path in (log_path, chat_log):
        path.parent.mkdir(parents=True, exist_ok=True)
    if args.build_chat:
        return build_chat(venv, args.build_chat, stamp, chat_log)
    python = venv / "bin" / "python"
    todo = plan(args.extras.split(","), pyproject_extras())
    progress = Progress()
    print(f"Installing nbaudio[{args.extras}] into {venv} (pip's full output: {log_path})", flush=True)
    if not python.exists():
        progress.set_step(f"creating the virtual environment {venv} with {sys.executable}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    build = ChatBuild(venv)
    with flocked(build.pip_lock):
        progress.set_step("upgrading pip")
        if code := run_pip(python, ["install", "--upgrade", "pip"], log_path, progress):
            return _fail("pip", log_path, code)
    # Started before the big download: the compile needs only its own sources, the CPU is idle meanwhile.
    background = args.chat_build == "background" and bool(todo.chat) and not chat_installed(python, todo.chat)
    if background:
        start_chat_worker(venv, todo.chat, stamp, chat_log)
        progress.say(f"{', '.join(map(_canonical, todo.compiled))}: compiled in the background (or taken from "
                     f"pip's cache), log: {chat_log}")
    progress.set_step("resolving and downloading packages: on a first run some hundred packages and several "
                      "hundred MB, the model weights included")
    with flocked(build.pip_lock), progress.heartbeat():
        if code := run_pip(python, ["install", *todo.first_step()], log_path, progress):
            return _fail("pip", log_path, code)
    if "speech" in todo.extras:
        with flocked(build.pip_lock):
            install_speaker_weights(python, log_path, progress)
    took = _clock(time.monotonic() - progress.started)
    if background:  # the worker touches the stamp
        progress.say(f"done in {took}: nbaudio[{args.extras}] but the chat model, which the background worker "
                     "installs")
        return 0
    if code := install_chat_here(python, build, todo.chat, log_path, chat_log, progress):
        return code
    if stamp is not None:
        stamp.touch()
    progress.say(f"done: nbaudio[{args.extras}] installed in {_clock(time.monotonic() - progress.started)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
