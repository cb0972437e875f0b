"""The engine on recordings of people (tests/fixtures/real_speech: sources, licences, split).

Word error rates use Whisper's normalisers (tests/support/real_speech.normalize). Bounds are the
rates measured on this machine (see each) with room for the small run-to-run differences of
int8 decoding on a busy CPU, not for a broken pipeline.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import requests
import soundfile as sf

from tests.support.real_speech import error_counts, language_switch, normalize, recording, recordings

pytestmark = pytest.mark.engine


def _wav(samples: np.ndarray) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples, 16000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _transcribe(engine, samples: np.ndarray, **fields) -> dict:
    r = requests.post(engine.base_url + "/audio/transcriptions", files={"file": ("a.wav", _wav(samples), "audio/wav")},
                      data={"model": "whisper-1", "response_format": "verbose_json", **fields}, timeout=900)
    r.raise_for_status()
    return r.json()


# Measured with tiny.en (language detection by base): LibriSpeech 1995-1837-0001 0.03, FLEURS
# en-008 0.12 (numbers and a proper name); FLEURS de-005 with base 0.09.
@pytest.mark.parametrize(("name", "bound"), [("librispeech-1995-1837-0001.flac", 0.15),
                                             ("fleurs-en-008.ogg", 0.30), ("fleurs-de-005.ogg", 0.30)])
def test_real_clip_word_error_rate(engine, name, bound):
    rec = recording(name)
    body = _transcribe(engine, rec.samples())
    edits, n = error_counts(rec.reference, body["text"], rec.language)
    assert edits / n <= bound, (body["text"], rec.reference)
    assert body["language"] == {"en": "english", "de": "german"}[rec.language]


def test_short_english_skips_the_language_pass_other_languages_do_not(engine, monkeypatch):
    """A recording of one window that the English model hears with confidence is not sent to the
    multilingual model's language pass (a base encoder pass: slower than tiny.en's whole decode of
    a Realtime turn); German is still detected and goes to the multilingual model."""
    multi = engine.app.state.engine.models.whisper("multi")
    detect, calls = multi.detect_language, []
    monkeypatch.setattr(multi, "detect_language", lambda samples: calls.append(len(samples)) or detect(samples))
    english = _transcribe(engine, recording("librispeech-1995-1837-0001.flac").samples())
    assert english["language"] == "english" and not calls, english["text"]
    german = _transcribe(engine, recording("fleurs-de-005.ogg").samples())
    assert german["language"] == "german" and calls, german["text"]


def test_long_recording_holds_every_sentence_its_pieces_hold(engine):
    """All English recordings joined (~2 minutes) and transcribed whole lose no run of words that
    the recordings transcribed one by one hold. Before windows were cut in pauses and unheard
    speech decoded again, the whole lost two sentences of 30+ words each (one the first of a
    window that started mid-word, one that beam search left out) while the times covered the gaps."""
    recs = recordings(language="en")
    clips = [r.samples() for r in recs]
    pause = np.zeros(8000, dtype=np.float32)
    whole = np.concatenate([x for c in clips for x in (c, pause)])
    pieces = " ".join(_transcribe(engine, c, language="en")["text"] for c in clips)
    got = _transcribe(engine, whole, language="en")
    ref, hyp = normalize(pieces, "en"), normalize(got["text"], "en")
    import jiwer  # the test extra's; imported here so the fast lane can collect this module

    out = jiwer.process_words(ref, hyp)
    words = ref.split()
    lost = [" ".join(words[a.ref_start_idx:a.ref_end_idx]) for a in out.alignments[0]
            if a.type == "delete" and a.ref_end_idx - a.ref_start_idx >= 6]
    assert not lost, lost  # a sentence is six words or more; Whisper's small differences are fewer
    assert out.deletions <= 0.05 * len(words), (out.deletions, len(words))
    # The segments' times stay in order and inside the recording, through windows decoded again.
    starts = [s["start"] for s in got["segments"]]
    assert starts == sorted(starts) and got["segments"][-1]["end"] <= got["duration"] + 1e-6


# Measured: English half 0.06 (tiny.en), German half 0.22 (base).
SWITCH_BOUNDS = {"en": 0.20, "de": 0.40}


def test_english_then_german_keeps_both_halves(engine):
    switch = language_switch()
    body = _transcribe(engine, switch.samples, **{"timestamp_granularities[]": "word"})
    assert body["language"] in ("english", "german")
    for lang, reference, start, end in switch.halves:
        inside = [s for s in body["segments"] if start - 0.5 <= (s["start"] + s["end"]) / 2 <= end + 0.5]
        assert {s["language"] for s in inside} == {{"en": "english", "de": "german"}[lang]}, inside
        edits, n = error_counts(reference, " ".join(s["text"] for s in inside), lang)
        assert edits / n <= SWITCH_BOUNDS[lang], (lang, [s["text"] for s in inside])
    # What a client flags with: the standard per-segment fields and each word's probability.
    for seg in body["segments"]:
        assert {"no_speech_prob", "compression_ratio", "avg_logprob", "temperature"} <= set(seg)
    assert body["words"] and all(0.0 <= w["probability"] <= 1.0 for w in body["words"])
