"""Cells of notebooks/04_classroom.ipynb."""

from __future__ import annotations

from ._cells import SETUP, code, ignored, md


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
