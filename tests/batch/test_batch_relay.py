"""A relay that allows a fixed rate and answers 429 / 503 engine_busy with Retry-After beyond it:
every row gets done, the client keeps to the rate without a storm of retries."""

from __future__ import annotations

import pytest

import nbaudio
from tests.batch.conftest import N_FILES
from tests.batch.relay import RateLimitedRelay

RATE = 3  # requests per second the relay allows
# The limiter probes above the rate by design (it grows the concurrency until the relay says
# no), so arrivals (refused ones included) in one second may pass the rate by this factor.
PROBE_TOLERANCE = 2.0
CONCURRENCY = 8
MAX_REFUSED_SHARE = 0.5  # refused answers per input: more than this would be a retry storm


@pytest.fixture
def relay(engine):
    r = RateLimitedRelay(engine.base_url, rate=RATE)
    yield r
    r.close()


def test_a_rate_limited_relay_sets_the_pace(corpus, relay):
    folder, refs, _ = corpus
    client = nbaudio.Client(relay.base_url, api_key="sk-test-relay-key-0000")
    df = nbaudio.transcribe_many(folder, client=client, concurrency=CONCURRENCY, references=refs, language="en")
    assert len(df) == N_FILES and df["error"].isna().all(), df["error"].dropna().tolist()
    assert df.summary.wer is not None and df.summary.wer <= 0.15
    assert relay.refused >= 1 and (df["attempts"] > 1).any()  # the relay did push back
    assert df.summary.stats.throttled == relay.refused
    # What the client sent in any second, refused requests included, stays near the rate (what the
    # relay admitted is capped by the relay itself, so it says nothing about the client), from the
    # first refusal on, once the CONCURRENCY inputs started before any answer came are out: those go
    # as the user asked, and on a loaded machine more of them arrive after the first refusal (7 in
    # a second once in a clean-clone run).
    first_refusal = next(t for t, ok in relay.arrivals if not ok)
    heard = relay.arrivals[CONCURRENCY][0]  # the first input the limiter started after an answer
    assert relay.most_in_window(admitted_only=False, since=max(first_refusal, heard)) <= RATE * PROBE_TOLERANCE
    assert relay.refused <= MAX_REFUSED_SHARE * N_FILES
    assert len(relay.arrivals) == N_FILES + relay.refused  # each input admitted once, nothing else sent
