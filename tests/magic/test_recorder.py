"""`Recorder` in the kernel, with the browser played by `FrontEnd`: the same widget messages and
binary buffers recorder.js sends (start, 16-bit PCM pieces, stop), delivered through the comm.

Speech comes from the engine's TTS, as a microphone at 48 kHz would deliver it; transcripts,
`%%voice --audio rec` and `%voice listen` run against the real engine. The real browser is in
test_browser_recorder.py.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

import numpy as np
import pytest
from IPython.core.error import UsageError

from nbaudio import AudioClip, ChatReply, Client, InvalidInputError
from nbaudio.audio import as_audio_clip
from nbaudio.widgets import Recorder
from tests.support.data import SENTENCES
from tests.support.magic_fakes import MAX_TOKENS, cell

pytestmark = pytest.mark.timeout(300)

DEVICE_RATE = 48000
SPOKEN = SENTENCES[2]  # "A golden retriever is a good family dog."


class FrontEnd:
    """Sends what recorder.js sends, through the widget's comm, and keeps what the kernel sends back."""

    def __init__(self, rec: Recorder) -> None:
        self.rec = rec
        self.received: list[dict] = []
        original = rec.send

        def send(content: Any, buffers: Any = None) -> None:
            self.received.append(content)
            original(content, buffers)

        rec.send = send  # type: ignore[method-assign]

    def message(self, content: dict, buffers: list[bytes] = ()) -> None:
        self.rec.comm.handle_msg({"content": {"data": {"method": "custom", "content": content}},
                                  "buffers": [memoryview(b) for b in buffers]})

    def set_state(self, **state: Any) -> None:
        self.rec.comm.handle_msg({"content": {"data": {"method": "update", "state": state}}, "buffers": []})

    def record(self, pcm: np.ndarray, *, rate: int = DEVICE_RATE, piece_s: float = 0.5, reason: str = "user") -> str:
        """A whole recording: start, the samples in pieces, stop."""
        take = uuid.uuid4().hex
        self.message({"type": "rec:start", "id": take, "rate": rate})
        step = max(1, int(piece_s * rate))
        pieces = [pcm[i:i + step] for i in range(0, len(pcm), step)]
        for seq, piece in enumerate(pieces):
            self.message({"type": "rec:chunk", "id": take, "seq": seq}, [piece.astype("<i2").tobytes()])
        self.message({"type": "rec:stop", "id": take, "frames": int(len(pcm)), "chunks": len(pieces),
                      "rate": rate, "reason": reason})
        return take


@pytest.fixture(scope="module")
def mic_pcm(speech_clips) -> np.ndarray:
    """The spoken sentence as int16 at 48 kHz, the way the worklet's blocks become PCM."""
    clip = AudioClip(speech_clips[SPOKEN]).mono().resample(DEVICE_RATE)
    return np.round(np.clip(clip.samples, -1, 1) * 32767).astype(np.int16)


def words(text: str) -> set[str]:
    return {w.strip(".,!?").lower() for w in text.split()}


# ---- a recording arrives ---------------------------------------------------------------------------


def test_recording_reaches_the_kernel_as_a_clip(engine, mic_pcm):
    rec = Recorder()
    front = FrontEnd(rec)
    heard: list[AudioClip] = []
    counted: list[int] = []
    rec.on_recorded(heard.append)
    rec.observe(lambda change: counted.append(change["new"]), names="recordings")

    front.record(mic_pcm)

    clip = rec.clip
    assert clip.format == "wav" and clip.sample_rate == 16000 and clip.channels == 1
    assert clip.duration == pytest.approx(len(mic_pcm) / DEVICE_RATE, abs=0.01)
    assert heard == [clip] and counted == [1] and rec.recordings == 1
    assert rec.duration == pytest.approx(clip.duration) and not rec.recording and rec.error == ""
    assert "in the kernel" in rec.status
    assert as_audio_clip(rec) is clip  # what %%voice --audio rec and transcribe(rec) use
    assert repr(rec) == f"<Recorder: {clip.duration:.1f} s recorded (16 kHz mono, up to 5:00)>"
    assert rec._repr_mimebundle_()[0]["text/plain"] == repr(rec)

    with Client(engine.base_url) as client:
        transcript = rec.transcribe(client=client)
        assert {"golden", "retriever", "family", "dog"} <= words(transcript.text)
        assert client.transcribe(rec).text == transcript.text


