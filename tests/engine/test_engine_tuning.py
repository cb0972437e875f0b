"""What the engine does for speed and memory (measured in benchmarks/, docs/benchmarks.md) keeps its
results: Whisper runs two transcriptions at once and concurrent requests keep their own token
logprobs; its block-by-block features equal faster-whisper's own (within float rounding); a
streamed chat reply starts speaking at its first phrase and still speaks every word."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import requests

from tests.support.data import SENTENCES

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


class _WatchedSlots:
    """Stands in for a WhisperEngine's `slots` semaphore, passing each acquire on to the real one
    and counting: how many decodes hold a slot at once (`most`), how many had to wait for one
    (`waited`). The first holders keep their slot until two are in and a third has had to wait
    (at most 30 s), so the overlap the test looks for does not depend on timing."""

    def __init__(self, real: threading.BoundedSemaphore) -> None:
        self.real = real
        self.lock = threading.Lock()
        self.inside = self.most = self.waited = 0
        self.go = threading.Event()
        self.gave_up = False  # the 30 s passed without two decodes in and a third waiting

    def __enter__(self):
        if not self.real.acquire(blocking=False):
            with self.lock:
                self.waited += 1
                self._check()
            self.real.acquire()
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
            self._check()
        if not self.go.wait(30):
            self.gave_up = True
            self.go.set()  # stop holding: every later decode would wait its 30 s too
        return self

    def _check(self) -> None:
        # Two decodes in and a third turned away: the holders go on. A third in: nothing left to
        # wait for (the test fails on `most`).
        if (self.inside == 2 and self.waited) or self.inside > 2:
            self.go.set()

    def __exit__(self, *exc):
        with self.lock:
            self.inside -= 1
        self.real.release()


def test_whisper_runs_two_transcriptions_at_once_and_a_third_waits(engine, speech_clips, monkeypatch):
    whisper = engine.app.state.engine.models.whisper("en")
    # two CTranslate2 replicas (sharing the weights), so two decodes really run side by side
    assert whisper.workers == 2 and whisper.model.model.num_workers == 2
    watch = _WatchedSlots(whisper.slots)
    monkeypatch.setattr(whisper, "slots", watch)
    url = engine.base_url + "/audio/transcriptions"

    def post(text: str) -> str:
        r = requests.post(url, files={"file": ("a.wav", speech_clips[text])}, timeout=180,
                          data={"model": "whisper-1", "language": "en"})
        r.raise_for_status()
        return json.loads(r.text)["text"]

    with ThreadPoolExecutor(3) as pool:
        texts = list(pool.map(post, SENTENCES[:3]))
    assert (watch.most, watch.waited >= 1, watch.inside) == (2, True, 0)
    assert not watch.gave_up, "the slots never held two decodes at once while a third waited"
    assert all(t.strip() for t in texts)


@pytest.mark.local  # faster-whisper itself
def test_block_features_match_faster_whisper():
    from faster_whisper.feature_extractor import FeatureExtractor

    from nbaudio.server.models.stt import BlockFeatures

    rng = np.random.default_rng(3)
    # 95.3 s: more than two blocks, a partial last block, a length that is not a whole hop.
    audio = (rng.standard_normal(16000 * 95 + 4801) * np.linspace(0.01, 0.5, 16000 * 95 + 4801)).astype(np.float32)
    ours = BlockFeatures(FeatureExtractor())(audio)
    theirs = FeatureExtractor()(audio)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    assert np.abs(ours - theirs).max() < 1e-5
    short = audio[: 16000 * 20]  # short audio goes to faster-whisper's extractor itself
    assert np.array_equal(BlockFeatures(FeatureExtractor())(short), FeatureExtractor()(short))


@pytest.mark.parametrize("text, first", [
    ("A golden retriever is a beloved breed that has been", "A golden retriever "),  # before its verb
    ("The capital of France is Paris", "The capital of France "),
    ("A spider has eight", ""),  # "A spider" is too short a phrase: wait for the sentence
    ("Dogs are loyal, friendly and calm, and they", "Dogs are loyal, "),
    ("Once upon a time, there was a dragon named", "Once upon a time, "),  # a short first clause is spoken
    ("Yes, it is", ""),  # too short: wait for the sentence
    ("Good dogs wag their tails that", ""),  # "that" may still grow into "thatch"
    # No clause boundary within FIRST_PHRASE_MAX_WORDS: cut before a word that opens a new part.
    ("The dragon who guarded the mountain of gold was a legendary creature with scales",
     "The dragon who guarded the mountain of gold "),
    ("The dragon who guarded the mountain of gold was", ""),  # "was" may still grow: wait
    ("Once upon a time a little grey mouse lived quietly and happily",  # "and" within the limit
     "Once upon a time a little grey mouse lived quietly "),
    ("Eins zwei drei vier fünf sechs sieben acht neun zehn elf zwölf", "Eins zwei drei vier fünf sechs sieben acht "
     "neun zehn "),
])
def test_first_phrase_split(text, first):
    from nbaudio.server.chat.speech import first_phrase

    head, rest = first_phrase(text)
    assert head == first and head + rest == text


def test_a_long_sentence_later_is_spoken_in_longer_clauses():
    from nbaudio.server.chat.speech import SpeakingPace

    pace = SpeakingPace()
    assert pace.feed("Once upon a time, there was a dragon") == "Once upon a time, "
    assert pace.feed(" named Erebo. He guarded gold, silver, copper and iron in a cave high up in the old "
                     "grey mountains with") == "there was a dragon named Erebo. "
    assert pace.feed(" his") == ""  # 19 words: not long yet
    # 20 words pending: cut at the first clause boundary after 5 words or more (not after "gold,")
    assert pace.feed(" two") == "He guarded gold, silver, copper "


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
