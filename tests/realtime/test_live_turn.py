"""A turn of a transcription session while it is spoken (nbaudio.server.realtime.live_turn) on the
engine's models, with a recording of a person (tuning part) as the speech: how much audio its
decodes take in, and that audio arriving during a decode is decoded as soon as it ends."""

from __future__ import annotations

import asyncio
import base64
import json

import numpy as np
import pytest

from nbaudio._wire.realtime import BYTES_PER_MS, SAMPLE_RATE
from nbaudio.codec import resample
from nbaudio.server.realtime.limits import RealtimeLimits
from nbaudio.server.realtime.live_turn import LiveTurn
from nbaudio.server.realtime.outbox import Outbox
from nbaudio.server.realtime.transcription import TranscriptionSession
from tests.realtime.speech import overlap
from tests.support.real_speech import recording

pytestmark = [pytest.mark.timeout(300), pytest.mark.engine]

SPEECH = recording("fleurs-en-003.ogg")
MORE = recording("fleurs-en-004.ogg")  # after SPEECH: one turn of about fifteen seconds


def _pcm24(samples16k: np.ndarray) -> bytes:
    speech = 0.5 * samples16k / max(1e-6, float(np.abs(samples16k).max()))
    x = resample(np.concatenate([np.zeros(8000, np.float32), speech.astype(np.float32)]), 16000, SAMPLE_RATE)
    return np.round(np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()


def test_decodes_after_stable_words_take_only_the_audio_after_them(engine):
    pcm = _pcm24(np.concatenate([SPEECH.samples(), MORE.samples()]))
    sent: list[str] = []
    turn = LiveTurn("item_test", 0, lambda _turn, words: sent.extend(w.text for w in words))
    step = 1000 * BYTES_PER_MS  # a decode for each second of the turn
    prefixes = list(range(2 * step, len(pcm), step))

    async def speak() -> list[str]:
        for end in prefixes:
            await turn.decode(engine.app.state.engine, pcm[:end], "en", None)
        return [w.text for w in await turn.finish(engine.app.state.engine, pcm, "en", None)]

    words = asyncio.run(speak())
    whole = (sum(prefixes) + 2 * len(pcm)) / (1000 * BYTES_PER_MS)  # every decode from the start, the end's two too
    assert turn.decodes == len(prefixes) + 2  # at the end: a quick one for the last words, then the whole turn
    # Once words are stable, a decode starts a couple of words before the last of them: the turn's
    # decodes take in far less than the growing turn over and over (the quadratic whole).
    assert len(turn.agreement.stable) > 5 and turn.decoded_seconds < 0.75 * whole, (turn.decoded_seconds, whole)
    assert turn.anchor()[0] > len(pcm) // 2  # the last decodes took in less than half of the turn
    assert "".join(sent) == "".join(w.text for w in turn.agreement.stable)  # each stable word sent once
    reference = SPEECH.reference + " " + MORE.reference
    # The completed transcript is one decode of the whole turn: it may correct a word the deltas
    # gave ("The cab is juice" → "The cabbage juice"), and it is never a worse transcript of it.
    assert overlap(reference, "".join(words)) >= max(0.7, overlap(reference, "".join(sent)) - 0.05), "".join(words)


def test_audio_that_came_during_a_decode_is_decoded_when_it_ends(engine):
    """Two appends, the second while the first one's decode runs, then nothing: the audio of the
    second is decoded when that decode ends (not only at a next append), so the words the two
    decodes agree on are sent before the turn is committed."""
    pcm = _pcm24(SPEECH.samples())
    first = 3000 * BYTES_PER_MS

    async def run() -> list[dict]:
        outbox = Outbox()
        session = TranscriptionSession(engine.app.state.engine, RealtimeLimits(), outbox)
        await session.handle(json.dumps({"type": "session.update", "session": {"type": "transcription", "audio": {
            "input": {"transcription": {"model": "whisper-1", "language": "en"}, "turn_detection": None}}}}))
        for piece in (pcm[:first], pcm[first:]):
            await session.handle(json.dumps({"type": "input_audio_buffer.append",
                                             "audio": base64.b64encode(piece).decode()}))
        seen = []
        while not any(e["type"].endswith("transcription.delta") for e in seen):
            seen.append(await asyncio.wait_for(outbox.get(), 240))
        await session.handle(json.dumps({"type": "input_audio_buffer.commit"}))
        while not seen[-1]["type"].endswith("transcription.completed"):
            seen.append(await asyncio.wait_for(outbox.get(), 240))
        await session.close()
        return seen

    seen = asyncio.run(run())
    kinds = [e["type"] for e in seen]
    assert kinds.index("conversation.item.input_audio_transcription.delta") < \
        kinds.index("input_audio_buffer.committed"), kinds
    deltas = "".join(e["delta"] for e in seen if e["type"].endswith("transcription.delta"))
    assert deltas == seen[-1]["transcript"]


def test_a_long_prompt_leaves_a_short_window_its_words(engine):
    """The stable words before the anchor are a quick decode's prompt, and CTranslate2 counts the
    prompt in the length a decode may reach: a window of 1 s after a 20- or 40-word prompt must
    still come back with a word, not with none (nor be refused: "The maximum decoding length must
    be > 0", which a caption session met on a short window after a long turn)."""
    from nbaudio.server.realtime.live_turn import decode_words

    pcm = _pcm24(np.concatenate([SPEECH.samples(), MORE.samples()]))
    window = pcm[3000 * BYTES_PER_MS:4000 * BYTES_PER_MS]  # a second of speech
    for n in (20, 40):
        said = " ".join((SPEECH.reference + " " + MORE.reference).split()[:n])
        words = decode_words(engine.app.state.engine, window, "en", said, quick=True)[0]
        assert words, n
