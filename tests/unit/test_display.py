"""Notebook display: mimebundles, the compact player, the size cap, escaping, waveforms."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from nbaudio import AudioClip, ChatReply, Conversation, Segment, Transcript, Word, display
from nbaudio.chat import Usage
from nbaudio.errors import InvalidInputError, MissingDependencyError
from tests.support.signals import tone, voiced_speech

RATE = 24000
DATA_AUDIO = re.compile(r'src="data:(audio/[a-z0-9.+-]+);base64,([A-Za-z0-9+/=]+)"')
DATA_PNG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
EVIL = '<script>alert("x")</script>'
EVIL_ATTR = '"><img src=x onerror=alert(1)>'


@pytest.fixture(autouse=True)
def _fresh_player_cache():
    """Each test makes its own player copies (the shared cache would carry them across tests)."""
    display.clear_cache()
    yield
    display.clear_cache()


@pytest.fixture
def speech() -> AudioClip:
    return AudioClip.from_array(voiced_speech(4.0, RATE), RATE, name="speech.wav")


@pytest.fixture
def transcript(speech: AudioClip) -> Transcript:
    segments = [
        Segment(0, 0.0, 1.5, " Hello there.", speaker="A",
                words=[Word(" Hello", 0.0, 0.6, 0.9), Word(" there.", 0.6, 1.4)]),
        Segment(1, 1.5, 2.8, " General Kenobi.", speaker="B"),
        Segment(2, 2.8, 4.0, " You are a bold one.", speaker="A"),
    ]
    return Transcript(text="Hello there. General Kenobi. You are a bold one.", language="en", duration=4.0,
                      segments=segments, audio=speech)


def usage() -> Usage:
    return Usage.from_dict({"prompt_tokens": 20, "completion_tokens": 50, "total_tokens": 70,
                            "prompt_tokens_details": {"text_tokens": 20, "audio_tokens": 0},
                            "completion_tokens_details": {"text_tokens": 12, "audio_tokens": 38}})


def player_bytes(html_text: str) -> tuple[str, bytes]:
    found = DATA_AUDIO.findall(html_text)
    assert len(found) == 1, f"expected one embedded player, found {len(found)}"
    mime, b64 = found[0]
    return mime, base64.b64decode(b64)


class TagCollector(HTMLParser):
    """Every tag with its attributes, and all text, as a browser's parser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if not self._in_script:
            self.text.append(data)


def parse(html_text: str) -> TagCollector:
    p = TagCollector()
    p.feed(html_text)
    p.close()
    return p


# ---- AudioClip -----------------------------------------------------------------------------
def test_clip_bundle_has_html_player_waveform_caption_and_plain(speech):
    bundle = speech._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    assert bundle["text/plain"] == repr(speech)
    page = bundle["text/html"]
    mime, data = player_bytes(page)
    assert mime == "audio/ogg"
    player = AudioClip(data)
    assert player.format == "opus"
    assert player.duration == pytest.approx(speech.duration, abs=0.05)
    (png_b64,) = DATA_PNG.findall(page)
    assert base64.b64decode(png_b64)[:8] == b"\x89PNG\r\n\x1a\n"
    text = " ".join(parse(page).text)
    for expected in ("speech.wav", "4.00 s", "24,000 Hz", "mono", "WAV", "Opus 24 kHz"):
        assert expected in text


def test_player_is_much_smaller_than_wav_and_stored_once(speech):
    bundle = display.mimebundle(speech)
    _, data = player_bytes(bundle["text/html"])
    assert len(data) < 0.2 * len(speech.to_wav())
    b64 = base64.b64encode(data).decode()
    assert sum(v.count(b64) for v in bundle.values()) == 1
    assert not any(k.startswith("audio/") for k in bundle)


def test_player_keeps_already_compact_audio_as_is(speech):
    opus = speech.encode("opus")
    _, data = player_bytes(display.mimebundle(opus)["text/html"])
    assert data == opus.data


def test_player_sample_rate_is_capped_for_speech():
    clip = AudioClip.from_array(voiced_speech(1.0, 48000), 48000)
    assert display.player_clip(clip).sample_rate == 24000
    with display.options.override(player_sample_rate=None):
        assert display.player_clip(clip).sample_rate == 48000
    low = AudioClip.from_array(voiced_speech(1.0, 11025), 11025)
    assert display.player_clip(low).sample_rate == 12000  # the next rate Opus supports


