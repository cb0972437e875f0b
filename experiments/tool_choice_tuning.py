"""The TUNING set for the local model's tool choice (nbaudio.server.models.tool_calls): 48 prompts
over two other sets of three tools (unit conversion, a row of a staff table, a word count; an email,
a share price, a song), half asking for what one tool does and half not. The choice's prompt and
scoring were tuned on these; experiments/local_tool_choice.py (weather, a column mean, a timer) is
the reported set and was not looked at while tuning.

    .venv/bin/python experiments/tool_choice_tuning.py [--llm-model NAME|PATH] [--json FILE]

Each prompt is decided in this process by the engine's own path (tool_calls.decide with
tool_choice "auto") on the engine's local model, without a server: the same decision a
/v1/chat/completions request makes. "right" is as in local_tool_choice.py (tool_choice_scoring.py).
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

from tool_choice_scoring import outcome, report, tool  # noqa: E402  (the reported set's tool shape and "right")

OFFICE = [
    tool("convert_length", "Convert a distance in kilometres to miles.", {"kilometres": {"type": "number"}}),
    tool("lookup_employee", "Look up a person's row in the staff table: their team, office and phone number.",
         {"name": {"type": "string"}}),
    tool("count_words", "Count the words in a piece of text.", {"text": {"type": "string"}}),
]
HOME = [
    tool("send_email", "Send an email to a contact.", {"to": {"type": "string"}}),
    tool("stock_price", "The latest share price of a company on the stock market.", {"company": {"type": "string"}}),
    tool("play_song", "Play a song on the speaker.", {"title": {"type": "string"}}),
]

# (tools, prompt, expected tool or None, expected arguments)
PROMPTS: list[tuple[list[dict[str, Any]], str, str | None, dict[str, Any]]] = [
    (OFFICE, "How many miles is 42 kilometres?", "convert_length", {"kilometres": 42}),
    (OFFICE, "Convert 5 km to miles, please.", "convert_length", {"kilometres": 5}),
    (OFFICE, "I ran 10 kilometres today. What is that in miles?", "convert_length", {"kilometres": 10}),
    (OFFICE, "Which team is Maria in?", "lookup_employee", {"name": "Maria"}),
    (OFFICE, "What is John's phone number?", "lookup_employee", {"name": "John"}),
    (OFFICE, "Find the office of Priya in the staff list.", "lookup_employee", {"name": "Priya"}),
    (OFFICE, "How many words are in: the quick brown fox?", "count_words", {"text": "the quick brown fox"}),
    (OFFICE, "Count the words in 'I like green apples'.", "count_words", {"text": "I like green apples"}),
    (OFFICE, "Give me the word count of this sentence: we met at noon", "count_words", {"text": "we met at noon"}),
    (OFFICE, "Why is the sky blue?", None, {}),
    (OFFICE, "Write a short poem about autumn.", None, {}),
    (OFFICE, "What is the largest planet?", None, {}),
    (OFFICE, "Good morning!", None, {}),
    (OFFICE, "What is 12 plus 30?", None, {}),
    (OFFICE, "Give me a synonym for happy.", None, {}),
    (OFFICE, "Who painted the Mona Lisa?", None, {}),
    (OFFICE, "How do I boil an egg?", None, {}),
    (OFFICE, "Tell me a fun fact about owls.", None, {}),
    (HOME, "Email Anna to say I am late.", "send_email", {"to": "Anna"}),
    (HOME, "Send a message by email to Tom.", "send_email", {"to": "Tom"}),
    (HOME, "Please write an email to my boss, Karen.", "send_email", {"to": "Karen"}),
    (HOME, "What is Apple's share price?", "stock_price", {"company": "Apple"}),
    (HOME, "How much is a Tesla share worth today?", "stock_price", {"company": "Tesla"}),
    (HOME, "Check the stock price of Microsoft.", "stock_price", {"company": "Microsoft"}),
    (HOME, "Play Yesterday by the Beatles.", "play_song", {"title": "Yesterday"}),
    (HOME, "Put on the song Imagine.", "play_song", {"title": "Imagine"}),
    (HOME, "I want to hear Bohemian Rhapsody.", "play_song", {"title": "Bohemian Rhapsody"}),
    (HOME, "What is the boiling point of water?", None, {}),
    (HOME, "Thanks, that is all.", None, {}),
    (HOME, "Tell me a riddle.", None, {}),
    (HOME, "What is the opposite of cold?", None, {}),
    (HOME, "Summarise the plot of Cinderella.", None, {}),
    (HOME, "How many legs does a spider have?", None, {}),
    (HOME, "What language is spoken in Brazil?", None, {}),
    (HOME, "Describe a sunset in one sentence.", None, {}),
    (HOME, "Spell the word necessary.", None, {}),
    # Added after a first look showed word overlap alone got the 36 above right: positives that share
    # no word with their tool, and negatives that share words with a tool but ask for something else.
    (OFFICE, "A marathon is 42 km; how far is that for an American?", "convert_length", {"kilometres": 42}),
    (OFFICE, "Where does Ahmed sit?", "lookup_employee", {"name": "Ahmed"}),
    (OFFICE, "How long is this text: to be or not to be", "count_words", {"text": "to be or not to be"}),
    (HOME, "Tell Lucy by mail that dinner is ready.", "send_email", {"to": "Lucy"}),
    (HOME, "How is Nvidia doing in the markets today?", "stock_price", {"company": "Nvidia"}),
    (HOME, "I'd love to listen to Hey Jude.", "play_song", {"title": "Hey Jude"}),
    (OFFICE, "What is a kilometre?", None, {}),
    (OFFICE, "Give me tips for working well in a team.", None, {}),
    (OFFICE, "What does the word 'phone' come from?", None, {}),
    (HOME, "What is a stock market?", None, {}),
    (HOME, "Who sang the song Imagine?", None, {}),
    (HOME, "How should I start a polite email?", None, {}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--llm-model", help="another chat model (a name or a .gguf path)")
    parser.add_argument("--json", type=Path, help="write each prompt's outcome here")
    opts = parser.parse_args()

    from nbaudio.server.models import tool_calls
    from nbaudio.server.registry import ModelRegistry
    from nbaudio.server.settings import Settings

    settings = Settings(**({"llm_model": opts.llm_model} if opts.llm_model else {}))
    backend = ModelRegistry(settings).local_chat()
    rows = []
    for tools, prompt, expected, args in PROMPTS:
        specs = tool_calls.parse_tools(tools)
        start = time.perf_counter()
        decision = tool_calls.decide(backend, [{"role": "user", "content": prompt}], specs, tool_calls.ToolChoice())
        seconds = time.perf_counter() - start
        fn = decision.calls[0]["function"] if decision.calls else None
        call = (fn["name"], json.loads(fn["arguments"])) if fn else None
        rows.append(outcome(prompt, expected, args, call, list(call) if call else None, seconds))
        print(f"{'ok ' if rows[-1]['right_choice'] else 'BAD'}{'+' if rows[-1]['right'] else ' '} {seconds:5.2f}s  "
              f"{prompt!r:55} -> {rows[-1]['got']}", flush=True)
    report(rows, opts.json)


if __name__ == "__main__":
    main()
