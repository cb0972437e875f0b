"""Cells of notebooks/03_voice_chat.ipynb."""

from __future__ import annotations

from ._cells import SETUP, code, ignored, md

# What 03 says where the small local model shows its limits (measured: experiments/notebook_questions.py).
TRUST_THE_ANSWERS = """
**How far to trust the answers.** The embedded engine answers with SmolLM2-135M-Instruct, a very
small model, and the questions in this notebook were chosen because it answers them right (the
checks print `True`). Asked in other words it often does not: *What is 7 × 8?* gets 54, *What is
seven times eight?* gets "just seven", *Thank you* comes back as made-up French, and after *My
name is Ada.* it answers *What is my name?* with a name of its own. It is weak at arithmetic, at
translation and at anything you tell it about yourself, and asking again does not help: the same
question always gets the same answer. For answers you can rely on, use a bigger model:

* a remote API: set `NBAUDIO_BASE_URL` and `NBAUDIO_API_KEY` in the first cell;
* any OpenAI-compatible chat endpoint behind the local engine's speech: `nbaudio serve
  --chat-upstream URL`, or `os.environ["NBAUDIO_CHAT_UPSTREAM"] = URL` in the first cell for the
  embedded engine;
* a bigger local model: `nbaudio serve --llm-model /path/to/model.gguf`, or
  `os.environ["NBAUDIO_LLM_MODEL"] = "/path/to/model.gguf"` in the first cell.

[docs/chat_models.md](../docs/chat_models.md#getting-better-answers) lists the questions it gets
right and wrong, and which models to download.
"""


def voice_chat() -> list:
    return [
        md("""
# Voice chat in notebook cells: `%%voice`

The `%%voice` cell magic sends the cell as your next turn in a conversation with an audio chat
model and shows the reply as it streams: its transcript, a player and the token usage. The next
`%%voice` cell continues the same conversation.
"""),
        code(SETUP),
        md("""
Load the magic and set defaults for every later cell: the reply voice, a system message and a
short answer limit (the embedded engine's small model rambles otherwise). `%voice config` with
no settings shows them all; the API key, if any, shows as `***`. `%reload_ext` (rather than
`%load_ext`) starts the magic afresh, so running this notebook again in the same kernel gives the
same conversations instead of adding to the old ones.
"""),
        code("""
%reload_ext nbaudio
%voice config voice=coral max_tokens=40 system="Answer in one or two short sentences."
"""),
        md("## A conversation"),
        ignored("""
%%voice
What is the capital of France?
"""),
        md("""
The reply streamed in: text and audio appeared while they were generated and ended as a normal
clip with its waveform. It is also in the variable `_voice`, answer and all:
"""),
        code('type(_voice).__name__, _voice.audio is not None, _voice.audio_id.startswith("audio_"), '
             '"Paris" in _voice.text'),
        md("""
The next cell continues the conversation; the model sees the earlier turns, so a question that
only makes sense after the first one gets its answer:
"""),
        ignored("""
%%voice
And of Italy?
"""),
        code('"Rome" in _voice.text'),
        md("""
`%voice history` returns the `Conversation`. Earlier replies are not sent back as text: while the
server still holds their audio, each assistant turn refers to it **by id** (the API's
`audio: {"id": ...}`); once an id expires or the server forgets it, its transcript goes instead.
"""),
        code("""
conv = %voice history
[m["role"] for m in conv.messages]
"""),
        code("[m for m in conv.to_messages() if m[\"role\"] == \"assistant\"]"),
        md("""
## Speaking to it

`--audio` sends audio as the user turn: a path, or a variable holding an `AudioClip`, bytes or a
recording. Here the question itself is synthetic speech; `%voice` with options and no cell body
sends the audio alone.
"""),
        ignored("""
question = nbaudio.speak("And of Germany?", voice="onyx")
question
"""),
        ignored("%voice --audio question"),
        code('"Berlin" in _voice.text'),
        md("""
## Your own voice

`Recorder()` records from the browser's microphone (the browser asks for permission once; it
works on https:// pages and on localhost). Press **● Record**, ask something, press **■ Stop**;
the recording is then `rec.clip` (16 kHz mono), and `%voice --audio rec` sends it as your turn.
`%voice listen` does both at once: it shows a recorder, sends each recording when you press
Stop, and the reply appears below it.
"""),
        ignored("""
from nbaudio.widgets import Recorder

rec = Recorder()
rec
"""),
        md("""
## Several conversations side by side

`--name` keeps separate conversations; `--system` starts one with a system message. Turns never
mix between names. A maths tutor:
"""),
        ignored("""
%%voice --name tutor --system "You are a patient maths tutor. Answer in one short sentence."
What is 7 times 8?
"""),
        code('"56" in _voice.text'),
        md("And a translator:"),
        ignored("""
%%voice --name french --system "Translate what the user says into French. Answer with the translation only."
Good morning
"""),
        code('"bonjour" in _voice.text.lower()'),
        md(TRUST_THE_ANSWERS),
        code("""
tutor = %voice history --name tutor
[m["role"] for m in tutor.messages], len(conv.messages)
"""),
        md("""
## Export, replay, reset

`%voice export PATH` saves a conversation as JSON with each reply's audio beside it (a cell can do
the same with `--save PATH`); `nbaudio.Conversation.load` reads it back.
"""),
        ignored("""
import tempfile
from pathlib import Path

folder = Path(tempfile.mkdtemp())
%voice export {folder}/capitals.json
"""),
        code("sorted(p.name for p in folder.iterdir())"),
        code("""
saved = nbaudio.Conversation.load(folder / "capitals.json")
[m["role"] for m in saved.messages] == [m["role"] for m in conv.messages]
"""),
        md("`%voice replay N` plays reply N again (1 is the first, -1 the last: here the answer about Berlin):"),
        ignored("%voice replay -1"),
        code("%voice reset"),
        md("""
More: `%voice speak TEXT` (speech only), `%voice transcribe SRC`, `--text-only`, `--no-stream`,
`--new`, `--max-history N`, `--out VAR`; `%voice` alone prints the full help.
"""),
    ]
