"""Costs: the shipped price table (its source and date), `reply.cost`, `transcript.cost` and
`clip.cost` worked out from what each answer reports, a client's own prices and a relay's
multiplier, "free (local)" only for the engine, and "unknown" (never a number) without a price
or a usage."""

from __future__ import annotations

import json

import pytest
import requests
from werkzeug import Request, Response

import nbaudio
from nbaudio import AudioClip, Client, Prices
from nbaudio._wire.spec import ENGINE_HEADER
from nbaudio.batch.summary import render_bundle
from nbaudio.errors import InvalidInputError
from nbaudio.pricing import Cost, ModelPrice, speech_cost, total_cost, transcription_cost
from tests.support.magic_fakes import wav_bytes
from tests.support.signals import tone_pcm16

CLIP = AudioClip(wav_bytes(tone_pcm16(0.5, amp=0.3)), "wav")


def test_the_shipped_table_says_where_and_when():
    p = Prices.openai()
    assert p.read_on and p.source and "OpenAI" in p.source and p.read_on in p.describe()
    for name in ("whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe", "tts-1", "tts-1-hd", "gpt-4o-mini-tts",
                 "gpt-4o-audio-preview", "gpt-audio", "gpt-4o-mini-audio-preview", "gpt-4o-realtime-preview"):
        price = p.price(name)
        assert price is not None and price.source.startswith("https://") and price.given(), name
    assert p.price("whisper-1").per_minute == 0.006 and p.price("tts-1").per_1m_characters == 15.0
    assert p.price("gpt-4o-mini-tts-2025-12-15") is p.price("gpt-4o-mini-tts")  # a dated snapshot
    assert p.price("openai/whisper-1") is p.price("whisper-1")  # a relay's provider prefix
    assert p.price("no-such-model") is None


def test_costs_from_what_the_answer_reports():
    p = Prices.openai()
    assert speech_cost(p, "tts-1-hd", 2000).usd == pytest.approx(2000 * 30 / 1e6)
    assert transcription_cost(p, "whisper-1", {"type": "duration", "seconds": 90}, None).usd == pytest.approx(0.009)
    assert transcription_cost(p, "whisper-1", None, 30.0).usd == pytest.approx(0.003)  # the audio's length
    usage = {"type": "tokens", "input_tokens": 120, "input_token_details": {"text_tokens": 20, "audio_tokens": 100},
             "output_tokens": 50, "total_tokens": 170}
    assert transcription_cost(p, "gpt-4o-transcribe", usage, None).usd == pytest.approx(
        (20 * 2.5 + 100 * 6 + 50 * 10) / 1e6)


@pytest.mark.parametrize("cost", [
    speech_cost(Prices.openai(), "gpt-4o-mini-tts", 100),  # priced by tokens, /audio/speech reports none
    transcription_cost(Prices.openai(), "gpt-4o-transcribe", None, 30.0),  # no token usage
    transcription_cost(Prices.openai(), "whisper-1", None, None),  # no length
    transcription_cost(Prices.openai(), "my-own-model", {"type": "duration", "seconds": 3}, 3.0),
    transcription_cost(Prices.openai(), "gpt-4o-transcribe", {"type": "tokens", "input_tokens": -1}, None),
    transcription_cost(Prices.openai(), "whisper-1", {"type": "duration", "seconds": 1e308}, None),  # no length
    transcription_cost(Prices.openai(), "whisper-1", {"type": "duration", "seconds": float("nan")}, None),
])
def test_unknown_is_said_never_guessed(cost):
    assert cost.usd is None and str(cost) == "unknown" and cost.basis


def test_sums_relays_and_prices_of_your_own():
    relay = Prices.openai(multiplier=0.5)
    c = transcription_cost(relay, "whisper-1", {"type": "duration", "seconds": 60}, None)
    assert c.usd == pytest.approx(0.003) and "0.5 (relay)" in c.basis
    own = Prices.openai(overrides={"whisper-1": {"per_minute": 0.004}, "my-model": {"per_1m_characters": 1}})
    assert own.price("whisper-1").per_minute == 0.004 and speech_cost(own, "my-model", 10**6).usd == 1.0
    assert str(total_cost([Cost(0.01, "a"), Cost.unknown("b")])) == "unknown"
    assert sum([Cost(0.01, "a"), Cost(0.02, "b")]).usd == pytest.approx(0.03)
    assert str(total_cost([Cost.local(), Cost.local()])) == "free (local)"


@pytest.mark.parametrize("bad", [{"whisper-1": {"per_minute": -1}}, {"whisper-1": {"per_minute": "cheap"}},
                                 {"whisper-1": {"per_hour": 1}}, {"whisper-1": 3}, ["whisper-1"]])
