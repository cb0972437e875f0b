"""/v1/audio/speech on the real engine: formats, voices, speed, streaming, other languages."""

from __future__ import annotations

import base64
import threading

import numpy as np
import pytest
import requests

import nbaudio
from nbaudio._wire.spec import VOICES
from nbaudio._wire.sse import iter_sse
from nbaudio.audio import AudioClip
from nbaudio.metrics import word_error_rate

TEXT = "Hello from the local engine. It speaks every format."


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "wav", "pcm"])
def test_every_format_decodes(oai, fmt):
    resp = oai.audio.speech.create(model="tts-1", voice="alloy", input=TEXT, response_format=fmt)
    data = resp.read()
    clip = AudioClip(data, "pcm" if fmt == "pcm" else None)
    assert clip.format == {"opus": "opus", "pcm": "pcm"}.get(fmt, fmt)
    assert 2.0 < clip.duration < 8.0, clip.duration
    assert float(np.abs(clip.samples).max()) > 0.1  # not silence
    if fmt == "pcm":
        assert clip.sample_rate == 24000 and len(data) % 2 == 0
    assert resp.response.headers["content-type"].startswith("audio/")


def _f0(samples: np.ndarray, rate: int) -> float:
    """Median pitch (autocorrelation) over voiced 40 ms frames."""
    frame = int(0.04 * rate)
    lo, hi = int(rate / 300), int(rate / 60)
    pitches = []
    for k in range(0, len(samples) - frame, frame):
        x = samples[k:k + frame] - samples[k:k + frame].mean()
        if np.sqrt((x ** 2).mean()) < 0.05:
            continue
        ac = np.correlate(x, x, "full")[frame - 1:]
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.3 * ac[0]:
            pitches.append(rate / lag)
    return float(np.median(pitches))


def test_all_openai_voices_accepted_and_distinct(oai):
    pitch = {}
    for voice in VOICES:
        data = oai.audio.speech.create(model="gpt-4o-mini-tts", voice=voice, input="Good morning to you all.",
                                       response_format="wav", instructions="Speak cheerfully.").read()
        clip = AudioClip(data)
        pitch[voice] = _f0(clip.samples, clip.sample_rate)
    assert pitch["onyx"] < pitch["alloy"] < pitch["shimmer"], pitch
    assert len({round(p) for p in pitch.values()}) >= 8, pitch


def test_voice_object_and_piper_name(engine):
    for voice in ({"id": "nova"}, "en_US-joe-medium"):
        r = requests.post(engine.base_url + "/audio/speech",
                          json={"model": "tts-1", "voice": voice, "input": "Hi.", "response_format": "wav"})
        assert r.status_code == 200, r.text
        assert AudioClip(r.content).duration > 0.2


def test_speed_changes_duration(oai):
    text = "This sentence is read at two different speeds."
    normal = AudioClip(oai.audio.speech.create(model="tts-1", voice="echo", input=text, response_format="wav").read())
    fast = AudioClip(oai.audio.speech.create(model="tts-1", voice="echo", input=text, response_format="wav",
                                             speed=2.0).read())
    ratio = fast.duration / normal.duration
    assert 0.4 < ratio < 0.75, ratio


def test_sse_stream_events(oai, validate):
    with oai.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice="coral", input="One. Two. Three.", response_format="pcm", stream_format="sse"
    ) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        events = [e.json() for e in iter_sse(resp.iter_bytes())]
    deltas = [e for e in events if e["type"] == "speech.audio.delta"]
    assert len(deltas) >= 3  # one per sentence at least
    for e in events:
        validate(e, "SpeechAudioDeltaEvent" if e["type"] == "speech.audio.delta" else "SpeechAudioDoneEvent")
    assert events[-1]["type"] == "speech.audio.done" and events[-1]["usage"]["output_tokens"] > 0
    pcm = b"".join(base64.b64decode(e["audio"]) for e in deltas)
    assert 1.0 < len(pcm) / 2 / 24000 < 6.0


def test_sse_speech_not_streamed_is_the_assembled_clip(engine):
    """speak(stream_format="sse") without stream=True reads the events from the whole body and returns
    the clip they make (issue 26, item 10: it raised `TypeError: BytesIO.read1() takes no keyword arguments`)."""
    client = nbaudio.Client(engine.base_url, api_key="sk-local-not-checked")
    clip = client.speak("One. Two. Three.", response_format="pcm", stream_format="sse")
    assert isinstance(clip, AudioClip) and clip.format == "pcm"
    assert 1.0 < clip.duration < 6.0


def test_raw_stream_starts_before_synthesis_ends(engine, monkeypatch):
    """The first audio bytes arrive while the later sentences are not yet synthesized: the voice
    is held after its first sentence until the client has them (or 30 s passed: a failure)."""
    from nbaudio.server.models.tts import PiperEngine

    text = " ".join(f"This is sentence number {n}, spoken on its own." for n in
                    ("one", "two", "three", "four", "five", "six", "seven", "eight"))
    made, first_arrived = [], threading.Event()
    synthesize = PiperEngine.synthesize

    def held_after_first_sentence(self, *args, **kwargs):
        for audio in synthesize(self, *args, **kwargs):
            made.append(len(audio))
            yield audio
            if not first_arrived.wait(30):
                first_arrived.set()  # nothing arrived: stop holding (the test fails on the count)

    monkeypatch.setattr(PiperEngine, "synthesize", held_after_first_sentence)
    with requests.post(engine.base_url + "/audio/speech", stream=True, timeout=120,
                       json={"model": "tts-1", "voice": "alloy", "input": text, "response_format": "mp3"}) as r:
        assert r.status_code == 200
        chunks = r.iter_content(chunk_size=None)
        first = next(chunks)
        sentences_made_before_first_bytes = len(made)
        first_arrived.set()
        rest = b"".join(chunks)
    assert sentences_made_before_first_bytes == 1 and len(made) == 8
    clip = AudioClip(first + rest)
    assert clip.duration > 15


def test_streamed_wav_has_streaming_header(engine):
    r = requests.post(engine.base_url + "/audio/speech",
                      json={"model": "tts-1", "voice": "alloy", "input": "Short. Test.", "response_format": "wav"})
    assert r.content[:4] == b"RIFF" and r.content[4:8] == b"\xff\xff\xff\xff"  # like OpenAI's streams
    assert AudioClip(r.content).duration > 0.5


def test_german_text_uses_espeak_and_transcribes_back(engine, oai):
    text = "Guten Tag. Wie geht es Ihnen heute?"
    r = requests.post(engine.base_url + "/audio/speech",
                      json={"model": "tts-1", "voice": "alloy", "input": text, "response_format": "wav"})
    assert r.status_code == 200
    assert r.headers["x-nbaudio-voice"] == "espeak-ng:de"
    back = oai.audio.transcriptions.create(model="whisper-1", file=("de.wav", r.content), language="de")
    assert word_error_rate(text, back.text) <= 0.5, back.text


def test_voices_endpoint_lists_mapping_and_espeak(engine):
    data = requests.get(engine.base_url + "/audio/voices").json()["data"]
    ids = {v["id"] for v in data}
    assert set(VOICES) <= ids
    assert {"espeak-ng:de", "espeak-ng:fr-fr", "espeak-ng:ja"} <= ids
    assert all(v["local_voice"] == "en_US-joe-medium" for v in data if v["id"] in VOICES)
