"""/v1/audio/transcriptions and /translations on the real engine, through the official openai client."""

from __future__ import annotations

import json

import pytest
import requests

from nbaudio.metrics import word_error_rate
from nbaudio.transcript import Transcript
from tests.support.data import SENTENCES

# Measured: 8 sentences x 3 voices (alloy, onyx, shimmer) spoken by piper and read back by tiny.en
# (beam 5): mean WER 0.042, worst sentence 0.33 ("an umbrella" -> "in a brawl"); alloy alone 0.03.
# piper samples noise, so runs differ a little. The mean bound leaves room for a slip or two,
# not for a broken pipeline.
WER_BOUND = 0.15


def test_round_trip_word_error_rate(oai, speech_clips):
    rates = {}
    for text, wav in speech_clips.items():
        got = oai.audio.transcriptions.create(model="whisper-1", file=("s.wav", wav), response_format="text")
        rates[text] = (word_error_rate(text, got), got)
    mean = sum(r for r, _ in rates.values()) / len(rates)
    assert mean <= WER_BOUND and max(r for r, _ in rates.values()) <= 2 * WER_BOUND, rates


def test_json_validates_and_has_usage(oai, speech_clips, validate):
    wav = speech_clips[SENTENCES[0]]
    raw = oai.audio.transcriptions.with_raw_response.create(model="whisper-1", file=("a.wav", wav))
    body = json.loads(raw.http_response.text)
    validate(body, "CreateTranscriptionResponseJson")
    assert body["usage"]["type"] == "duration" and 1.0 < body["usage"]["seconds"] < 6.0


def test_verbose_json_words_and_segments(oai, speech_clips, validate):
    text = SENTENCES[1]
    raw = oai.audio.transcriptions.with_raw_response.create(
        model="whisper-1", file=("b.wav", speech_clips[text]), response_format="verbose_json",
        timestamp_granularities=["word", "segment"])
    body = json.loads(raw.http_response.text)
    validate(body, "CreateTranscriptionResponseVerboseJson")
    assert body["language"] == "english"
    words = body["words"]
    assert [w["word"].strip(".,").lower() for w in words][:3] == ["please", "call", "me"]
    starts = [w["start"] for w in words]
    assert starts == sorted(starts) and words[-1]["end"] <= body["duration"] + 0.05
    assert body["segments"] and body["segments"][0]["tokens"]
    parsed = oai.audio.transcriptions.create(model="whisper-1", file=("b.wav", speech_clips[text]),
                                             response_format="verbose_json", timestamp_granularities=["word"])
    assert len(parsed.words) == len(words)


@pytest.mark.parametrize("fmt", ["text", "srt", "vtt"])
def test_text_formats(oai, speech_clips, fmt):
    text = SENTENCES[2]
    got = oai.audio.transcriptions.create(model="whisper-1", file=("c.wav", speech_clips[text]), response_format=fmt)
    assert isinstance(got, str)
    t = Transcript.from_response(got, fmt)
    assert word_error_rate(text, t.text) <= 2 * WER_BOUND
    if fmt == "vtt":
        assert got.startswith("WEBVTT")
    if fmt == "srt":
        assert got.startswith("1\n00:00:00,000 --> ")


def test_logprobs_are_real_token_logprobs(oai, speech_clips, validate):
    raw = oai.audio.transcriptions.with_raw_response.create(
        model="gpt-4o-transcribe", file=("d.wav", speech_clips[SENTENCES[3]]), include=["logprobs"])
    body = json.loads(raw.http_response.text)
    validate(body, "CreateTranscriptionResponseJson")
    lps = body["logprobs"]
    assert "".join(lp["token"] for lp in lps).strip() == body["text"]
    assert all(lp["logprob"] <= 0 for lp in lps) and any(lp["logprob"] < -1e-4 for lp in lps)
    assert all(bytes(lp["bytes"]).decode() == lp["token"] for lp in lps)
    assert body["usage"]["type"] == "tokens" and body["usage"]["output_tokens"] >= len(lps)


def test_stream_events(oai, speech_clips, validate):
    stream = oai.audio.transcriptions.create(model="gpt-4o-mini-transcribe", file=("e.wav", speech_clips[SENTENCES[0]]),
                                             stream=True, include=["logprobs"])
    events = [e.model_dump(exclude_unset=True) for e in stream]
    assert events[-1]["type"] == "transcript.text.done"
    for e in events:
        validate(e, "TranscriptTextDeltaEvent" if e["type"] == "transcript.text.delta" else "TranscriptTextDoneEvent")
    deltas = "".join(e["delta"] for e in events if e["type"] == "transcript.text.delta")
    assert deltas.strip() == events[-1]["text"] and word_error_rate(SENTENCES[0], deltas) <= WER_BOUND
    assert events[-1]["logprobs"]


def test_prompt_language_temperature_accepted(oai, speech_clips):
    got = oai.audio.transcriptions.create(model="whisper-1", file=("f.wav", speech_clips[SENTENCES[2]]),
                                          language="en", prompt="Dogs.", temperature=0.2)
    assert word_error_rate(SENTENCES[2], got.text) <= 2 * WER_BOUND


