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

# With nothing set, nbaudio runs the embedded local engine: no key, no internet.
# To use OpenAI or a relay instead, set these two before the first call (the key is read
# without echo and never shown):
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

Five calls cover the whole round trip between text and speech:

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
transcription, a small LLM for chat). With the two variables set you would see the remote URL and
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
        ignored('print(f"{clip.duration:.2f} s at {clip.sample_rate} Hz = {len(clip.samples)} samples, {len(clip.data):,} bytes of {clip.format}")'),
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
The model writes case and punctuation as it sees fit, so compare words. The same words came back:
"""),
        code("""
def words(text):
    return "".join(c for c in text.lower() if c.isalnum() or c.isspace()).split()

words(transcript.text) == words("The quick brown fox jumps over the lazy dog.")
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
## 5. Talk

`chat` is a chat completion that answers with audio as well as text: the reply shows its
transcript, a player and the token usage (text and audio tokens are counted apart). Replies from
the small local model are short and sometimes odd; `max_completion_tokens` keeps them short.
"""),
        ignored("""
reply = nbaudio.chat("In one sentence: why do dogs wag their tails?", voice="coral",
                     max_completion_tokens=50)
reply
"""),
        code("reply.audio is not None, reply.usage.total_tokens > 0, reply.audio_id.startswith(\"audio_\")"),
        md("""
## Next

* [02_transcripts](02_transcripts.ipynb): segments and words, seeking, SRT/VTT, long recordings.
* [03_voice_chat](03_voice_chat.ipynb): `%%voice`, a conversation in notebook cells.
* [04_classroom](04_classroom.ipynb): how well do speech and recognition round-trip? Word error
  rate across voices and speeds, and how long it all takes.
"""),
    ]


NOTEBOOK_CELLS = {
    "01_quickstart": quickstart,
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
    from nbaudio._notebook_demo import execute

    names = [n for n in NOTEBOOK_CELLS if not args.only or any(n.startswith(p) for p in args.only)]
    for name in names:
        nb = build(name)
        path = NOTEBOOKS / f"{name}.ipynb"
        if args.execute:
            started = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="nbaudio-nb-") as scratch:
                work = Path(scratch) / path.name
                nbformat.write(nb, work)
                nb = execute(work)
            for cell in nb.cells:
                cell.metadata.pop("execution", None)
            print(f"{name}: ran in {time.perf_counter() - started:.0f} s", end=", ")
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
