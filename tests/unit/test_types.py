"""The shared data types: AudioClip decoding/encoding, Transcript formats, ChatReply, SSE."""

from __future__ import annotations

import base64
import io
import json
import struct
import time

import numpy as np
import pytest
import soundfile as sf

from nbaudio import AudioClip, ChatReply, Conversation, Transcript
from nbaudio._wire.sse import SSEParser, format_sse
from nbaudio.audio import as_audio_clip
from nbaudio.chat import ChatStreamAssembler, build_messages
from nbaudio.codec import sniff_format
from nbaudio.errors import APIResponseError, AudioDecodeError, InvalidInputError
from tests.support.data import FIXTURES
from tests.support.signals import tone, tone_pcm16

# A relay's documented example response (vendored by tools/vendor_reference.py, source inside).
RELAY_EXAMPLE = FIXTURES / "relay_chat_audio_example.json"


def streaming_wav(samples: np.ndarray, rate: int) -> bytes:
    """A WAV as streaming servers write it: RIFF and data sizes 0xFFFFFFFF."""
    buf = io.BytesIO()
    sf.write(buf, samples, rate, format="WAV", subtype="PCM_16")
    data = bytearray(buf.getvalue())
    struct.pack_into("<I", data, 4, 0xFFFFFFFF)
    pos = data.find(b"data")
    struct.pack_into("<I", data, pos + 4, 0xFFFFFFFF)
    return bytes(data)


def relay_example() -> dict:
    return json.loads(RELAY_EXAMPLE.read_text(encoding="utf-8"))["body"]


# ---- AudioClip ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3", "opus", "pcm", "aac"])
def test_encode_decode_round_trip(fmt):
    clip = AudioClip.from_array(tone(1.0, amp=0.4), 24000)
    enc = clip.encode(fmt)
    assert enc.format == fmt
    again = AudioClip(enc.data, None if fmt != "pcm" else "pcm")
    assert again.format == fmt
    assert abs(again.duration - 1.0) < 0.08  # codecs pad a little
    # same pitch after the codec: dominant frequency stays at 440 Hz
    s = again.samples if again.samples.ndim == 1 else again.samples[:, 0]
    spectrum = np.abs(np.fft.rfft(s))
    peak = np.argmax(spectrum) * again.sample_rate / len(s)
    assert abs(peak - 440) < 5


def test_streaming_wav_header_like_the_relay_example():
    data = streaming_wav(tone(0.3, amp=0.4), 24000)
    assert base64.b64encode(data[:12]) == b"UklGRv////9XQVZF"
    clip = AudioClip(data)
    assert clip.format == "wav"
    assert clip.sample_rate == 24000
    assert abs(clip.duration - 0.3) < 1e-3
    assert struct.unpack_from("<I", clip.to_wav(), 4)[0] == len(clip.to_wav()) - 8


def test_pcm16_defaults_to_24k_mono_and_drops_odd_byte():
    pcm = tone_pcm16(0.25, amp=0.4) + b"\x01"
    clip = AudioClip(pcm, "pcm")
    assert clip.sample_rate == 24000 and clip.channels == 1
    assert clip.frames == 6000
    assert AudioClip(pcm[:-1], "pcm", sample_rate=16000).duration == pytest.approx(6000 / 16000)


def test_sniffing():
    wav = AudioClip.from_array(tone(0.5, amp=0.4), 16000).data
    assert sniff_format(wav) == "wav"
    assert sniff_format(AudioClip.from_array(tone(0.5, amp=0.4), 16000).encode("flac").data) == "flac"
    assert sniff_format(AudioClip.from_array(tone(0.5, amp=0.4), 16000).encode("mp3").data) == "mp3"
    assert sniff_format(AudioClip.from_array(tone(0.5, amp=0.4), 16000).encode("opus").data) == "opus"
    assert sniff_format(b"hello world") is None


