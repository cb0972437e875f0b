"""What a call does besides its HTTP request, counted rather than timed: the client's overhead over
raw `requests` (benchmarks/bench_client.py) went from 0.99x to 1.22x when every priced call read and
checked the shipped price table again (~0.5 ms, half a loopback call)."""

from __future__ import annotations

import pytest

from nbaudio import Client, Prices
from nbaudio.pricing import ModelPrice
from tests.support.magic_fakes import wav_bytes
from tests.support.signals import tone_pcm16


def test_priced_calls_read_the_shipped_price_table_once(httpserver, monkeypatch):
    httpserver.expect_request("/v1/audio/speech").respond_with_data(wav_bytes(tone_pcm16(0.2, amp=0.3)),
                                                                    content_type="audio/wav")
    read: list[str] = []
    real = ModelPrice.from_dict.__func__

    def counted(cls, d, model="?"):
        read.append(model)
        return real(cls, d, model)

    monkeypatch.setattr(ModelPrice, "from_dict", classmethod(counted))
    with Client(httpserver.url_for("/v1"), max_retries=0) as c:
        first = c.speak("Twelve chars", model="tts-1")  # may read the table (once per process)
        read.clear()
        again = [c.speak("Twelve chars", model="tts-1") for _ in range(3)]
    assert read == []
    assert all(clip.cost.usd == pytest.approx(12 * 15 / 1e6) == first.cost.usd for clip in again)


def test_a_changed_copy_of_the_shipped_table_stays_a_copy():
    mine = Prices.openai()
    mine.models["tts-1"] = ModelPrice(per_1m_characters=1.0)  # type: ignore[index]
    assert Prices.openai().price("tts-1").per_1m_characters == 15.0
    assert Prices.openai(multiplier=0.5).multiplier == 0.5 and Prices.openai().multiplier == 1.0
