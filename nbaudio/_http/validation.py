"""Argument checks, all made before any request: each raises InvalidInputError whose message says
how to fix the argument, and returns the value as it will be sent (" WAV" -> "wav").

Also what a client remembers about its callers' arguments: its `defaults=` (CallDefaults) and
the near-miss names it already warned about (NearMisses).
"""

from __future__ import annotations

import difflib
import math
import numbers
import re
import unicodedata
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from .._wire import spec
from ..errors import InvalidInputError, ParameterNameWarning
from .transport import DEFAULT_CONNECT_TIMEOUT

__all__ = [
    "NEAR_MISS_CUTOFF",
    "UNSET",
    "CallDefaults",
    "NearMisses",
    "as_list",
    "check_api_key",
    "check_bool",
    "check_choice",
    "check_default_headers",
    "check_diarize_arguments",
    "check_language",
    "check_max_response_bytes",
    "check_max_retries",
    "check_model",
    "check_number",
    "check_text",
    "check_timeout",
    "check_seconds",
    "check_voice",
    "is_diarize_model",
    "is_finite",
    "is_real",
    "json_ready",
    "plain_number",
    "MAX_TIMEOUT",
]

# The longest timeout taken: a week. Longer is a mistake (milliseconds given as seconds), and sockets
# and clocks cannot hold much longer waits (1e10 s overflows a socket timeout, after the request went out).
MAX_TIMEOUT = 7 * 24 * 3600.0
NEAR_MISS_CUTOFF = 0.8  # difflib ratio from which an unknown argument is taken for a typo ("voise")
_LANGUAGE_RE = re.compile(r"^[a-z]{2,3}$")


class _Unset:
    """The default of a method argument the caller left out (None can be a value to send)."""

    def __repr__(self) -> str:
        return "<UNSET>"


UNSET: Any = _Unset()


