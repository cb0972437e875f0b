"""How often the engine's local chat model calls the right tool with the right arguments, and
answers when no tool fits: a fixed set of 20 prompts over three tools (weather in a city, the mean
of a table column, a kitchen timer), half of them asking for something one tool does, half not.

    .venv/bin/python experiments/local_tool_choice.py [--llm-model NAME|PATH] [--json FILE]

Each prompt is a fresh `/v1/chat/completions` request with all three tools and tool_choice
"auto", to the embedded engine started in this process on loopback (the engine's own path:
nbaudio.server.models.tool_calls). "right" is mechanical: the same tool (or no call) as the
expected one and, for a call, the same arguments (tool_choice_scoring.py). The prompts were
written before the first run and not changed after.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `nbaudio` and the shared scoring importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from tool_choice_scoring import outcome, report, tool  # noqa: E402

TOOLS = [
    tool("get_weather", "The current weather in a city.", {"city": {"type": "string"}}),
    tool("column_mean", "The mean of a column of the house-price table.",
         {"column": {"type": "string", "enum": ["price", "rooms", "area"]}}),
    tool("set_timer", "Start a kitchen timer for a number of minutes.", {"minutes": {"type": "integer"}}),
]

# (prompt, expected tool or None, expected arguments)
PROMPTS: list[tuple[str, str | None, dict[str, Any]]] = [
    ("What is the weather in Paris?", "get_weather", {"city": "Paris"}),
    ("Is it raining in Berlin right now?", "get_weather", {"city": "Berlin"}),
    ("How warm is it in Tokyo today?", "get_weather", {"city": "Tokyo"}),
    ("What is the mean price of the houses?", "column_mean", {"column": "price"}),
    ("On average, how many rooms do the houses have?", "column_mean", {"column": "rooms"}),
    ("What is the average area in the table?", "column_mean", {"column": "area"}),
    ("Set a timer for 10 minutes.", "set_timer", {"minutes": 10}),
    ("Start a 3 minute timer for my eggs.", "set_timer", {"minutes": 3}),
    ("Remind me in 25 minutes with a timer.", "set_timer", {"minutes": 25}),
    ("Tell me the weather forecast for Madrid.", "get_weather", {"city": "Madrid"}),
    ("What is the capital of France?", None, {}),
    ("Tell me a short joke.", None, {}),
    ("Translate 'good morning' into German.", None, {}),
    ("Who wrote Romeo and Juliet?", None, {}),
    ("What is 7 times 8?", None, {}),
    ("Write a haiku about the sea.", None, {}),
    ("Hello! How are you?", None, {}),
    ("What does a cat say?", None, {}),
    ("Explain what a verb is.", None, {}),
    ("Name three colours of the rainbow.", None, {}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llm-model", help="another chat model for the engine (a name or a .gguf path)")
    parser.add_argument("--json", type=Path, help="write each prompt's outcome here")
    opts = parser.parse_args()

    import openai

    from nbaudio import local

    rows = []
    kwargs = {"llm_model": opts.llm_model} if opts.llm_model else {}
    with local.start(**kwargs) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-local", max_retries=0, timeout=600)
        for prompt, expected, args in PROMPTS:
            start = time.perf_counter()
            r = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": prompt}],
                                               tools=TOOLS, tool_choice="auto", max_tokens=40)
            seconds = time.perf_counter() - start
            msg = r.choices[0].message
            call = ((msg.tool_calls[0].function.name, json.loads(msg.tool_calls[0].function.arguments))
                    if msg.tool_calls else None)
            rows.append(outcome(prompt, expected, args, call, list(call) if call else msg.content, seconds))
            print(f"{'ok ' if rows[-1]['right'] else 'BAD'} {seconds:5.1f}s  {prompt!r:55} -> {rows[-1]['got']}",
                  flush=True)
    report(rows, opts.json)


if __name__ == "__main__":
    main()
