"""Whisper runs several transcriptions at once (two CTranslate2 workers) and computes features block
by block: concurrent requests keep their own token logprobs, and the block features equal
faster-whisper's own (within float rounding)."""

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
