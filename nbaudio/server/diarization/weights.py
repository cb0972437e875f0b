"""Where the speaker encoder's weights come from: Resemblyzer's wheel, pinned and hash-checked, not its dependencies.

`resemblyzer` requires torch, so it cannot be a plain requirement of `[local]` (pip would bring
torch and CUDA, several GB) and nbaudio never imports it. Its weights file is taken, in this order,
from: an installed `resemblyzer` package (`pip install --no-deps resemblyzer==0.1.4`); the copy
already unpacked in the engine's cache dir; or the wheel itself, fetched once from PyPI by pip
(`pip download --no-deps`, the ordinary client) into the cache dir. The wheel's SHA-256 and the
weights file's SHA-256 and size are pinned here: anything else is refused.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ..catalog.weights import WeightError, folder_lock, package_dir, sha256_file, verify_file

__all__ = ["RESEMBLYZER", "encoder_weights", "EncoderWeights"]

log = logging.getLogger("nbaudio.server")

RESEMBLYZER = "resemblyzer==0.1.4"  # MIT; the GE2E encoder of Resemble AI
WHEEL_NAME = "Resemblyzer-0.1.4-py3-none-any.whl"
WHEEL_SHA256 = "8f12eb2f1a9982d32e8db7856de754709b59c93a77bcf0ff536584b619a9dd1f"
WEIGHTS_IN_WHEEL = "resemblyzer/pretrained.pt"
WEIGHTS_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
WEIGHTS_SIZE = 17090379
# pip download of a 16 MB wheel; generous for a slow mirror, bounded so a request never hangs on it.
DOWNLOAD_TIMEOUT_S = 300
INSTALL_HINT = f"pip install --no-deps {RESEMBLYZER}"


class EncoderWeights:
    """The verified weights file and a sentence saying where it came from (for /health and doctor)."""

    def __init__(self, path: Path, origin: str) -> None:
        self.path, self.origin = path, origin

    def __repr__(self) -> str:
        return f"<EncoderWeights {self.path} ({self.origin})>"


def _good(path: Path) -> bool:
    return path.is_file() and path.stat().st_size == WEIGHTS_SIZE and sha256_file(path) == WEIGHTS_SHA256


def encoder_weights(cache_dir: Path) -> EncoderWeights:
    """The speaker encoder's weights, verified; fetches the pinned wheel once when nothing has them."""
    installed = package_dir("resemblyzer")
    if installed is not None and (installed / "pretrained.pt").is_file():
        path = installed / "pretrained.pt"
        verify_file(path, WEIGHTS_SHA256, WEIGHTS_SIZE, f"speaker encoder ({RESEMBLYZER})")
        return EncoderWeights(path, f"package {RESEMBLYZER}")
    folder = Path(cache_dir) / "resemblyzer-0.1.4"
    target = folder / "pretrained.pt"
    with folder_lock(folder):  # two engines starting together fetch and unpack once
        if not _good(target):
            wheel = folder / WHEEL_NAME
            if not (wheel.is_file() and sha256_file(wheel) == WHEEL_SHA256):
                _download_wheel(folder)
            _unpack(wheel, target)
    return EncoderWeights(target, f"{WHEEL_NAME} from PyPI (SHA-256 checked), unpacked in {folder}")


def _download_wheel(folder: Path) -> None:
    log.info("fetching the speaker encoder's weights: pip download --no-deps %s (16 MB, once)", RESEMBLYZER)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
           "--disable-pip-version-check", "-q", "-d", str(folder), RESEMBLYZER]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise WeightError(f"could not fetch the speaker encoder's weights ({exc}); install them with "
                          f"{INSTALL_HINT}") from None
    wheel = folder / WHEEL_NAME
    if done.returncode != 0 or not wheel.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise WeightError(f"could not fetch the speaker encoder's weights (pip: {tail[0]}); install them with "
                          f"{INSTALL_HINT}")
    digest = sha256_file(wheel)
    if digest != WHEEL_SHA256:
        wheel.unlink()
        raise WeightError(f"{WHEEL_NAME} from the package index has SHA-256 {digest}, expected {WHEEL_SHA256}; "
                          "refused")


def _unpack(wheel: Path, target: Path) -> None:
    """pretrained.pt out of the wheel, written beside `target` and renamed into place once verified."""
    with zipfile.ZipFile(wheel) as z, tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
        with z.open(WEIGHTS_IN_WHEEL) as src:
            while block := src.read(1 << 20):
                tmp.write(block)
    tmp_path = Path(tmp.name)
    try:
        verify_file(tmp_path, WEIGHTS_SHA256, WEIGHTS_SIZE, f"speaker encoder in {WHEEL_NAME}")
    except WeightError:
        tmp_path.unlink(missing_ok=True)
        raise
    os.replace(tmp_path, target)
