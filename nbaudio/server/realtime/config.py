"""The session settings the engine takes (`session.update`, `response.create`, conversation items),
checked field by field: anything else is refused by its name, never dropped. The shapes follow the
GA protocol as the official `openai` SDK types it (`openai.types.realtime`)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from ..._wire.realtime import AUDIO_FORMAT, SAMPLE_RATE
from ...errors import RealtimeEventError
from .tools import ABSENT, RealtimeTools, parse_call_item, parse_tools_setting
from .turn_end import EAGERNESS, silence_ms

__all__ = ["ServerVad", "SemanticVad", "Transcription", "SessionConfig", "ResponseOptions", "parse_response_options",
           "parse_item", "require"]


def require(obj: Any, where: str, allowed: set[str] | frozenset[str]) -> dict[str, Any]:
    """`obj` as a dict whose keys are all in `allowed`; any other is refused by its name."""
    if not isinstance(obj, dict):
        raise RealtimeEventError(f"Invalid type for '{where}': expected an object.", param=where)
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        names = ", ".join(f"'{where}.{k}'" for k in unknown)
        raise RealtimeEventError(f"Unknown or unsupported parameter(s): {names}. Supported here: "
                                 f"{', '.join(sorted(allowed))}.", param=f"{where}.{unknown[0]}",
                                 code="unknown_parameter")
    return obj


def _number(obj: dict, key: str, where: str, low: float, high: float, *, integer: bool = False) -> Any:
    value = obj[key]
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not low <= value <= high:
        raise RealtimeEventError(f"Invalid value for '{where}.{key}': {value!r}; expected a "
                                 f"{'whole ' if integer else ''}number from {low:g} to {high:g}.",
                                 param=f"{where}.{key}")
    return value


def _string(obj: dict, key: str, where: str) -> str:
    if not isinstance(obj[key], str):
        raise RealtimeEventError(f"Invalid type for '{where}.{key}': expected a string.", param=f"{where}.{key}")
    return obj[key]


def _bool(obj: dict, key: str, where: str) -> bool:
    if not isinstance(obj[key], bool):
        raise RealtimeEventError(f"Invalid type for '{where}.{key}': expected true or false.", param=f"{where}.{key}")
    return obj[key]


def _format(value: Any, where: str) -> None:
    fmt = require(value, where, {"type", "rate"})
    if fmt.get("type", AUDIO_FORMAT) != AUDIO_FORMAT or fmt.get("rate", SAMPLE_RATE) != SAMPLE_RATE:
        raise RealtimeEventError(f"Unsupported value for '{where}': {value!r}. Supported: "
                                 f"{{\"type\": \"{AUDIO_FORMAT}\", \"rate\": {SAMPLE_RATE}}}.", param=where,
                                 code="unsupported_value")


def _modalities(value: Any, where: str) -> list[str]:
    if value not in (["audio"], ["text"]):
        raise RealtimeEventError(f"Invalid value for '{where}': {value!r}. Supported values are ['audio'] "
                                 "(speech with its transcript) and ['text'].", param=where)
    return list(value)


def _max_tokens(obj: dict, where: str) -> int | None:
    if obj["max_output_tokens"] == "inf":
        return None
    return _number(obj, "max_output_tokens", where, 1, 4096, integer=True)


@dataclass
class ServerVad:
    """`turn_detection: {"type": "server_vad", ...}` with OpenAI's defaults."""

    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    create_response: bool = True
    interrupt_response: bool = True
    idle_timeout_ms: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"type": "server_vad", "threshold": self.threshold, "prefix_padding_ms": self.prefix_padding_ms,
                "silence_duration_ms": self.silence_duration_ms, "create_response": self.create_response,
                "interrupt_response": self.interrupt_response, "idle_timeout_ms": self.idle_timeout_ms}

    def update(self, obj: Any, where: str) -> ServerVad:
        obj = require(obj, where, {"type", "threshold", "prefix_padding_ms", "silence_duration_ms",
                                   "create_response", "interrupt_response", "idle_timeout_ms"})
        out = copy.copy(self)
        for key, low, high, integer in (("threshold", 0.0, 1.0, False), ("prefix_padding_ms", 0, 5000, True),
                                        ("silence_duration_ms", 100, 10000, True)):
            if key in obj:
                setattr(out, key, _number(obj, key, where, low, high, integer=integer))
        for key in ("create_response", "interrupt_response"):
            if key in obj:
                setattr(out, key, _bool(obj, key, where))
        if obj.get("idle_timeout_ms") is not None:
            raise RealtimeEventError(f"Unsupported parameter: '{where}.idle_timeout_ms' (give null).",
                                     param=f"{where}.idle_timeout_ms", code="unsupported_parameter")
        return out


