"""`%voice config` and `%voice login`: the defaults of later cells and the API they talk to."""

from __future__ import annotations

import getpass
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicArgumentParser, argument, magic_arguments
from traitlets import Bool, Float, Integer, TraitError

from .._wire import spec
from .._wire.text import one_line
from .interpolate import interpolate
from .keyguard import LOGIN_HINT, configured_keys, find_keys
from .parsing import usage_error
from .state import VoiceState

__all__ = ["ConfigCommands", "config_args", "login_args"]

# `%voice config KEY=...` names and the traits they set.
_CONFIG_TRAITS = {"model": "model", "voice": "voice", "format": "audio_format", "audio_format": "audio_format",
                  "system": "system", "temperature": "temperature", "max_tokens": "max_tokens",
                  "max_history": "max_history",
                  "stream": "stream", "text_only": "text_only", "live_output": "live_output",
                  "transcribe_model": "transcribe_model"}
# ... and the names that make a new client instead.
_CLIENT_KEYS = ("base_url", "api_key", "timeout")
_FLAGS = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}


@magic_arguments("voice config")
@argument("settings", nargs="*", metavar="KEY=VALUE",
          help="Set defaults: model, voice, format, system, temperature, max_tokens, max_history, stream, text_only, "
               "live_output, transcribe_model, base_url, api_key, timeout. `KEY=none` unsets. "
               "The key only from a variable (api_key={name}) or with `%%voice login`, never typed in. "
               "Without arguments, shows the settings (the key redacted).")
def config_args() -> None:
    """Show or set the defaults of %%voice cells and the API they talk to."""


@magic_arguments("voice login")
@argument("base_url", nargs="?", metavar="BASE_URL", help="The API to use with the key (default: as configured).")
def login_args() -> None:
    """Ask for the API key without echo and use it from now on. The key is never shown and is not
    written to the notebook or to IPython's history, as a key typed into a cell would be."""


class ConfigCommands(VoiceState):
    """The handlers of `%voice config` and `%voice login` (VoiceMagics dispatches to them)."""

    def command_config(self, parser: MagicArgumentParser, args: Any) -> None:
        if not args.settings:
            self._print_config()
            return
        if find_keys(" ".join(args.settings), configured_keys(self.configured_client)):
            # Said without echoing the line: the key would be in this error too.
            raise UsageError("not using the API key typed into this cell: a cell's text is saved in the notebook and "
                             f"IPython's history, so delete it there. Instead, {LOGIN_HINT}.")
        ns = self.shell.user_ns
        traits: dict[str, Any] = {}
        client_changes: dict[str, Any] = {}
        for item in args.settings:
            key, sep, raw = item.partition("=")
            key = key.strip().replace("-", "_")
            if not sep or not key:
                raise usage_error(parser, f"settings are KEY=VALUE, not {item!r}")
            value = interpolate(raw, ns)
            if key == "api_key" and value == raw and raw.strip().lower() not in ("", "none"):
                raise UsageError("api_key= takes a variable, api_key={name}, not the key itself (a typed key is "
                                 f"saved in the notebook and IPython's history); or {LOGIN_HINT}.")
            if key in _CLIENT_KEYS:
                client_changes[key] = None if value.strip().lower() in ("", "none") else value.strip()
            elif key in _CONFIG_TRAITS:
                traits[_CONFIG_TRAITS[key]] = self._trait_value(parser, _CONFIG_TRAITS[key], value)
            else:
                keys = sorted(set(_CONFIG_TRAITS) | set(_CLIENT_KEYS))
                raise usage_error(parser, f"unknown setting {key!r}; settings are {', '.join(keys)}")
        if traits.get("audio_format") is not None and traits["audio_format"] not in spec.CHAT_AUDIO_FORMATS:
            raise usage_error(parser, f"format must be one of {', '.join(spec.CHAT_AUDIO_FORMATS)}")
        if client_changes:
            self.configure_client(client_changes)  # may raise InvalidInputError: nothing set yet then
        try:
            for trait, value in traits.items():
                setattr(self, trait, value)
        except TraitError as exc:
            raise usage_error(parser, one_line(str(exc))) from None
        changed = sorted(set(traits) | set(client_changes))
        print("set " + ", ".join(changed))

    def command_login(self, parser: MagicArgumentParser, args: Any) -> None:
        # getpass is looked up now: ipykernel replaces it with a prompt in the notebook.
        key = getpass.getpass("API key (not shown): ").strip()
        if not key:
            print("no key entered; nothing changed")
            return
        changes = {"api_key": key, **({"base_url": args.base_url} if args.base_url else {})}
        self.configure_client(changes)
        print(f"key set (not shown); %%voice and %voice now use {self.client!r}")

    def _trait_value(self, parser: MagicArgumentParser, trait: str, raw: str) -> Any:
        value = raw.strip()
        kind = self.traits()[trait]
        if value.lower() in ("", "none"):
            if not kind.allow_none:
                raise usage_error(parser, f"{trait} cannot be unset; give a value")
            return None
        try:
            if isinstance(kind, Bool):
                return _FLAGS[value.lower()]
            if isinstance(kind, Integer):
                return int(value)
            if isinstance(kind, Float):
                return float(value)
        except (KeyError, ValueError):
            raise usage_error(parser, f"{trait}={value!r} is not a valid {type(kind).__name__.lower()}") from None
        return raw

    def _print_config(self) -> None:
        client = self.configured_client
        rows = [("client", repr(client) if client is not None else f"default {self.client!r}"),
                ("api_key", "*** (set)" if self.has_api_key else "not set here (environment or none)")]
        for key in ("model", "voice", "audio_format", "system", "temperature", "max_tokens", "max_history", "stream",
                    "text_only", "live_output", "transcribe_model"):
            value = getattr(self, key)
            rows.append((key, "(default)" if value is None else repr(value)))
        rows.append(("conversations", ", ".join(f"{n} ({len(c)} messages)" for n, c in self.conversations.items())
                     or "none"))
        width = max(len(k) for k, _ in rows)
        redact = self.client.redact
        print("\n".join(redact(f"{k:<{width}}  {v}") for k, v in rows))