def test_device_rate_kept_samples_exact(mic_pcm):
    rec = Recorder(sample_rate=None)
    FrontEnd(rec).record(mic_pcm[:DEVICE_RATE])  # one second, in two pieces
    clip = rec.clip
    assert clip.sample_rate == DEVICE_RATE and clip.frames == DEVICE_RATE
    decoded = AudioClip(clip.data).samples  # through the WAV bytes the API would get
    assert np.array_equal(np.round(decoded * 32768).astype(np.int16), mic_pcm[:DEVICE_RATE])
    assert "device rate" in repr(rec)


def test_record_again_replaces_and_clear_forgets(mic_pcm):
    rec = Recorder()
    front = FrontEnd(rec)
    front.record(mic_pcm[: DEVICE_RATE // 2])
    first = rec.clip
    front.record(mic_pcm)
    assert rec.clip is not first and rec.recordings == 2 and rec.clip.duration > first.duration

    rec.clear()
    assert not rec.has_clip and rec.duration == 0 and rec.status == ""
    assert front.received[-1] == {"type": "clear"}  # the widget drops its preview
    with pytest.raises(InvalidInputError, match="nothing recorded yet: press ● Record"):
        _ = rec.clip  # raises: nothing to give
    front.record(mic_pcm[: DEVICE_RATE // 2])
    front.message({"type": "rec:clear"})  # the widget's Clear button
    assert not rec.has_clip and front.received[-1] == {"type": "clear"}


def test_pieces_of_a_replaced_recording_are_ignored(mic_pcm):
    rec = Recorder(sample_rate=None)
    front = FrontEnd(rec)
    front.message({"type": "rec:start", "id": "old", "rate": DEVICE_RATE})
    front.message({"type": "rec:chunk", "id": "old", "seq": 0}, [mic_pcm[:4800].tobytes()])
    assert rec.recording and rec.seconds == pytest.approx(0.1)
    # Another view of the same widget starts a new recording: the old one's late pieces don't mix in.
    front.message({"type": "rec:start", "id": "new", "rate": DEVICE_RATE})
    front.message({"type": "rec:chunk", "id": "old", "seq": 1}, [mic_pcm[4800:9600].tobytes()])
    front.message({"type": "rec:chunk", "id": "new", "seq": 0}, [mic_pcm[:2400].tobytes()])
    front.message({"type": "rec:stop", "id": "old", "frames": 9600, "chunks": 2, "rate": DEVICE_RATE})
    assert rec.recording and not rec.has_clip
    front.message({"type": "rec:stop", "id": "new", "frames": 2400, "chunks": 1, "rate": DEVICE_RATE})
    assert rec.clip.frames == 2400


def test_silent_recording_is_kept_with_a_warning():
    rec = Recorder()
    FrontEnd(rec).record(np.zeros(DEVICE_RATE, dtype=np.int16))
    assert rec.clip.duration == pytest.approx(1.0)
    assert "silent" in rec.status and "muted" in rec.status


def test_stopped_at_the_limit_says_so(mic_pcm):
    rec = Recorder(max_seconds=0.5)
    FrontEnd(rec).record(mic_pcm[: DEVICE_RATE // 2], reason="limit")
    assert rec.clip.duration == pytest.approx(0.5) and "stopped at max_seconds=0.5" in rec.status


# ---- bad and empty recordings -------------------------------------------------------------------------


def _rejected(rec: Recorder, match: str) -> None:
    assert match in rec.error, rec.error
    assert not rec.has_clip and not rec.recording and rec.recordings == 0
    with pytest.raises(InvalidInputError, match="no recording: .*press ● Record"):
        _ = rec.clip  # raises: the recording was rejected
    assert rec.error in repr(rec)


def test_empty_recording(mic_pcm):
    rec = Recorder()
    front = FrontEnd(rec)
    heard: list[AudioClip] = []
    rec.on_recorded(heard.append)
    front.record(np.zeros(0, dtype=np.int16))
    _rejected(rec, "nothing was recorded")
    assert heard == []
    front.record(mic_pcm[:DEVICE_RATE])  # and the next recording is fine
    assert rec.clip.duration == pytest.approx(1.0) and rec.error == "" and len(heard) == 1


@pytest.mark.parametrize("fault, match", [
    ("lost piece", "piece 2 of the recording did not arrive"),
    ("short count", "arrived incomplete"),
    ("odd bytes", "malformed"),
    ("too long", "ran past max_seconds=1"),
    ("bad rate", "sample rate of 0 Hz"),
])
def test_damaged_recording_is_rejected(mic_pcm, fault, match):
    rec = Recorder(max_seconds=1)
    front = FrontEnd(rec)
    rate = 0 if fault == "bad rate" else DEVICE_RATE
    front.message({"type": "rec:start", "id": "t", "rate": rate})
    front.message({"type": "rec:chunk", "id": "t", "seq": 0}, [mic_pcm[:24000].tobytes()])
    if fault == "lost piece":
        front.message({"type": "rec:chunk", "id": "t", "seq": 2}, [mic_pcm[24000:48000].tobytes()])
    elif fault == "odd bytes":
        front.message({"type": "rec:chunk", "id": "t", "seq": 1}, [mic_pcm[24000:48000].tobytes() + b"\0"])
    elif fault == "too long":
        for seq in (1, 2):
            front.message({"type": "rec:chunk", "id": "t", "seq": seq}, [mic_pcm[:24000].tobytes()])
    frames = 48000 if fault == "short count" else 24000
    front.message({"type": "rec:stop", "id": "t", "frames": frames, "chunks": 1, "rate": rate})
    _rejected(rec, match)


def test_microphone_problem_reported_by_the_browser():
    rec = Recorder()
    denied = "Microphone permission was denied. Allow the microphone for this site ..."
    FrontEnd(rec).set_state(error=denied)
    assert rec.error == denied and denied in repr(rec)
    with pytest.raises(InvalidInputError, match="no recording: Microphone permission was denied"):
        _ = rec.clip  # raises: the browser reported the problem


@pytest.mark.parametrize("kwargs, match", [
    ({"sample_rate": 0}, "sample_rate must be"),
    ({"sample_rate": 22050.5}, "sample_rate must be"),
    ({"sample_rate": True}, "sample_rate must be"),
    ({"max_seconds": 0}, "max_seconds must be"),
    ({"max_seconds": 7200}, "at most 3600"),
    ({"max_seconds": "long"}, "max_seconds must be"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        Recorder(**kwargs)


# ---- wait() ------------------------------------------------------------------------------------


def test_wait_returns_the_recording_from_another_thread(mic_pcm):
    rec = Recorder()
    got: list[Any] = []
    waiter = threading.Thread(target=lambda: got.append(rec.wait(timeout=60)))
    waiter.start()
    FrontEnd(rec).record(mic_pcm[:DEVICE_RATE])
    waiter.join(60)
    assert got == [rec.clip]
    assert rec.wait() is rec.clip  # one is there and none under way: at once


def test_wait_raises_on_timeout_and_on_rejection():
    rec = Recorder()
    with pytest.raises(TimeoutError, match="no recording arrived within 0.05 s"):
        rec.wait(timeout=0.05)
    errors: list[BaseException] = []

    def waiting() -> None:
        try:
            rec.wait(timeout=60)
        except InvalidInputError as exc:
            errors.append(exc)

    waiter = threading.Thread(target=waiting)
    waiter.start()
    FrontEnd(rec).record(np.zeros(0, dtype=np.int16))
    waiter.join(60)
    assert len(errors) == 1 and "nothing was recorded" in str(errors[0])


def test_wait_refuses_to_block_a_notebook_cell(shell, mic_pcm):
    rec = Recorder()
    shell.kernel = object()  # as in ipykernel: the cell runs on the main thread, messages wait
    try:
        with pytest.raises(InvalidInputError, match="cannot wait inside a notebook cell.*on_recorded"):
            rec.wait()
        FrontEnd(rec).record(mic_pcm[:DEVICE_RATE])
        assert rec.wait() is rec.clip  # already here: nothing to wait for
    finally:
        del shell.kernel


# ---- %%voice --audio rec and %voice listen ----------------------------------------------------------


def test_the_saved_view_follows_the_recording(shell):
    """What a saved notebook shows where the widget cannot render (nbaudio.widgets.saved_view): shown
    beside the widget, whose own output has no text/plain, and redrawn through its display id."""
    from IPython.display import display

    from tests.support.signals import tone

    rec = Recorder()
    display(rec)
    widget, view = shell.display_pub.outputs[-2:]
    assert list(widget["data"]) == ["application/vnd.jupyter.widget-view+json"]
    view_id = view["transient"]["display_id"]
    assert view_id == rec.saved_view_id and not view["update"]
    assert view["data"]["text/plain"] == "Recorder: nothing recorded"
    front = FrontEnd(rec)
    front.record(np.round(tone(1.0, DEVICE_RATE) * 32767).astype(np.int16))
    update = shell.display_pub.outputs[-1]
    assert update["update"] and update["transient"]["display_id"] == view_id
    assert update["data"]["text/plain"] == "Recorder: 1.0 s recorded (16 kHz mono)"
    assert "<audio" in update["data"]["text/html"] and "nbaudio-saved-view" in update["data"]["text/html"]
    front.message({"type": "rec:start", "id": "x", "rate": 1})  # a page that reports no usable rate
    assert "nothing recorded (the browser reported a sample rate of 1 Hz" in \
        shell.display_pub.outputs[-1]["data"]["text/plain"]
    rec.clear()
    assert shell.display_pub.outputs[-1]["data"]["text/plain"] == "Recorder: nothing recorded"


def test_voice_audio_from_a_recorder(shell, on_engine, sent, mic_pcm, capsys):
    rec = Recorder()
    shell.user_ns["rec"] = rec
    cell(shell, f"--audio rec {MAX_TOKENS}", "Answer in one sentence.")
    assert sent == []
    err = capsys.readouterr().err
    assert "InvalidInputError: nothing recorded yet: press ● Record" in err

    FrontEnd(rec).record(mic_pcm)
    cell(shell, f"--audio rec {MAX_TOKENS}", "Answer in one sentence.")
    reply = shell.user_ns["_voice"]
    assert isinstance(reply, ChatReply) and reply.text
    user = sent[0]["messages"][-1]
    assert [p["type"] for p in user["content"]] == ["text", "input_audio"]
    sent_audio = AudioClip.from_base64(user["content"][1]["input_audio"]["data"])
    assert sent_audio.sample_rate == 16000 and sent_audio.duration == pytest.approx(rec.clip.duration, abs=0.01)


def test_voice_listen_sends_each_recording(shell, on_engine, sent, mic_pcm):
    assert shell.run_line_magic("voice", f"listen --name mic --new {MAX_TOKENS}") is None
    rec = on_engine.listener
    assert isinstance(rec, Recorder) and rec.max_seconds == 120
    shown, saved = (o["data"] for o in shell.display_pub.outputs[-2:])
    assert "application/vnd.jupyter.widget-view+json" in shown  # the recorder and the replies' output
    assert "%voice listen</b>: nothing recorded" in saved["text/html"]  # what a reopened notebook shows
    assert sent == []  # nothing is sent before a recording stops

    front = FrontEnd(rec)
    front.record(mic_pcm)
    assert len(sent) == 1
    user = sent[0]["messages"][-1]
    assert [p["type"] for p in user["content"]] == ["input_audio"]
    first = shell.user_ns["_voice"]
    assert isinstance(first, ChatReply) and first.text and first.audio is not None
    # Shown whole (no live view from a widget callback), once.
    outputs = shell.display_pub.outputs
    views = [o for o in outputs if "nbaudio-saved-view" in o["data"].get("text/html", "")]
    replies = [o for o in outputs if "nbaudio-chat" in o["data"].get("text/html", "") and o not in views]
    assert len(replies) == 1 and not any(o["update"] for o in outputs if o not in views)
    # The saved view was redrawn with the recording, then with the conversation it went into.
    assert views[-1]["update"] and views[-1]["transient"]["display_id"] == rec.saved_view_id
    assert "nbaudio-conversation" in views[-1]["data"]["text/html"] and "1 sent to conversation 'mic'" in \
        views[-1]["data"]["text/plain"]

    front.record(mic_pcm[: DEVICE_RATE * 2])  # the next recording continues the conversation (--new once)
    assert len(sent) == 2 and [m["role"] for m in sent[1]["messages"]] == ["user", "assistant", "user"]
    assert on_engine.conversations["mic"].last_reply is shell.user_ns["_voice"] is not first


def test_voice_listen_bad_options(shell, voice):
    for line, match in [
        ("listen --audio rec", "drop --audio"),
        ("listen --max-seconds 0", "--max-seconds must be more than 0"),
        ("listen --temperature 9", "--temperature 9.0 is out of range"),
        ("listen --bogus", "unrecognized arguments: --bogus"),
    ]:
        with pytest.raises(UsageError, match=match):
            shell.run_line_magic("voice", line)
    assert voice.listener is None
