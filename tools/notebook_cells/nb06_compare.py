"""Cells of notebooks/06_compare.ipynb."""

from __future__ import annotations

from ._cells import SETUP, code, ignored, md

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
