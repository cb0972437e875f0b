"""`Captions` and `%voice captions` in the kernel, with the page played by `Page` (the widget
messages captions.js sends) against the engine: recordings of people (tests/fixtures/real_speech,
tuning part) as the microphone."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest
from IPython.core.error import UsageError

from nbaudio import Client, InvalidInputError, Transcript
from nbaudio.widgets import Captions
from tests.support.real_speech import recording

pytestmark = [pytest.mark.timeout(300), pytest.mark.engine]

DEVICE_RATE = 48000
PIECE_S = 0.1
WAIT_S = 180.0


class Page:
    """Sends what captions.js sends, through the widget's comm, and keeps what the kernel sends back."""

    def __init__(self, widget: Captions) -> None:
        self.widget = widget
        self.received: list[dict] = []
        self.arrived = threading.Condition()
        self.seq = 0
        original = widget.send

        def send(content: Any, buffers: Any = None) -> None:
            with self.arrived:
                self.received.append(content)
                self.arrived.notify_all()
            original(content, buffers)

        widget.send = send  # type: ignore[method-assign]

    def message(self, content: dict, buffers: list[bytes] = ()) -> None:
        self.widget.comm.handle_msg({"content": {"data": {"method": "custom", "content": content}},
                                     "buffers": [memoryview(b) for b in buffers]})

    def speak(self, samples16k: np.ndarray, tail_s: float = 1.5) -> None:
        """16 kHz speech at a level a microphone with automatic gain gives (the FLEURS files peak near
        -45 dBFS, where the VAD hears little), as 48 kHz pieces of PIECE_S, all at once."""
        speech = 0.5 * samples16k / max(1e-6, float(np.abs(samples16k).max()))
        x = np.concatenate([np.zeros(int(0.5 * 16000)), speech, np.zeros(int(tail_s * 16000))])
        x = np.interp(np.arange(int(len(x) * DEVICE_RATE / 16000)) * 16000 / DEVICE_RATE, np.arange(len(x)), x)
        pcm = np.round(np.clip(x, -1, 1) * 32767).astype("<i2")
        step = int(PIECE_S * DEVICE_RATE)
        for k in range(0, len(pcm), step):
            self.message({"type": "captions:audio", "seq": self.seq}, [pcm[k:k + step].tobytes()])
            self.seq += 1

    def lines(self, final: bool) -> list[dict]:
        return [c for c in self.received if c.get("type") == "line" and c.get("final") is final]

    def wait_for(self, test, what: str) -> None:
        with self.arrived:
            if not self.arrived.wait_for(lambda: test(self), WAIT_S):
                raise AssertionError(f"timed out waiting for {what}; got {self.received[-5:]}")


@pytest.fixture
def client(engine):
    with Client(engine.base_url) as c:
        yield c


def _words(text: str) -> set[str]:
    return {w.strip(".,!?…").lower() for w in text.split() if len(w.strip(".,!?…")) > 3}


def test_spoken_lines_become_a_timed_transcript_of_the_recording(client):
    speech = recording("fleurs-en-003.ogg")
    captions = Captions(client=client, language="en", max_minutes=5)
    page = Page(captions)
    page.message({"type": "captions:start", "rate": DEVICE_RATE})
    page.wait_for(lambda p: any(c.get("type") == "ready" for c in p.received), "the session")
    page.speak(speech.samples())
    page.wait_for(lambda p: p.lines(True), "a final line")
    captions.stop()
    transcript = captions.wait(WAIT_S)
    assert isinstance(transcript, Transcript) and transcript is captions.transcript
    shown = page.lines(True)[0]["text"]
    assert len(_words(speech.reference) & _words(shown)) >= 0.6 * len(_words(speech.reference)), shown
    assert transcript.text == shown and len(transcript.segments) == 1
    duration = len(speech.samples()) / 16000 + 2.0  # with the lead and tail silences
    assert transcript.audio is not None and abs(transcript.audio.duration - duration) < 0.3
    words = transcript.words
    assert len(words) == len(shown.split()) and 0.4 <= words[0].start < words[-1].end <= duration
    assert transcript.segments[0].start <= words[0].start
    assert any(c.get("type") == "ended" for c in page.received) and captions.ended


def test_translated_lines_are_english(client):
    speech = recording("fleurs-fr-003.ogg")
    captions = Captions(client=client, translate=True, max_minutes=5)
    page = Page(captions)
    page.message({"type": "captions:start", "rate": DEVICE_RATE})
    page.speak(speech.samples())
    page.wait_for(lambda p: p.lines(True), "a translated line")
    captions.stop()
    transcript = captions.wait(WAIT_S)
    french = " ".join(c["text"] for c in page.lines(False))
    english = [c["text"] for c in page.lines(True)]
    spoken_cues, english_cues = {"mais", "pas", "une", "les", "des", "du", "dans", "le", "la"}, \
        {"the", "of", "and", "but", "not", "is", "it", "like", "more", "than", "to", "a"}
    assert len(spoken_cues & set(french.lower().split())) >= 2, french  # first the words as spoken, grey
    shown = " ".join(english).lower().replace(",", " ").replace(".", " ").split()
    assert len(english_cues & set(shown)) >= 2 and not (spoken_cues - {"la", "le"}) & set(shown), english
    assert transcript.task == "translate"
    assert sorted(s.text.strip() for s in transcript.segments) == sorted(e.strip() for e in english if e.strip())


def test_bad_arguments_are_refused_before_anything_starts(shell, voice):
    for kwargs, says in (({"max_minutes": 0}, "max_minutes"), ({"language": "english"}, "ISO-639-1"),
                         ({"translate": "yes"}, "translate"), ({"model": ""}, "model")):
        with pytest.raises(InvalidInputError, match=says):
            Captions(**kwargs)
    with pytest.raises(InvalidInputError, match="not ended yet"):
        _ = Captions().transcript
    for line, says in (("captions --max-minutes 0", "--max-minutes"), ("captions --language 12", "ISO-639-1"),
                       ("captions --out 1x", "--out needs a variable"), ("captions --nope", "unrecognized")):
        with pytest.raises(UsageError, match=says):
            shell.run_line_magic("voice", line)
