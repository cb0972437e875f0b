"""/v1/chat/completions on the real engine: text, audio out, audio ids across turns, input_audio, streaming."""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests

from nbaudio.audio import AudioClip
from tests.support.data import SENTENCES

AUDIO = {"voice": "alloy", "format": "wav"}
SHORT = {"max_tokens": 40, "temperature": 0.2, "seed": 7}


def _raw(oai, **kw):
    return json.loads(oai.chat.completions.with_raw_response.create(**kw).http_response.text)


def test_text_only(oai, validate):
    body = _raw(oai, model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hello."}], **SHORT)
    validate(body, "CreateChatCompletionResponse")
    msg = body["choices"][0]["message"]
    assert msg["content"].strip() and "audio" not in msg
    assert body["usage"]["completion_tokens"] == body["usage"]["completion_tokens_details"]["text_tokens"] > 0


def test_audio_reply_shape_like_relay_example(oai, validate):
    body = _raw(oai, model="gpt-4o-audio-preview", modalities=["text", "audio"], audio=AUDIO,
                messages=[{"role": "user", "content": "Is a golden retriever a good family dog?"}], **SHORT)
    validate(body, "CreateChatCompletionResponse")
    msg = body["choices"][0]["message"]
    assert msg["content"] is None and msg["refusal"] is None
    audio = msg["audio"]
    assert audio["id"].startswith("audio_") and audio["transcript"].strip()
    assert audio["expires_at"] > time.time() + 3000  # about an hour, like OpenAI
    clip = AudioClip.from_base64(audio["data"])
    assert clip.format == "wav" and clip.duration > 0.5
    details = body["usage"]["completion_tokens_details"]
    assert details["audio_tokens"] > 0 and details["text_tokens"] > 0
    assert body["usage"]["completion_tokens"] == details["audio_tokens"] + details["text_tokens"]


def test_three_turns_reference_earlier_audio_ids(oai):
    messages = [{"role": "user", "content": "My dog is called Biscuit. Say his name."}]
    ids = []
    for follow_up in ("What is my dog called?", "Spell the name of my dog."):
        r = oai.chat.completions.create(model="gpt-4o-audio-preview", modalities=["text", "audio"], audio=AUDIO,
                                        messages=messages, **SHORT)
        audio = r.choices[0].message.audio
        ids.append(audio.id)
        messages += [{"role": "assistant", "audio": {"id": audio.id}}, {"role": "user", "content": follow_up}]
    r = oai.chat.completions.create(model="gpt-4o-audio-preview", modalities=["text", "audio"], audio=AUDIO,
                                    messages=messages, **SHORT)
    assert r.choices[0].message.audio.transcript
    assert len(set(ids)) == 2
    # the earlier turns reached the model as their transcripts: the prompt grew with them
    assert r.usage.prompt_tokens > 40


def test_unknown_audio_id_is_openai_shaped_400(engine, validate):
    r = requests.post(engine.base_url + "/chat/completions", json={
        "model": "gpt-4o-audio-preview", "messages": [
            {"role": "user", "content": "Hi"}, {"role": "assistant", "audio": {"id": "audio_doesnotexist"}},
            {"role": "user", "content": "Again"}]})
    assert r.status_code == 400
    validate(r.json(), "ErrorResponse")
    assert "audio_doesnotexist" in r.json()["error"]["message"]
    assert r.json()["error"]["param"] == "messages[1].audio.id"


def test_expired_audio_id(engine):
    from nbaudio import local

    with local.start(models=engine.app.state.engine.models, audio_ttl=1) as short:
        r = requests.post(short.base_url + "/chat/completions", json={
            "model": "gpt-4o-audio-preview", "modalities": ["text", "audio"], "audio": AUDIO,
            "messages": [{"role": "user", "content": "Hello"}], **SHORT})
        audio_id = r.json()["choices"][0]["message"]["audio"]["id"]
        follow = {"model": "gpt-4o-audio-preview", "messages": [
            {"role": "user", "content": "Hello"}, {"role": "assistant", "audio": {"id": audio_id}},
            {"role": "user", "content": "And?"}], **SHORT}
        assert requests.post(short.base_url + "/chat/completions", json=follow).status_code == 200
        time.sleep(2.2)
        r = requests.post(short.base_url + "/chat/completions", json=follow)
    assert r.status_code == 400 and "expired" in r.json()["error"]["message"]


def test_input_audio_turn(oai, speech_clips):
    wav = speech_clips[SENTENCES[2]]
    body = _raw(oai, model="gpt-4o-audio-preview", modalities=["text"], messages=[{"role": "user", "content": [
        {"type": "text", "text": "Answer the question in the audio."},
        {"type": "input_audio", "input_audio": {"data": base64.b64encode(wav).decode(), "format": "wav"}}]}], **SHORT)
    usage = body["usage"]
    assert usage["prompt_tokens_details"]["audio_tokens"] > 0  # the audio was heard
    assert body["choices"][0]["message"]["content"].strip()


def test_input_audio_reaches_the_model_as_text(engine, speech_clips):
    """What the text model is given for an input_audio part: its transcript."""
    from nbaudio.server.chat.input import text_messages

    wav = speech_clips[SENTENCES[3]]
    messages, seconds = text_messages(engine.app.state.engine, [{"role": "user", "content": [
        {"type": "text", "text": "Where do we meet?"},
        {"type": "input_audio", "input_audio": {"data": base64.b64encode(wav).decode(), "format": "wav"}}]}])
    assert seconds > 1.0
    text = messages[0]["content"].lower()
    assert text.startswith("where do we meet?") and "library" in text and "lunch" in text, text


def test_upstream_bridge_adds_speech_to_a_text_endpoint(engine):
    """The engine itself is an OpenAI-compatible text endpoint: bridge a second engine to it (with a key)."""
    from nbaudio import local

    with local.start(models=engine.app.state.engine.models, api_key="upstream-secret") as upstream, \
            local.start(models=engine.app.state.engine.models, chat_upstream=upstream.base_url,
                        chat_upstream_key="upstream-secret", chat_upstream_model="gpt-4o-mini") as bridge:
        r = requests.post(bridge.base_url + "/chat/completions", json={
            "model": "any-upstream-model", "modalities": ["text", "audio"], "audio": {"voice": "nova", "format": "mp3"},
            "messages": [{"role": "user", "content": "Name a colour."}], **SHORT}, timeout=120)
        assert r.status_code == 200, r.text
        audio = r.json()["choices"][0]["message"]["audio"]
        assert audio["transcript"] and AudioClip.from_base64(audio["data"]).format == "mp3"
        # the upstream's own name for the model that answered passes through (here the local model)
        assert r.json()["model"] == LOCAL_MODEL
        r = requests.post(bridge.base_url + "/chat/completions", json={
            "model": "any-upstream-model", "stream": True, "messages": [{"role": "user", "content": "Hi!"}],
            "max_tokens": 5}, timeout=120)
        chunks = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: {")]
        assert chunks and {c["model"] for c in chunks} == {LOCAL_MODEL}
        with local.start(models=engine.app.state.engine.models, chat_upstream=upstream.base_url,
                         chat_upstream_key="wrong") as bad:
            r = requests.post(bad.base_url + "/chat/completions",
                              json={"model": "x", "messages": [{"role": "user", "content": "hi"}]})
        assert r.status_code == 502 and "401" in r.json()["error"]["message"]
        assert "wrong" not in r.text and "upstream-secret" not in r.text


def test_stream_pcm16_assembles_into_audio_matching_its_transcript(oai, validate):
    stream = oai.chat.completions.create(
        model="gpt-4o-audio-preview", modalities=["text", "audio"], audio={"voice": "alloy", "format": "pcm16"},
        messages=[{"role": "user", "content": "Tell me two facts about cats."}], stream=True,
        stream_options={"include_usage": True}, max_tokens=60, temperature=0.2, seed=3)
    pcm, transcript, ids, expires, usage, finish = bytearray(), [], set(), None, None, None
    for chunk in stream:
        raw = chunk.model_dump(exclude_unset=True)
        validate(raw, "CreateChatCompletionStreamResponse")
        if chunk.usage:
            usage = chunk.usage
        for choice in raw["choices"]:
            audio = choice["delta"].get("audio")
            if audio:
                ids.add(audio.get("id"))
                if audio.get("data"):
                    pcm += base64.b64decode(audio["data"])
                transcript.append(audio.get("transcript", ""))
                expires = audio.get("expires_at") or expires
            finish = choice["finish_reason"] or finish
    text = "".join(transcript)
    words = len(text.split())
    seconds = len(pcm) / 2 / 24000
    assert len(ids - {None}) == 1 and expires and finish in ("stop", "length")
    assert len(pcm) % 2 == 0 and words > 3
    # piper speaks about 2.5 words a second; allow a wide band around it
    assert 0.15 * words < seconds < 1.2 * words, (seconds, words, text)
    assert usage.completion_tokens_details.audio_tokens > 0
    clip = AudioClip(bytes(pcm), "pcm")
    assert clip.sample_rate == 24000 and float(abs(clip.samples).max()) > 0.1


def test_stream_text_only(oai):
    stream = oai.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi!"}],
                                         stream=True, max_tokens=20)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text.strip()


LOCAL_MODEL = "smollm2-135m-instruct (local)"  # the engine's default chat model, as replies name it


def test_reply_names_the_local_model_not_the_requested_one(oai):
    """Issue 17: a request may name any OpenAI model, but the reply says which model answered."""
    kw = {"model": "gpt-4o-audio-preview", "messages": [{"role": "user", "content": "Hi!"}], "max_tokens": 5}
    assert _raw(oai, **kw)["model"] == LOCAL_MODEL
    chunks = list(oai.chat.completions.create(**kw, stream=True, stream_options={"include_usage": True}))
    assert chunks and {c.model for c in chunks} == {LOCAL_MODEL}


def test_chat_heading_shows_the_local_model(engine):
    """What a student sees: the reply's heading names the local model, not GPT-4o."""
    import nbaudio
    from nbaudio.display.chat_html import reply_html

    client = nbaudio.Client(engine.base_url, max_retries=0)
    for stream in (False, True):
        reply = client.chat("Hi!", model="gpt-4o-audio-preview", modalities=["text"], max_tokens=5, stream=stream)
        reply = reply.collect() if stream else reply
        html = reply_html(reply, [])
        assert reply.model == LOCAL_MODEL and LOCAL_MODEL in html and "gpt-4o" not in html


def test_the_same_question_gets_the_same_answer(oai):
    """A teacher rehearses a demo: the local model's defaults (temperature 0, seed 0) make it repeatable."""
    ask = [{"role": "user", "content": "Tell me a very short story about a brave little turtle."}]
    first, second = (oai.chat.completions.create(model="gpt-4o-mini", messages=ask, max_tokens=60) for _ in range(2))
    assert first.choices[0].message.content == second.choices[0].message.content


def test_a_reply_cut_by_max_tokens_ends_at_a_full_sentence(oai):
    """Before: "...Sound can be a sound, and it's a" (cut mid-sentence at max_tokens). Now the cut
    falls at the last full sentence, and the finish reason still says the cap was reached."""
    r = oai.chat.completions.create(model="gpt-4o-mini", max_tokens=40, messages=[
        {"role": "user", "content": "Help me plan a science lesson about sound, step by step, in detail."}])
    text = r.choices[0].message.content
    assert r.choices[0].finish_reason == "length" and r.usage.completion_tokens == 40
    assert text.rstrip()[-1] in ".!?", text


def test_a_cancelled_generation_frees_the_model_at_once(engine):
    """A client that leaves (or a cancelled Realtime response) stops the local model at its next
    token, instead of letting it generate on to max_tokens while the next request waits."""
    from nbaudio.server.models.llm import GenParams

    backend = engine.app.state.engine.chat_backend()
    ask = [{"role": "user", "content": "Write a long story about a brave little turtle who travels the world."}]
    uncancelled = backend.generate(ask, GenParams(model="m", max_tokens=80))
    uncancelled.text()
    assert uncancelled.completion_tokens == 80  # nobody cancels: this question runs to the cap
    gen = backend.generate(ask, GenParams(model="m", max_tokens=80))
    events = gen.events()
    for _ in range(3):
        next(events)
    gen.cancel()
    list(events)  # the producer finishes
    assert 3 <= gen.completion_tokens < 20, gen.completion_tokens


@pytest.mark.parametrize("fmt", ["wav", "mp3", "opus", "aac", "flac"])
def test_stream_with_non_pcm16_is_400(engine, fmt):
    r = requests.post(engine.base_url + "/chat/completions", json={
        "model": "gpt-4o-audio-preview", "modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": fmt},
        "stream": True, "messages": [{"role": "user", "content": "Hi"}]})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["param"] == "audio.format" and "pcm16" in err["message"] and err["type"] == "invalid_request_error"