def test_from_array_shapes_and_ints():
    stereo = np.stack([tone(0.5, amp=0.4), tone(0.5, freq=220, amp=0.4)], axis=1)
    assert AudioClip.from_array(stereo, 24000).channels == 2
    assert AudioClip.from_array(stereo.T, 24000).channels == 2  # (channels, frames) accepted
    ints = (tone(0.5, amp=0.4) * 32767).astype(np.int16)
    clip = AudioClip.from_array(ints, 24000)
    assert np.max(np.abs(clip.samples)) == pytest.approx(0.4, abs=1e-3)
    assert clip.mono() is clip


def test_as_audio_clip_accepts_every_input_kind(tmp_path):
    clip = AudioClip.from_array(tone(0.5, amp=0.4), 24000)
    path = clip.save(tmp_path / "a.wav")
    assert as_audio_clip(str(path)).duration == pytest.approx(0.5)
    assert as_audio_clip(path).name == "a.wav"
    assert as_audio_clip(path.read_bytes()).format == "wav"
    with open(path, "rb") as f:
        assert as_audio_clip(f).name == "a.wav"
    assert as_audio_clip((tone(0.5, amp=0.4), 24000)).sample_rate == 24000
    assert as_audio_clip((24000, tone(0.5, amp=0.4))).sample_rate == 24000  # scipy.io.wavfile order
    assert as_audio_clip(clip) is clip


def test_save_converts_by_suffix(tmp_path):
    clip = AudioClip.from_array(tone(0.5, amp=0.4), 24000)
    p = clip.save(tmp_path / "x.flac")
    assert sniff_format(p.read_bytes()) == "flac"
    p = clip.save(tmp_path / "y.ogg", format="opus")
    assert sniff_format(p.read_bytes()) == "opus"


def test_concatenate_and_slice():
    a = AudioClip.from_array(tone(0.5, amp=0.4), 24000)
    b = AudioClip.from_array(tone(0.25, rate=16000, amp=0.4), 16000)
    joined = AudioClip.concatenate([a, b])
    assert joined.sample_rate == 24000
    assert joined.duration == pytest.approx(0.75, abs=2e-3)
    assert joined.slice(0.5).duration == pytest.approx(0.25, abs=2e-3)


def test_corrupt_and_non_audio_are_clear_errors(tmp_path):
    with pytest.raises(AudioDecodeError, match="the data is text, not audio") as text_error:
        AudioClip(b"just some words, clearly not audio\n" * 3)
    assert "pcm" not in str(text_error.value)  # raw PCM is never printable text: no format='pcm' hint
    bad = AudioClip(b"RIFF\x24\x00\x00\x00WAVEfmt garbage", "wav")
    with pytest.raises(AudioDecodeError, match="corrupt"):
        _ = bad.samples  # decoding raises
    assert "wav" in repr(bad)  # repr stays cheap and never raises


def test_repr_is_short_and_cheap():
    clip = AudioClip.from_array(tone(0.5, amp=0.4), 24000)
    assert repr(clip).startswith("<AudioClip wav 0.50 s 24000 Hz mono")
    mp3 = AudioClip(clip.encode("mp3").data)
    r = repr(mp3)
    assert not mp3.is_decoded and "mp3" in r  # not decoded by repr


# ---- Transcript --------------------------------------------------------------------------

VERBOSE = {
    "task": "transcribe", "language": "english", "duration": 8.47, "text": "Hello there. General Kenobi.",
    "segments": [
        {"id": 0, "seek": 0, "start": 0.0, "end": 3.32, "text": " Hello there.", "tokens": [50364, 440],
         "temperature": 0.0, "avg_logprob": -0.286, "compression_ratio": 1.236, "no_speech_prob": 0.009},
        {"id": 1, "seek": 0, "start": 3.5, "end": 8.4, "text": " General Kenobi.", "tokens": [50364, 441],
         "temperature": 0.0, "avg_logprob": -0.2, "compression_ratio": 1.1, "no_speech_prob": 0.01},
    ],
    "words": [{"word": "Hello", "start": 0.0, "end": 0.5}, {"word": "there", "start": 0.6, "end": 1.0},
              {"word": "General", "start": 3.5, "end": 4.0}, {"word": "Kenobi", "start": 4.1, "end": 5.0}],
    "usage": {"type": "duration", "seconds": 9},
}


