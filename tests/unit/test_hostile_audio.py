"""Hostile audio: truncated headers, sizes that lie, ten hours of silence in 130 kB, decompression
bombs, empty files, wrong extensions. Neither the client nor the engine crashes or runs out of
memory: each gives a clear error or a bounded result. Memory is checked with tracemalloc (numpy
reports its buffers to it), not wall-clock. Every file is built in memory (a FLAC of ten hours
in ~0.2 s). Budget: about 15 s on 2 cores.
"""

from __future__ import annotations

import base64
import contextlib
import struct
import tracemalloc
from collections.abc import Iterator

import numpy as np
import pytest
import requests

import nbaudio
import nbaudio.audio
from nbaudio import local
from nbaudio.audio import AudioClip, decode_mono
from nbaudio.errors import AudioDecodeError, AudioTooLongError, BadRequestError
from tests.support.signals import tone_wav

MB = 1024 * 1024
HOUR = 3600


# ---- hostile files ------------------------------------------------------------------------------
def _crc8(data: bytes) -> int:
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _crc16(data: bytes) -> int:
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc


def _utf8_number(n: int) -> bytes:
    """FLAC frame numbers are coded like UTF-8."""
    if n < 0x80:
        return bytes([n])
    if n < 0x800:
        return bytes([0xC0 | n >> 6, 0x80 | n & 0x3F])
    if n < 0x10000:
        return bytes([0xE0 | n >> 12, 0x80 | n >> 6 & 0x3F, 0x80 | n & 0x3F])
    return bytes([0xF0 | n >> 18, 0x80 | n >> 12 & 0x3F, 0x80 | n >> 6 & 0x3F, 0x80 | n & 0x3F])