@pytest.mark.parametrize("fmt, mime", [("mp3", "audio/mpeg"), ("wav", "audio/wav")])
def test_player_format_option(speech, fmt, mime):
    with display.options.override(player_format=fmt):
        got_mime, data = player_bytes(display.mimebundle(speech)["text/html"])
    assert got_mime == mime
    assert AudioClip(data).format == fmt


def test_player_original_format_embeds_the_clip_bytes(speech):
    with display.options.override(player_format="original"):
        _, data = player_bytes(display.mimebundle(speech)["text/html"])
    assert data == speech.data


def test_player_falls_back_when_codecs_are_missing(speech, monkeypatch):
    real_encode = AudioClip.encode
    missing = {"opus"}

    def encode(self, fmt, *, sample_rate=None):
        if fmt in missing:
            raise MissingDependencyError(f"no {fmt} here")
        return real_encode(self, fmt, sample_rate=sample_rate)

    monkeypatch.setattr(AudioClip, "encode", encode)
    assert display.player_clip(speech).format == "mp3"
    missing.add("mp3")
    display.clear_cache()  # a copy is made once per audio; a new clip of new audio tries again
    fresh = AudioClip.from_array(speech.samples * 0.5, RATE)
    fallback = display.player_clip(fresh)
    assert fallback.format == "wav"
    assert fallback.sample_rate == RATE