def test_verbose_json_every_field():
    t = Transcript.from_response(json.dumps(VERBOSE), "verbose_json")
    assert t.text == "Hello there. General Kenobi."
    assert t.language == "english" and t.duration == 8.47
    assert [s.start for s in t.segments] == [0.0, 3.5]
    assert t.segments[0].avg_logprob == -0.286 and t.segments[0].tokens == [50364, 440]
    assert [w.word for w in t.words] == ["Hello", "there", "General", "Kenobi"]
    assert [w.word for w in t.segments[1].words] == ["General", "Kenobi"]
    assert t.usage == {"type": "duration", "seconds": 9}
    again = Transcript.from_dict(t.to_dict("verbose_json"))
    assert again.to_dict("verbose_json") == t.to_dict("verbose_json")


def test_srt_and_vtt_round_trip():
    t = Transcript.from_dict(VERBOSE)
    srt = t.to_srt()
    assert "1\n00:00:00,000 --> 00:00:03,320\nHello there.\n" in srt
    back = Transcript.from_response(srt, "srt")
    assert [(s.start, s.end, s.text) for s in back.segments] == [(0.0, 3.32, "Hello there."),
                                                                  (3.5, 8.4, "General Kenobi.")]
    vtt = t.to_vtt()
    assert vtt.startswith("WEBVTT")
    back = Transcript.from_response(vtt, "vtt")
    assert back.segments[1].start == 3.5 and back.text == "Hello there. General Kenobi."


def test_json_text_and_diarized():
    with_logprobs = Transcript.from_response('{"text": "hi", "logprobs": [{"token": "hi", "logprob": -0.1}]}', "json")
    assert with_logprobs.logprobs[0]["token"] == "hi"
    assert Transcript.from_response("plain words\n", "text").text == "plain words"
    diar = {"task": "transcribe", "duration": 4.0, "text": "A. B.", "segments": [
        {"type": "transcript.text.segment", "id": "seg_0", "start": 0, "end": 2, "text": "A.", "speaker": "agent"},
        {"type": "transcript.text.segment", "id": "seg_1", "start": 2, "end": 4, "text": "B.", "speaker": "customer"}]}
    t = Transcript.from_response(json.dumps(diar), "diarized_json")
    assert t.speakers == ["agent", "customer"]
    assert "<v agent>A.</v>" in t.to_vtt()
    assert Transcript.from_response(t.to_vtt(), "vtt").speakers == ["agent", "customer"]


def test_transcript_errors():
    with pytest.raises(APIResponseError, match="not valid JSON"):
        Transcript.from_response('{"text": "trunc', "json")
    with pytest.raises(APIResponseError, match="no 'text'"):
        Transcript.from_response('{"result": 1}', "json")


def test_join_shifts_times():
    t = Transcript.from_dict(VERBOSE)
    joined = Transcript.join([(0.0, t), (100.0, t)])
    assert joined.segments[2].start == 100.0 and joined.segments[3].id == 3
    assert joined.words[-1].end == 105.0
    assert joined.text.count("Kenobi") == 2


# ---- Chat --------------------------------------------------------------------------------

