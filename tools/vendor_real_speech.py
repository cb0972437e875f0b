"""Copy the recordings of people for transcription into tests/fixtures/real_speech/speech/, with
their references, sources and licences in manifest.json (the README there says more).

    python tools/vendor_real_speech.py CUTTLEDOC_GIT WENET_GIT SPEECHBRAIN_GIT

Each argument is a git directory (a clone, or a bare mirror) of, in order:
sebastian-software/cuttledoc (FLEURS excerpts, Opus, kept byte for byte), wenet-e2e/wenet (an
AISHELL-1 and a LibriSpeech utterance) and speechbrain/speechbrain (an LJ Speech utterance); the
WAV files are written as 16 kHz 16-bit FLAC. Files are read at each repository's HEAD, whose
commit goes into the manifest beside each file's path and the SHA-256 of its original bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fixtures" / "real_speech" / "speech"
FLEURS_LANGUAGES = ("en", "de", "fr", "es", "pt")
FLEURS_TUNING = range(0, 5)  # fleurs-xx-000..004 are tuned on; 005..009 only reported

FLEURS_LICENCE = ("FLEURS (Google), CC BY 4.0; repository MIT. The reference is FLEURS's normalised "
                  "`transcription` field as the repository stored it.")
WENET = {
    "test/resources/librispeech-1995-1837-0001.wav": (
        "librispeech-1995-1837-0001", "en", "LibriSpeech test-clean (OpenSLR 12), CC BY 4.0; repository Apache-2.0"),
    "test/resources/aishell-BAC009S0724W0121.wav": (
        "aishell-BAC009S0724W0121", "zh", "AISHELL-1 (OpenSLR 33), Apache-2.0; repository Apache-2.0"),
}
SPEECHBRAIN = ("tests/samples/TTS/LJ050-0131.wav", "lj-LJ050-0131", "en",
               "LJ Speech 1.1 (Keith Ito), public domain; repository Apache-2.0")


def _git(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", str(repo), *args], check=True, capture_output=True).stdout


def _entry(name: str, language: str, reference: str, repo: str, commit: str, path: str, licence: str,
           original: bytes, split: str) -> dict[str, str]:
    return {"file": name, "language": language, "reference": reference.strip(), "source": repo,
            "commit": commit, "path": path, "licence": licence,
            "sha256": hashlib.sha256(original).hexdigest(), "split": split}


def _flac16k(data: bytes, target: Path) -> None:
    import soundfile as sf

    from nbaudio.codec import resample

    samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    mono = samples.mean(axis=1)
    sf.write(target, resample(mono, rate, 16000) if rate != 16000 else mono, 16000, format="FLAC",
             subtype="PCM_16")


def _git_dir(arg: str) -> Path:
    p = Path(arg)
    return p / ".git" if (p / ".git").is_dir() else p


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cuttledoc")
    parser.add_argument("wenet")
    parser.add_argument("speechbrain")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    entries = []

    repo = _git_dir(args.cuttledoc)
    commit = _git(repo, "rev-parse", "HEAD").decode().strip()
    for lang in FLEURS_LANGUAGES:
        for i in range(10):
            path = f"packages/cuttledoc/fixtures/fleurs-{lang}-{i:03d}"
            audio = _git(repo, "show", f"HEAD:{path}.ogg")
            text = _git(repo, "show", f"HEAD:{path}.txt").decode("utf-8")
            name = f"fleurs-{lang}-{i:03d}.ogg"
            (OUT / name).write_bytes(audio)
            entries.append(_entry(name, lang, text, "sebastian-software/cuttledoc", commit, f"{path}.ogg",
                                  FLEURS_LICENCE, audio, "tuning" if i in FLEURS_TUNING else "reported"))

    repo = _git_dir(args.wenet)
    commit = _git(repo, "rev-parse", "HEAD").decode().strip()
    references = dict(line.split(" ", 1) for line in
                      _git(repo, "show", "HEAD:test/resources/dataset/text").decode("utf-8").splitlines() if line)
    for path, (stem, lang, licence) in WENET.items():
        audio = _git(repo, "show", f"HEAD:{path}")
        _flac16k(audio, OUT / f"{stem}.flac")
        key = "test/resources/dataset/" + Path(path).stem
        entries.append(_entry(f"{stem}.flac", lang, references[key], "wenet-e2e/wenet", commit, path,
                              licence + "; reference from test/resources/dataset/text", audio, "reported"))

    repo = _git_dir(args.speechbrain)
    commit = _git(repo, "rev-parse", "HEAD").decode().strip()
    path, stem, lang, licence = SPEECHBRAIN
    audio = _git(repo, "show", f"HEAD:{path}")
    label = json.loads(_git(repo, "show", "HEAD:tests/samples/annotation/TTS_train.json"))["LJ050-0131"]["label"]
    _flac16k(audio, OUT / f"{stem}.flac")
    entries.append(_entry(f"{stem}.flac", lang, label, "speechbrain/speechbrain", commit, path,
                          licence + "; reference from tests/samples/annotation/TTS_train.json", audio, "reported"))

    (OUT / "manifest.json").write_text(json.dumps(entries, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(entries)} recordings in {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
