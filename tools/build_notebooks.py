"""Write the teaching notebooks from the cell lists below, and (with --execute) run them and keep the outputs.

    python tools/build_notebooks.py                 # sources only (outputs dropped)
    python tools/build_notebooks.py --execute       # run each on the embedded engine, save with outputs
    python tools/build_notebooks.py --execute 01 04 # just these

Editing the notebooks in Jupyter works too; this script is how they were made and the easy way
to re-run them all. Cell tags steer nbval (`make test`):
  nbval-ignore-output  outputs vary from run to run (audio, timings, model text); still must run
  (no tag)             outputs are compared after notebooks/nbval_sanitize.cfg
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
IGNORE = "nbval-ignore-output"

# The first code cell of every notebook: how to point at a remote API, without printing the key.
SETUP = '''import os, getpass
import nbaudio

# Nothing set: the local engine (no key, no internet).
# For OpenAI or a relay, set these two (the key is
# read without echo and never shown):
# os.environ["NBAUDIO_BASE_URL"] = "https://api.openai.com/v1"
# os.environ["NBAUDIO_API_KEY"] = getpass.getpass("API key: ")

nbaudio.default_client()'''


def md(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(text.strip("\n"))


def code(src: str, *tags: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(src.strip("\n"))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def ignored(src: str) -> nbformat.NotebookNode:
    return code(src, IGNORE)


# ---- 01 quickstart --------------------------------------------------------------------------
def quickstart() -> list:
    return [
        md("""
# nbaudio quickstart: speak, listen, look, transcribe, translate, talk

Four calls cover the round trip between text and speech, in both directions:

| call | endpoint | returns |
|---|---|---|
| `nbaudio.speak(text)` | `/audio/speech` | `AudioClip`: a player and its waveform |
| `nbaudio.transcribe(audio)` | `/audio/transcriptions` | `Transcript`: text with timestamps |
| `nbaudio.translate(audio)` | `/audio/translations` | `Transcript` in English |
| `nbaudio.chat(text)` | `/chat/completions` | `ChatReply`: text *and* audio |

Everything shows itself in the notebook. The first cell says which API we talk to.
"""),
        code(SETUP),
        md("""
