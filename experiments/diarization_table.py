"""The diarizer on every AMI excerpt, before and after a change of its settings: one row per file.

    .venv/bin/python experiments/diarization_table.py [--before fixed|shipped] [--after fixed|shipped]

Per file (tests/fixtures/real_speech/ami; trn00-trn09 are for tuning, dev00/dev01 reported): speakers
found / true, DER with the 0.25 s collar and without, the one-speaker baseline (all reference speech
given to one label) with and without the collar, the overlapped share, and whether issue 28's target
is met (count within one, DER with collar at most overlap + 0.15 and at most the baseline); the
scoring is benchmarks/real_diarization.py's. `fixed` is the merge distance as it was before issue 28
(0.30 for every recording), `shipped` is nbaudio.server.diarization.pipeline.TUNED.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.real_diarization import score  # noqa: E402
from nbaudio.server.diarization.pipeline import TUNED, load_diarizer  # noqa: E402
from nbaudio.server.settings import Settings  # noqa: E402
from tests.support.real_speech import AMI_REPORTED, AMI_TUNING  # noqa: E402

SETTINGS = {"fixed": replace(TUNED, cluster_distance=0.30, cluster_distance_ratio=0.0, cluster_distance_max=0.30),
            "shipped": TUNED}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", choices=SETTINGS, default="fixed")
    parser.add_argument("--after", choices=SETTINGS, default="shipped")
    args = parser.parse_args()
    diarizer = load_diarizer(Settings.from_env().cache_dir)
    print(f"| file | found/true {args.before} → {args.after} | DER collar | DER no collar | one speaker collar "
          "(no collar) | overlapped | target met |")
    print("|---|---|---|---|---|---|---|")
    for name in AMI_TUNING + AMI_REPORTED:
        a, b = score(diarizer, name, SETTINGS[args.before]), score(diarizer, name, SETTINGS[args.after])
        print(f"| {name} | {a.found}/{a.true} → {b.found}/{b.true} | {a.der_collar:.3f} → {b.der_collar:.3f} | "
              f"{a.der:.3f} → {b.der:.3f} | {b.baseline_collar:.3f} ({b.baseline:.3f}) | {b.overlap:.3f} | "
              f"{'yes' if a.met else 'no'} → {'yes' if b.met else 'no'} |")


if __name__ == "__main__":
    main()
