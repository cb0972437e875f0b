"""Cells of notebooks/01_quickstart.ipynb."""

from __future__ import annotations

from ._cells import IGNORE, SETUP, code, ignored, md


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
