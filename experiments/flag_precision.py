"""How many of the segments `Transcript.flags` marks are really wrong, on recordings of people.

    .venv/bin/python experiments/flag_precision.py [--part tuning|reported|all] [--refs DIR] [--model whisper-1]

Each recording is transcribed by the embedded engine (verbose_json with word timestamps), flagged
by nbaudio.transcript's rules, and each flag judged against what the recording's references say:

- AMI meeting excerpts (tests/fixtures/real_speech/ami: who spoke when, no words). A flag that says
  "no speech under this text" (`no_speech`, `silent`) is right when under a fifth of its span is
  reference speech; `missed_speech` ("sound with no text") is right when at least half of the
  stretch is reference speech. The other kinds need words to judge: they are counted, not judged.
  The same rule applied to every unflagged segment gives the base rate a flag must beat.
- Recordings with word references (`--refs DIR`: `<name>.<flac|wav|mp3|ogg>` beside `<name>.txt`,
  e.g. tests/fixtures/real_speech/speech/ once it exists): the transcript's words are aligned to the
  reference (edit distance), and a segment is wrong when a third or more of its words are substituted
  or inserted, or as many reference words are dropped inside it. Precision per kind, against the
  share of unflagged segments that are wrong.

The audio rules' thresholds (nbaudio.audio.activity, and the SILENT_/MISSED_ constants of
nbaudio.transcript._flags) were chosen on AMI's tuning part (trn00-trn09: `--vad`, `--part tuning`);
report on the reported part (dev00, dev01), the default.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from nbaudio import AudioClip, Client, Transcript  # noqa: E402
from nbaudio.metrics import normalize_words  # noqa: E402
from tests.support.real_speech import AMI_REPORTED, AMI_TUNING, meeting  # noqa: E402

NO_SPEECH_KINDS = ("no_speech", "silent")
SPEECH_UNDER_HALLUCINATION = 0.2  # a "no speech here" flag is right under this share of reference speech
SPEECH_IN_MISSED = 0.5  # a "sound with no text" flag is right from this share on
WRONG_SEGMENT_SHARE = 1 / 3
STEP = 0.01


def reference_speech(turns: list[tuple[float, float, str]], offset: float, seconds: float) -> np.ndarray:
    mask = np.zeros(int(np.ceil(seconds / STEP)) + 1, dtype=bool)
    for start, end, _ in turns:
        mask[max(0, int((start - offset) / STEP)):max(0, int((end - offset) / STEP))] = True
    return mask


def speech_share(mask: np.ndarray, start: float, end: float) -> float:
    a, b = int(start / STEP), max(int(start / STEP) + 1, int(end / STEP))
    part = mask[a:b]
    return float(part.mean()) if len(part) else 0.0


def judge_ami(names: tuple[str, ...], client: Client) -> None:
    judged: Counter = Counter()
    right: Counter = Counter()
    counted: Counter = Counter()
    base = [0, 0]
    for name in names:
        m = meeting(name)
        clip = AudioClip.from_file(m.path)
        t = client.transcribe(clip, language="en", timestamp_granularities=["word", "segment"])
        mask = reference_speech(m.turns, m.annotated[0], clip.duration)
        flagged = {f.segment for f in t.flags if f.segment is not None and f.kind in NO_SPEECH_KINDS}
        for f in t.flags:
            counted[f.kind] += 1
            share = speech_share(mask, f.start, f.end)
            if f.kind in NO_SPEECH_KINDS:
                judged[f.kind] += 1
                right[f.kind] += share < SPEECH_UNDER_HALLUCINATION
            elif f.kind == "missed_speech":
                judged[f.kind] += 1
                right[f.kind] += share >= SPEECH_IN_MISSED
            print(f"  {name} {f.start:6.2f}-{f.end:6.2f} {f.kind:15s} ref speech {share:4.0%}  "
                  f"{t.segments[f.segment].text.strip()[:50] if f.segment is not None else ''!r}")
        for i, seg in enumerate(t.segments):
            if i not in flagged:
                base[0] += 1
                base[1] += speech_share(mask, seg.start, seg.end) < SPEECH_UNDER_HALLUCINATION
    print(f"AMI {', '.join(names)}: {sum(counted.values())} flags {dict(counted)}")
    for kind in judged:
        print(f"  {kind}: {right[kind]}/{judged[kind]} right ({right[kind] / judged[kind]:.0%})")
    if base[0]:
        print(f"  base rate: {base[1]}/{base[0]} unflagged segments have under "
              f"{SPEECH_UNDER_HALLUCINATION:.0%} reference speech ({base[1] / base[0]:.0%})")


def aligned_errors(ref: list[str], hyp: list[str]) -> tuple[list[bool], list[int]]:
    """(whether each hypothesis word is a substitution or insertion, the number of reference words
    dropped just before each hypothesis word (the last entry: after the last)), by edit distance."""
    n, m = len(ref), len(hyp)
    d = np.zeros((n + 1, m + 1), dtype=np.int32)
    d[:, 0], d[0, :] = np.arange(n + 1), np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, d[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]))
    wrong, dropped = [False] * m, [0] * (m + 1)
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and d[i, j] == d[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]):
            wrong[j - 1] = ref[i - 1] != hyp[j - 1]
            i, j = i - 1, j - 1
        elif j > 0 and d[i, j] == d[i, j - 1] + 1:
            wrong[j - 1] = True
            j -= 1
        else:
            dropped[j] += 1
            i -= 1
    return wrong, dropped


def wrong_segments(t: Transcript, reference: str) -> list[bool]:
    words = [normalize_words(s.text) for s in t.segments]
    wrong, dropped = aligned_errors(normalize_words(reference), [w for ws in words for w in ws])
    out, k = [], 0
    for ws in words:
        errors = sum(wrong[k:k + len(ws)]) + sum(dropped[k + 1:k + len(ws)])
        out.append(bool(ws) and errors >= WRONG_SEGMENT_SHARE * len(ws))
        k += len(ws)
    return out


def judge_references(folder: Path, client: Client) -> None:
    judged: Counter = Counter()
    right: Counter = Counter()
    base = [0, 0]
    for ref_path in sorted(folder.glob("*.txt")):
        audio = next((p for p in ref_path.parent.glob(ref_path.stem + ".*") if p.suffix != ".txt"), None)
        if audio is None:
            continue
        t = client.transcribe(AudioClip.from_file(audio), timestamp_granularities=["word", "segment"])
        wrong = wrong_segments(t, ref_path.read_text(encoding="utf-8"))
        flagged = {}
        for f in t.flags:
            if f.segment is not None:
                flagged.setdefault(f.segment, set()).add(f.kind)
        for i, bad in enumerate(wrong):
            for kind in flagged.get(i, ()):
                judged[kind] += 1
                right[kind] += bad
            if i not in flagged:
                base[0] += 1
                base[1] += bad
    if not judged and not base[0]:
        print(f"{folder}: no <name>.txt references beside audio files")
        return
    print(f"{folder}: segments wrong ({WRONG_SEGMENT_SHARE:.0%} or more of their words), by flag kind")
    for kind in judged:
        print(f"  {kind}: {right[kind]}/{judged[kind]} wrong ({right[kind] / judged[kind]:.0%})")
    if base[0]:
        print(f"  unflagged: {base[1]}/{base[0]} wrong ({base[1] / base[0]:.0%})")


def vad_agreement(names: tuple[str, ...]) -> None:
    """Frame agreement of the sounding and voiced rules with the reference speech (choose on tuning)."""
    import nbaudio.audio.activity as activity

    rules = {f"sounding, {db:g} dB over the floor": (db, None) for db in (6.0, 12.0, 18.0)}
    floor_db = activity.SOUNDING_ABOVE_FLOOR_DB
    rules.update({f"voiced, autocorrelation over {v:g}": (floor_db, v) for v in (0.3, 0.4, 0.5)})
    for label, (db, voicing) in rules.items():
        tp = fp = fn = 0
        for name in names:
            m = meeting(name)
            frames = activity.sounding_frames(activity.frame_levels(m.samples, 16000), above_floor_db=db)
            if voicing is not None:
                frames &= activity.frame_voicing(m.samples, 16000) > voicing
            ref = reference_speech(m.turns, m.annotated[0], len(m.samples) / 16000)
            ref = ref[(np.arange(len(frames)) * activity.FRAME_SECONDS / STEP).astype(int)]
            tp += int((frames & ref).sum())
            fp += int((frames & ~ref).sum())
            fn += int((~frames & ref).sum())
        print(f"  {label}: precision {tp / max(1, tp + fp):.2f}, recall {tp / max(1, tp + fn):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("tuning", "reported", "all"), default="reported")
    parser.add_argument("--refs", type=Path, help="a folder of <name>.<audio> with <name>.txt word references")
    parser.add_argument("--model", default="whisper-1")
    parser.add_argument("--vad", action="store_true", help="the energy rule's agreement with AMI's reference speech")
    args = parser.parse_args()
    names = {"tuning": AMI_TUNING, "reported": AMI_REPORTED, "all": AMI_TUNING + AMI_REPORTED}[args.part]
    if args.vad:
        vad_agreement(names)
        return
    with Client(defaults={"transcribe": {"model": args.model}}) as client:
        judge_ami(names, client)
        if args.refs is not None:
            judge_references(args.refs, client)


if __name__ == "__main__":
    main()