def test_relay_example_response_every_field():
    body = relay_example()
    wav = streaming_wav(tone(0.4, amp=0.4), 24000)
    assert body["choices"][0]["message"]["audio"]["data"].startswith("UklGRv////9XQVZF")
    body["choices"][0]["message"]["audio"]["data"] = base64.b64encode(wav).decode()
    reply = ChatReply.from_response(body, audio_format="wav")
    assert reply.content is None
    assert reply.text == reply.transcript == "是的,我可以听到你的声音。"
    assert reply.audio_id == "audio_686bb3bec2608191b1d7efbfbd8bdb51"
    assert reply.expires_at == 1751892430
    assert reply.finish_reason == "stop" and reply.model == "gpt-4o-audio-preview-2024-12-17"
    assert reply.id == "chatcmpl-BqebNpDZkLbdiwDBINEDTuUBCQK5L"
    assert reply.audio.format == "wav" and reply.audio.duration == pytest.approx(0.4, abs=1e-3)
    u = reply.usage
    assert (u.prompt_tokens, u.completion_tokens, u.total_tokens) == (27, 67, 94)
    assert (u.completion_audio_tokens, u.completion_text_tokens) == (50, 17)
    assert (u.prompt_audio_tokens, u.prompt_text_tokens, u.cached_tokens) == (0, 27, 0)
    assert "audio 50" in str(u)
    assert reply.expired(now=1751892430 + 1) and not reply.expired(now=1751888829)


def test_conversation_uses_ids_until_expiry_then_transcripts():
    conv = Conversation(system="be brief")
    conv.add_user("Is a golden retriever a good family dog?")
    now = time.time()
    conv.add_reply(ChatReply(transcript="Yes, they are loyal.", audio_id="audio_1", expires_at=int(now + 3600)))
    conv.add_user("Why loyal?")
    msgs = conv.to_messages(now=now)
    assert msgs[2] == {"role": "assistant", "audio": {"id": "audio_1"}}
    later = conv.to_messages(now=now + 7200)
    assert later[2] == {"role": "assistant", "content": "Yes, they are loyal."}
    conv.reject_audio_ids(["audio_1"])
    assert conv.to_messages(now=now)[2]["content"] == "Yes, they are loyal."


def test_conversation_save_and_load(tmp_path):
    conv = Conversation()
    conv.add_user("hi", audio=AudioClip.from_array(tone(0.5, amp=0.4), 24000))
    conv.add_reply(ChatReply(transcript="hello", audio_id="audio_9", expires_at=2_000_000_000,
                             audio=AudioClip(tone_pcm16(0.5, amp=0.4), "pcm")))
    path = conv.save(tmp_path / "c")
    data = json.loads(path.read_text())
    saved = data["turns"][0]["message"]["content"][1]["input_audio"]
    sent = conv.messages[0]["content"][1]["input_audio"]["data"]
    assert "data" not in saved and (tmp_path / saved["file"]).read_bytes() == base64.b64decode(sent)
    assert (tmp_path / data["turns"][1]["reply"]["audio_file"]).exists()
    back = Conversation.load(path)
    assert back.last_reply.audio_id == "audio_9" and back.last_reply.audio.duration == pytest.approx(0.5)
    assert back.messages[0]["content"][1]["input_audio"]["data"] == sent


def test_build_messages_from_each_kind():
    hist, new = build_messages("hello")
    assert hist == [] and new == {"role": "user", "content": "hello"}
    hist, new = build_messages("what is this?", AudioClip.from_array(tone(0.5, amp=0.4), 24000))
    assert new["content"][1]["type"] == "input_audio" and new["content"][1]["input_audio"]["format"] == "wav"
    # flac input is converted: the API takes only wav/mp3
    _, new = build_messages(None, AudioClip.from_array(tone(0.5, amp=0.4), 24000).encode("flac"))
    assert new["content"][0]["input_audio"]["format"] == "wav"
    with pytest.raises(InvalidInputError, match="role"):
        build_messages([{"role": "robot", "content": "x"}])