def test_german_is_detected_and_routed_to_multilingual_model(oai, german_wav):
    got = oai.audio.transcriptions.create(model="whisper-1", file=("de.wav", german_wav),
                                          response_format="verbose_json")
    assert got.language == "german"
    assert {"morgen", "zeit"} <= set(got.text.lower().replace(".", " ").replace(",", " ").split()), got.text


def test_translation_german_to_english(oai, german_wav, validate):
    got = oai.audio.translations.create(model="whisper-1", file=("de.wav", german_wav))
    words = set(got.text.lower().replace(".", " ").replace(",", " ").split())
    # "Good morning. I have no time today, but tomorrow I will come gladly."
    assert len(words & {"morning", "time", "today", "tomorrow", "i", "have", "come"}) >= 3, got.text
    raw = oai.audio.translations.with_raw_response.create(model="whisper-1", file=("de.wav", german_wav),
                                                          response_format="verbose_json")
    body = json.loads(raw.http_response.text)
    validate(body, "CreateTranslationResponseVerboseJson")
    assert body["language"] == "english"


def test_a_translation_from_a_poorly_translated_language_says_so(engine, german_wav, speech_clips, validate):
    """Whisper base translates German poorly (docs/translation.md): the text comes with a warning in
    the JSON (schema-valid: an extra field) and in a header for the text formats."""
    def translate(audio: bytes, fmt: str, path: str = "/audio/translations") -> requests.Response:
        r = requests.post(engine.base_url + path, files={"file": ("a.wav", audio, "audio/wav")},
                          data={"model": "whisper-1", "response_format": fmt}, timeout=120)
        r.raise_for_status()
        return r

    body = translate(german_wav, "json").json()
    validate(body, "CreateTranslationResponseJson")
    assert "translates German poorly" in body["warning"] and "docs/translation.md" in body["warning"]
    text = translate(german_wav, "text")
    assert "translates German poorly" in text.headers["x-nbaudio-warning"] and "warning" not in text.text
    english = translate(speech_clips[SENTENCES[0]], "json").json()  # English in, English out: nothing to warn
    assert "warning" not in english
    said = translate(german_wav, "json", "/audio/transcriptions").json()  # a transcription is no translation
    assert "warning" not in said

    # nbaudio's client keeps it (from the JSON, or the header for text) and the display shows it.
    from nbaudio import Client

    with Client(engine.base_url) as client:
        for fmt in ("json", "text"):
            t = client.translate(german_wav, response_format=fmt)
            assert t.warning and "translates German poorly" in t.warning, fmt
        bundle = t._repr_mimebundle_()
        assert "translates German poorly" in bundle["text/html"] and "warning:" in bundle["text/plain"]
        assert "with a warning" in repr(t)
        assert client.transcribe(speech_clips[SENTENCES[0]]).warning is None


def test_diarized_json_shape(engine, speech_clips, validate):
    r = requests.post(engine.base_url + "/audio/transcriptions",
                      files={"file": ("g.wav", speech_clips[SENTENCES[0]], "audio/wav")},
                      data={"model": "gpt-4o-transcribe-diarize", "response_format": "diarized_json"})
    assert r.status_code == 200, r.text
    validate(r.json(), "CreateTranscriptionResponseDiarizedJson")


def test_mp3_and_flac_uploads(oai, engine, speech_clips):
    from nbaudio.audio import AudioClip

    clip = AudioClip(speech_clips[SENTENCES[0]])
    for fmt in ("mp3", "flac", "opus"):
        data = clip.encode(fmt).data
        got = oai.audio.transcriptions.create(model="whisper-1", file=(f"x.{'ogg' if fmt == 'opus' else fmt}", data))
        assert word_error_rate(SENTENCES[0], got.text) <= 2 * WER_BOUND, (fmt, got.text)


def _cut(wav: bytes, fraction: float) -> bytes:
    """The first `fraction` of a WAV: speech that stops mid-word, where Whisper's times overshoot."""
    import io

    import soundfile as sf

    samples, rate = sf.read(io.BytesIO(wav), dtype="float32")
    out = io.BytesIO()
    sf.write(out, samples[: int(len(samples) * fraction)], rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


@pytest.mark.parametrize("granularities", [["segment"], ["word", "segment"]])
def test_times_stay_within_the_audio(oai, speech_clips, granularities):
    # Measured before clamping (tiny.en, segment timestamps only), one run: 8 of 8 clips cut at 60% or 80%
    # of their length got a segment ending past the audio, e.g. 7.0 s for a 2.26 s clip.
    seen = []
    for text in SENTENCES[:4]:
        for fraction in (1.0, 0.8, 0.6):
            raw = oai.audio.transcriptions.with_raw_response.create(
                model="whisper-1", file=("cut.wav", _cut(speech_clips[text], fraction)),
                response_format="verbose_json", timestamp_granularities=granularities)
            body = json.loads(raw.http_response.text)
            duration = body["duration"]
            spans = [(s["start"], s["end"]) for s in body["segments"]] + [(w["start"], w["end"]) for w in
                                                                           body.get("words", [])]
            seen.append((text[:20], fraction, duration, spans))
            assert all(0.0 <= a <= b <= duration for a, b in spans), seen[-1]
            ends = [s["end"] for s in body["segments"]]
            assert ends == sorted(ends), seen[-1]
    assert any(spans for *_, spans in seen)