@dataclass
class SemanticVad:
    """`turn_detection: {"type": "semantic_vad", ...}`: the turn ends after a silence whose length
    the words so far decide (turn_end.py); speech is found as server_vad finds it."""

    eagerness: str = "auto"
    create_response: bool = True
    interrupt_response: bool = True
    threshold: float = 0.5  # not settable (OpenAI: server_vad only), what the detector uses
    prefix_padding_ms: int = 300

    @property
    def silence_duration_ms(self) -> int:
        """The wait while the words are not known yet."""
        return silence_ms(self.eagerness)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "semantic_vad", "eagerness": self.eagerness, "create_response": self.create_response,
                "interrupt_response": self.interrupt_response}

    def update(self, obj: Any, where: str) -> SemanticVad:
        obj = require(obj, where, {"type", "eagerness", "create_response", "interrupt_response"})
        out = copy.copy(self)
        if "eagerness" in obj:
            if obj["eagerness"] not in EAGERNESS:
                raise RealtimeEventError(f"Invalid value for '{where}.eagerness': {obj['eagerness']!r}. Supported "
                                         f"values are {', '.join(repr(e) for e in EAGERNESS)}.",
                                         param=f"{where}.eagerness")
            out.eagerness = obj["eagerness"]
        for key in ("create_response", "interrupt_response"):
            if key in obj:
                setattr(out, key, _bool(obj, key, where))
        return out


def _turn_detection(current: ServerVad | SemanticVad | None, value: Any, where: str) -> ServerVad | SemanticVad:
    """The turn detection a session.update asks for: the current one updated when the type stays,
    else the new type's defaults updated."""
    kind = value.get("type") if isinstance(value, dict) else None
    kinds = {"server_vad": ServerVad, "semantic_vad": SemanticVad}
    if kind not in kinds:
        raise RealtimeEventError(f"Unsupported value for '{where}.type': {str(kind)[:40]!r}. Supported: "
                                 "'server_vad', 'semantic_vad', or turn_detection null for manual turns.",
                                 param=f"{where}.type", code="unsupported_value")
    base = current if isinstance(current, kinds[kind]) else kinds[kind]()
    return base.update(value, where)


@dataclass
class Transcription:
    """`audio.input.transcription`: the user's speech transcribed into the conversation's events."""

    model: str = "whisper-1"
    language: str | None = None
    prompt: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "language": self.language, "prompt": self.prompt}


