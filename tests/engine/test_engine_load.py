"""Load: 200 mixed requests at 8-way concurrency against the embedded engine, with 0 failures;
conversations run side by side never mix their audio ids or transcripts.

Audio is short and chat replies are capped at a few tokens so the run stays about two minutes on
two cores. Clients never retry here (max_retries=0): a refused or failed request counts.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import pytest

import nbaudio
from nbaudio import AudioClip, ChatReply, Conversation, Transcript

pytestmark = pytest.mark.timeout(600)  # ~70 s on two idle cores; generous for a busy machine

WORKERS = 8
TOTAL = 200
MAX_TOKENS = 6  # chat replies: a few words each
# Each conversation talks about its own thing, so their transcripts differ.
TOPICS = ("apples", "bicycles", "comets", "dolphins", "elephants", "fjords", "guitars", "harbours")
TURNS = ("Tell me about {topic}.", "Why do people like {topic}?", "Say one more thing about {topic}.")
SPEECH_FORMATS = ("wav", "mp3", "opus", "flac", "pcm", "aac")
STT_FORMATS = ("json", "verbose_json", "srt")


@pytest.fixture(scope="module")
def question(speech_clips) -> tuple[str, AudioClip]:
    text, wav = next(iter(speech_clips.items()))
    return text, AudioClip(wav)


def run_conversation(client: nbaudio.Client, topic: str) -> tuple[Conversation, list[ChatReply], list[list[str]]]:
    """Three turns; returns the conversation, its replies and the audio ids each turn sent."""
    conv = Conversation()
    replies, sent_ids = [], []
    for turn in TURNS:
        sent_ids.append(conv.audio_ids())
        conv.add_user(turn.format(topic=topic))
        replies.append(client.chat(conv, voice="alloy", max_tokens=MAX_TOKENS, temperature=0.0))
    return conv, replies, sent_ids


def single_requests(question: tuple[str, AudioClip]) -> list[tuple[str, Callable[[nbaudio.Client], Any]]]:
    """The one-shot requests of the mix, each with a check of its own answer."""
    said, clip = question
    first_word = said.split()[1].lower()  # "quick"

    def speech(fmt: str):
        def call(c: nbaudio.Client) -> None:
            out = c.speak(f"Format {fmt} works.", response_format=fmt, voice="nova")
            assert out.format == fmt and out.duration > 0.3, (fmt, out)
        return call

    def transcription(fmt: str):
        def call(c: nbaudio.Client) -> None:
            t = c.transcribe(clip, response_format=fmt)
            assert isinstance(t, Transcript) and first_word in t.text.lower(), (fmt, t.text)
            if fmt != "json":
                assert t.segments and t.segments[-1].end > 1.0
        return call

    def translation(c: nbaudio.Client) -> None:
        t = c.translate(clip, response_format="json")
        assert first_word in t.text.lower(), t.text

    def chat_text(c: nbaudio.Client) -> None:
        reply = c.chat("Name a colour.", modalities=["text"], max_tokens=MAX_TOKENS)
        assert reply.content and reply.audio is None

    def chat_audio(c: nbaudio.Client) -> None:
        reply = c.chat("Name a fruit.", voice="echo", max_tokens=MAX_TOKENS)
        assert reply.transcript and reply.audio.duration > 0.1 and reply.audio_id

    def chat_audio_stream(c: nbaudio.Client) -> None:
        reply = c.chat("Name a tree.", voice="echo", max_tokens=MAX_TOKENS, stream=True).collect()
        assert reply.transcript and reply.audio.duration > 0.1 and reply.audio_id

    # How many of each: Whisper costs about the same for any clip (it reads 30 s windows), so
    # speech, the cheap request, makes up most of the mix.
    mix: list[tuple[str, Callable[[nbaudio.Client], Any], int]] = [
        *((f"speech {f}", speech(f), 15) for f in SPEECH_FORMATS),
        *((f"transcription {f}", transcription(f), 8) for f in STT_FORMATS),
        ("translation", translation, 4), ("chat text", chat_text, 22), ("chat audio", chat_audio, 20),
        ("chat audio stream", chat_audio_stream, 16),
    ]
    return [(name, call) for name, call, count in mix for _ in range(count)]


def test_mixed_load_has_no_failures_and_conversations_never_mix(engine, question):
    store = engine.app.state.engine.store
    local = threading.local()
    clients: list[nbaudio.Client] = []
    lock = threading.Lock()

    def client() -> nbaudio.Client:
        if not hasattr(local, "client"):
            local.client = nbaudio.Client(engine.base_url, max_retries=0, timeout=300)
            with lock:
                clients.append(local.client)
        return local.client

    conversation_requests = len(TOPICS) * len(TURNS)
    singles = single_requests(question)
    assert len(singles) + conversation_requests == TOTAL
    random.Random(9).shuffle(singles)
    # The conversations start among the first requests, so they run side by side with each other
    # and with everything else.
    jobs: list[tuple[str, Callable[[], Any]]] = []
    for i, topic in enumerate(TOPICS):
        jobs.append((f"conversation {topic}", lambda topic=topic: run_conversation(client(), topic)))
        jobs.extend((name, lambda call=call: call(client())) for name, call in singles[i * 2:i * 2 + 2])
    jobs.extend((name, lambda call=call: call(client())) for name, call in singles[len(TOPICS) * 2:])

    failures: list[str] = []
    conversations: dict[str, tuple[Conversation, list[ChatReply], list[list[str]]]] = {}
    done = Counter()
    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            futures = {pool.submit(job): name for name, job in jobs}
            for future in as_completed(futures):
                name = futures[future]
                try:
                    result = future.result()
                except (nbaudio.NbAudioError, AssertionError) as exc:
                    failures.append(f"{name}: {type(exc).__name__}: {exc}")
                    continue
                done[name.split(" ")[0]] += 1
                if name.startswith("conversation"):
                    conversations[name.split(" ", 1)[1]] = result
    finally:
        for c in clients:
            c.close()
    assert not failures, f"{len(failures)} of {len(jobs)} jobs failed:\n" + "\n".join(failures[:10])
    assert len(conversations) == len(TOPICS) and sum(done.values()) == len(jobs)

    all_ids = [r.audio_id for _, replies, _ in conversations.values() for r in replies]
    assert len(set(all_ids)) == len(all_ids) == conversation_requests, "an audio id was handed out twice"
    for topic, (conv, replies, sent_ids) in conversations.items():
        own = [r.audio_id for r in replies]
        # each turn sent exactly this conversation's earlier ids, in order
        assert sent_ids == [own[:k] for k in range(len(TURNS))], topic
        assert conv.audio_ids() == own
        users = [m["content"] for m in conv.messages if m["role"] == "user"]
        assert users == [t.format(topic=topic) for t in TURNS]
        for reply in replies:
            # what the engine will substitute for this id is this conversation's reply
            stored = store.get(reply.audio_id)
            assert stored is not None and stored.transcript == reply.transcript.strip(), (topic, reply)
            assert stored.duration == pytest.approx(reply.audio.duration, abs=0.05)


def test_audio_ids_resolve_to_their_own_conversation(engine):
    """Two conversations interleaved turn by turn: the engine reads each one's earlier turns from
    the ids it was sent, so its prompt (counted in tokens) is the one the transcripts sent as text give."""
    convs = {topic: Conversation() for topic in TOPICS[:2]}

    def turn(c: nbaudio.Client, topic: str, text: str) -> ChatReply:
        convs[topic].add_user(text.format(topic=topic))
        return c.chat(convs[topic], max_tokens=MAX_TOKENS, temperature=0.0)

    with nbaudio.Client(engine.base_url, max_retries=0) as c:
        for text in TURNS[:2]:
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(lambda topic, text=text: turn(c, topic, text), convs))
        for topic, conv in convs.items():
            conv.add_user(TURNS[2].format(topic=topic))
            by_id = conv.to_messages()
            assert [m["audio"]["id"] for m in by_id if m.get("audio")] == conv.audio_ids()
            asked_by_id = c.chat(Conversation(by_id), max_tokens=1)
            asked_by_text = c.chat(Conversation(conv.to_messages(use_audio_ids=False)), max_tokens=1)
            assert asked_by_id.usage.prompt_tokens == asked_by_text.usage.prompt_tokens, topic
