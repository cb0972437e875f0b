"""The engine's chat models side by side on 20 prompts a notebook user would type.

    .venv/bin/python experiments/compare_chat_models.py [--models smollm2,gemma3] [--out docs/chat_models.md]
        [--raw build/chat_models.json] [--from-raw build/chat_models.json] [--repeat 3] [--seed 0]

Each model is loaded by its registry name (`nbaudio.server.catalog.chat_models.CHAT_MODELS`: weights verified,
chunked ones joined into the engine's cache dir) into the engine's own `LlamaChat` with the engine's
`Settings` (context, max tokens, threads), and asked each prompt as a fresh conversation the way the
chat route sends it:
- "spoken": the engine's SPOKEN_SYSTEM_PROMPT first (what `nbaudio.chat(..., voice=...)` and
  `%%voice` get: the route adds it to audio replies when the caller sets no system prompt);
- "plain": the prompt alone (a text-only `nbaudio.chat`).
Sampling is the engine's (no temperature, top_p or penalties set, so llama-cpp-python's defaults)
with a fixed seed, so the answers are reproducible on the same build; the timings are not, on a
shared machine, which is why the 1-minute load average is recorded around every answer and the
first `--repeat` prompts are asked again at the end.

Measured per answer: completion tokens, first-token latency (from the call to the first text delta,
prompt processing included), decode rate (tokens after the first / seconds after the first), total
time. Computed from the text: sentence and word counts, whether it stopped by itself or ran into
max_tokens, repeated 4-grams (looping) and markdown. On-topic and correct are judged by a person:
judgements live in experiments/chat_models_judgements.json keyed by model, prompt and the answer's
SHA-256, so an answer that changes (another llama.cpp build, a new model file) shows as "not judged"
instead of inheriting a judgement made on other text. `--from-raw` re-renders the document from a
saved run, e.g. after adding judgements.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `nbaudio` importable from the checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
JUDGEMENTS = Path(__file__).with_name("chat_models_judgements.json")
# The person's conclusions, put at the head of the document (the tables below are computed).
NOTES = Path(__file__).with_name("chat_models_notes.md")
ALIASES = {"smollm2": "smollm2-135m-instruct", "gemma3": "gemma3-270m"}


@dataclass(frozen=True)
class Prompt:
    id: str
    kind: str
    text: str
    reference: str  # what a correct answer says, for the person judging
    expect: str | None = None  # a regex a correct answer almost surely contains (a hint, not the grade)


PROMPTS = [
    Prompt("greet", "greeting", "Hi! How are you today?", "a friendly reply, offers help"),
    Prompt("dog", "opinion", "Is a golden retriever a good family dog?",
           "yes: gentle, friendly, patient with children; needs exercise and grooming",
           r"\byes\b|good|great|excellent"),
    Prompt("paris", "fact", "What is the capital of France?", "Paris", r"\bParis\b"),
    Prompt("lesson", "planning", "Help me plan a science lesson about sound.",
           "sound is vibration; a hands-on activity (rubber bands, tuning fork, string telephone); pitch/volume"),
    Prompt("photo", "explain", "Explain photosynthesis in one sentence.",
           "plants use sunlight, water and carbon dioxide to make sugar (food) and release oxygen", r"sun|light"),
    Prompt("mult", "arithmetic", "What is 12 times 7?", "84", r"\b84\b"),
    Prompt("apples", "arithmetic", "If I have 3 apples and buy 5 more, how many apples do I have?", "8",
           r"\b8\b|\beight\b"),
    Prompt("ephemeral", "definition", "What does the word 'ephemeral' mean?", "lasting a very short time",
           r"short|brief|fleeting|temporary"),
    Prompt("airplane", "how-to", "How do I make a paper airplane?",
           "fold a sheet in half lengthwise, fold the top corners to the centre, fold the wings down, throw"),
    Prompt("turtle", "story", "Tell me a very short story about a brave little turtle.",
           "a few sentences: a small turtle faces something frightening and is brave", r"turtle"),
    Prompt("spanish", "translation", "How do you say 'good morning' in Spanish?", "buenos días", r"buenos d[ií]as"),
    Prompt("sky", "explain", "Why is the sky blue?",
           "air scatters short (blue) wavelengths of sunlight more than long ones (Rayleigh scattering)", r"scatter"),
    Prompt("boil", "fact", "What is the boiling point of water in Celsius?", "100 °C (at sea level)", r"\b100\b"),
    Prompt("romeo", "fact", "Who wrote Romeo and Juliet?", "William Shakespeare", r"Shakespeare"),
    Prompt("octopus", "fun fact", "Give me a fun fact about octopuses.",
           "a true fact: three hearts, blue blood, eight arms, can change colour, very clever"),
    Prompt("climate", "explain", "What is the difference between weather and climate?",
           "weather is day-to-day conditions; climate is the average over many years", r"average|long|years"),
    Prompt("planets", "fact", "How many planets are in our solar system?", "eight", r"\b8\b|\beight\b"),
    Prompt("goldfish", "creative", "Can you suggest a name for a pet goldfish?",
           "one or a few names (Goldie, Bubbles)"),
    Prompt("beach", "practical", "What should I pack for a day at the beach?",
           "sunscreen, water, towel, hat, swimsuit, snacks"),
    Prompt("water", "explain", "Summarize the water cycle for a ten-year-old.",
           "water evaporates, forms clouds (condensation), falls as rain/snow (precipitation), collects, repeats",
           r"evapor|cloud|rain"),
]
CONDITIONS = ("spoken", "plain")


@dataclass
class Answer:
    model: str
    condition: str
    prompt_id: str
    text: str
    completion_tokens: int
    prompt_tokens: int
    finish_reason: str
    first_token_s: float | None
    total_s: float
    decode_tps: float | None
    load_before: float
    load_after: float
    repeat: bool = False

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


@dataclass
class ModelRun:
    name: str
    title: str
    licence: str
    origin: str
    gguf_sha256: str
    gguf_bytes: int
    prepare_s: float  # finding, verifying (and joining) the weights
    load_s: float  # llama.cpp loading the GGUF
    rss_mb: float  # resident memory added by loading it
    threads: int
    answers: list[Answer] = field(default_factory=list)


# ---- measuring ----------------------------------------------------------------------------------
def _loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _ask(chat: Any, model: str, condition: str, prompt: Prompt, seed: int, max_tokens: int,
         repeat: bool = False) -> Answer:
    from nbaudio.server.chat.input import SPOKEN_SYSTEM_PROMPT
    from nbaudio.server.models.llm import GenParams

    messages = [{"role": "user", "content": prompt.text}]
    if condition == "spoken":
        messages.insert(0, {"role": "system", "content": SPOKEN_SYSTEM_PROMPT})
    # As the chat route builds it for a request that sets only the seed.
    params = GenParams(model=model, max_tokens=max_tokens, seed=seed)
    load_before = _loadavg()
    start = time.perf_counter()
    gen = chat.generate(messages, params)
    first = last = None
    parts = []
    for delta in gen:
        last = time.perf_counter()
        if first is None:
            first = last
        parts.append(delta)
    end = time.perf_counter()
    n = gen.completion_tokens
    decode = (n - 1) / (last - first) if first is not None and last is not None and last > first and n > 1 else None
    return Answer(model, condition, prompt.id, "".join(parts), n, gen.prompt_tokens, gen.finish_reason,
                  None if first is None else first - start, end - start, decode, load_before, _loadavg(), repeat)


def run_model(name: str, conditions: list[str], seed: int, repeat: int) -> ModelRun:
    from nbaudio.server.catalog.chat_models import CHAT_MODELS
    from nbaudio.server.catalog.weights import sha256_file
    from nbaudio.server.models.llm import LlamaChat
    from nbaudio.server.models.sources import llm_source
    from nbaudio.server.settings import Settings

    settings = Settings.from_env(llm_model=name)
    t0 = time.perf_counter()
    source = llm_source(settings)
    prepare = time.perf_counter() - t0
    rss0 = _rss_mb()
    t0 = time.perf_counter()
    chat = LlamaChat(source, settings)
    load = time.perf_counter() - t0
    info = CHAT_MODELS[name]
    run = ModelRun(name, info.title, info.licence, source.origin, sha256_file(source.path),
                   os.path.getsize(source.path), prepare, load, _rss_mb() - rss0, max(1, settings.threads // 2))
    for condition in conditions:
        for prompt in PROMPTS:
            a = _ask(chat, name, condition, prompt, seed, settings.llm_max_tokens)
            run.answers.append(a)
            print(f"{name:24} {condition:6} {prompt.id:10} {a.completion_tokens:4} tok  "
                  f"first {a.first_token_s or 0:5.2f} s  {a.decode_tps or 0:5.1f} tok/s  load {a.load_before:.2f}",
                  flush=True)
    for prompt in PROMPTS[:repeat]:  # the same questions again: is the timing the machine or the model?
        run.answers.append(_ask(chat, name, conditions[0], prompt, seed, settings.llm_max_tokens, repeat=True))
    del chat
    return run


# ---- judging ------------------------------------------------------------------------------------
_SENTENCE = re.compile(r"[^.!?]+(?:[.!?]+|$)")


def sentences(text: str) -> int:
    body = re.sub(r"\b(?:e\.g|i\.e|Mr|Mrs|Dr|St|vs)\.", "", text)
    body = re.sub(r"(?<=\d)\.(?=\d)", "", body)  # 3.5
    return sum(1 for s in _SENTENCE.findall(body) if re.search(r"\w", s))


def repeated_4grams(text: str) -> float:
    """Share of the answer's word 4-grams that occur more than once: ~0 for prose, high for a loop."""
    words = re.findall(r"\w+", text.lower())
    grams = [tuple(words[i:i + 4]) for i in range(len(words) - 3)]
    if len(grams) < 8:
        return 0.0
    counts: dict[tuple[str, ...], int] = {}
    for g in grams:
        counts[g] = counts.get(g, 0) + 1
    return sum(c for c in counts.values() if c > 1) / len(grams)