# ---- size cap -------------------------------------------------------------------------------
def test_size_cap_saves_beside_notebook_and_links(speech, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with display.options.override(max_inline_bytes=1000):
        bundle = display.mimebundle(speech)
        again = display.mimebundle(speech)
    page = bundle["text/html"]
    assert "data:audio" not in page
    saved = list((tmp_path / "nbaudio_media").iterdir())
    # over the cap nothing is encoded: the clip's own WAV is the player file
    assert len(saved) == 1 and saved[0].name.startswith("speech-") and saved[0].suffix == ".wav"
    assert saved[0].read_bytes() == speech.data
    assert again == bundle  # same name, written once
    audio_tags = [attrs for tag, attrs in parse(page).tags if tag == "audio"]
    assert audio_tags[0]["src"] == f"nbaudio_media/{saved[0].name}"
    assert AudioClip.from_file(saved[0]).duration == pytest.approx(speech.duration, abs=0.05)
    for output in (page, bundle["text/plain"]):
        assert "not embedded" in output and "max_inline_bytes" in output and saved[0].name in output
    # the waveform is still inline, only the audio moved out
    assert DATA_PNG.search(page)


def test_size_cap_not_reached_embeds(speech, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with display.options.override(max_inline_bytes=10_000_000):
        page = display.mimebundle(speech)["text/html"]
    player_bytes(page)
    assert not (tmp_path / "nbaudio_media").exists()


def test_size_cap_reports_a_failed_save(speech, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "blocker").write_text("a file where the folder should be")
    with display.options.override(max_inline_bytes=1000, media_dir="blocker"):
        bundle = display.mimebundle(speech)
    assert "<audio" not in bundle["text/html"]
    assert "saving it to blocker/" in bundle["text/plain"] and "failed" in bundle["text/plain"]


# ---- escaping -------------------------------------------------------------------------------
def assert_inert(page: str, *texts: str) -> None:
    """Only our own scripts, no injected tags or handlers, and the texts shown as text."""
    doc = parse(page)
    for tag, attrs in doc.tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert not (tag == "img" and attrs.get("src") == "x")
        if tag == "script":
            assert "document.currentScript" in page
    assert page.count("<script>") == page.count("document.currentScript")
    shown = "".join(doc.text)
    for text in texts:
        assert text.strip() in shown


def test_transcript_with_script_renders_as_text(speech):
    t = Transcript(text=EVIL, language=EVIL_ATTR, segments=[
        Segment(0, 0.0, 1.0, EVIL, speaker=EVIL_ATTR, words=[Word(EVIL, 0.0, 0.5)]),
        Segment(1, 1.0, 2.0, "fine & <b>bold</b>"),
    ], audio=AudioClip.from_array(tone(2.0), RATE, name=EVIL_ATTR))
    page = display.mimebundle(t)["text/html"]
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert_inert(page, EVIL, EVIL_ATTR, "fine & <b>bold</b>")


def test_plain_transcript_escapes(speech):
    page = display.mimebundle(Transcript(text=EVIL, words=[Word(EVIL_ATTR, 0.0, 0.5)]))["text/html"]
    assert "<script" not in page  # no audio: no script of ours either
    assert_inert(page, EVIL, EVIL_ATTR)


def test_chat_reply_and_conversation_escape(speech):
    reply = ChatReply(content=EVIL, audio=speech, audio_id=EVIL_ATTR, model=EVIL_ATTR, finish_reason=EVIL,
                      usage=usage(), tool_calls=[{"id": "1", "type": "function",
                                                  "function": {"name": EVIL, "arguments": EVIL_ATTR}}])
    assert_inert(display.mimebundle(reply)["text/html"], EVIL, EVIL_ATTR)
    conv = Conversation(system=EVIL)
    conv.add_user(EVIL_ATTR)
    conv.add_reply(reply)
    page = display.mimebundle(conv)["text/html"]
    assert_inert(page, EVIL, EVIL_ATTR)


# ---- Transcript ---------------------------------------------------------------------------
def test_transcript_table_with_player_above(transcript):
    bundle = transcript._repr_mimebundle_()
    page = bundle["text/html"]
    assert bundle["text/plain"] == repr(transcript)
    assert page.index("<audio") < page.index("<table")
    doc = parse(page)
    rows = [a for tag, a in doc.tags if tag == "tr" and "nbaudio-seg" in (a.get("class") or "")]
    assert [(r["data-start"], r["data-end"]) for r in rows] == [("0.000", "1.500"), ("1.500", "2.800"),
                                                                 ("2.800", "4.000")]
    seek_targets = [a["data-t"] for tag, a in doc.tags if "nbaudio-ts" in (a.get("class") or "")]
    assert seek_targets[:3] == ["0.000", "0.000", "0.600"]  # first row, then its two words
    text = " ".join(doc.text)
    assert "0:00.00–0:01.50" in text and "General Kenobi." in text
    assert "speaker" in text and "2 speakers" in text and "2 words" in text
    assert any(tag == "details" for tag, _ in doc.tags)
    assert "<script>" in page  # seek/highlight wiring is present


def test_transcript_without_speakers_or_audio(transcript):
    t = Transcript(text="a b", segments=[Segment(0, 0.0, 1.0, "a"), Segment(1, 1.0, 2.0, "b")])
    page = display.mimebundle(t)["text/html"]
    assert "speaker" not in page
    assert "<audio" not in page and "<script" not in page


def test_transcript_rows_are_capped(transcript):
    t = Transcript(text="", segments=[Segment(i, i, i + 1, f"s{i}") for i in range(30)])
    with display.options.override(max_rows=10):
        page = display.mimebundle(t)["text/html"]
    assert page.count('class="nbaudio-seg"') == 10
    assert "20 more segments" in page


def test_long_transcript_uses_hours(transcript):
    t = Transcript(text="", segments=[Segment(0, 3700.0, 3702.5, "late")])
    assert "1:01:40.00–1:01:42.50" in display.mimebundle(t)["text/html"]


# ---- chat -----------------------------------------------------------------------------------
def test_chat_reply_shows_transcript_player_and_usage(speech):
    reply = ChatReply(transcript="Golden retrievers are gentle.", audio=speech, audio_id="audio_1",
                      usage=usage(), model="gpt-4o-audio-preview", finish_reason="stop")
    bundle = reply._repr_mimebundle_()
    assert bundle["text/plain"] == repr(reply)
    page = bundle["text/html"]
    player_bytes(page)
    text = " ".join(parse(page).text)
    assert "(spoken)" in text and "Golden retrievers are gentle." in text
    assert "completion 50 (text 12, audio 38)" in text and "gpt-4o-audio-preview" in text
    assert "finish" not in text  # "stop" is the normal ending, not worth a word


def test_conversation_shows_every_turn_in_order(speech):
    conv = Conversation(system="Be brief.")
    conv.add_user("Is a golden retriever a good family dog?")
    conv.add_reply(ChatReply(transcript="Yes, very.", audio=speech, audio_id="audio_1", usage=usage()))
    conv.add_user("And this sound?", audio=speech.slice(0, 1))
    page = display.mimebundle(conv)["text/html"]
    text = "".join(parse(page).text)
    order = [text.index(s) for s in ("Be brief.", "golden retriever", "Yes, very.", "And this sound?")]
    assert order == sorted(order)
    assert len(DATA_AUDIO.findall(page)) == 2  # the reply's audio and the user's input_audio
    assert display.mimebundle(conv)["text/plain"] == repr(conv)


def test_empty_conversation():
    assert "empty conversation" in display.mimebundle(Conversation())["text/html"]


# ---- mimebundle mechanics ---------------------------------------------------------------------
def test_exclude_html_gives_png_and_plain(transcript):
    bundle = display.mimebundle(transcript, exclude={"text/html"})
    assert set(bundle) == {"image/png", "text/plain"}
    assert base64.b64decode(bundle["image/png"])[:4] == b"\x89PNG"
    assert set(display.mimebundle(transcript, include={"text/plain"})) == {"text/plain"}


def test_mimebundle_is_deterministic_and_quiet(speech, capsys):
    import matplotlib.pyplot as plt

    figs = plt.get_fignums()
    before = dict(display.options.__dict__)
    first = display.mimebundle(speech)
    assert display.mimebundle(speech) == first
    assert capsys.readouterr() == ("", "")
    assert plt.get_fignums() == figs  # rendering opened no pyplot figure
    assert display.options.__dict__ == before


def test_mimebundle_rejects_unknown_objects():
    with pytest.raises(InvalidInputError):
        display.mimebundle(object())


def test_options_are_validated_and_restored():
    with pytest.raises(InvalidInputError):
        display.options.player_format = "ogg-vorbis"
    with pytest.raises(InvalidInputError):
        display.options.max_inline_bytes = -5
    with pytest.raises(InvalidInputError):
        with display.options.override(no_such_option=1):
            pass
    with pytest.raises(RuntimeError):
        with display.options.override(max_inline_bytes=5, waveform=False):
            assert display.options.max_inline_bytes == 5
            raise RuntimeError
    assert display.options.max_inline_bytes == 2_000_000 and display.options.waveform is True


def test_waveform_can_be_turned_off(speech):
    with display.options.override(waveform=False):
        page = display.mimebundle(speech)["text/html"]
    assert "image/png" not in page
    player_bytes(page)


@pytest.mark.parametrize("seconds, kw, text", [
    (0, {}, "0:00.00"), (61.256, {}, "1:01.26"), (59.999, {"decimals": 2}, "1:00.00"),
    (3725.5, {"decimals": 1}, "1:02:05.5"), (90, {"decimals": 0}, "1:30"), (5, {"hours": True}, "0:00:05.00"),
])
def test_format_clock(seconds, kw, text):
    assert display.format_clock(seconds, **kw) == text


def test_undecodable_audio_says_why_instead_of_raising():
    broken = AudioClip(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40, "wav", name="broken.wav")
    bundle = display.mimebundle(broken)
    assert "<audio" not in bundle["text/html"]
    assert "cannot be shown" in bundle["text/html"] and "cannot be shown" in bundle["text/plain"]


@pytest.mark.parametrize("fmt", ["flac", "mp3", "pcm"])
def test_clips_from_encoded_bytes_display(speech, fmt):
    clip = AudioClip(speech.encode(fmt).data, fmt)
    page = display.mimebundle(clip)["text/html"]
    mime, data = player_bytes(page)
    assert AudioClip(data).duration == pytest.approx(speech.duration, abs=0.1)
    if fmt == "mp3":
        assert data == clip.data and mime == "audio/mpeg"


def test_stereo_caption():
    stereo = AudioClip.from_array(np.stack([tone(1.0), tone(1.0, freq=330)], axis=1), RATE)
    assert "2 channels" in display.mimebundle(stereo)["text/html"]


# ---- speed: encode once, keep compact originals, no encode over the cap (issue 16) -------------
@pytest.fixture
def count_encodes(monkeypatch):
    calls: list[str] = []
    real_encode = AudioClip.encode

    def encode(self, fmt, *, sample_rate=None):
        calls.append(fmt)
        return real_encode(self, fmt, sample_rate=sample_rate)

    monkeypatch.setattr(AudioClip, "encode", encode)
    return calls


def test_showing_a_clip_again_reuses_its_player_and_waveform(speech, transcript, count_encodes, monkeypatch):
    first = display.mimebundle(speech)
    shown = display.mimebundle(transcript)  # its clip is `speech`: the player comes from the clip's cache
    assert count_encodes == ["opus"]
    from nbaudio.display import waveform_image

    def no_drawing(*a, **k):
        raise AssertionError("the waveform was drawn again")

    monkeypatch.setattr(waveform_image, "_draw", no_drawing)
    assert display.mimebundle(speech) == first
    page = display.mimebundle(ChatReply(content="hi", audio=speech))["text/html"]
    assert player_bytes(page) == player_bytes(first["text/html"])
    assert display.mimebundle(transcript) == shown
    assert count_encodes == ["opus"]


def test_clips_with_the_same_audio_share_one_player_copy(speech, count_encodes):
    wav = speech.data
    a, b = AudioClip(wav, name="a.wav"), AudioClip(wav, name="b.wav")
    assert display.player_clip(a).data == display.player_clip(b).data
    assert count_encodes == ["opus"]


def test_compact_audio_is_kept_by_default_and_converted_when_asked(speech):
    mp3 = speech.encode("mp3")
    assert display.player_clip(mp3) is mp3
    with display.options.override(player_format="opus"):
        assert display.player_clip(mp3).format == "opus"
    with display.options.override(player_format="mp3"):
        assert display.player_clip(mp3) is mp3


def test_over_the_cap_nothing_is_encoded(speech, tmp_path, monkeypatch, count_encodes):
    monkeypatch.chdir(tmp_path)
    clip = AudioClip.from_array(speech.samples, RATE, name="from-samples")  # no bytes yet
    with display.options.override(max_inline_bytes=1000):
        bundle = display.mimebundle(clip)
    assert count_encodes == [] and not clip.is_encoded  # written block by block, never held as bytes
    (saved,) = (tmp_path / "nbaudio_media").iterdir()
    assert saved.suffix == ".wav" and saved.name in bundle["text/html"]
    np.testing.assert_allclose(AudioClip.from_file(saved).samples, speech.samples, atol=1 / 32767)



@pytest.mark.parametrize("fmt, suffix", [("opus", ".ogg"), ("mp3", ".mp3")])
def test_over_the_cap_a_format_asked_for_is_encoded(speech, tmp_path, monkeypatch, count_encodes, fmt, suffix):
    """An explicit player_format is what the file beside the notebook is (a compact file, not the WAV)."""
    monkeypatch.chdir(tmp_path)
    clip = AudioClip.from_array(speech.samples, RATE, name="from-samples")
    with display.options.override(max_inline_bytes=1000, player_format=fmt):
        bundle = display.mimebundle(clip)
    assert count_encodes == [fmt]
    (saved,) = (tmp_path / "nbaudio_media").iterdir()
    assert saved.suffix == suffix and saved.name in bundle["text/html"]
    assert saved.stat().st_size < clip.frames * 2 / 4  # far smaller than the 16-bit WAV
    assert AudioClip.from_file(saved).duration == pytest.approx(speech.duration, abs=0.1)
    # a clip already in the format asked for is written as it is
    same = AudioClip(saved.read_bytes(), fmt, name="same")
    with display.options.override(max_inline_bytes=1000, player_format=fmt):
        display.mimebundle(same)
    assert count_encodes == [fmt]

def test_opus_encoding_is_deterministic_and_exact_in_length(speech):
    a, b = speech.encode("opus"), AudioClip.from_array(speech.samples, RATE).encode("opus")
    assert a.data == b.data  # a fixed Ogg serial number: re-run notebooks keep their outputs
    assert AudioClip(a.data).duration == pytest.approx(speech.duration, abs=0.01)
