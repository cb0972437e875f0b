"""What the ways of making caption deltas cost in words (benchmarks/NOTES.md, "Caption lag"): each
English tuning recording (tests/fixtures/real_speech) as one turn, decoded at every step of audio
as if each decode took no time, the deltas' words plus the rest at the end (the completed
transcript) against the reference, as WER; beside it, one full decode of each whole recording.

    PYTHONPATH=. .venv/bin/python experiments/caption_words_ab.py

Variants: NAME window short margin step (window: decodes from LiveTurn.anchor; short: the encoder
on the window's own audio, short_window.py).
"""

from __future__ import annotations

import asyncio
import re

VARIANTS = [("main's way", False, False, 0.5, 0.3), ("window", True, False, 0.5, 0.3),
            ("short", False, True, 0.5, 0.3), ("window+short", True, True, 0.5, 0.3),
            ("window+short margin 0.3", True, True, 0.3, 0.3), ("window+short step 0.6", True, True, 0.5, 0.6)]


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w' ]", " ", text.lower()).split())


def main() -> None:
    import jiwer

    from nbaudio import local
    from nbaudio.server.realtime import live_turn, stable_words
    from nbaudio.server.realtime.live_turn import LiveTurn
    from tests.realtime.test_live_turn import _pcm24
    from tests.support.real_speech import recordings

    engine = local.start().app.state.engine
    speech = [(r.reference, _pcm24(r.samples())) for r in recordings("tuning", "en")]
    anchor = LiveTurn.anchor

    async def live(pcm: bytes, step: float) -> str:
        turn = LiveTurn("item", 0, lambda _turn, _words: None)
        n = int(step * 48000) // 2 * 2
        for end in range(n, len(pcm), n):
            await turn.decode(engine, pcm[:end], "en", None)
        return "".join(w.text for w in await turn.finish(engine, pcm, "en", None))

    refs = [_norm(ref) for ref, _ in speech]
    whole = [_norm(asyncio.run(live(pcm, 1e9))) for _, pcm in speech]  # no decode while spoken
    print(f"one full decode of each recording: WER {jiwer.wer(refs, whole):.3f}", flush=True)
    for name, window, short, margin, step in VARIANTS:
        LiveTurn.anchor = anchor if window else (lambda self: (0, ""))
        live_turn.SHORT_WINDOW_S = 28.0 if short else 0.0
        stable_words.MARGIN_S = margin
        said = [_norm(asyncio.run(live(pcm, step))) for _, pcm in speech]
        print(f"{name}: WER {jiwer.wer(refs, said):.3f}", flush=True)


if __name__ == "__main__":
    main()
