"""Cells of notebooks/05_live.ipynb."""

from __future__ import annotations

from ._cells import IGNORE, SETUP, code, ignored, md


def live() -> list:
    return [
        md("""
# A live spoken conversation: `%voice live`

`%%voice` is a conversation in cells: you write or record a turn, run the cell, the reply comes
back. `%voice live` is a conversation in real time: press **▶ Start**, talk; the model's voice
streams back while it is still being made, and when you speak over it, it stops at once, as a
person would. Press **■ Stop** and the widget turns into the conversation's record, which is
saved with the notebook like any other output.

It uses the [Realtime API](https://platform.openai.com/docs/guides/realtime) (a WebSocket) of
OpenAI, of a relay that offers it, or of nbaudio's embedded engine (offline, no key).
"""),
        code(SETUP),
        md("""
## Talk to it

Run the cell, press **▶ Start** (the browser asks for the microphone once; it works on https://
pages and on localhost), then speak. The dot says whose turn it is: *listening*, *hearing you*,
*thinking…*, *speaking*. Under it, both sides of the conversation appear as text while they are
said. `--language en` tells the server which language you speak, so it answers sooner.

In JupyterLab 4.4 or later with ipykernel 7, the session goes on while you run other cells: the
widget's messages reach the kernel on a subshell. Where they only reach it between cells (older
kernels, some other front ends), running a cell pauses the session: the widget says *paused* and
goes on afterwards.
"""),
        ignored("""
%reload_ext nbaudio
%voice live --language en --voice alloy --instructions "Answer in one or two short sentences."
"""),
        md("""
When you press **■ Stop**, the widget's output is replaced by the record: your turns with your
recorded voice, the replies with theirs, each with a player, a waveform and its transcript. The
conversation is also in `_voice` (and in the variable `--out NAME` names), and `%%voice` cells
go on with it, as text and audio turns:

```
%%voice
Can you say that again, more slowly?
```

`--vad manual` replaces the server's turn detection with two buttons: **● Talk** and **■ Send**.
`--max-minutes N` ends the session after N minutes (15 by default). `%voice live` alone uses
the defaults of `%voice config` (voice, system message).
"""),
        md("""
## What happens underneath

The page never talks to the server and never sees an API key: it sends the microphone to the
kernel, and the kernel holds the one WebSocket to the Realtime API. That is why it works with a
remote Jupyter server and with relays.

The same session can be driven from Python, with audio you made instead of a microphone. Here a
question spoken by the engine goes in, with *manual* turns (`turn_detection: None`: we say when
the turn ends), and the reply comes back as events:
"""),
        ignored("""
import nbaudio.realtime

question = nbaudio.speak("What is the capital of France?", voice="onyx")
manual = {"audio": {"input": {"turn_detection": None,
                              "transcription": {"model": "whisper-1", "language": "en"}}}}
question
"""),
        md("""
The user's audio goes in and is committed ("that was the turn"), the server is asked for a
response, and the events come back in the order a live widget sees them: the user's audio
committed and transcribed, the reply's text and audio in small pieces, then `response.done` with
the usage.
"""),
        ignored("""
seen = []
with nbaudio.realtime.connect(session=manual) as rt:
    rt.send_audio(question, commit=True)
    rt.create_response()
    for event in rt.events():
        if not seen or seen[-1] != event.type:
            seen.append(event.type)
        if event.type == "response.done":
            break
    record = rt.conversation
seen
"""),
        code("""
[m["role"] for m in record.messages]
"""),
        ignored("""
[record.transcript_of(i) for i in range(len(record.messages))]
"""),
        code('"Paris" in record.transcript_of(1)'),
        ignored("record"),
        md("""
## Interrupting: what the model is told

When you speak over a reply, the widget stops playing it at once and tells the server how much of
it you actually heard (`conversation.item.truncate` with the milliseconds played). The server
cuts the reply there, so the model does not think you heard what you did not. Here the same
happens by hand: ask for a story, let one second of it "play", then cut it.
"""),
        ignored("""
story = nbaudio.speak("Please tell me a long story about a brave little dog.", voice="onyx")
with nbaudio.realtime.connect(session=manual) as rt:
    rt.send_audio(story, commit=True)
    rt.create_response()
    heard = 0
    for event in rt.events():
        if event.type == "response.output_audio.delta":
            reply_item = event.item_id
            heard += len(event.audio) / 48   # pcm16 at 24 kHz: 48 bytes per millisecond
            if heard >= 1000:
                break
    rt.cancel()                                # stop making the reply
    rt.truncate(reply_item, audio_end_ms=1000) # and say that 1 s of it was heard
    rt.wait_for("conversation.item.truncated")
    cut = rt.conversation
cut.last_reply.text
"""),
        md("""
The reply's audio is now one second long and its transcript ends with "…" where you cut in: that
is what the live record shows for an interrupted reply.
"""),
        code("""
[m["role"] for m in cut.messages], round(cut.last_reply.audio.duration, 3), cut.last_reply.text.endswith("…")
"""),
        md("""
## When something goes wrong

The widget says what happened and what to do, in red, and keeps every turn said before:

* the page is not secure (the microphone needs https:// or localhost), or the microphone
  permission was denied;
* the server cannot be reached, or it rejected the key (`NBAUDIO_API_KEY`, `%voice login`);
* the server's session limit was reached, or the connection dropped.

The same widget is `nbaudio.widgets.LiveSession(...)` in Python; `live.conversation` holds the
conversation once it stopped, and `live.on_stop(callback)` calls you when it does.
"""),
        code("""
from nbaudio.widgets import LiveSession

live = LiveSession(vad="manual", max_minutes=5)
live
""", IGNORE),
        md("What the widget asks the server for when you press ▶ Start (manual turns: no server VAD):"),
        code("live.session_config()"),
    ]