def text_checks(a: Answer) -> dict[str, Any]:
    n = sentences(a.text)
    loop = repeated_4grams(a.text)
    markdown = bool(re.search(r"^\s*(?:[-*]|\d+\.|#+)\s", a.text, re.M) or "**" in a.text)
    return {
        "sentences": n, "words": len(a.text.split()), "repeat4": loop, "markdown": markdown,
        # The rubric: one or two sentences; three is let through because the engine's system prompt
        # asks for "a few short, plain sentences". An answer cut off at max_tokens is not brief.
        "brief": 1 <= n <= 3 and a.finish_reason == "stop",
        "clean": loop < 0.25 and a.finish_reason == "stop" and not markdown and bool(a.text.strip()),
    }


def load_judgements(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


def judgement(judgements: dict[str, Any], a: Answer) -> dict[str, Any] | None:
    j = judgements.get(a.model, {}).get(a.condition, {}).get(a.prompt_id)
    if j is None or j.get("sha256") != a.sha:
        return None
    return j


def verdict(checks: dict[str, Any], j: dict[str, Any] | None) -> str:
    if j is None:
        return "not judged"
    if j["on_topic"] and j["correct"] and checks["brief"] and checks["clean"]:
        return "good"
    if j["on_topic"] and j["correct"]:
        return "right, too long" if not checks["brief"] else "right, messy"
    return "wrong" if j["on_topic"] else "off topic"


# ---- the document -------------------------------------------------------------------------------
def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "–" if value is None else format(value, spec)


def _judged_count(judged: list[dict[str, Any]], key: str) -> str:
    """`passed/judged` for one judgement key, or "not judged"."""
    return f"{sum(1 for j in judged if j[key])}/{len(judged)}" if judged else "not judged"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ⏎ ")


def render(runs: list[ModelRun], meta: dict[str, Any], judgements: dict[str, Any]) -> str:
    by_id = {p.id: p for p in PROMPTS}
    out = ["# The engine's chat model: SmolLM2-135M-Instruct against Gemma 3 270M", "",
           "Generated by `experiments/compare_chat_models.py` (the method is in its docstring); the judgements of",
           "on-topic and correct are a person's, in `experiments/chat_models_judgements.json`, tied to the exact",
           "answer text by its SHA-256. Written " + meta["date"] + ".", ""]
    if NOTES.is_file():
        out += [NOTES.read_text().strip(), ""]
    out += ["## Machine and settings", "",
            f"- {meta['cpu']}, {meta['cores']} cores shared with other jobs; Python {meta['python']}, "
            f"llama-cpp-python {meta['llama_cpp']} (built with `-DGGML_NATIVE=OFF`)",
            f"- the engine's settings: context {meta['llm_context']}, max tokens {meta['llm_max_tokens']}, "
            f"{runs[0].threads if runs else 1} llama.cpp thread(s) (half the cores, `LlamaChat`), seed {meta['seed']}, "
            "sampling left to llama-cpp-python's defaults as the engine does ("
            + ", ".join(f"{k} {v}" for k, v in meta["sampling"].items()) + ")",
            f"- 1-minute load average during the run: {meta['load_min']:.2f}–{meta['load_max']:.2f} "
            f"(the machine has {meta['cores']} cores)", ""]
    out += ["| model | licence | GGUF | SHA-256 | weights ready | load | memory |", "|---|---|---|---|---|---|---|"]
    for r in runs:
        out.append(f"| `{r.name}`: {r.title} | {r.licence} | {r.gguf_bytes / 1e6:.0f} MB | `{r.gguf_sha256[:16]}…` | "
                   f"{r.prepare_s:.1f} s | {r.load_s:.2f} s | +{r.rss_mb:.0f} MB RSS |")
    out += ["", "Weights ready: finding and SHA-256-checking the pinned files (and, for Gemma, joining its four "
            "chunks into the engine's cache dir when they are not there yet). Origins:", ""]
    out += [f"- `{r.name}`: {r.origin}; full SHA-256 `{r.gguf_sha256}`" for r in runs]

    out += ["", "## Rubric", "",
            "- **on topic**: answers the question that was asked (a person's judgement);",
            "- **correct**: what it says is true and, for a request, does what was asked (a person's judgement; "
            "a reply that is on topic but wrong or nonsensical fails here);",
            "- **brief**: one or two sentences, three allowed because the engine asks for \"a few short, plain "
            "sentences\", and the model stopped by itself (not cut off at max tokens);",
            "- **clean**: no looping (under 25 % of its word 4-grams repeated), no markdown lists or headings, "
            "stopped by itself.",
            "- **good** = all four; **right, too long** / **right, messy** = on topic and correct but not brief / "
            "not clean; **wrong**; **off topic**.", ""]

    out += ["## Summary", ""]
    for condition in meta["conditions"]:
        label = ("with the engine's spoken-reply system prompt (`nbaudio.chat(..., voice=...)`, `%%voice`)"
                 if condition == "spoken" else "with no system prompt (a text-only `nbaudio.chat`)")
        out += [f"### {condition}: {label}", "",
                "| model | good | on topic | correct | brief | clean | keyword hint | first token (median) | "
                "decode tok/s (median) | tokens (median) | hit max tokens |",
                "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in runs:
            answers = [a for a in r.answers if a.condition == condition and not a.repeat]
            if not answers:
                continue
            checks = [text_checks(a) for a in answers]
            js = [judgement(judgements, a) for a in answers]
            judged = [j for j in js if j is not None]
            verdicts = [verdict(c, j) for c, j in zip(checks, js, strict=True)]
            hints = [(bool(re.search(by_id[a.prompt_id].expect, a.text, re.I))) for a in answers
                     if by_id[a.prompt_id].expect]
            n = len(answers)
            good = f"{verdicts.count('good')}/{n}" if judged else "not judged"
            out.append(
                f"| `{r.name}` | {good} | {_judged_count(judged, 'on_topic')} | "
                f"{_judged_count(judged, 'correct')} | "
                f"{sum(c['brief'] for c in checks)}/{n} | {sum(c['clean'] for c in checks)}/{n} | "
                f"{sum(hints)}/{len(hints)} | "
                f"{_fmt(_median([a.first_token_s for a in answers if a.first_token_s is not None]))} s | "
                f"{_fmt(_median([a.decode_tps for a in answers if a.decode_tps]), '.1f')} | "
                f"{_fmt(_median([a.completion_tokens for a in answers]), '.0f')} | "
                f"{sum(a.finish_reason == 'length' for a in answers)}/{n} |")
        out.append("")
    out += ["Keyword hint: how many of the answers with a known fact contain it (`Prompt.expect`, e.g. `84`, "
            "`Paris`); a mechanical cross-check of the person's \"correct\", not the grade. First token: from the "
            "call to the first text delta, prompt processing included. Decode: tokens after the first per second "
            "after the first.", ""]

    repeats = [a for r in runs for a in r.answers if a.repeat]
    if repeats:
        out += ["### Timing asked again at the end of each model's run", "",
                "| model | prompt | first token, run 1 → again | decode tok/s, run 1 → again | same answer | load |",
                "|---|---|---|---|---|---|"]
        for a in repeats:
            first = next(b for b in next(r for r in runs if r.name == a.model).answers
                         if b.prompt_id == a.prompt_id and b.condition == a.condition and not b.repeat)
            out.append(f"| `{a.model}` | {a.prompt_id} | {_fmt(first.first_token_s)} → {_fmt(a.first_token_s)} s | "
                       f"{_fmt(first.decode_tps, '.1f')} → {_fmt(a.decode_tps, '.1f')} | "
                       f"{'yes' if a.text == first.text else 'no'} | {first.load_before:.2f} → {a.load_before:.2f} |")
        out.append("")

    for condition in meta["conditions"]:
        out += [f"## Every answer ({condition})", ""]
        for p in PROMPTS:
            out += [f"### {p.id}: {p.text}", "", f"*A correct answer:* {p.reference}", "",
                    "| model | answer | tokens | first token | tok/s | sentences | verdict | judgement |",
                    "|---|---|---|---|---|---|---|---|"]
            for r in runs:
                a = next((a for a in r.answers if a.condition == condition and a.prompt_id == p.id and not a.repeat),
                         None)
                if a is None:
                    continue
                c = text_checks(a)
                j = judgement(judgements, a)
                shown = a.text.strip()
                if len(shown) > 600:
                    shown = shown[:600] + f" … ({len(a.text)} characters in all)"
                flags = [f for f, on in (("cut off at max tokens", a.finish_reason == "length"),
                                         (f"loops ({c['repeat4']:.0%} repeated 4-grams)", c["repeat4"] >= 0.25),
                                         ("markdown", c["markdown"])) if on]
                note = (j or {}).get("note", "")
                note = "; ".join([*flags, note] if note else flags) or "–"
                out.append(f"| `{r.name}` | {_cell(shown) or '(empty)'} | {a.completion_tokens} | "
                           f"{_fmt(a.first_token_s)} s | {_fmt(a.decode_tps, '.1f')} | {c['sentences']} | "
                           f"**{verdict(c, j)}** | {_cell(note)} |")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def machine_meta(seed: int, conditions: list[str], runs: list[ModelRun]) -> dict[str, Any]:
    import llama_cpp

    from nbaudio.server.settings import Settings

    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import inspect

    defaults = inspect.signature(llama_cpp.Llama.create_chat_completion).parameters
    sampling = {k: defaults[k].default for k in ("temperature", "top_p", "top_k", "min_p", "repeat_penalty")}
    loads = [x for r in runs for a in r.answers for x in (a.load_before, a.load_after)] or [_loadavg()]
    s = Settings.from_env()
    return {"date": time.strftime("%Y-%m-%d"), "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "llama_cpp": llama_cpp.__version__, "llm_context": s.llm_context, "llm_max_tokens": s.llm_max_tokens,
            "seed": seed, "sampling": sampling, "conditions": conditions,
            "load_min": min(loads), "load_max": max(loads)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="smollm2,gemma3",
                    help="comma-separated registry names or aliases (smollm2, gemma3)")
    ap.add_argument("--conditions", default=",".join(CONDITIONS), help="spoken,plain (see the docstring)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "chat_models.md")
    ap.add_argument("--raw", type=Path, default=ROOT / "build" / "chat_models.json",
                    help="where the raw answers and timings go")
    ap.add_argument("--from-raw", type=Path, help="render --out from a saved --raw file instead of running")
    ap.add_argument("--judgements", type=Path, default=JUDGEMENTS)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3, help="ask the first N prompts again at the end (timing)")
    args = ap.parse_args(argv)

    if args.from_raw:
        data = json.loads(args.from_raw.read_text())
        runs = [ModelRun(**{**r, "answers": [Answer(**a) for a in r["answers"]]}) for r in data["runs"]]
        meta = data["meta"]
    else:
        from nbaudio.server.catalog.chat_models import CHAT_MODELS

        names = [ALIASES.get(m.strip(), m.strip()) for m in args.models.split(",") if m.strip()]
        unknown = [n for n in names if n not in CHAT_MODELS]
        if unknown:
            ap.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join([*ALIASES, *CHAT_MODELS])}")
        conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
        bad = [c for c in conditions if c not in CONDITIONS]
        if bad or not conditions:
            ap.error(f"conditions must be among {', '.join(CONDITIONS)}")
        runs = [run_model(n, conditions, args.seed, args.repeat) for n in names]
        meta = machine_meta(args.seed, conditions, runs)
        args.raw.parent.mkdir(parents=True, exist_ok=True)
        args.raw.write_text(json.dumps({"meta": meta, "runs": [asdict(r) for r in runs]}, indent=1, ensure_ascii=False))
        print(f"raw answers: {args.raw}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(runs, meta, load_judgements(args.judgements)))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
