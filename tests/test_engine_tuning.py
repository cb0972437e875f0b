"""What the engine does for speed and memory (measured in benchmarks/, docs/benchmarks.md) keeps its
results: Whisper runs two transcriptions at once and concurrent requests keep their own token
logprobs; its block-by-block features equal faster-whisper's own (within float rounding); a
streamed chat reply starts speaking at its first phrase and still speaks every word."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import requests

from tests.conftest import SENTENCES

pytestmark = pytest.mark.timeout(240)


def test_concurrent_transcriptions_keep_their_own_logprobs(engine, speech_clips):
    url = engine.base_url + "/audio/transcriptions"

    def post(text: str) -> dict:
        r = requests.post(url, files={"file": ("a.wav", speech_clips[text])}, timeout=120,
                          data={"model": "gpt-4o-transcribe", "include[]": "logprobs", "language": "en"})
        r.raise_for_status()
        return json.loads(r.text)

    texts = [SENTENCES[i % 2] for i in range(6)]
    with ThreadPoolExecutor(6) as pool:
        bodies = list(pool.map(post, texts))
    for body in bodies:
        # Each answer's logprobs spell its own text: none lost to, or taken from, a neighbour.
        assert "".join(lp["token"] for lp in body["logprobs"]).strip() == body["text"]
    solo = post(SENTENCES[0])
    assert [b["text"] for b in bodies[::2]] == [solo["text"]] * 3


def test_block_features_match_faster_whisper():
    from faster_whisper.feature_extractor import FeatureExtractor

    from nbaudio.server.stt import _BlockFeatures

    rng = np.random.default_rng(3)
    # 95.3 s: more than two blocks, a partial last block, a length that is not a whole hop.
    audio = (rng.standard_normal(16000 * 95 + 4801) * np.linspace(0.01, 0.5, 16000 * 95 + 4801)).astype(np.float32)
    ours = _BlockFeatures(FeatureExtractor())(audio)
    theirs = FeatureExtractor()(audio)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    assert np.abs(ours - theirs).max() < 1e-5
    short = audio[: 16000 * 20]  # short audio goes to faster-whisper's extractor itself
    assert np.array_equal(_BlockFeatures(FeatureExtractor())(short), FeatureExtractor()(short))


@pytest.mark.parametrize("text, first", [
    ("A golden retriever is a beloved breed that has been", "A golden retriever is a beloved breed "),
    ("Dogs are loyal, friendly and calm, and they", "Dogs are loyal, friendly and calm, "),
    ("Yes, it is", ""),  # too short: wait for the sentence
    ("A golden retriever is a beloved breed that", ""),  # "that" may still grow into "thatch"
])
def test_first_phrase_split(text, first):
    from nbaudio.server.routes_chat import _first_phrase

    head, rest = _first_phrase(text)
    assert head == first and head + rest == text


def test_streamed_reply_speaks_every_word(engine):
    import nbaudio
    from nbaudio.metrics import word_error_rate

    client = nbaudio.Client(engine.base_url, max_retries=0)
    question = "Describe a golden retriever in three sentences."
    with client.chat(question, stream=True, max_tokens=60, temperature=0.0, seed=3) as stream:
        deltas = list(stream)
    reply = stream.result
    assert sum(1 for d in deltas if d["audio"]) >= 2 and reply.audio is not None  # arrived in pieces
    heard = client.transcribe(reply.audio, language="en").text
    assert word_error_rate(reply.transcript, heard) <= 0.35
