"""Whisper repetition loops are cut (nbaudio/server/models/loops.py); ordinary repetition is kept."""

from __future__ import annotations

import io

import pytest

from nbaudio.server.models import loops

# Measured on the engine (whisper base, beam 5): espeak-ng German of LOOPING_GERMAN at 140 wpm is
# detected as Yiddish and translated as "I will not let you go," three times over. No other test
# uses this sentence.
LOOPING_GERMAN = "Der Zug nach Berlin fährt heute um acht Uhr ab, und wir haben noch keine Fahrkarten."


@pytest.mark.parametrize("text, expected", [
    (" I will not let you go, I will not let you go, I will not let you go.", " I will not let you go."),
    (" ha ha ha ha ha ha that was funny", " ha that was funny"),
    (" Before. Thank you. Thank you. Thank you. After.", " Before. Thank you. After."),
    # people do say things twice, and short words repeat
    (" No, no. I said it twice, I said it twice.", " No, no. I said it twice, I said it twice."),
    (" The the cat sat on the mat.", " The the cat sat on the mat."),
    (" no no no no", " no no no no"),
    ("", ""),
])
def test_loop_copies_are_cut(text, expected):
    assert loops.cut_spans(text, loops.loop_spans(text)) == expected


def test_pieces_of_a_loop_are_marked():
    pieces = [" I", " will", " not", " let", " you", " go,"] * 2 + [" I", " will", " not", " let", " you", " go."]
    keep = loops.keep_pieces(pieces)
    assert keep == [False] * 12 + [True] * 6
    assert "".join(p for p, k in zip(pieces, keep, strict=True) if k) == " I will not let you go."


def test_same_segment_again_is_a_loop_only_with_enough_words():
    assert loops.same_words(" Thank you for watching.", " thank you for watching")
    assert not loops.same_words(" Yes.", " Yes.")
    assert not loops.same_words(" one two three", " one two four")


@pytest.fixture(scope="module")
def looping_german_wav() -> bytes:
    import soundfile as sf

    from nbaudio.server.models import espeak

    buf = io.BytesIO()
    sf.write(buf, espeak.synthesize(LOOPING_GERMAN, "de", speed=140 / 165), espeak.sample_rate(), format="WAV")
    return buf.getvalue()


def _longest_run(words: list[str]) -> int:
    """How many times in a row the most repeated phrase (2..12 words) occurs."""
    best = 1
    for k in range(2, 13):
        for i in range(len(words) - k):
            r = 1
            while words[i + r * k:i + (r + 1) * k] == words[i:i + k]:
                r += 1
            best = max(best, r)
    return best


@pytest.mark.parametrize("task", ["translations", "transcriptions"])
def test_engine_returns_no_loop(engine, looping_german_wav, task):
    """verbose_json only: the engine decodes every format alike (with word times, nbaudio/server/transcribe.py)
    and "json" is the same transcript's text, so a second request (a looping decode costs Whisper
    every temperature fallback) would check the same segments again."""
    import requests

    r = requests.post(f"{engine.base_url}/audio/{task}", files={"file": ("de.wav", looping_german_wav)},
                      data={"model": "whisper-1", "response_format": "verbose_json",
                            "timestamp_granularities[]": "word"},
                      timeout=300)
    assert r.status_code == 200, r.text
    body = r.json()
    words = loops.normalized_words(body["text"])
    assert words, body
    assert _longest_run(words) < loops.MIN_PHRASE_REPEATS, body["text"]
    seg_words = [w for s in body["segments"] for w in loops.normalized_words(s["text"])]
    assert _longest_run(seg_words) < loops.MIN_PHRASE_REPEATS
    if body.get("words"):
        assert len(body["words"]) <= len(words) + 2  # the words of the loop copies are gone too


def test_a_segment_that_only_repeats_the_last_phrase_is_a_loop():
    # Seen in a translation: the loop went on past the segment's end (3 copies in all, 2 in one segment).
    assert loops.repeats_the_end(" I will not let you go I will not let you go,", " I will not let you go")
    assert loops.repeats_the_end(" and then we left. We left.", " We left. We left.")
    assert not loops.repeats_the_end(" I will not let you go,", " I will not let you down")
    assert not loops.repeats_the_end(" We left.", " Left.")  # one word: ordinary
    assert not loops.repeats_the_end("", " We left.")
