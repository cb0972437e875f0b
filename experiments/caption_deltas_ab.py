"""What eager caption deltas cost in words, and what they gain in lag (benchmarks/NOTES.md, "Caption
lag"): each English tuning recording (tests/fixtures/real_speech) as one turn, decoded at every
step of audio as if each decode took no time (the lag is then the wait for audio alone: add one
decode's time for the real figure), per variant of stable_words.MARGIN_S, live_turn.STEP_S and
stable_words.GAP_S: the WER of what the deltas add up to (the stable words, then the rest at the
turn's end) and the median wait from a word's end to the audio decoded when it became stable (for the words
settled at the turn's end, to its end and the VAD's silence after it);
beside them, the WER of one decode of each whole recording (what a completed event can carry).

    PYTHONPATH=. .venv/bin/python experiments/caption_deltas_ab.py [margin:step[:gap[:least probability]] ...]
"""

from __future__ import annotations

import asyncio
import re
import statistics
import sys

END_OF_TURN_S = 0.5  # server VAD's silence before a turn ends (the captions' setting)
DEFAULT = ["0.5:0.6:0", "0.3:0.3:0", "0.3:0.3:0.6", "0.2:0.3:0.6", "0.3:0.15:0.6", "0.0:0.3:0.6"]


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w' ]", " ", text.lower()).split())


def main(specs: list[str]) -> None:
    import jiwer

    from nbaudio import local
    from nbaudio.server.realtime import live_turn, stable_words
    from nbaudio.server.realtime.live_turn import LiveTurn, decode_words
    from tests.realtime.test_live_turn import _pcm24
    from tests.support.real_speech import recordings

    engine = local.start().app.state.engine
    speech = [(r.reference, _pcm24(r.samples())) for r in recordings("tuning", "en")]
    refs = [_norm(ref) for ref, _ in speech]
    whole = [_norm("".join(w.text for w in decode_words(engine, pcm, "en", None)[0])) for _, pcm in speech]
    print(f"one full decode of each recording: WER {jiwer.wer(refs, whole):.3f}", flush=True)

    decoded: list[float] = []

    async def live(pcm: bytes, step: float, waits: list[float]) -> str:
        sent = [0.0]
        turn = LiveTurn("item", 0, lambda _turn, words: waits.extend(sent[0] - w.end for w in words))
        n = int(step * 48000) // 2 * 2
        for end in range(n, len(pcm), n):
            sent[0] = end / 48000
            await turn.decode(engine, pcm[:end], "en", None)
        sent[0] = len(pcm) / 48000 + END_OF_TURN_S  # the rest: when the VAD ends the turn
        await turn.finish(engine, pcm, "en", None)
        decoded.append(turn.decoded_seconds / (len(pcm) / 48000))
        return turn.agreement.text  # what the deltas added up to (the completed event has the whole decode)

    for spec in specs or DEFAULT:
        fields = spec.split(":")
        margin, step, gap, least = (float(x) for x in fields + ["0.5", "0.6", "0", "0"][len(fields):])
        stable_words.MARGIN_S, live_turn.STEP_S, stable_words.GAP_S = margin, step, gap
        stable_words.MIN_PROBABILITY = least
        waits: list[float] = []
        decoded.clear()
        said = [_norm(asyncio.run(live(pcm, step, waits))) for _, pcm in speech]
        print(f"margin {margin} step {step} gap {gap} least probability {least}: "
              f"deltas WER {jiwer.wer(refs, said):.3f}, wait for audio median {statistics.median(waits):.2f} s, "
              f"mean {statistics.fmean(waits):.2f} s (n={len(waits)}), audio decoded per second of turn "
              f"{statistics.fmean(decoded):.1f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