`api_key=none` and *embedded engine*: no remote API is configured, so the first request starts a
local OpenAI-compatible server inside this kernel (piper for speech, faster-whisper for
transcription, a small LLM for chat). Run the cell again once the engine has started and it shows
the engine's local address and `api_key=engine's own` (a key the engine made for you, so other
users of the machine cannot use it). With the two variables set you would see the remote URL and
`api_key=set` — never the key itself.

## 1. Speak

`speak` sends text to the speech endpoint and returns an `AudioClip`. The first call starts the
engine, which says so in one line:
"""),
        code('clip = nbaudio.speak("The quick brown fox jumps over the lazy dog.", voice="alloy")'),
        md("A clip displays as its **waveform** above a **player**; click the waveform to jump there."),
        ignored("clip"),
        md("""
Under the display is plain data: the encoded bytes as the API sent them, and the samples, decoded
on first use into a NumPy array.
"""),
        code("clip.format, clip.channels, clip.samples.dtype"),
        ignored('print(f"{clip.duration:.2f} s at {clip.sample_rate} Hz = {len(clip.samples)} samples, '
                '{len(clip.data):,} bytes of {clip.format}")'),
        md("""
## 2. Look at it

`clip.plot()` draws the same waveform on a matplotlib Axes that you can style and combine. It
plots the minimum and maximum of each pixel column, so an hour of audio draws as fast as a word.
"""),
        code("""
import matplotlib.pyplot as plt

ax = clip.plot(color="#f58518")
ax.set_title("The quick brown fox: loud where words are, flat in the pauses")
plt.show()
"""),
        md("""
Voice and speed are request parameters. The names are OpenAI's; the engine maps each to a pitch
and pace of its local voice.
"""),
        ignored('nbaudio.speak("Notebooks can talk now.", voice="coral", speed=1.25)'),
        md("""
## 3. Transcribe it back

`transcribe` accepts a clip, a path, bytes or a NumPy array. Ask for word timestamps too: the
table shows one row per segment; **click a timestamp** to play from there, expand *words* to see
each word's time. The row being played is highlighted.
"""),
        ignored("""
transcript = nbaudio.transcribe(clip, timestamp_granularities=["word", "segment"])
transcript
"""),
        md("""
The model writes case and punctuation as it sees fit, so compare words. The voice varies a little
each time it speaks (run the cell above again: the waveform changes), and now and then the small
model mishears a word ("quit" for "quick", about once in 200 runs), so the check allows one:
"""),
        code("""
def words(text):
    return "".join(c for c in text.lower() if c.isalnum() or c.isspace()).split()

said, heard = words("The quick brown fox jumps over the lazy dog."), words(transcript.text)
misheard = [(s, h) for s, h in zip(said, heard) if s != h]
len(heard) == len(said) and len(misheard) <= 1
"""),
        code('[(w.word, round(w.start, 1)) for w in transcript.all_words()][:4]', IGNORE),
        md("""
## 4. Translate

`translate` turns speech in any language into English text. Here the engine speaks German (it
detects the language and uses an `espeak-ng` voice for it) and translates it back:
"""),
        ignored("""
german = nbaudio.speak("Guten Morgen. Ich habe heute keine Zeit.")
german
"""),
        ignored("""
english = nbaudio.translate(german)
print(english.text)
assert "morning" in english.text.lower(), english.text
"""),
        md("""
This short sentence comes back right, but the local engine's Whisper base is a weak translator
(docs/translation.md scores it per language), so its translations carry a warning; a remote API
gives none:
"""),
        code("print(english.warning)"),
        md("""
## 5. Talk

`chat` is a chat completion that answers with audio as well as text: the reply shows its
transcript, a player and the token usage (text and audio tokens are counted apart). The small
local model is often wrong ([03_voice_chat](03_voice_chat.ipynb) says where, and how to get better
answers); `max_completion_tokens` keeps its replies short.
"""),
        ignored("""
reply = nbaudio.chat("In one sentence: why do dogs wag their tails?", voice="coral",
                     max_completion_tokens=50)
reply
"""),
        md("It gives the reason a person would give, excitement or happiness:"),
        code('any(word in reply.text.lower() for word in ("excite", "happy"))'),
        code("reply.audio is not None, reply.usage.total_tokens > 0, reply.audio_id.startswith(\"audio_\")"),
        md("""
## Next

* [02_transcripts](02_transcripts.ipynb): segments and words, seeking, SRT/VTT, long recordings.
* [03_voice_chat](03_voice_chat.ipynb): `%%voice`, a conversation in notebook cells.
* [04_classroom](04_classroom.ipynb): how well do speech and recognition round-trip? Word error
  rate across voices and speeds, and how long it all takes.
"""),
    ]


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


# ---- 02 transcripts --------------------------------------------------------------------------
def transcripts() -> list:
    return [
        md("""
# Transcripts: segments, words, seeking, subtitles and long recordings

A `Transcript` is more than text: speech recognition cuts speech into **segments** (roughly
sentences) and, when asked, times every **word**. This notebook looks at both, turns them into
subtitles, and transcribes a recording too long for one request.
"""),
        code(SETUP),
        md("Some speech to work with, three sentences spoken by the `fable` voice:"),
        code("""
said = ("A transcript splits speech into segments. Each segment has a start and an end time. "
        "With word times, you also know when every word was said.")
speech = nbaudio.speak(said, voice="fable")
"""),
        md("""
## Segments and words

`timestamp_granularities` says which times to return: `"segment"` (the default) and `"word"`.
The display puts the player above the table: **click a time** to play from there; the segment
being played is highlighted; expand *words* for word times. The grey bands on the waveform are
the segments.
"""),
        ignored("""
transcript = nbaudio.transcribe(speech, timestamp_granularities=["segment", "word"])
transcript
"""),
        md("""
Compare the text with `said`: where the two differ, the recogniser slipped (a lost plural *s*,
a homophone). These sentences were chosen because the small local model gets them nearly right;
try your own and look for the words it mishears.
"""),
        md("The same data, as plain Python objects:"),
        ignored("""
for seg in transcript.segments:
    print(f"{seg.start:5.2f}–{seg.end:5.2f} s  {seg.text.strip()}")
"""),
        ignored("""
for w in transcript.all_words()[:8]:
    print(f"{w.start:5.2f}–{w.end:5.2f} s  {w.word.strip()}")
"""),
        md("""
Times only move forward, and every word lies inside the clip. (Checks like this one are how you
catch a server that returns times in the wrong unit.)
"""),
        code("""
ws = transcript.all_words()
starts = [w.start for w in ws]
starts == sorted(starts), all(0 <= w.start <= w.end <= speech.duration + 0.1 for w in ws)
"""),
        md("""
### Seeking from Python

The static table seeks when clicked. For control from code, `nbaudio.widgets.Player` is a live
widget (play/pause, speed, a cursor on the waveform, a segment list); `seek` moves it:
"""),
        ignored("""
from nbaudio.widgets import Player

player = Player(speech, transcript=transcript)
player.seek(transcript.all_words()[-3].start)   # the third word from the end
player
"""),
        md("""
## Subtitles: SRT and WebVTT

`to_srt()` and `to_vtt()` write the segments as subtitle files, ready for a video player or
`<track>`:
"""),
        ignored("print(transcript.to_srt())"),
        ignored("print(transcript.to_vtt())"),
        md("""
The server can also answer in these formats (`response_format="srt"` or `"vtt"`); nbaudio parses
them back into a `Transcript`. A round trip through SRT keeps the segments' text:
"""),
        code("""
from nbaudio import Transcript

again = Transcript.from_srt(transcript.to_srt())
[s.text.strip() for s in again.segments] == [s.text.strip() for s in transcript.segments]
"""),
        md("""
## A long recording: split at silences, transcribe the pieces, join

One upload may be at most 25 MB. For larger files `transcribe` does this by itself (with a
progress bar); here we do it step by step on a short lecture, cutting it into pieces of at most
10 seconds. Each cut is placed at the quietest moment near the limit, so no word is cut in half.
"""),
        code("""
lecture = " ".join([
    "Sound is a wave of pressure that travels through the air.",
    "When you speak, your vocal folds vibrate and shape that wave.",
    "A microphone turns the wave into a stream of numbers, called samples.",
    "Speech recognition listens to those numbers and guesses the words.",
    "Text to speech does the opposite and turns words back into samples.",
    "Long recordings are cut at quiet moments and transcribed piece by piece.",
])
long_clip = nbaudio.speak(lecture, voice="echo")
"""),
        code("""
from nbaudio.longform import split_audio

pieces = split_audio(long_clip, max_seconds=10)
all(p.duration <= 10 for _, p in pieces), abs(sum(p.duration for _, p in pieces) - long_clip.duration) < 0.01
"""),
        md("The cuts on the waveform (red lines):"),
        code("""
import matplotlib.pyplot as plt

ax = long_clip.plot()
ax.vlines([offset for offset, _ in pieces[1:]], -1, 1, colors="#e45756", linewidth=2)
ax.set_title(f"{len(pieces)} pieces of at most 10 s")
plt.show()
"""),
        md("""
Transcribe each piece (a progress bar shows how far we are), then shift each piece's times by its
offset and join them: `Transcript.join` does the shifting.
"""),
        md("""
Long clips make big notebooks. The player embeds a compact Opus copy of the audio; speech needs
no more than 16 kHz, which makes that copy a quarter smaller:
"""),
        code("nbaudio.display.options.player_sample_rate = 16000"),
        ignored("""
from nbaudio.progress import progress   # a bar while it runs; the saved notebook keeps one final line

done = []
with progress(len(pieces), "transcribing") as bar:
    for offset, piece in pieces:
        done.append((offset, nbaudio.transcribe(piece)))
        bar.update()

whole = Transcript.join(done, audio=long_clip)
whole
"""),
        md("The joined segments cover the whole recording, in order, each ending before the next starts:"),
        code("""
ends = [s.end for s in whole.segments]
overlaps = [(a, b) for a, b in zip(whole.segments, whole.segments[1:]) if a.end > b.start]
assert not overlaps and whole.segments[-1].end <= long_clip.duration, overlaps
ends == sorted(ends), whole.segments[-1].end > pieces[-1][0], whole.duration == long_clip.duration
"""),
        md("""
The automatic version is one call: `nbaudio.transcribe("lecture.mp3")` on a file over 25 MB
splits it into 16 kHz pieces of up to ten minutes, shows a progress bar, and returns one
transcript whose times refer to the whole file.
"""),
    ]


# ---- 03 voice chat --------------------------------------------------------------------------
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


# ---- 04 classroom --------------------------------------------------------------------------
def classroom() -> list:
    return [
        md("""
# Classroom: does speech survive a round trip?

Text to speech (TTS) turns words into sound; speech to text (STT) turns sound back into words.
Chain them and compare what comes back with what went in. If the words match, both models did
their job. If not, the **word error rate** (WER) says how far off we are. We measure it across
voices and speaking speeds, and time every step.
"""),
        code(SETUP),
        md("""
## Word error rate

WER counts the fewest word substitutions, insertions and deletions that turn the reference into
the hypothesis, divided by the number of reference words: the edit distance over words. Case and
punctuation are ignored (the models add them as they please).
"""),
        code("""
def words(text):
    return "".join(c for c in text.lower() if c.isalnum() or c.isspace()).split()


def wer(reference, hypothesis):
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))          # distance from the empty reference prefix
    for i, r in enumerate(ref, 1):
        prev, row = row, [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            row[j] = min(prev[j] + 1,            # delete r
                         row[j - 1] + 1,         # insert h
                         prev[j - 1] + (r != h)) # substitute (free when equal)
    return row[-1] / max(1, len(ref))
"""),
        code("""
said = "the cat sat on the mat"
examples = ["The cat sat on the mat.", "the cat sat on a mat", "the cat sat", "a cat sat on the mat today"]
for heard in examples:
    print(f"WER {wer(said, heard):.2f}  {heard!r}")
"""),
        md("""
nbaudio ships the same measure as `nbaudio.metrics.word_error_rate`, counted by jiwer after
Whisper's English normaliser (which also spells out contractions, *don't* as *do not*, and writes
numbers as digits, so *twenty five* and *25* agree). On these examples the two agree:
"""),
        code("""
from nbaudio.metrics import word_error_rate

[word_error_rate(said, heard) == wer(said, heard) for heard in examples]
"""),
        md("""
## One round trip

Speak a sentence, transcribe it, compare. `time.perf_counter()` measures how long each step
takes.
"""),
        code("""
import time

sentence = "Please call me back when you get home tonight."

t0 = time.perf_counter()
clip = nbaudio.speak(sentence, voice="alloy")
t1 = time.perf_counter()
heard = nbaudio.transcribe(clip)
t2 = time.perf_counter()
"""),
        ignored("""
print(f"said:  {sentence}")
print(f"heard: {heard.text}")
print(f"WER {wer(sentence, heard.text):.0%}; speak {t1 - t0:.2f} s, transcribe {t2 - t1:.2f} s "
      f"for {clip.duration:.1f} s of audio")
clip
"""),
        md("""
## The experiment

Three sentences, spoken by several voices at normal speed, and by one voice at speeds from
0.75× to 3×. For every clip we record the WER and the time each step took.
"""),
        code("""
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "We will meet at the library after lunch.",
    "A golden retriever is a good family dog.",
]
VOICES = ["alloy", "echo", "nova", "onyx", "shimmer"]
SPEEDS = [0.75, 1.0, 1.5, 2.0, 3.0]


def round_trip(text, voice, speed):
    t0 = time.perf_counter()
    clip = nbaudio.speak(text, voice=voice, speed=speed)
    t1 = time.perf_counter()
    heard = nbaudio.transcribe(clip, language="en")
    t2 = time.perf_counter()
    return {"voice": voice, "speed": speed, "text": text, "heard": heard.text,
            "wer": wer(text, heard.text), "audio_s": clip.duration,
            "speak_s": t1 - t0, "transcribe_s": t2 - t1}
"""),
        ignored("""
from nbaudio.progress import progress   # a bar while it runs; the saved notebook keeps one final line

conditions = [(v, 1.0) for v in VOICES] + [("alloy", s) for s in SPEEDS if s != 1.0]
round_trip(SENTENCES[0], "alloy", 1.0)  # not counted: the first call of each model also loads it
runs = []
with progress(len(conditions), "round trips") as bar:
    for v, s in conditions:
        runs += [round_trip(text, v, s) for text in SENTENCES]
        bar.update()
len(runs)
"""),
        md("Every mistake the recogniser made, so we can see what *kind* of errors they are:"),
        ignored("""
for r in runs:
    if r["wer"] > 0:
        print(f"{r['voice']:8} {r['speed']:4}×  WER {r['wer']:.0%}  heard: {r['heard']}")
print(f"{sum(r['wer'] == 0 for r in runs)} of {len(runs)} clips came back word for word")
"""),
        md("""
## Results

Mean WER per voice (normal speed) and per speed (voice `alloy`), and how long the steps take
against the length of the audio:
"""),
        code("""
import matplotlib.pyplot as plt
from statistics import mean

plt.rcParams["font.size"] = 12  # legible in a narrow notebook and on a projector


def mean_wer(voice=None, speed=None):
    return mean(r["wer"] for r in runs if (voice is None or r["voice"] == voice)
                and (speed is None or r["speed"] == speed))


fig, axes = plt.subplot_mosaic([["voice", "speed"], ["latency", "latency"]], figsize=(6.4, 5.6),
                               layout="constrained")
ax1, ax2, ax3 = axes["voice"], axes["speed"], axes["latency"]
by_voice = [100 * mean_wer(voice=v, speed=1.0) for v in VOICES]
by_speed = [100 * mean_wer(voice="alloy", speed=s) for s in SPEEDS]
top = max(40, 1.25 * max(by_voice + by_speed))  # room for the value labels past the longest bar
bars = ax1.barh(VOICES, by_voice, color="#4c78a8")
ax1.bar_label(bars, fmt="%.0f%%", padding=3)  # a WER of 0 is a bar of no length: the label shows it
ax1.invert_yaxis()  # the first voice on top
ax1.set(title="WER by voice (1×)", xlabel="WER (%)", xlim=(0, top))
# Speeds as categories, evenly spaced (on a number line 0.75 and 1 sit too close to label).
bars = ax2.bar([f"{s:g}" for s in SPEEDS], by_speed, color="#f58518")
ax2.bar_label(bars, fmt="%.0f%%", padding=2)
ax2.set(title="WER by speed (alloy)", xlabel="speed (×)", ylabel="WER (%)", ylim=(0, top))
for key, colour in (("speak_s", "#54a24b"), ("transcribe_s", "#e45756")):
    ax3.scatter([r["audio_s"] for r in runs], [r[key] for r in runs], s=16, color=colour,
                label=key.replace("_s", ""))
slowest = max(max(r["speak_s"], r["transcribe_s"]) for r in runs)
ax3.set(title="latency", xlabel="audio (s)", ylabel="wall time (s)", ylim=(0, 1.35 * slowest))
ax3.legend(loc="upper left", ncols=2)  # the headroom above the points keeps it clear of them
plt.show()
"""),
        md("""
The latency points leave out model loading: the round trip before the timed ones loaded each
model once (on the embedded engine that takes a few seconds, once per kernel).

**Real-time factor** (RTF) = processing time / audio duration. Below 1 means faster than
real time:
"""),
        ignored("""
speak_rtf = sum(r["speak_s"] for r in runs) / sum(r["audio_s"] for r in runs)
stt_rtf = sum(r["transcribe_s"] for r in runs) / sum(r["audio_s"] for r in runs)
print(f"speak RTF {speak_rtf:.2f}, transcribe RTF {stt_rtf:.2f} over {sum(r['audio_s'] for r in runs):.0f} s of audio")
"""),
        md("""
What to expect: at normal speed the clean synthetic voices come back almost word for word (a WER
near 0, well under 20%); fast speech is where recognition starts to slip. The checks below hold
on the embedded engine; with a remote API the numbers differ, which is the point of measuring.
"""),
        code("""
mean_wer(speed=1.0) < 0.2, mean_wer(speed=0.75) < 0.2, all(r["audio_s"] > 0 for r in runs)
"""),
        md("""
## Try it yourself

* Add a sentence with numbers or names: `"Call 555 0199 and ask for Siobhan."` What breaks?
* Raise the speed to 4× (the API's maximum).
* Compare `model="gpt-4o-mini-transcribe"` with `"whisper-1"` against a remote API.
"""),
    ]


# ---- 05 live ------------------------------------------------------------------------------
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


# ---- 06 compare ------------------------------------------------------------------------------
# Its recordings are reported ones of tests/fixtures/real_speech (FLEURS, CC BY 4.0; nothing was tuned on
# them), their references as the corpus wrote them.


def compare() -> list:
    return [
        md("""
# Compare: voices, models and prompts side by side, and a blind listening test

Choosing a voice, a transcription model or a prompt is a comparison. nbaudio runs the
combinations at once, times them, scores them and shows them side by side:

| call | compares | shows |
|---|---|---|
| `nbaudio.compare_speech(text, voices=…, speeds=…)` | one text, every combination | players, timings, size, cost, WER |
| `nbaudio.compare_transcripts(audio, models=…)` | one recording, several models | WER, CER, words marked |
| `nbaudio.compare_prompts(audio, prompts=…)` | with and without a prompt | WER, and the glossary's terms heard |
| `nbaudio.listening_test(clips)` | clips, blind | ratings and their summary |

Everything here runs on the local engine. **To add a remote API**, give any of them a second client:
`clients={"engine": nbaudio.Client(), "OpenAI": nbaudio.Client("https://api.openai.com/v1", api_key=getpass.getpass())}`
(`models=[…]` then names the models each client is asked for).
"""),
        code(SETUP),
        md("""
## 1. Voices and speeds

`compare_speech` speaks one text with every voice at every speed: 6 clips, 4 at a time, and the
grid fills in as they arrive. Each cell has the clip's waveform and player, its length, how long
until its first audio bytes came and until the whole clip had, its size and cost (free on the
engine), and what the engine's Whisper heard in it, with the word error rate (WER) against the text.
"""),
        ignored("""
said = "Meet me at noon. Bring the red book."
grid = nbaudio.compare_speech(said, voices=["alloy", "echo", "nova"], speeds=[1.0, 1.5])
grid
"""),
        md("""
The first audio comes before the whole clip: the engine sends each sentence as soon as it is
spoken. The grid is also a table, one row per clip:
"""),
        ignored('grid.to_dataframe()[["cell", "duration", "ttfb", "seconds", "bytes", "wer", "heard"]].round(2)'),
        code("""
df = grid.to_dataframe()
len(df), bool(df["error"].isna().all()), bool((df["ttfb"] < df["seconds"]).all())
"""),
        md("Faster speech is shorter, voice by voice:"),
        code("""
durations = df.pivot(index="voice", columns="speed", values="duration")
bool((durations[1.5] < durations[1.0]).all())
"""),
        md("""
## 2. Which voice sounds best? Listen blind

Numbers do not say which voice sounds natural. In a blind test each trial plays the three voices'
clips at one speed as samples A, B and C, in a shuffled order, with no names; rate each from 1
(bad) to 5 (excellent), then go on. The ratings, and their summary once every trial is rated, are
written under the widget, so they stay in the saved notebook.
"""),
        ignored("""
test = nbaudio.listening_test(grid.clips_by("voice"), kind="mos", seed=0)
test
"""),
        md("`test.results` and `test.summary()` are DataFrames. One trial per speed, none rated yet:"),
        code("test.total, len(test.results)"),
        md("""
## 3. Two Whisper models on a recording of a person

The engine has two Whisper models: `whisper-tiny.en` (English only, its default for English) and
the multilingual `whisper-base`. Here both transcribe a recording of a person reading a sentence
(FLEURS, CC BY 4.0, from the project's test recordings), scored against the corpus's reference.
Each model's words are aligned to the reference with substituted, missed and added words marked;
**click a word** to hear it.
"""),
        ignored("""
from pathlib import Path

SPEECH = Path("../tests/fixtures/real_speech/speech")
reference = ("the aspect ratio of this format dividing by twelve to obtain the simplest "
             "whole-number ratio is therefore said to be 3:2")
models = nbaudio.compare_transcripts(SPEECH / "fleurs-en-008.ogg", reference=reference,
                                     models=["whisper-tiny.en", "whisper-base"])
models
"""),
        code("""
rows = {r["system"]: r for r in models.rows()}
list(rows), all(r["error"] is None for r in rows.values())
"""),
        md("""
One sentence is an anecdote, not a verdict. The two models against each other, without the
reference: where they disagree, at least one of them is wrong (`[tiny.en's→base's]` marks a word
they heard differently; displayed on its own, a diff is the same marked words with a player):
"""),
        ignored('print(models.diff("whisper-base", "whisper-tiny.en"))'),
        md("""
## 4. Does a prompt help?

Whisper takes a `prompt`: text it reads as what was said before. A glossary of names is the usual
use; measure it instead of hoping. This recording names the Northern Marianas, which
`whisper-tiny.en` writes *Marianna's*. The same audio with and without the glossary; *terms heard*
counts the glossary's terms that the recording says (only one of the three here) and each
transcript has:
"""),
        ignored("""
glossary = ["Northern Marianas", "Saipan", "Guam"]
said_006 = ("the northern marianas emergency management office said that there were "
            "no damages reported in the nation")
prompts = nbaudio.compare_prompts(SPEECH / "fleurs-en-006.ogg", reference=said_006, models=["whisper-tiny.en"],
                                  prompts={"none": None, "glossary": ", ".join(glossary) + "."}, terms=glossary)
prompts
"""),
        code("""
[(r["prompt_name"], f"{r['terms_heard']}/{r['terms_said']}") for r in prompts.rows()]
"""),
        md("""
Here the glossary fixed the name. It is not always so: on the first recording a prompt with the
ratio did not make either model write *3:2* (both hear "free to 2"); when this notebook was made
it cut `whisper-base`'s errors and added a word nobody said to `whisper-tiny.en`'s transcript.
A prompt can make Whisper invent, so measure it on your own recordings (printed as text this
time: the same table and marked words, without a second copy of the recording in the notebook):
"""),
        ignored("""
ratio = nbaudio.compare_prompts(SPEECH / "fleurs-en-008.ogg", reference=reference, terms=["3:2", "whole-number"],
                                prompts={"none": None, "ratio": "Aspect ratio 3:2, whole-number ratio."},
                                models=["whisper-tiny.en", "whisper-base"])
print(ratio)
"""),
        md("""
## Next

* [04_classroom](04_classroom.ipynb): WER by hand, and how it moves with voices and speeds.
* `nbaudio.transcribe_many(files, references=…)` and `nbaudio.batch_diffs(...)`: a whole folder
  against its references, worst rows first.
* Prices: `nbaudio.Prices` (OpenAI's published table, a relay's multiplier, your own) give each
  clip and transcript its `.cost`, shown in the grids above for a remote API.
"""),
    ]


NOTEBOOK_CELLS = {
    "01_quickstart": quickstart,
    "02_transcripts": transcripts,
    "03_voice_chat": voice_chat,
    "04_classroom": classroom,
    "05_live": live,
    "06_compare": compare,
}


def build(name: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = NOTEBOOK_CELLS[name]()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "pygments_lexer": "ipython3"},
    }
    for i, cell in enumerate(nb.cells):
        cell.id = f"{name[:2]}-{i:02d}"  # stable ids: rebuilding does not churn the diff
    return nb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="notebook name prefixes, e.g. 01 03")
    parser.add_argument("--execute", action="store_true", help="run each notebook and save it with outputs")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from nbaudio.demo import execute

    names = [n for n in NOTEBOOK_CELLS if not args.only or any(n.startswith(p) for p in args.only)]
    for name in names:
        nb = build(name)
        path = NOTEBOOKS / f"{name}.ipynb"
        if args.execute:
            started = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="nbaudio-nb-") as scratch:
                work = Path(scratch) / path.name
                nbformat.write(nb, work)
                nb = execute(work, cwd=NOTEBOOKS)  # as nbval runs them: relative paths are the notebooks'

            for cell in nb.cells:
                cell.metadata.pop("execution", None)
            print(f"{name}: ran in {time.perf_counter() - started:.0f} s", end=", ")
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