@dataclass
class SessionConfig:
    """The settings of one Realtime session (`session.update` changes them field by field)."""

    model: str = "gpt-realtime"
    instructions: str = ""
    output_modalities: list[str] = field(default_factory=lambda: ["audio"])
    voice: str = "alloy"
    speed: float = 1.0
    transcription: Transcription | None = None
    turn_detection: ServerVad | SemanticVad | None = field(default_factory=ServerVad)
    max_output_tokens: int | None = None  # None: "inf" (the engine's own limit applies)
    tools: RealtimeTools | None = None

    def to_dict(self, session_id: str) -> dict[str, Any]:
        """The `session` object of session.created / session.updated."""
        fmt = {"type": AUDIO_FORMAT, "rate": SAMPLE_RATE}
        return {
            "type": "realtime", "object": "realtime.session", "id": session_id, "model": self.model,
            "output_modalities": list(self.output_modalities), "instructions": self.instructions,
            "tools": self.tools.raw if self.tools else [], "tool_choice": self.tools.choice if self.tools else "auto",
            "max_output_tokens": self.max_output_tokens or "inf",
            "tracing": None, "truncation": "auto", "prompt": None,
            "audio": {
                "input": {"format": fmt, "noise_reduction": None,
                          "transcription": self.transcription.to_dict() if self.transcription else None,
                          "turn_detection": self.turn_detection.to_dict() if self.turn_detection else None},
                "output": {"format": fmt, "voice": self.voice, "speed": self.speed},
            },
        }

    def updated(self, session: Any) -> SessionConfig:
        """A copy with a `session.update`'s `session` applied; RealtimeEventError names what it refuses."""
        where = "session"
        s = require(session, where, {"type", "model", "instructions", "output_modalities", "audio",
                                     "max_output_tokens", "tools", "tool_choice", "tracing", "truncation",
                                     "include", "prompt"})
        if s.get("type", "realtime") != "realtime":
            raise RealtimeEventError(f"Unsupported value for 'session.type': {s.get('type')!r}. This is a "
                                     "conversation session (type 'realtime'); for a transcription session connect "
                                     "with ?intent=transcription.", param="session.type",
                                     code="unsupported_value")
        out = copy.deepcopy(self)
        if "model" in s:
            out.model = _string(s, "model", where)
        if "instructions" in s:
            out.instructions = _string(s, "instructions", where)
        if "output_modalities" in s:
            out.output_modalities = _modalities(s["output_modalities"], "session.output_modalities")
        if "max_output_tokens" in s:
            out.max_output_tokens = _max_tokens(s, where)
        if "tools" in s or "tool_choice" in s:
            out.tools = parse_tools_setting(s.get("tools", ABSENT), s.get("tool_choice", ABSENT), where, out.tools)
        for key, allowed in (("tracing", (None,)), ("truncation", ("auto",)), ("include", (None, [])),
                             ("prompt", (None,))):
            if key in s and s[key] not in allowed:
                raise RealtimeEventError(f"Unsupported value for 'session.{key}': this server has no "
                                         "tracing, prompts or truncation settings (leave it out).",
                                         param=f"session.{key}", code="unsupported_value")
        if "audio" in s:
            audio = require(s["audio"], "session.audio", {"input", "output"})
            if "input" in audio:
                _update_input(out, audio["input"])
            if "output" in audio:
                _update_output(out, audio["output"])
        return out


def _update_input(config: SessionConfig, value: Any) -> None:
    where = "session.audio.input"
    inp = require(value, where, {"format", "transcription", "turn_detection", "noise_reduction"})
    if "format" in inp:
        _format(inp["format"], f"{where}.format")
    if inp.get("noise_reduction") is not None:
        raise RealtimeEventError(f"Unsupported parameter: '{where}.noise_reduction' (give null).",
                                 param=f"{where}.noise_reduction", code="unsupported_parameter")
    if "transcription" in inp:
        t = inp["transcription"]
        if t is None:
            config.transcription = None
        else:
            t = require(t, f"{where}.transcription", {"model", "language", "prompt"})
            config.transcription = Transcription(
                **{k: _string(t, k, f"{where}.transcription") for k in t if t[k] is not None})
    if "turn_detection" in inp:
        td = inp["turn_detection"]
        config.turn_detection = None if td is None else _turn_detection(config.turn_detection, td,
                                                                        f"{where}.turn_detection")


def _update_output(config: SessionConfig, value: Any) -> None:
    where = "session.audio.output"
    out = require(value, where, {"format", "voice", "speed"})
    if "format" in out:
        _format(out["format"], f"{where}.format")
    if "voice" in out:
        config.voice = _voice(out["voice"], f"{where}.voice")
    if "speed" in out:
        config.speed = float(_number(out, "speed", where, 0.25, 1.5))


def _voice(value: Any, where: str) -> str:
    if isinstance(value, dict) and set(value) == {"id"} and isinstance(value["id"], str):
        return value["id"]
    if not isinstance(value, str) or not value:
        raise RealtimeEventError(f"Invalid value for '{where}': expected a voice name.", param=where)
    return value


@dataclass
class ResponseOptions:
    """What a `response.create` may change for one response."""

    instructions: str | None = None
    output_modalities: list[str] | None = None
    voice: str | None = None
    max_output_tokens: int | None = None
    use_conversation: bool = True  # conversation "none": answer `input` alone
    input: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    tools: RealtimeTools | None = None  # None: the session's


