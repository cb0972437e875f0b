"""The diarizer, as shipped, on the only recordings with speaker references written by others that the
search for a fresh check found (issue 28; tests/fixtures/real_speech/README.md, "fresh check"):
pyAudioAnalysis's two diarization examples. They are NOT vendored: the repository does not say where
the audio comes from (the first is a radio phone-in, the second people reading commands to a voice
assistant), so their figures are for information, beside the vendored AMI excerpts, never a target.

    .venv/bin/python experiments/diarization_fresh_check.py PYAUDIOANALYSIS_GIT

PYAUDIOANALYSIS_GIT is a git directory (a clone or a bare mirror) of tyiannak/pyAudioAnalysis holding
commit COMMIT; each file is read at that commit and checked against the SHA-256 below. The reference
is the repository's `.segments` file (start, end, speaker; contiguous turns, pauses inside them),
scored as benchmarks/real_diarization.py scores every AMI excerpt (DER with and without the 0.25 s
collar, the one-speaker baseline, the overlapped share, issue 28's targets). Nothing here was tuned on.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import subprocess
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.real_diarization import score_meeting  # noqa: E402
from nbaudio.server.diarization.pipeline import TUNED, load_diarizer  # noqa: E402
from nbaudio.server.settings import Settings  # noqa: E402
from tests.support.real_speech import Meeting  # noqa: E402

COMMIT = "ae00ebd446d497dbbb654c40a71810e7fdf2cc1b"
# name: (audio path, reference path, SHA-256 of the audio, SHA-256 of the reference)
FILES = {
    "pyaa-radio-phone-in": (
        "pyAudioAnalysis/data/diarizationExample.wav", "pyAudioAnalysis/data/diarizationExample.segments",
        "96e18c15c4a8a83f1491ee3ed58c3ce9bb508497362823e1d662c0af658eed6e",
        "562e6ec2bd997ab8c69497620e900406f3790f8da5decab2a60af1778fdcf79b"),
    "pyaa-assistant-commands": (
        "pyAudioAnalysis/data/diarizationExample2.wav", "pyAudioAnalysis/data/diarizationExample2.segments",
        "ea73d3d60c769f048478f3a96a9d66c8df4c5a0fba98bbff975a5dbbe59ebb54",
        "a99003c1ae0bfdc76997c3a7a5e050dacfbc31899d0541345b8520042a2a07b5"),
}


def _show(git_dir: Path, path: str, sha256: str) -> bytes:
    data = subprocess.run(["git", "--git-dir", str(git_dir), "show", f"{COMMIT}:{path}"], check=True,
                          capture_output=True).stdout
    if hashlib.sha256(data).hexdigest() != sha256:
        raise SystemExit(f"{path} at {COMMIT} is not the file measured before (SHA-256 differs)")
    return data


def _turns(text: str) -> list[tuple[float, float, str]]:
    """pyAudioAnalysis's segments: one turn a line, start, end, speaker, split by a comma or a tab."""
    out = []
    for line in text.splitlines():
        if line.strip():
            start, end, speaker = line.replace("\t", ",").split(",")
            out.append((float(start), float(end), speaker.strip()))
    return sorted(out)


def recording(git_dir: Path, name: str) -> Meeting:
    import soundfile as sf

    audio, reference, audio_sha, reference_sha = FILES[name]
    samples, rate = sf.read(io.BytesIO(_show(git_dir, audio, audio_sha)), dtype="float32")
    if rate != 16000 or samples.ndim != 1:
        raise SystemExit(f"{audio}: expected 16 kHz mono, got {rate} Hz, shape {samples.shape}")
    turns = _turns(_show(git_dir, reference, reference_sha).decode("utf-8"))
    return Meeting(name, samples, turns, (0.0, len(samples) / rate))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("git_dir", type=Path)
    args = parser.parse_args()
    git_dir = args.git_dir / ".git" if (args.git_dir / ".git").is_dir() else args.git_dir
    diarizer = load_diarizer(Settings.from_env().cache_dir)
    print("| file | seconds | found/true | DER collar | DER no collar | one speaker collar (no collar) | "
          "overlapped | target met |")
    print("|---|---|---|---|---|---|---|---|")
    for name in FILES:
        m = recording(git_dir, name)
        s = score_meeting(diarizer, m, TUNED)
        print(f"| {name} | {m.annotated[1]:.1f} | {s.found}/{s.true} | {s.der_collar:.3f} | {s.der:.3f} | "
              f"{s.baseline_collar:.3f} ({s.baseline:.3f}) | {s.overlap:.3f} | {'yes' if s.met else 'no'} |")


if __name__ == "__main__":
    main()