def is_real(value: Any) -> bool:
    """A real number (numpy's too), but not a bool: `speed=True` is a mistake, not 1.0."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and type(value).__name__ != "bool_"


def is_finite(value: Any) -> bool:
    """Whether a real number is finite: not NaN or infinity. Integers always are (math.isfinite
    would turn one into a float first, and overflow on 10**400)."""
    return isinstance(value, numbers.Integral) or math.isfinite(value)


def _is_whole(value: Any) -> bool:
    """An integer (numpy's too), but not a bool."""
    return isinstance(value, numbers.Integral) and is_real(value)


def plain_number(value: numbers.Real) -> int | float:
    """A real number as Python's int or float, which JSON and forms take (numpy's are not JSON).
    A float32 is converted through its shortest text, so np.float32(0.7) is sent as 0.7, as typed,
    not as 0.699999988079071."""
    if isinstance(value, numbers.Integral):
        return int(value)
    if type(value).__module__ == "numpy" and getattr(value, "itemsize", 8) < 8:
        return float(str(value))
    return float(value)


def json_ready(value: Any, where: str = "") -> Any:
    """`value` in the plain types a JSON request body is made of: numpy numbers and arrays become
    Python's, tuples lists. Refused (InvalidInputError naming the field, `where`): NaN and infinity
    (JSON has no such numbers; Python would write `NaN`, which servers reject) and anything JSON
    cannot carry. The one place request bodies (HTTP and Realtime) are made ready to send."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if type(value).__name__ == "bool_":  # numpy's bool
        return bool(value)
    if isinstance(value, numbers.Real):
        number = plain_number(value)
        if not is_finite(number):  # also a numpy longdouble beyond a float's range
            raise InvalidInputError(f"{where or 'the value'} is {value!r}: JSON has no NaN or infinity, so it "
                                    "cannot be sent; give a finite number", param=where or None)
        return number
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if _is_whole(key):
                key = str(int(key))  # as json.dumps writes an int key
            if not isinstance(key, str):
                raise InvalidInputError(f"{where or 'the body'} has the key {key!r}; JSON object keys are strings",
                                        param=where or None)
            out[key] = json_ready(item, f"{where}.{key}" if where else key)
        return out
    if isinstance(value, (list, tuple)):
        return [json_ready(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):  # an array
        return json_ready(value.tolist(), where)
    raise InvalidInputError(f"{where or 'the value'} is of type {type(value).__name__}, which a JSON request cannot "
                            "carry; give text, numbers, True/False, None, lists or dicts", param=where or None)


# ---- client settings --------------------------------------------------------------------------


def check_seconds(value: Any, param: str, what: str | None = None) -> float:
    """A positive, finite number of seconds up to MAX_TIMEOUT (a week), as a Python float."""
    what = what or param
    if is_real(value):
        value = plain_number(value)  # compared as Python's: MAX_TIMEOUT overflows a float16
    if not is_real(value) or not is_finite(value) or value <= 0:
        raise InvalidInputError(f"{what} must be a positive number of seconds, not {value!r}", param=param)
    if value > MAX_TIMEOUT:
        raise InvalidInputError(f"{what}={value!r} is longer than a week ({MAX_TIMEOUT:g} s), the most taken; "
                                "give seconds (not milliseconds), or None for the default", param=param)
    return float(value)


def check_timeout(timeout: Any) -> tuple[float, float]:
    """(connect seconds, total seconds) from `timeout=seconds` or `timeout=(connect, seconds)`."""
    if isinstance(timeout, tuple):
        if len(timeout) != 2:
            raise InvalidInputError("timeout as a tuple must be (connect_seconds, seconds)", param="timeout")
        connect = check_seconds(timeout[0], "timeout", "connect timeout")
        total = check_seconds(timeout[1], "timeout")
        return min(connect, total), total
    t = check_seconds(timeout, "timeout")
    return min(DEFAULT_CONNECT_TIMEOUT, t), t


def check_max_response_bytes(value: Any) -> int | None:
    """None (each endpoint's own cap) or a positive whole number of bytes."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise InvalidInputError(f"max_response_bytes must be a whole number of bytes > 0 (or None), not {value!r}",
                                param="max_response_bytes")
    return int(value)


def check_max_retries(max_retries: Any) -> int:
    if not _is_whole(max_retries) or max_retries < 0:
        raise InvalidInputError(f"max_retries must be a whole number >= 0, not {max_retries!r}", param="max_retries")
    return int(max_retries)


def check_api_key(api_key: Any) -> str | None:
    """The key stripped of surrounding whitespace (None stays None)."""
    if api_key is None:
        return None
    if not isinstance(api_key, str):
        raise InvalidInputError("api_key must be a string", param="api_key")
    api_key = api_key.strip()
    if not api_key or any(c in api_key for c in "\r\n "):
        raise InvalidInputError("api_key is empty or contains spaces/newlines; paste the key alone", param="api_key")
    _check_key_characters(api_key)
    return api_key


def _check_key_characters(key: str) -> None:
    """Keys are printable ASCII; anything else (a zero-width space pasted with the key, a tab) would
    fail only when the request is sent, as a UnicodeEncodeError. Says where, never what the key is."""
    for i, c in enumerate(key):
        if not "!" <= c <= "~":
            name = unicodedata.name(c, f"U+{ord(c):04X}")
            raise InvalidInputError(
                f"api_key has a {name} (U+{ord(c):04X}) at character {i + 1} of {len(key)}: keys are plain ASCII "
                "letters, digits and punctuation. Copy the key again (copies from web pages and PDFs often bring "
                "invisible characters), or set it with %voice login", param="api_key")


def check_default_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Headers every request sends: names and values HTTP can carry; never the Authorization."""
    out: dict[str, str] = {}
    for name, value in (headers or {}).items():
        if isinstance(name, str) and name.lower() == "authorization":
            raise InvalidInputError("pass the key as api_key=, not as an Authorization header", param="default_headers")
        _check_header(name, value)
        out[name] = value
    return out


def _check_header(name: Any, value: Any) -> None:
    if not isinstance(name, str) or not isinstance(value, str):
        raise InvalidInputError("default_headers must map header names to string values", param="default_headers")
    for what, text in (("name", name), ("value", value)):
        try:
            text.encode("latin-1")
        except UnicodeEncodeError:
            raise InvalidInputError(f"default_headers[{name!r}]: the {what} has characters HTTP headers cannot "
                                    "carry (only latin-1); remove them", param="default_headers") from None
        if "\r" in text or "\n" in text:
            raise InvalidInputError(f"default_headers[{name!r}]: the {what} contains a line break",
                                    param="default_headers")


# ---- method arguments -------------------------------------------------------------------------


def check_choice(value: Any, choices: Iterable[str], param: str) -> str:
    """`value` if it is one of `choices`; stray whitespace and capitals (" wav", "WAV") are dropped."""
    choices = tuple(choices)
    if isinstance(value, str) and value not in choices and value.strip().lower() in choices:
        value = value.strip().lower()
    if value not in choices:
        raise InvalidInputError(f"{param}={value!r} is not supported; use one of: {', '.join(choices)}", param=param)
    return value


def check_text(value: Any, param: str, *, max_len: int | None = None, allow_empty: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"{param} must be a string, not {type(value).__name__}", param=param)
    if not allow_empty and not value.strip():
        raise InvalidInputError(f"{param} is empty; give some text", param=param)
    if max_len is not None and len(value) > max_len:
        raise InvalidInputError(f"{param} is {len(value)} characters; the limit is {max_len}", param=param)
    return value


def check_model(model: Any) -> str:
    return check_text(model, "model")


def check_voice(voice: Any, param: str = "voice") -> str | dict[str, str]:
    if isinstance(voice, dict):
        if set(voice) != {"id"} or not isinstance(voice.get("id"), str) or not voice["id"].strip():
            raise InvalidInputError(f"{param} as a dict must be {{'id': 'voice_...'}} (a custom voice id)", param=param)
        return voice
    if not isinstance(voice, str) or not voice.strip():
        raise InvalidInputError(
            f"{param} must be a voice name ({', '.join(spec.VOICES)}) or {{'id': ...}}, not {voice!r}", param=param
        )
    voice = voice.strip()  # "alloy " would be an unknown voice to the server
    if voice.lower() in spec.VOICES and voice != voice.lower():
        return voice.lower()
    return voice


def check_number(value: Any, param: str, lo: float, hi: float) -> float:
    if not is_real(value) or not is_finite(value):
        raise InvalidInputError(f"{param} must be a number from {lo} to {hi}, not {value!r}", param=param)
    if not lo <= value <= hi:
        raise InvalidInputError(f"{param}={value} is out of range; use a value from {lo} to {hi}", param=param)
    return plain_number(value)  # numpy numbers are not JSON


def check_bool(value: Any, param: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError(f"{param} must be True or False, not {value!r}", param=param)
    return value


def check_language(language: Any) -> str:
    if not isinstance(language, str) or not _LANGUAGE_RE.match(language.strip().lower()):
        raise InvalidInputError(
            f"language={language!r} is not an ISO-639-1 code; use a code like 'en', 'de' or 'es'", param="language"
        )
    return language.strip().lower()




def is_diarize_model(model: str) -> bool:
    """gpt-4o-transcribe-diarize, a dated snapshot of it, or it behind a relay prefix (`openai/...`)."""
    return spec.base_model(model) == spec.DIARIZE_MODEL


def check_diarize_arguments(model: str, given: Mapping[str, Any]) -> None:
    """Refuse, before sending, the fields gpt-4o-transcribe-diarize does not take (`given`: name -> value or None)."""
    if not is_diarize_model(model):
        return
    for name in spec.DIARIZE_UNSUPPORTED:
        if given.get(name) not in (None, [], ()):
            raise InvalidInputError(f"{model} does not take {name}= (nor logprobs or word timestamps); leave it out, "
                                    "or use gpt-4o-transcribe / whisper-1 for it", param=name)


def as_list(value: Any, param: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if value is None:
        return []
    try:
        return list(value)
    except TypeError:
        raise InvalidInputError(f"{param} must be a list of strings, not {type(value).__name__}", param=param) from None


# ---- what a client remembers about arguments --------------------------------------------------


class CallDefaults:
    """A client's `defaults=`: per method, the arguments a call gets when it leaves them out.

    `Client(defaults={"voice": "coral", "transcribe": {"language": "en"}})`: a method name maps
    to that method's arguments; any other key is an argument for every method that takes it.
    """

    def __init__(self, defaults: Mapping[str, Any], method_params: Mapping[str, Iterable[str]]) -> None:
        if not isinstance(defaults, Mapping):
            raise InvalidInputError(f"defaults must be a dict such as {{'voice': 'coral', 'transcribe': {{'language': "
                                    f"'en'}}}}, not {type(defaults).__name__}", param="defaults")
        params = {m: frozenset(p) for m, p in method_params.items()}
        self._values: dict[str, dict[str, Any]] = {m: {} for m in params}
        for key, value in defaults.items():
            if key in params:
                if not isinstance(value, Mapping):
                    raise InvalidInputError(f"defaults[{key!r}] must be a dict of {key}() arguments", param="defaults")
                unknown = set(value) - params[key]
                if unknown:
                    raise InvalidInputError(
                        f"defaults[{key!r}] has unknown argument(s) {', '.join(sorted(unknown))}; "
                        f"{key}() takes {', '.join(sorted(params[key]))}", param="defaults")
                self._values[key].update(value)
            else:
                methods = [m for m, names in params.items() if key in names]
                if not methods:
                    raise InvalidInputError(f"defaults has unknown key {key!r}", param="defaults")
                for m in methods:
                    self._values[m].setdefault(key, value)

    def pick(self, method: str, name: str, value: Any, fallback: Any) -> Any:
        """`value` if the caller gave it, else this client's default for it, else `fallback`."""
        if value is not UNSET:
            return value
        return self._values[method].get(name, fallback)

    def has(self, method: str, name: str) -> bool:
        """Whether the client's defaults set `name` for `method`."""
        return name in self._values[method]

    def __repr__(self) -> str:
        set_ = [f"{m}.{k}" for m, values in self._values.items() for k in values]
        return f"<CallDefaults {', '.join(set_) or 'none'}>"


class NearMisses:
    """Unknown arguments go into the body as they are (new API fields work), but one that is a
    near miss of a known parameter (`voise=`) is most likely a typo: warn, once per (method, name)."""

    def __init__(self) -> None:
        self._warned: set[tuple[str, str]] = set()

    def warn(self, method: str, extra: Mapping[str, Any], known: Iterable[str]) -> None:
        known = tuple(known)
        for key in extra:
            if key in known or (method, key) in self._warned:
                continue
            match = difflib.get_close_matches(key, known, n=1, cutoff=NEAR_MISS_CUTOFF)
            if match:
                self._warned.add((method, key))
                warnings.warn(
                    f"{method}() got {key}=, which it does not know; did you mean {match[0]}=? It is sent to the "
                    f"server as it is (unknown arguments go into the request body)", ParameterNameWarning,
                    stacklevel=3)

    def __repr__(self) -> str:
        return f"<NearMisses {len(self._warned)} warned>"
