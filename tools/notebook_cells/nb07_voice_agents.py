"""Cells of notebooks/07_voice_agents.ipynb."""

from __future__ import annotations

from ._cells import SETUP, code, ignored, md

LECTURE = ("Water moves in a cycle. The sun warms the oceans, and water rises into the air as vapour. "
           "High up, the vapour cools and forms clouds. When the drops grow heavy, they fall as rain or snow.")


def voice_agents() -> list:
    return [
        md("""
# Live captions and voice agents

Two things people build with the [Realtime API](https://platform.openai.com/docs/guides/realtime)
once a spoken conversation works:

* **live captions**: the words of a lecture or a meeting shown as they are spoken, and kept as a
  timed transcript;
* **voice agents**: the model calls functions, here functions this notebook defines, and speaks
  their results.

Everything below runs on nbaudio's embedded engine (offline, no key), or on OpenAI or a relay
when the first cell points at one.
"""),
        code(SETUP),
        md("""
## Captions from the microphone: `%voice captions`

Run the cell, press **▶ Start** and speak (or hold the microphone to a lecture). Words appear as
they are recognised: grey while they may still change, black once final. **■ Stop** replaces the
widget by the finished transcript, with the recording as its audio: it plays, seeks and saves like
any transcript, and is in `_captions` (or the name `--out` gives). `--translate` shows English
captions of speech in another language; `--max-minutes N` (15) ends it.
"""),
        ignored("""
%reload_ext nbaudio
%voice captions --language en
"""),
        md("""
## Captions of a recording

Underneath is a Realtime *transcription session*: audio goes in, and the words of each turn come
out as `conversation.item.input_audio_transcription.delta` events while the turn is still spoken,
then `.completed` with the whole turn. Here a short lecture (spoken by the engine) is played into
one at the pace of speech, and each piece of caption is kept with the second it arrived.
"""),
        ignored(f"""
lecture = nbaudio.speak({LECTURE!r}, voice="onyx")
lecture
"""),
        ignored("""
import asyncio, time
import nbaudio.realtime

# Manual turns: the whole lecture is one turn, ended by commit (a microphone would use the server's VAD).
english = {"audio": {"input": {"turn_detection": None,
                               "transcription": {"model": "whisper-1", "language": "en"}}}}
captions, finals = [], []

async with nbaudio.realtime.aconnect(intent="transcription", session=english) as rt:
    started = time.monotonic()

    async def show_captions():
        async for event in rt.events():
            if event.type == "conversation.item.input_audio_transcription.delta":
                captions.append((round(time.monotonic() - started, 1), event.delta))
            elif event.type == "conversation.item.input_audio_transcription.completed":
                finals.append(event.transcript)
                return

    listening = asyncio.create_task(show_captions())
    await rt.send_audio(lecture, pace=True, commit=True)  # as a microphone would: in real time
    await asyncio.wait_for(listening, timeout=120)

print(f"the lecture lasts {lecture.duration:.1f} s")
for second, words in captions:
    print(f"{second:5.1f} s  {words}")
"""),
        md("""
The first words arrive while the lecture is still being spoken; the rest follow a few seconds
behind the voice. A word is sent once two successive recognitions of the growing turn agree on it,
so it does not change afterwards: put together, the pieces are exactly the final transcript.
"""),
        code('"".join(words for _, words in captions) == "".join(finals)'),
        ignored("finals"),
        md("""
In Python, the captions widget is `nbaudio.widgets.Captions(language="en")`, and
`.wait()` returns its transcript once stopped.

## A voice agent over a table

A small table, and two plain Python functions that answer questions about it. The type hints and
the docstring are all a model needs: nbaudio turns them into the JSON schema of a tool.
"""),
        code("""
from typing import Literal
import pandas as pd

fruit = pd.DataFrame({"fruit": ["apple", "banana", "cherry", "mango"],
                      "price": [1.20, 0.50, 4.00, 2.30],
                      "stock": [40, 120, 15, 22]})


def column_mean(column: Literal["price", "stock"]) -> float:
    \"\"\"The mean of one column of the fruit table.

    Args:
        column: which column to average
    \"\"\"
    return round(float(fruit[column].mean()), 2)


def most_expensive() -> str:
    \"\"\"The fruit with the highest price in the fruit table.\"\"\"
    return str(fruit.loc[fruit["price"].idxmax(), "fruit"])


fruit
"""),
        code("""
from nbaudio.tools import describe

describe(column_mean).chat_spec()
"""),
        md("""
`chat(..., tools=[...])` sends the tools with the question. When the model calls one, the kernel
runs it (checked arguments, a time limit, an exception goes back to the model as an error instead
of stopping the notebook), sends the result back, and the model answers with it. The reply shows
each call with its arguments and result. A function runs only if you passed it.
"""),
        ignored("""
reply = nbaudio.chat("What is the mean price in the fruit table?", tools=[column_mean, most_expensive])
reply
"""),
        code("[(run.name, run.arguments, run.result) for run in reply.tool_runs]"),
        ignored("""
reply = nbaudio.chat("Which fruit is the most expensive?", tools=[column_mean, most_expensive])
reply
"""),
        code("[(run.name, run.result) for run in reply.tool_runs]"),
        md("""
## Spoken: the question by voice, the answer in speech

The same tools in a Realtime session. In the notebook `%voice live --tools column_mean,most_expensive`
does it with the microphone, and the widget shows each call as it runs:
"""),
        ignored("%voice live --language en --tools column_mean,most_expensive"),
        md("""
Here is what happens underneath, with a question spoken by the engine and manual turns: the
session is told the tools; the model's answer to the question is a `function_call` item; the
kernel runs it and sends a `function_call_output` item back; a new response reads it and speaks.
"""),
        ignored("""
from nbaudio.tools import ToolBox

box = ToolBox([column_mean, most_expensive])
question = nbaudio.speak("What is the mean price in the fruit table?", voice="onyx")
agent = {"audio": {"input": {"turn_detection": None,
                             "transcription": {"model": "whisper-1", "language": "en"}}},
         "tools": box.realtime_specs()}

with nbaudio.realtime.connect(session=agent) as rt:
    rt.send_audio(question, commit=True)
    rt.create_response()
    done = rt.wait_for("response.done")
    runs = []
    for item in done["response"]["output"]:
        if item["type"] == "function_call":
            run = box.run(item["name"], item["arguments"], item["call_id"])
            runs.append(run)
            rt.send({"type": "conversation.item.create",
                     "item": {"type": "function_call_output", "call_id": item["call_id"], "output": run.output}})
    rt.create_response()
    rt.wait_for("response.done")
    spoken = rt.conversation
[str(run) for run in runs]
"""),
        ignored("spoken"),
        code('[m["role"] for m in spoken.messages]'),
        md("""
## How far to trust the local model with tools

The embedded engine's chat model (SmolLM2-135M) picks between answering and each tool by how
likely it finds each name, helped by the words the question shares with each tool's description,
and writes the arguments under a grammar, so a call is always well formed. It still gets some
wrong: on a fixed set of 20 prompts it called the right tool with the right arguments on 8 of the
10 that a tool fits, and answered without a call on 7 of the 10 that none fits
([docs/tools.md](../docs/tools.md) has the figures). For an agent you rely on, use a model made for
tool calling: a remote API (the first cell), or `nbaudio serve --chat-upstream URL`.
"""),
    ]
