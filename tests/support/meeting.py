"""A synthetic meeting of three clearly different voices with known turn times, made on this machine.

Voices: the engine's piper voice (en_US joe, over HTTP), espeak-ng's English voice (the engine's own
espeak module, from the espeakng-loader wheel), and that espeak-ng voice played 1.32x faster, which
raises its pitch and formants together (a shorter vocal tract: another voice to a speaker encoder,
as a child's is to an adult's). The reference turns are each spoken clip's span without its
leading and trailing silence; turns are separated by pauses of 0.5-0.9 s.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import requests
import soundfile as sf

RATE = 16000
PIPER, ESPEAK, ESPEAK_HIGH = "piper", "espeak", "espeak_high"
# The formant shift of the third voice: espeak's samples resampled to 1/SHIFT of their length.
SHIFT = 1.32
# Speech is where a 20 ms frame is within this many dB of the clip's loudest frame.
SILENCE_DB = -40.0

# (voice, sentence) in meeting order: 36 turns, about 2 minutes.
SCRIPT = (
    (PIPER, "Good morning everyone, thank you for joining the planning meeting today."),
    (ESPEAK, "Good morning. I have the numbers from last quarter ready to share."),
    (ESPEAK_HIGH, "Before we start, can we agree to finish by eleven o'clock?"),
    (PIPER, "Yes, eleven works for me. Let us begin with the budget."),
    (ESPEAK, "The budget for the new library wing is about four hundred thousand."),
    (PIPER, "That is higher than we expected in the spring."),
    (ESPEAK_HIGH, "Most of the increase comes from the price of steel and glass."),
    (ESPEAK, "We could delay the glass roof until next year to save money."),
    (PIPER, "I would rather keep the roof and cut the parking area instead."),
    (ESPEAK_HIGH, "The parking area is required by the city, so we cannot cut it."),
    (ESPEAK, "Then the roof is the only large item we can move."),
    (PIPER, "All right. Please write up both options for the board."),
    (ESPEAK_HIGH, "I can have a draft ready by Thursday afternoon."),
    (ESPEAK, "I will add the cost tables and the schedule to it."),
    (PIPER, "Good. The next item is the reading programme for children."),
    (ESPEAK_HIGH, "We had more than two hundred children last summer, a new record."),
    (ESPEAK, "The volunteers asked for more books in Spanish and in Polish."),
    (PIPER, "We should ask the city for a small grant to buy them."),
    (ESPEAK_HIGH, "I know the person who handles those grants, I will call her."),
    (ESPEAK, "Thank you. That would help the volunteers a great deal."),
    (PIPER, "Is there anything else before we close the meeting?"),
    (ESPEAK_HIGH, "Only a reminder that the building is closed on Monday."),
    (ESPEAK, "Noted. I will put a sign on the front door."),
    (PIPER, "One more thing. The heating in the reading room broke again last week."),
    (ESPEAK, "The repair company said they can come on Wednesday morning, before we open."),
    (ESPEAK_HIGH, "Can they also look at the windows on the north side? They let the cold in."),
    (PIPER, "Good idea. Ask them for one price for both jobs, please."),
    (ESPEAK, "I will. Last time the windows alone were about two thousand."),
    (ESPEAK_HIGH, "We have some money left in the maintenance budget for this year."),
    (PIPER, "Then let us do it now, before the winter gets any colder."),
    (ESPEAK_HIGH, "I also wanted to thank the volunteers who painted the children's corner."),
    (ESPEAK, "They did a lovely job. The families have noticed it already."),
    (PIPER, "Let us invite them all to a small lunch in December."),
    (ESPEAK, "I can book the room upstairs and order some sandwiches."),
    (ESPEAK_HIGH, "And I will send the invitations by the end of this month."),
    (PIPER, "Thank you all. See you next week at the same time."),
)
GAPS = (0.6, 0.8, 0.5, 0.9, 0.7)  # cycled: the pause before each turn


@dataclass
class Meeting:
    samples: np.ndarray  # float32 mono at RATE
    turns: list[tuple[float, float, str]]  # the reference: (start, end, voice)
    references: dict[str, np.ndarray]  # a 3-8 s sample of each voice, not taken from the meeting

    def wav(self) -> bytes:
        return wav_bytes(self.samples)

    @property
    def duration(self) -> float:
        return len(self.samples) / RATE

    def opening(self, turns: int) -> Meeting:
        """The meeting's first `turns` turns and the half second of silence that ends a meeting:
        what build_meeting gives for SCRIPT[:turns], without speaking them again."""
        end = int(round(self.turns[turns - 1][1] * RATE))
        tail = np.zeros(RATE // 2, np.float32)
        return Meeting(np.concatenate([self.samples[:end], tail]), self.turns[:turns], self.references)


def wav_bytes(samples: np.ndarray, rate: int = RATE) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _resample(x: np.ndarray, rate: int, to: int) -> np.ndarray:
    import soxr

    return soxr.resample(x.astype(np.float32), rate, to).astype(np.float32)


def _trim(x: np.ndarray) -> np.ndarray:
    """The clip from its first to its last loud frame."""
    frame = RATE // 50
    n = len(x) // frame
    db = 10 * np.log10(np.maximum((x[: n * frame].reshape(n, frame) ** 2).mean(axis=1), 1e-12))
    loud = np.flatnonzero(db > db.max() + SILENCE_DB)
    return x[loud[0] * frame:(loud[-1] + 1) * frame] if len(loud) else x


def voice(base_url: str, who: str, text: str) -> np.ndarray:
    """`text` in voice `who`, 16 kHz float32, trimmed of silence at both ends."""
    if who == PIPER:
        r = requests.post(base_url + "/audio/speech", json={"model": "tts-1", "voice": "alloy", "input": text,
                                                            "response_format": "wav"}, timeout=120)
        r.raise_for_status()
        x, rate = sf.read(io.BytesIO(r.content), dtype="float32")
        return _trim(_resample(x, rate, RATE))
    from nbaudio.server.models import espeak

    x = espeak.synthesize(text, "en")
    rate = espeak.sample_rate()
    if who == ESPEAK_HIGH:
        rate = int(round(rate * SHIFT))  # the same samples played faster
    return _trim(_resample(x, rate, RATE))


REFERENCE_TEXT = {
    PIPER: "My name is on the door of the second office, next to the stairs.",
    ESPEAK: "I keep the accounts and I check every invoice twice.",
    ESPEAK_HIGH: "I run the reading programme and the summer school.",
}


def build_meeting(base_url: str, script=SCRIPT) -> Meeting:
    pieces, turns = [], []
    t = 0.0
    for i, (who, text) in enumerate(script):
        gap = np.zeros(int(GAPS[i % len(GAPS)] * RATE), np.float32)
        speech = voice(base_url, who, text)
        pieces.extend((gap, speech))
        t += len(gap) / RATE
        turns.append((round(t, 3), round(t + len(speech) / RATE, 3), who))
        t += len(speech) / RATE
    pieces.append(np.zeros(RATE // 2, np.float32))
    refs = {who: voice(base_url, who, text) for who, text in REFERENCE_TEXT.items()}
    return Meeting(np.concatenate(pieces) * np.float32(0.8), turns, refs)
