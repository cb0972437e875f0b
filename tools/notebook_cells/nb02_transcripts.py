"""Cells of notebooks/02_transcripts.ipynb."""

from __future__ import annotations

from ._cells import SETUP, code, ignored, md


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