def parse_response_options(value: Any) -> ResponseOptions:
    """The `response` of a `response.create` (None: the session's settings)."""
    where = "response"
    if value is None:
        return ResponseOptions()
    r = require(value, where, {"instructions", "output_modalities", "audio", "max_output_tokens", "conversation",
                               "input", "metadata", "tools", "tool_choice"})
    opts = ResponseOptions()
    if "instructions" in r:
        opts.instructions = _string(r, "instructions", where)
    if "output_modalities" in r:
        opts.output_modalities = _modalities(r["output_modalities"], "response.output_modalities")
    if "max_output_tokens" in r:
        opts.max_output_tokens = _max_tokens(r, where)
    if "audio" in r:
        audio = require(r["audio"], "response.audio", {"output"})
        output = require(audio.get("output", {}), "response.audio.output", {"voice", "format"})
        if "format" in output:
            _format(output["format"], "response.audio.output.format")
        if "voice" in output:
            opts.voice = _voice(output["voice"], "response.audio.output.voice")
    if r.get("conversation", "auto") not in ("auto", "none"):
        raise RealtimeEventError("Invalid value for 'response.conversation': expected 'auto' or 'none'.",
                                 param="response.conversation")
    opts.use_conversation = r.get("conversation", "auto") == "auto"
    if "input" in r:
        if not isinstance(r["input"], list):
            raise RealtimeEventError("Invalid type for 'response.input': expected an array of items.",
                                     param="response.input")
        opts.input = [parse_item(item, f"response.input[{i}]") for i, item in enumerate(r["input"])]
    if r.get("metadata") is not None:
        if not isinstance(r["metadata"], dict):
            raise RealtimeEventError("Invalid type for 'response.metadata': expected an object.",
                                     param="response.metadata")
        opts.metadata = dict(r["metadata"])
    if "tools" in r or "tool_choice" in r:
        opts.tools = parse_tools_setting(r.get("tools", ABSENT), r.get("tool_choice", ABSENT), where)
    return opts


# Content part types each role may carry in `conversation.item.create`.
_PARTS = {"user": {"input_text", "input_audio"}, "system": {"input_text"}, "assistant": {"output_text", "output_audio"}}


def parse_item(value: Any, where: str = "item") -> dict[str, Any]:
    """An item to add to the conversation, checked: {"id"?, "type": "message", "role", "content": [...]},
    or a function_call / function_call_output (tools.py). Images are refused by name."""
    if isinstance(value, dict) and value.get("type") in ("function_call", "function_call_output"):
        return parse_call_item(value, where)
    item = require(value, where, {"id", "type", "role", "content", "status", "object"})
    if item.get("type") != "message":
        raise RealtimeEventError(f"Unsupported value for '{where}.type': {str(item.get('type'))[:40]!r}. This "
                                 "server takes 'message', 'function_call' and 'function_call_output' items.",
                                 param=f"{where}.type", code="unsupported_value")
    role = item.get("role")
    if role not in _PARTS:
        raise RealtimeEventError(f"Invalid value for '{where}.role': {role!r}. Supported values are 'user', "
                                 "'assistant' and 'system'.", param=f"{where}.role")
    content = item.get("content")
    if not isinstance(content, list) or not content:
        raise RealtimeEventError(f"Missing required parameter: '{where}.content' (a non-empty array).",
                                 param=f"{where}.content")
    parts = []
    for j, part in enumerate(content):
        pw = f"{where}.content[{j}]"
        part = require(part, pw, {"type", "text", "audio", "transcript"})
        kind = part.get("type")
        if kind not in _PARTS[role]:
            raise RealtimeEventError(f"Invalid value for '{pw}.type': {kind!r}. A {role} message takes "
                                     f"{', '.join(sorted(_PARTS[role]))}.", param=f"{pw}.type")
        if kind in ("input_text", "output_text") and not isinstance(part.get("text"), str):
            raise RealtimeEventError(f"Missing required parameter: '{pw}.text'.", param=f"{pw}.text")
        if kind == "input_audio" and not isinstance(part.get("audio"), str):
            raise RealtimeEventError(f"Missing required parameter: '{pw}.audio' (base64 pcm16 at 24 kHz).",
                                     param=f"{pw}.audio")
        if kind == "output_audio" and not isinstance(part.get("transcript"), str):
            raise RealtimeEventError(f"Missing required parameter: '{pw}.transcript' (the engine does not "
                                     "keep assistant audio, only what it said).", param=f"{pw}.transcript")
        parts.append(dict(part))
    out = {"type": "message", "role": role, "content": parts}
    if item.get("id") is not None:
        if not isinstance(item["id"], str) or not 0 < len(item["id"]) <= 64:
            raise RealtimeEventError(f"Invalid value for '{where}.id': up to 64 characters.", param=f"{where}.id")
        out["id"] = item["id"]
    return out