def silent_flac(seconds: float, rate: int = 16000, channels: int = 1, declared: int | None = None) -> bytes:
    """A valid FLAC of silence: 65535-sample frames with one CONSTANT subframe each (~15 bytes per
    frame, a 1:17000 ratio). `declared` is the STREAMINFO total (0 = unknown; default: the truth)."""
    block = 65535
    total = int(seconds * rate)
    packed = (rate << 44) | ((channels - 1) << 41) | (15 << 36) | (total if declared is None else declared)
    streaminfo = struct.pack(">HH", block, block) + b"\0" * 6 + packed.to_bytes(8, "big") + b"\0" * 16
    out = [b"fLaC", bytes([0x80, 0, 0, 34]), streaminfo]
    for i in range(-(-total // block)):
        head = bytes([0xFF, 0xF8, 0x70, (channels - 1) << 4]) + _utf8_number(i) + struct.pack(">H", block - 1)
        frame = head + bytes([_crc8(head)]) + b"\0\0\0" * channels  # subframe: CONSTANT 0 (16 bits)
        out.append(frame + struct.pack(">H", _crc16(frame)))
    return b"".join(out)


def lying_wav(seconds: float = 0.5) -> bytes:
    """RIFF and data sizes claiming ~4 GB in front of half a second of samples."""
    wav = bytearray(tone_wav(seconds, 16000, amp=0.3))
    struct.pack_into("<I", wav, 4, 0xFFFFFFF0)
    struct.pack_into("<I", wav, 40, 0xFFFFFF00)
    return bytes(wav)


SHORT_WAV = tone_wav(0.1, 16000, amp=0.3)
TRUNCATED = {
    "riff-only": b"RIFF\x24\x00\x00\x00WAVE",
    "wav-fmt-cut": SHORT_WAV[:30],
    "flac-streaminfo-cut": silent_flac(1)[:20],
    "ogg-page-cut": b"OggS\x00\x02" + b"\x00" * 20,
    "mp3-id3-only": b"ID3\x04\x00\x00\x00\x00\x00\x00",
    "wav-zero-rate": SHORT_WAV[:24] + b"\x00\x00\x00\x00" + SHORT_WAV[28:],
}


@pytest.fixture(scope="module")
def ten_hours() -> bytes:
    data = silent_flac(10 * HOUR)
    assert len(data) < 200_000  # ten hours on the wire in ~130 kB: 2.3 GB once decoded
    return data


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """Ten hours of silence whose header does not say how long it is (total_samples 0)."""
    return silent_flac(10 * HOUR, declared=0)


@contextlib.contextmanager
def traced() -> Iterator[dict[str, int]]:
    """Records the peak of traced allocations (numpy buffers included) inside the block as ["peak"]."""
    box: dict[str, int] = {}
    tracemalloc.start()
    try:
        yield box
    finally:
        box["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


# ---- client: AudioClip -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(TRUNCATED))
def test_truncated_headers_are_clear_decode_errors(name):
    data = TRUNCATED[name]
    with pytest.raises(AudioDecodeError, match="corrupt|truncated|no audio|no samples|empty") as info:
        _ = AudioClip(data).samples  # decoding raises
    assert "Traceback" not in str(info.value)


def test_empty_bytes_say_so():
    with pytest.raises(AudioDecodeError, match="empty"):
        nbaudio.audio.as_audio_clip(b"")


def test_lying_wav_sizes_decode_what_is_there():
    clip = AudioClip(lying_wav(0.5))
    assert clip.frames == 8000 and clip.sample_rate == 16000


def test_ten_hour_flac_is_refused_from_its_header(ten_hours):
    with traced() as mem, pytest.raises(AudioTooLongError) as info:
        _ = AudioClip(ten_hours).samples  # refused from its header, before decoding
    assert "10.0 h" in info.value.message and "MAX_DECODED_BYTES" in info.value.message
    assert mem["peak"] < 5 * MB  # nothing was decoded


def test_flac_bomb_stops_at_the_decode_limit(bomb, monkeypatch):
    monkeypatch.setattr(nbaudio.audio, "MAX_DECODED_BYTES", 32 * MB)
    with traced() as mem, pytest.raises(AudioTooLongError, match="holds more than"):
        _ = AudioClip(bomb).samples  # decoding raises
    assert 16 * MB < mem["peak"] < 2 * 32 * MB + 4 * MB  # decoded up to the limit (traced), not 2.3 GB


def test_display_of_a_hostile_clip_explains_instead_of_crashing(ten_hours):
    with traced() as mem:
        bundle = AudioClip(ten_hours, name="night.flac")._repr_mimebundle_()
    assert "cannot be shown" in bundle["text/html"] and "10.0 h" in bundle["text/html"]
    assert mem["peak"] < 5 * MB


def test_wrong_extension_is_sniffed(tmp_path):
    path = tmp_path / "speech.mp3"
    path.write_bytes(silent_flac(1))
    clip = AudioClip.from_file(path)
    assert clip.format == "flac" and clip.frames == 16000


# ---- engine decoding --------------------------------------------------------------------------------
def test_engine_decoding_refuses_a_long_header_at_once(ten_hours):
    with traced() as mem, pytest.raises(AudioTooLongError, match="declares 10.0 h"):
        decode_mono(AudioClip(ten_hours), 16000, max_seconds=HOUR)
    assert mem["peak"] < 5 * MB


def test_engine_decoding_of_a_bomb_is_bounded_by_max_seconds(bomb):
    with traced() as mem, pytest.raises(AudioTooLongError, match="holds more than"):
        decode_mono(AudioClip(bomb), 16000, max_seconds=600)
    ten_minutes = 600 * 16000 * 4  # bytes of 16 kHz float32
    assert ten_minutes / 2 < mem["peak"] < ten_minutes + 8 * MB  # not ten hours' 2.3 GB


def test_engine_decoding_resamples_and_mixes_down_in_blocks():
    stereo = np.stack([np.linspace(-0.5, 0.5, 48000 * 3), np.zeros(48000 * 3)], axis=1)
    clip = AudioClip(AudioClip.from_array(stereo, 48000, format="flac").data)
    out = decode_mono(clip, 16000, max_seconds=10)
    assert out.dtype == np.float32 and abs(len(out) - 16000 * 3) <= 2
    whole = nbaudio.codec.resample(clip.mono().samples, 48000, 16000)
    assert np.max(np.abs(out[100:-100] - whole[100:-100])) < 1e-3  # same as decoding it all at once


# ---- engine over HTTP -------------------------------------------------------------------------------
def _upload(engine, data: bytes, name: str, **fields) -> requests.Response:
    return requests.post(engine.base_url + "/audio/transcriptions", timeout=120,
                         files={"file": (name, data, "application/octet-stream")},
                         data={"model": "whisper-1", **fields})


def _error(r: requests.Response, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:300])
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"} and "Traceback" not in r.text
    return err


@pytest.mark.parametrize("name", sorted(TRUNCATED))
def test_engine_truncated_uploads_are_400(engine, name):
    err = _error(_upload(engine, TRUNCATED[name], f"{name}.bin"), 400)
    assert err["param"] == "file"


def test_engine_ten_hours_and_bomb_are_400_audio_too_long(engine, ten_hours, bomb):
    for data in (ten_hours, bomb):
        err = _error(_upload(engine, data, "night.flac"), 400)
        assert err["code"] == "audio_too_long" and err["param"] == "file"
        assert "max_audio_seconds" in err["message"] and "Split" in err["message"]


def test_engine_lying_sizes_give_a_bounded_result(engine):
    r = _upload(engine, lying_wav(0.5), "lie.wav", response_format="verbose_json")
    assert r.status_code == 200, r.text
    assert r.json()["duration"] == pytest.approx(0.5, abs=0.05)
    # A FLAC whose header says one second but which holds ten hours: the header bounds the decode.
    r = _upload(engine, silent_flac(10 * HOUR, declared=16000), "short.flac", response_format="verbose_json")
    assert r.status_code == 200 and r.json()["duration"] == pytest.approx(1.0, abs=0.05)


def test_engine_empty_and_wrongly_named_files(engine):
    assert _error(_upload(engine, b"", "empty.wav"), 400)["code"] == "empty_file"
    assert _error(_upload(engine, b"just some notes\n" * 50, "notes.wav"), 415)["code"] == "unsupported_file_format"
    wav = tone_wav(0.5, 16000, amp=0.3)
    r = _upload(engine, wav, "tone.mp3", response_format="verbose_json")  # a WAV called .mp3
    assert r.status_code == 200 and r.json()["duration"] == pytest.approx(0.5, abs=0.05)


def test_client_gets_a_clear_error_for_ten_hours(engine, ten_hours):
    with pytest.raises(BadRequestError) as info:
        nbaudio.Client(engine.base_url, max_retries=0).transcribe(ten_hours)
    assert info.value.code == "audio_too_long" and "10.0 h" in info.value.message


def test_chat_input_audio_is_bounded_too(engine):
    with local.start(models=engine.app.state.engine.models, max_audio_seconds=2) as server:
        wav = tone_wav(3, 16000, amp=0.3)
        part = {"type": "input_audio", "input_audio": {"data": base64.b64encode(wav).decode(), "format": "wav"}}
        r = requests.post(server.base_url + "/chat/completions", timeout=60, json={
            "model": "gpt-4o-audio-preview", "messages": [{"role": "user", "content": [part]}]})
        err = _error(r, 400)
        assert err["code"] == "audio_too_long" and err["param"] == "messages[0].content[0].input_audio.data"
