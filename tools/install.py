"""Create the virtual environment and install nbaudio into it, printing progress a newcomer can follow.

    python tools/install.py --venv .venv --extras local,demo

Used by the Makefile (`make demo`, `make test`). pip's own output goes to build/install.log; the
terminal gets what is happening now (resolving, downloading how much, compiling what, installing)
and a line every HEARTBEAT_S seconds while a long step runs, so a 10-minute first install never
looks hung. On failure the end of the log is shown with the command to retry.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEARTBEAT_S = 20
# Steps that take minutes, with what to tell the user (measured on 2 cores).
SLOW_BUILDS = {
    "llama-cpp-python": "compiles llama.cpp from source (C++; 4 minutes on 2 idle cores, up to 8 on busy ones)",
}
_SIZE = re.compile(r"\(([\d.]+) (kB|MB|GB)\)")
_UNIT = {"kB": 1e-3, "MB": 1.0, "GB": 1e3}


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m} min {s:02d} s" if m else f"{s} s"


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
            name = text.split("Building wheel for ", 1)[1].split()[0]
            self.set_step(f"building {name}" + (f": {SLOW_BUILDS[name]}" if name in SLOW_BUILDS else ""))
        elif text.startswith("Installing collected packages"):
            count = text.count(",") + 1
            self.set_step(f"installing {count} package{'s' if count != 1 else ''} into the environment")

    def heartbeat(self, done: threading.Event) -> None:
        while not done.wait(HEARTBEAT_S):
            with self.lock:
                step, since = self.step, time.monotonic() - self.step_started
            self.say(f"... still {step.split(':')[0]} ({_clock(since)}; {self.packages} packages, "
                     f"{self.megabytes:.0f} MB downloaded so far)")


def run_pip(python: Path, args: list[str], log_path: Path, progress: Progress) -> int:
    done = threading.Event()
    beat = threading.Thread(target=progress.heartbeat, args=(done,), daemon=True)
    beat.start()
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"\n$ {python} -m pip {' '.join(args)}\n")
        proc = subprocess.Popen([str(python), "-m", "pip", *args, "--progress-bar", "off"], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, bufsize=1)
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            progress.feed(line)
        code = proc.wait()
    done.set()
    return code


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--venv", default=".venv")
    p.add_argument("--extras", default="local,demo", help="comma-separated extras of nbaudio to install")
    p.add_argument("--log", default=str(ROOT / "build" / "install.log"))
    args = p.parse_args(argv)
    venv, log_path = Path(args.venv), Path(args.log)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    python = venv / "bin" / "python"
    progress = Progress()
    print(f"Installing nbaudio[{args.extras}] into {venv} (pip's full output: {log_path})", flush=True)
    if not python.exists():
        progress.set_step(f"creating the virtual environment {venv} with {sys.executable}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    steps = [["install", "--upgrade", "pip"], ["install", "-e", f"{ROOT}[{args.extras}]"]]
    for i, pip_args in enumerate(steps):
        progress.set_step("upgrading pip" if i == 0 else
                          "resolving and downloading packages (first run: ~130 packages, ~600 MB including the "
                          "model weights)")
        code = run_pip(python, pip_args, log_path, progress)
        if code:
            tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
            print("\n".join(["", "pip failed; the end of its log:", *tail, "",
                             f"Full log: {log_path}. Fix the cause and run the same make command again."]),
                  file=sys.stderr)
            return code
    if "local" in args.extras.split(","):
        # The speaker encoder's weights ship in resemblyzer's wheel, which requires torch: installed
        # without its dependencies (nbaudio never imports it; nbaudio/server/diarization/weights.py reads
        # the file and checks its SHA-256), so diarization works offline from the start.
        pin = subprocess.run([str(python), "-c", "from nbaudio.server.diarization.weights import RESEMBLYZER; "
                              "print(RESEMBLYZER)"], capture_output=True, text=True, check=True).stdout.strip()
        progress.set_step(f"installing the speaker encoder's weights ({pin}, without its dependencies)")
        code = run_pip(python, ["install", "--no-deps", pin], log_path, progress)
        if code:
            print(f"pip could not install {pin}; diarization will fetch it on first use. Log: {log_path}",
                  file=sys.stderr)
    progress.say(f"done: nbaudio[{args.extras}] installed in {_clock(time.monotonic() - progress.started)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
