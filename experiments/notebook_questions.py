"""The notebooks' own chat questions, asked as the notebooks ask them, and the same topics in other
words: which ones a chat model answers right, and whether the answer is the same streamed and not.

    .venv/bin/python experiments/notebook_questions.py [--llm-model NAME|PATH] [--chat-upstream URL
        [--chat-upstream-model NAME]] [--base-url URL] [--only ID,...] [--out FILE] [--raw FILE | --from-raw FILE]

- no option: the embedded engine with its default chat model (SmolLM2-135M-Instruct), started in
  this process on loopback, as the notebooks use it;
- `--llm-model`: the engine with another chat model, a name (`gemma3-270m`) or a .gguf path;
- `--chat-upstream`: the engine's speech around another OpenAI-compatible chat endpoint's text
  (its key from NBAUDIO_CHAT_UPSTREAM_KEY);
- `--base-url`: a remote API instead of the engine (its key from NBAUDIO_API_KEY).

Each question is a fresh conversation with the notebook's system message, token limit and voice
(spoken replies, as in the notebooks); earlier turns go as a `Conversation` sends them, so the
third turn of 03 sees the first two. 03 speaks its third turn ("And of Germany?"); here it is typed,
because what is measured is the chat model, not the recogniser. 05 asks its question through the
Realtime API; here through chat, with the engine's spoken-reply prompt as the Realtime session gets.
Every question is asked twice, not streamed and then streamed.

"right" is mechanical: the check the notebook makes (a word the right answer contains; for the
questions not in the notebooks, the same kind of check). A person read the default model's answers
(docs/chat_models.md, "Getting better answers"): where a check passes on an answer that is still
wrong, that page says so.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `nbaudio` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# The system messages the notebooks set.
SHORT = "Answer in one or two short sentences."  # 03: %voice config system=...
TUTOR = "You are a patient maths tutor. Answer in one short sentence."  # 03: --name tutor
FRENCH = "Translate what the user says into French. Answer with the translation only."  # 03: --name french


@dataclass(frozen=True)
class Question:
    id: str
    where: str  # the notebook cell that asks it, or "other words" for a phrasing no notebook uses
    turns: tuple[str, ...]  # the user's turns; the reply to the last one is checked
    expect: str  # a regex the right answer contains (the notebook's check)
    system: str | None = None  # None: the engine's own spoken-reply prompt
    max_tokens: int = 40  # 03's %voice config max_tokens=40

    def right(self, answer: str) -> bool:
        for said in (self.system or "", *self.turns):  # a model that only says the prompt back is not right
            answer = answer.replace(said, "") if said else answer
        return re.search(self.expect, answer) is not None


QUESTIONS = (
    Question("dogs", "01 `nbaudio.chat`", ("In one sentence: why do dogs wag their tails?",),
             r"(?i)excite|happy", max_tokens=50),
    Question("france", "03 first `%%voice`", ("What is the capital of France?",), r"\bParis\b", SHORT),
    Question("italy", "03 second `%%voice`", ("What is the capital of France?", "And of Italy?"), r"\bRome\b", SHORT),
    Question("germany", "03 `%voice --audio` (spoken there)",
             ("What is the capital of France?", "And of Italy?", "And of Germany?"), r"\bBerlin\b", SHORT),
    Question("tutor", "03 `--name tutor`", ("What is 7 times 8?",), r"\b56\b", TUTOR),
    Question("french", "03 `--name french`", ("Good morning",), r"(?i)\bbonjour\b", FRENCH),
    Question("realtime", "05 Realtime API (asked by chat here)", ("What is the capital of France?",), r"\bParis\b"),
    # The same topics in other words: what a reader tries next.
    Question("times-sign", "other words (tutor)", ("What is 7 × 8?",), r"\b56\b", TUTOR),
    Question("times-words", "other words (tutor)", ("What is seven times eight?",), r"(?i)\b56\b|fifty-six", TUTOR),
    Question("twelve-seven", "other words (tutor)", ("What is 12 times 7?",), r"(?i)\b84\b|eighty-four", TUTOR),
    Question("six-seven", "other words (tutor)", ("What is 6 times 7?",), r"(?i)\b42\b|forty-two", TUTOR),
    Question("thank-you", "other words (translator)", ("Thank you",), r"(?i)\bmerci\b", FRENCH),
    Question("how-are-you", "other words (translator)", ("Good morning, how are you?",),
             r"(?i)bonjour.*(comment|ça va|allez)", FRENCH),
    Question("say-thanks", "other words", ("How do you say 'thank you' in French?",), r"(?i)\bmerci\b", SHORT),
    Question("my-name", "other words", ("My name is Ada.", "What is my name?"), r"\bAda\b", SHORT),
    Question("retriever", "03 until 2026-12-07", ("Is a golden retriever a good family dog?",),
             r"(?i)\byes\b|\b(good|great|excellent|wonderful) (family|choice|companion)", SHORT),
    Question("planet", "other words", ("What is the largest planet in our solar system?",), r"\bJupiter\b", SHORT),
)


@dataclass
class Answer:
    question: Question
    text: str  # not streamed
    streamed: str

    @property
    def right(self) -> bool:
        return self.question.right(self.text) and self.question.right(self.streamed)

    @property
    def same(self) -> bool:
        return self.text == self.streamed


def ask(client: Any, q: Question, *, stream: bool) -> str:
    from nbaudio import Conversation

    conv = Conversation(system=q.system)
    text = ""
    for turn in q.turns:
        conv.add_user(turn)
        if stream:
            reply = client.chat(conv, voice="coral", max_tokens=q.max_tokens, stream=True).collect()
        else:
            reply = client.chat(conv, voice="coral", max_tokens=q.max_tokens)
        text = reply.text
    return text


@contextlib.contextmanager
def chat_client(args: argparse.Namespace) -> Iterator[tuple[Any, str]]:
    """The client to ask, and what answers (for the page's heading)."""
    import nbaudio
    import nbaudio.local

    if args.base_url:
        with nbaudio.Client(args.base_url, api_key=os.environ.get("NBAUDIO_API_KEY")) as client:
            yield client, f"the API at {args.base_url}"
        return
    settings = {k: v for k, v in (("llm_model", args.llm_model), ("chat_upstream", args.chat_upstream),
                                   ("chat_upstream_model", args.chat_upstream_model)) if v}
    with nbaudio.local.start(**settings) as server, nbaudio.Client(server.base_url) as client:
        yield client, "the embedded engine" + "".join(f", {k}={v}" for k, v in settings.items())


SYSTEMS = {SHORT: "short", TUTOR: "tutor", FRENCH: "translator", None: "spoken"}
LEGEND = ("System messages: *short* = 03's `%voice config` (\"" + SHORT + "\"); *tutor* = \"" + TUTOR
          + "\"; *translator* = \"" + FRENCH + "\"; *spoken* = none set, so the engine's own spoken-reply prompt.")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ⏎ ").strip() or "(nothing)"


def render(answers: list[Answer], who: str, model: str, day: str) -> str:
    asked = [a for a in answers if not a.question.where.startswith(("other", "03 until"))]
    out = [f"Asked of {who} (replies name the model `{model}`) on {day} by "
           "`experiments/notebook_questions.py`.", "",
           f"- the notebooks' questions: **{sum(a.right for a in asked)}/{len(asked)} right**; "
           f"in other words: {sum(a.right for a in answers if a not in asked)}/{len(answers) - len(asked)} right",
           f"- the same answer streamed and not: {sum(a.same for a in answers)}/{len(answers)}", "",
           "| asked in | system | question | answer | check | right |",
           "|---|---|---|---|---|---|"]
    for a in answers:
        q = a.question
        answer = _cell(a.text) + ("" if a.same else f" *(streamed: {_cell(a.streamed)})*")
        out.append(f"| {q.where} | {SYSTEMS.get(q.system, q.system)} | {_cell(' → '.join(q.turns))} | {answer} "
                   f"| `{_cell(q.expect)}` | {'yes' if a.right else '**no**'} |")
    return "\n".join([*out, "", LEGEND]) + "\n"


def run(args: argparse.Namespace) -> tuple[str, str, list[Answer]]:
    chosen = [q for q in QUESTIONS if not args.only or q.id in args.only.split(",")]
    answers = []
    with chat_client(args) as (client, who):
        for q in chosen:
            answers.append(Answer(q, ask(client, q, stream=False), ask(client, q, stream=True)))
            print(f"{q.id}: {'right' if answers[-1].right else 'WRONG'}: {answers[-1].text!r}", file=sys.stderr)
        model = client.chat("Hi", modalities=["text"], max_tokens=1).model or "?"
    return who, model, answers


def load_raw(path: Path) -> tuple[str, str, list[Answer]]:
    """Answers saved by --raw; the checks are applied again, so a changed check needs no new run."""
    saved = json.loads(path.read_text())
    by_id = {q.id: q for q in QUESTIONS}
    return saved["who"], saved["model"], [Answer(by_id[a["id"]], a["text"], a["streamed"]) for a in saved["answers"]]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--llm-model", help="the engine's chat model: a name or a .gguf path")
    ap.add_argument("--chat-upstream", metavar="URL", help="an OpenAI-compatible chat endpoint behind the engine")
    ap.add_argument("--chat-upstream-model", metavar="NAME", help="the model to ask the upstream for")
    ap.add_argument("--base-url", metavar="URL", help="ask this API instead of the engine (key: NBAUDIO_API_KEY)")
    ap.add_argument("--only", help="comma-separated question ids")
    ap.add_argument("--out", type=Path, help="write the table here (default: print it)")
    ap.add_argument("--raw", type=Path, help="also save the answers here (JSON)")
    ap.add_argument("--from-raw", type=Path, help="render saved answers instead of asking again")
    args = ap.parse_args(argv)
    day = dt.date.today().isoformat()
    if args.from_raw:
        who, model, answers = load_raw(args.from_raw)
        day = json.loads(args.from_raw.read_text()).get("date", "?")
    else:
        who, model, answers = run(args)
    if args.raw:
        args.raw.write_text(json.dumps({"who": who, "model": model, "date": day, "answers": [
            {"id": a.question.id, "text": a.text, "streamed": a.streamed} for a in answers]}, indent=1,
            ensure_ascii=False))
    page = render(answers, who, model, day)
    if args.out:
        args.out.write_text(page)
    else:
        print(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
