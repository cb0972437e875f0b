"""Can tiny.en tell, from its own decode, that a short turn is not English?

The Realtime path transcribes each user turn with the engine's pipeline, which asks the multilingual
model for the turn's language first (server/transcribe.py): a base encoder pass that, on a
3-second turn, costs more than tiny.en's whole decode. If tiny.en's own scores (average log
probability, compression ratio, no-speech probability) separate English from other languages, the
turn can be decoded by tiny.en first and sent to language detection only when those scores say it
is unsure.

Run: python -m experiments.english_first [--seconds 3 5 0] (0 = whole clip). It reads the
real-speech set (tests/fixtures/real_speech/speech, see its README) and prints, per split, each
clip's language and tiny.en's scores, then the best threshold on the tuning split and how it does
on the reported one.
"""

from __future__ import annotations

import argparse
import math
import statistics

import numpy as np

from nbaudio.server.models.stt import SttRequest
from tests.support.real_speech import recordings


def scores(model, samples: np.ndarray) -> dict[str, float]:
    segments, _ = model.segments(SttRequest(samples))
    segs = list(segments)
    if not segs:
        return {"logprob": -math.inf, "compression": 0.0, "no_speech": 1.0, "words": 0}
    weight = [max(len(s.tokens), 1) for s in segs]
    total = sum(weight)
    return {"logprob": sum(s.avg_logprob * w for s, w in zip(segs, weight, strict=True)) / total,
            "compression": max(s.compression_ratio for s in segs),
            "no_speech": min(s.no_speech_prob for s in segs),
            "words": sum(len(s.text.split()) for s in segs),
            "text": " ".join(s.text.strip() for s in segs)[:60]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, nargs="+", default=[3.0, 0.0])
    args = parser.parse_args()

    from nbaudio.server.registry import ModelRegistry
    from nbaudio.server.settings import Settings

    models = ModelRegistry(Settings())
    tiny = models.whisper("en")
    for seconds in args.seconds:
        rows = []
        for rec in recordings():
            x = rec.samples()
            if seconds:
                x = x[: int(seconds * 16000)]
            rows.append((rec, scores(tiny, x)))
        print(f"\n## first {seconds or 'all'} s")
        for rec, s in rows:
            print(f"{rec.split[:4]} {rec.language} {s['logprob']:7.3f} cr {s['compression']:.2f} "
                  f"ns {s['no_speech']:.2f} {rec.name:34s} {s.get('text', '')}")
        tune = [(r.language == "en", s["logprob"]) for r, s in rows if r.split == "tuning"]
        best = max(sorted({lp for _, lp in tune}), key=lambda th: sum((lp >= th) == en for en, lp in tune))
        for split in ("tuning", "reported"):
            part = [(r.language == "en", s["logprob"]) for r, s in rows if r.split == split]
            english_missed = sum(en and lp < best for en, lp in part)
            foreign_kept = sum((not en) and lp >= best for en, lp in part)
            print(f"{split}: threshold {best:.3f} (from tuning): English sent to detection "
                  f"{english_missed}/{sum(en for en, _ in part)}, other languages kept as English "
                  f"{foreign_kept}/{sum(not en for en, _ in part)}")
        en_lp = [s["logprob"] for r, s in rows if r.language == "en"]
        other = [s["logprob"] for r, s in rows if r.language != "en"]
        print(f"median logprob: English {statistics.median(en_lp):.3f}, others {statistics.median(other):.3f}")


if __name__ == "__main__":
    main()