def test_stream_assembler_with_expires_only_final_chunk():
    pcm = tone_pcm16(0.2, amp=0.4)
    asm = ChatStreamAssembler("pcm16")
    asm.feed({"id": "c1", "choices": [{"index": 0, "delta": {"role": "assistant",
                                                             "audio": {"id": "audio_x", "transcript": "Hel"}}}]})
    asm.feed({"choices": [{"index": 0,
                           "delta": {"audio": {"transcript": "lo", "data": base64.b64encode(pcm[:1001]).decode()}}}]})
    asm.feed({"choices": [{"index": 0, "delta": {"audio": {"data": base64.b64encode(pcm[1001:]).decode()}}}]})
    asm.feed({"choices": [{"index": 0, "delta": {"audio": {"expires_at": 1234}}, "finish_reason": "stop"}]})
    asm.feed({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8,
                                       "completion_tokens_details": {"audio_tokens": 4, "text_tokens": 1}}})
    r = asm.reply()
    assert r.transcript == "Hello" and r.audio_id == "audio_x" and r.expires_at == 1234
    assert r.audio.format == "pcm" and r.audio.duration == pytest.approx(0.2)
    assert r.usage.completion_audio_tokens == 4 and r.finish_reason == "stop"


# ---- SSE ---------------------------------------------------------------------------------

def test_sse_split_at_every_byte_boundary():
    events = [{"type": "speech.audio.delta", "audio": "AAEC"},
              {"type": "speech.audio.done", "usage": {"input_tokens": 1}}]
    raw = b"".join(format_sse(e) for e in events) + b": comment\r\n\r\ndata: [DONE]\r\n\r\n"
    raw = raw.replace(b"\n\n", b"\r\n\r\n", 1)  # mixed line endings, as proxies produce
    for cut in range(1, len(raw)):
        p = SSEParser()
        got = p.feed(raw[:cut]) + p.feed(raw[cut:]) + p.close()
        assert [e.data for e in got][:2] == [json.dumps(e, separators=(",", ":")) for e in events]
        assert got[-1].data == "[DONE]"
    # one byte at a time, multi-line data, event names
    p = SSEParser()
    got = []
    for b in b"event: x\ndata: a\ndata: b\n\ndata: last":
        got += p.feed(bytes([b]))
    got += p.close()
    assert [(e.event, e.data) for e in got] == [("x", "a\nb"), (None, "last")]


@pytest.mark.parametrize("fmt", ["m4a", "webm"])
def test_pyav_formats_decode(fmt):
    clip = AudioClip.from_array(tone(1.0, amp=0.4), 24000).encode(fmt)
    again = AudioClip(clip.data)
    assert again.format == fmt
    assert abs(again.duration - 1.0) < 0.1


def test_pyav_missing_names_the_install(monkeypatch):
    import sys

    data = AudioClip.from_array(tone(0.5, amp=0.4), 24000).encode("aac").data
    monkeypatch.setitem(sys.modules, "av", None)  # as if PyAV were not installed
    from nbaudio.errors import MissingDependencyError

    with pytest.raises(MissingDependencyError, match="pip install av"):
        _ = AudioClip(data).samples  # decoding raises


def test_split_text_sentences_words_then_hard_cuts():
    from nbaudio.longform import split_text

    assert split_text("short", 10) == ["short"]
    assert split_text("One two. Three four five six seven.", 12) == ["One two.", "Three four", "five six", "seven."]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_text("你好。再见！谢谢。", 7) == ["你好。 再见！", "谢谢。"]
    text = "A fairly ordinary sentence, with a clause; and a list: one, two. " * 300
    pieces = split_text(text, 4096)
    assert all(len(p) <= 4096 for p in pieces) and " ".join(pieces).split() == text.split()


def test_text_sniffing_has_one_home_and_survives_a_cut_character():
    """Both who ask "is this text?" (a text file as audio; a server's words where audio was asked)
    use nbaudio._wire.text.looks_like_text; a UTF-8 character cut by the sniffed length is still text."""
    from nbaudio._wire.text import looks_like_text

    body = ("é" * 256 + "more").encode()  # byte 512 falls inside the 257th "é"... and after it
    assert looks_like_text(("x" + "é" * 300).encode())  # the 512-byte sample ends mid-character
    assert looks_like_text(body)
    assert not looks_like_text(bytes(range(256)) * 4)
    assert not looks_like_text(b"")