def test_hostile_prices_are_refused_before_any_call(bad):
    with pytest.raises(InvalidInputError):
        Client("http://127.0.0.1:9/v1", prices=bad)
    with pytest.raises(InvalidInputError):
        Prices.openai(multiplier=float("nan"))


def test_transcript_and_reply_costs_on_a_server(httpserver):
    usage = {"type": "tokens", "input_tokens": 100, "input_token_details": {"text_tokens": 0, "audio_tokens": 100},
             "output_tokens": 10, "total_tokens": 110}
    httpserver.expect_request("/v1/audio/transcriptions").respond_with_json({"text": "hello", "usage": usage})

    def chat(request: Request) -> Response:
        body = {"model": "gpt-audio-2025-08-28", "choices": [{"index": 0, "finish_reason": "stop", "message": {
            "role": "assistant", "content": "hi"}}],
            "usage": {"prompt_tokens": 30, "completion_tokens": 5, "total_tokens": 35,
                      "prompt_tokens_details": {"text_tokens": 10, "audio_tokens": 20},
                      "completion_tokens_details": {"text_tokens": 5, "audio_tokens": 0}}}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/v1/chat/completions").respond_with_handler(chat)
    with Client(httpserver.url_for("/v1"), max_retries=0, prices={"gpt-audio": {"text_input_per_1m": 3}}) as c:
        with pytest.warns(UserWarning, match="returns only json"):
            t = c.transcribe(CLIP, model="gpt-4o-mini-transcribe")
        reply = c.chat("hello", modalities=["text"])
    assert t.model == "gpt-4o-mini-transcribe" and t.cost.usd == pytest.approx((100 * 3 + 10 * 5) / 1e6)
    assert reply.cost.usd == pytest.approx((10 * 3 + 20 * 32 + 5 * 10) / 1e6)  # the client's text price, OpenAI's rest
    html = reply._repr_mimebundle_()["text/html"]
    assert f"cost: {reply.cost}" in html
    assert f"gpt-4o-mini-transcribe: {t.cost}" in t._repr_mimebundle_()["text/html"]


def test_speech_cost_and_the_engines_stamp(httpserver):
    wav = wav_bytes(tone_pcm16(0.2, amp=0.3))
    httpserver.expect_request("/v1/audio/speech").respond_with_data(wav, content_type="audio/wav")
    with Client(httpserver.url_for("/v1"), max_retries=0) as c:
        clip = c.speak("Twelve chars", model="tts-1")
    assert clip.cost.usd == pytest.approx(12 * 15 / 1e6)
    assert f"cost {clip.cost}" in clip._repr_mimebundle_()["text/html"]
    httpserver.clear()
    httpserver.expect_request("/v1/audio/speech").respond_with_data(wav, content_type="audio/wav",
                                                                    headers={ENGINE_HEADER: "local"})
    with Client(httpserver.url_for("/v1"), max_retries=0) as c:
        assert str(c.speak("Twelve chars", model="tts-1").cost) == "free (local)"



def test_a_streamed_clip_has_its_cost_too(httpserver):
    wav = wav_bytes(tone_pcm16(0.2, amp=0.3))
    httpserver.expect_request("/v1/audio/speech").respond_with_data(wav, content_type="audio/wav")
    with Client(httpserver.url_for("/v1"), max_retries=0) as c:
        stream = c.speak("Twelve chars", model="tts-1", stream=True)
        assert stream.collect().cost.usd == pytest.approx(12 * 15 / 1e6) and stream.result.cost is stream.cost


def test_the_engines_stamp_counts_only_over_loopback():
    resp = requests.Response()
    resp.headers[ENGINE_HEADER] = "local"
    assert Client("https://api.example.com/v1", api_key="sk-x").price_table(resp).local is False
    assert Client("http://127.0.0.1:9/v1").price_table(resp).local is True
    assert Client("http://127.0.0.1:9/v1").price_table(requests.Response()).local is False


def test_the_batch_summary_adds_the_rows_costs():
    from nbaudio.batch.runner import RunStats
    from nbaudio.batch.summary import summarize

    rows = [{"source": "a", "text": "x", "cost": "$0.01", "cost_usd": 0.01, "error": None},
            {"source": "b", "text": "y", "cost": "unknown", "cost_usd": None, "error": None}]
    summary = summarize("transcribe", rows, RunStats(inputs=2))
    assert summary.cost == "$0.0100 (+ 1 row unknown: no usage or no price)"
    assert "cost: $0.0100" in render_bundle(summary, rows, "")["text/plain"]
    free = [{"cost": "free (local)", "cost_usd": 0.0, "error": None}]
    assert summarize("transcribe", free, RunStats(inputs=1)).cost == "free (local)"


def test_prices_are_public():
    assert nbaudio.Prices is Prices and isinstance(Prices.openai().price("tts-1"), ModelPrice)
