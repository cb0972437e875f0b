"""`%%voice` and `%voice`: a multi-turn audio chat in notebook cells.

    %load_ext nbaudio

    %%voice --voice coral
    Is a golden retriever a good family dog?

Each `%%voice` cell sends its text (and `--audio`) as the next user turn of a conversation kept
on the magics object, shows the reply as it streams, and binds it to `_voice`. Earlier
assistant turns are sent by audio id while the id is alive and as their transcript after that
(see `nbaudio.chat.Conversation`). `%voice` manages the conversations and defaults:

    %voice config voice=coral temperature=0.7      # defaults for later cells (no args: show them)
    %voice history | reset | replay N | export PATH
    clip = %voice speak Hello there                 # text to speech only
    text = %voice transcribe recording.wav          # speech to text only
    %voice listen --voice coral                     # a microphone recorder: each recording is a turn
    %voice login [BASE_URL]                         # asks for the API key without echo

Defaults are traitlets, so `ipython_config.py` can set them too:
`c.VoiceMagics.voice = "coral"`, `c.VoiceMagics.max_history = 20`.
"""

from __future__ import annotations

import argparse
import base64
import getpass
import html
import inspect
import re
import shlex
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import MagicArgumentParser, argument, magic_arguments
from IPython.display import display
from traitlets import Bool, Float, Integer, TraitError, Unicode

from . import spec
from ._keyguard import LOGIN_HINT, configured_keys, find_keys
from .audio import AudioClip, as_audio_clip
from .chat import ChatReply, Conversation
from .client import Client, Secret, default_client
from .errors import NbAudioError
from .transcript import Transcript

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

__all__ = ["VoiceMagics", "interpolate", "load_ipython_extension"]

DEFAULT_CONVERSATION = "default"
# The live view is redrawn at most this often; each redraw also carries the audio since the last.
LIVE_UPDATE_SECONDS = 0.15
_TEMPERATURE_RANGE = (0.0, 2.0)

# `{name}`, `{name.attr}`, `{name!r}`, `{name:spec}`; `{{` and `}}` are literal braces.
_FIELD = re.compile(
    r"\{\{|\}\}|\{(?P<name>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:!(?P<conv>[rsa]))?(?::(?P<spec>[^{}]*))?\}"
)


def interpolate(text: str, namespace: Mapping[str, Any]) -> str:
    """Replace `{name}` fields with values from `namespace`, as `str.format` would.

    Unknown names (and anything that is not a simple field, such as JSON) are left as they are;
    `{{` and `}}` give literal braces.
    """

    def field(m: re.Match[str]) -> str:
        token = m.group(0)
        if token in ("{{", "}}"):
            return token[0]
        head, *attrs = m.group("name").split(".")
        if head not in namespace:
            return token
        value = namespace[head]
        try:
            for attr in attrs:
                value = getattr(value, attr)
            conv = m.group("conv")
            if conv:
                value = {"r": repr, "s": str, "a": ascii}[conv](value)
            return format(value, m.group("spec") or "")
        except (AttributeError, TypeError, ValueError):
            return token

    return _FIELD.sub(field, text)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _split(line: str) -> list[str]:
    """Shell-like split with quotes removed (`--system "You are terse"` is one value)."""
    try:
        return shlex.split(line, posix=True)
    except ValueError as exc:  # unbalanced quotes
        raise UsageError(f"could not read the options ({exc}): {line.strip()}") from None


def _usage(parser: MagicArgumentParser) -> str:
    """`usage: %%voice [--model MODEL] ...` (the magic's own formatter dresses it up as reST)."""
    # magic_arguments names a parser without its first `%`; its formatter adds it back.
    plain = argparse.ArgumentParser(prog=f"%{parser.prog}", parents=[parser], add_help=False)
    return plain.format_usage().strip()


def _parse(parser: MagicArgumentParser, argv: list[str]) -> Any:
    """Parse with the magic's parser; a bad option raises UsageError carrying the usage line."""
    try:
        return parser.parse_args(argv)
    except UsageError as exc:
        raise UsageError(f"{exc}\n{_usage(parser)}") from None


def _usage_error(parser: MagicArgumentParser, message: str) -> UsageError:
    return UsageError(f"{message}\n{_usage(parser)}")


# ---- parsers of the %voice subcommands (magic_arguments builds them and their help) ------------


@magic_arguments("voice config")
@argument("settings", nargs="*", metavar="KEY=VALUE",
          help="Set defaults: model, voice, format, system, temperature, max_tokens, max_history, stream, text_only, "
               "live_output, transcribe_model, base_url, api_key, timeout. `KEY=none` unsets. "
               "The key only from a variable (api_key={name}) or with `%%voice login`, never typed in. "
               "Without arguments, shows the settings (the key redacted).")
def _config_args() -> None:
    """Show or set the defaults of %%voice cells and the API they talk to."""


@magic_arguments("voice history")
@argument("--name", default=DEFAULT_CONVERSATION, help="Which conversation.")
def _history_args() -> None:
    """Show a conversation (and return it)."""


@magic_arguments("voice reset")
@argument("--name", default=DEFAULT_CONVERSATION, help="Which conversation.")
@argument("--all", action="store_true", help="Forget every conversation.")
def _reset_args() -> None:
    """Forget a conversation; the next %%voice cell starts a new one."""


@magic_arguments("voice replay")
@argument("n", type=int, metavar="N", help="Which reply: 1 is the first, -1 the last.")
@argument("--name", default=DEFAULT_CONVERSATION, help="Which conversation.")
def _replay_args() -> None:
    """Show (and return) the audio of reply N."""


@magic_arguments("voice export")
@argument("path", metavar="PATH", help="JSON file; each reply's audio is saved beside it.")
@argument("--name", default=DEFAULT_CONVERSATION, help="Which conversation.")
def _export_args() -> None:
    """Save a conversation as JSON plus audio files."""


@magic_arguments("voice speak")
@argument("--voice", help="Voice name.")
@argument("--model", help="Speech model.")
@argument("--format", dest="response_format", choices=spec.SPEECH_FORMATS, help="Audio format.")
@argument("--speed", type=float, help=f"{spec.SPEED_MIN} to {spec.SPEED_MAX}.")
@argument("--instructions", help="How to speak (models that take it).")
def _speak_args() -> None:
    """Text to speech only: `%voice speak [options] TEXT`; returns the AudioClip."""


@magic_arguments("voice transcribe")
@argument("source", metavar="SRC", help="A path, or a variable holding an AudioClip, bytes or a recording.")
@argument("--model", help="Transcription model.")
@argument("--language", help="ISO-639-1 code, e.g. en.")
@argument("--prompt", help="Text to guide the transcription.")
def _transcribe_args() -> None:
    """Speech to text only; returns the Transcript."""


@magic_arguments("voice login")
@argument("base_url", nargs="?", metavar="BASE_URL", help="The API to use with the key (default: as configured).")
def _login_args() -> None:
    """Ask for the API key without echo and use it from now on. The key is never shown and is not
    written to the notebook or to IPython's history, as a key typed into a cell would be."""


@magic_arguments("voice listen")
@argument("--max-seconds", type=float, default=120.0, metavar="S", help="A recording stops by itself after S seconds.")
def _listen_args() -> None:
    """Show a microphone recorder; each recording, when you press Stop, is sent as the next turn and the
    reply shows below the recorder. Any %%voice option applies too: `%voice listen --voice coral --name tutor`."""


_SUBCOMMANDS: dict[str, Callable[..., None]] = {
    "config": _config_args, "history": _history_args, "reset": _reset_args, "replay": _replay_args,
    "export": _export_args, "speak": _speak_args, "transcribe": _transcribe_args, "listen": _listen_args,
    "login": _login_args,
}
# Options of `%voice speak` all take a value; the text after them is kept exactly as typed.
_LEADING_OPTIONS = re.compile(r"""\s*(--[\w-]+(?:=(?:"[^"]*"|'[^']*'|\S+)|\s+(?:"[^"]*"|'[^']*'|\S+)))""")


@dataclass(frozen=True)
class _TurnOptions:
    model: str | None
    voice: str | None
    audio_format: str | None
    temperature: float | None
    max_tokens: int | None
    text_only: bool
    stream: bool
    live: bool = True  # False: no live view (a turn sent from a widget callback, whose output is captured)

    def chat_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if self.model:
            kwargs["model"] = self.model
        if self.text_only:
            kwargs["modalities"] = ["text"]
        else:
            if self.voice:
                kwargs["voice"] = self.voice
            if self.stream:
                kwargs["audio_format"] = spec.CHAT_STREAM_AUDIO_FORMAT
            elif self.audio_format:
                kwargs["audio_format"] = self.audio_format
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        if self.max_tokens is not None:
            # `max_tokens` rather than `max_completion_tokens`: the relays know the older name.
            kwargs["max_tokens"] = self.max_tokens
        return kwargs


class _LiveReply:
    """A reply as it streams: the transcript grows in one output, pcm16 audio plays from another.

    The audio output is replaced at every update with a script that queues only the new samples
    into a WebAudio context, so playback starts with the first chunk; its last state is empty, so
    the saved notebook keeps just the final reply (with its own player), not the chunks.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self.stream_id = uuid.uuid4().hex
        self._text: list[str] = []
        self._pcm = bytearray()
        self._last_update = 0.0
        self._view = display(self._text_bundle(), raw=True, display_id=True)
        self._audio = display({"text/plain": "", "text/html": ""}, raw=True, display_id=True)

    def feed(self, delta: Mapping[str, Any]) -> None:
        self._text.append(delta.get("text") or delta.get("transcript") or "")
        self._pcm.extend(delta.get("audio") or b"")
        if time.monotonic() - self._last_update >= LIVE_UPDATE_SECONDS:
            self._flush()

    def finish(self, reply: ChatReply) -> None:
        self._flush()
        self._audio.update(self._script("done"), raw=True)
        self._view.update(reply)
        self._audio.update({"text/plain": "", "text/html": ""}, raw=True)

    def abort(self, note: str) -> None:
        self._audio.update(self._script("stop"), raw=True)
        self._audio.update({"text/plain": "", "text/html": ""}, raw=True)
        self._view.update(self._text_bundle(note), raw=True)

    def _flush(self) -> None:
        self._last_update = time.monotonic()
        # Send whole samples only; an odd trailing byte waits for the next chunk.
        n = len(self._pcm) - len(self._pcm) % 2
        if n:
            chunk, self._pcm = bytes(self._pcm[:n]), self._pcm[n:]
            self._audio.update(self._script("play", chunk), raw=True)
        self._view.update(self._text_bundle(), raw=True)

    def _text_bundle(self, note: str | None = None) -> dict[str, str]:
        text = "".join(self._text)
        status = note or "streaming…"
        body = (f'<div style="border-left:3px solid #4c78a8;padding:2px 0 2px 10px;margin:6px 0">'
                f'<div style="color:#888;font-size:0.85em"><b style="color:#4c78a8">assistant</b> · '
                f'{html.escape(self.label)} · {html.escape(status)}</div>'
                f'<div style="white-space:pre-wrap">{html.escape(text)}</div></div>')
        return {"text/plain": f"assistant ({status}): {text}", "text/html": body}

    def _script(self, action: str, pcm: bytes = b"") -> dict[str, str]:
        # Values are JSON-safe literals: a hex id, an action word, base64 and an integer.
        js = _LIVE_AUDIO_JS % {"id": self.stream_id, "action": action,
                               "data": base64.b64encode(pcm).decode("ascii"), "rate": spec.PCM_SAMPLE_RATE}
        return {"text/plain": "", "text/html": f"<script>{js}</script>"}


_LIVE_AUDIO_JS = """(function () {
  var id = "%(id)s", action = "%(action)s", data = "%(data)s", rate = %(rate)d;
  var all = window.__nbaudioLive = window.__nbaudioLive || {};
  var s = all[id];
  if (action === "stop") { if (s) { s.ctx.close(); delete all[id]; } return; }
  if (action === "done") {
    if (s) { setTimeout(function () { s.ctx.close(); delete all[id]; },
                        Math.max(0, s.t - s.ctx.currentTime) * 1000 + 500); }
    return;
  }
  var Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) { return; }
  if (!s) { var ctx = new Ctx(); s = all[id] = {ctx: ctx, t: ctx.currentTime + 0.1}; }
  if (s.ctx.state === "suspended") { s.ctx.resume(); }
  var bin = atob(data), n = bin.length >> 1;
  if (!n) { return; }
  var buf = s.ctx.createBuffer(1, n, rate), ch = buf.getChannelData(0);
  for (var i = 0; i < n; i++) {
    var v = bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8);
    ch[i] = (v >= 32768 ? v - 65536 : v) / 32768;
  }
  var src = s.ctx.createBufferSource();
  src.buffer = buf; src.connect(s.ctx.destination);
  var at = Math.max(s.t, s.ctx.currentTime + 0.05);
  src.start(at); s.t = at + buf.duration;
})();"""


@magics_class
class VoiceMagics(Magics):
    """`%%voice` (a chat turn per cell) and `%voice` (config, history, reset, replay, export, speak,
    transcribe). Conversations live here, by name; the defaults below are configurable."""

    model = Unicode(None, allow_none=True, help="Chat model (None: the client's default).").tag(config=True)
    voice = Unicode(None, allow_none=True, help="Voice of the replies (None: the client's default).").tag(config=True)
    audio_format = Unicode(None, allow_none=True,
                           help="Reply audio format when not streaming (streamed audio is always pcm16).").tag(config=True)
    system = Unicode(None, allow_none=True, help="System message of new conversations.").tag(config=True)
    temperature = Float(None, allow_none=True, min=_TEMPERATURE_RANGE[0], max=_TEMPERATURE_RANGE[1],
                        help="Sampling temperature (None: the server's default).").tag(config=True)
    max_tokens = Integer(None, allow_none=True, min=1, help="Longest reply in tokens (None: the server's default).").tag(
        config=True)
    max_history = Integer(None, allow_none=True, min=1,
                          help="Send at most this many recent messages (the system message is always kept); "
                               "None sends everything. --max-history overrides it per conversation.").tag(config=True)
    stream = Bool(True, help="Stream replies (text and audio appear as they are generated).").tag(config=True)
    text_only = Bool(False, help="Ask for text replies only.").tag(config=True)
    live_output = Bool(None, allow_none=True,
                       help="Redraw the reply while it streams; None: only inside a notebook kernel.").tag(config=True)
    transcribe_model = Unicode(None, allow_none=True,
                               help="Model for %voice transcribe and for relays that take no audio input.").tag(config=True)

    def __init__(self, shell: InteractiveShell | None = None, **kwargs: Any) -> None:
        super().__init__(shell, **kwargs)
        self.conversations: dict[str, Conversation] = {}
        self._caps: dict[str, int] = {}  # per-conversation --max-history
        self._client: Client | None = None
        self._owns_client = False
        self._client_settings: dict[str, Any] = {}
        self._api_key = Secret(None)
        self.listener: Any = None  # the Recorder of the last `%voice listen`

    # ---- the client ---------------------------------------------------------------------------
    @property
    def client(self) -> Client:
        """The client cells talk through: set by `%voice config base_url=...`, else nbaudio's default."""
        return self._client if self._client is not None else default_client()

    @client.setter
    def client(self, client: Client | None) -> None:
        if client is not None and not isinstance(client, Client):
            raise TypeError("VoiceMagics.client must be an nbaudio.Client or None")
        if self._owns_client and self._client is not None and self._client is not client:
            self._client.close()
        self._client, self._owns_client = client, False

    # ---- %%voice ------------------------------------------------------------------------------
    @no_var_expand
    @magic_arguments("%voice")  # shown as %%voice
    @argument("--model", help="Chat model.")
    @argument("--voice", help="Voice of the reply.")
    @argument("--format", dest="audio_format", choices=spec.CHAT_AUDIO_FORMATS,
              help="Reply audio format; anything but pcm16 turns streaming off.")
    @argument("--system", help="System message (starts the conversation; with turns already, add --new).")
    @argument("--temperature", type=float, help="Sampling temperature, 0 to 2.")
    @argument("--max-tokens", type=int, metavar="N", help="Longest reply, in tokens.")
    @argument("--max-history", type=int, metavar="N",
              help="From now on send at most N recent messages of this conversation.")
    @argument("--new", action="store_true", help="Start a new conversation.")
    @argument("--name", default=DEFAULT_CONVERSATION, help="Which conversation (several can run side by side).")
    @argument("--audio", metavar="SRC",
              help="Audio input: a path, or a variable holding an AudioClip, bytes or a recording.")
    @argument("--text-only", action="store_true", help="Ask for a text reply only.")
    @argument("--no-stream", action="store_true", help="Wait for the whole reply instead of streaming it.")
    @argument("--save", metavar="PATH", help="Afterwards save the conversation (JSON plus audio files).")
    @argument("--out", metavar="VAR", help="Also bind the reply to this variable.")
    @cell_magic("voice")
    def voice_cell(self, line: str, cell: str) -> None:
        """Send the cell as the next turn of a voice conversation and show the reply.

        `{name}` in the cell (and in option values) is replaced by the variable's value; unknown
        names stay as written and `{{` gives a literal brace. The reply is bound to `_voice`.
        """
        args = self._cell_args(line)
        text = interpolate(cell, self.shell.user_ns).strip()
        if not text and args.audio is None:
            raise _usage_error(self.voice_cell.parser, "the cell is empty: write a message below %%voice, or pass "
                                                       "--audio SRC (audio alone: %voice --audio SRC)")
        self._voice_turn(args, text, args.audio or None)

    def _cell_args(self, line: str) -> Any:
        """The %%voice options on `line`, interpolated and checked (UsageError when one is wrong)."""
        parser = self.voice_cell.parser
        args = _parse(parser, _split(line))
        ns = self.shell.user_ns
        for field in ("model", "voice", "system", "name", "save", "out"):
            value = getattr(args, field)
            if value is not None:
                setattr(args, field, interpolate(value, ns))
        if args.temperature is not None and not _TEMPERATURE_RANGE[0] <= args.temperature <= _TEMPERATURE_RANGE[1]:
            raise _usage_error(parser, f"--temperature {args.temperature} is out of range; use 0 to 2")
        if args.max_tokens is not None and args.max_tokens < 1:
            raise _usage_error(parser, f"--max-tokens must be 1 or more, not {args.max_tokens}")
        if args.max_history is not None and args.max_history < 1:
            raise _usage_error(parser, f"--max-history must be 1 or more, not {args.max_history}")
        if args.out is not None and not args.out.isidentifier():
            raise _usage_error(parser, f"--out needs a variable name, not {args.out!r}")
        if not args.name.strip():
            raise _usage_error(parser, "--name needs a conversation name")
        return args

    def _voice_turn(self, args: Any, text: str, audio: Any, *, live: bool = True) -> None:
        """Send `text` and `audio` (an --audio value, or anything as_audio_clip takes) as the next
        turn of `args.name` and show the reply (`live=False`: once, whole, without the live view)."""
        parser = self.voice_cell.parser
        ns = self.shell.user_ns
        name = args.name
        conv = self.conversations.get(name)
        if args.new or conv is None:
            conv = Conversation(system=args.system if args.system is not None else self.system)
        elif args.system is not None:
            messages = conv.messages
            current = messages[0]["content"] if messages and messages[0]["role"] == "system" else None
            if args.system != current:  # the same --system again (a re-run cell) just continues
                if any(m["role"] != "system" for m in messages):
                    raise _usage_error(parser, f"conversation {name!r} has turns already; add --new to start "
                                               "a new one with this --system")
                conv = Conversation(system=args.system)
        if args.max_history is not None:
            self._caps[name] = args.max_history
        conv.max_history = self._caps.get(name, self.max_history)

        audio_format = args.audio_format or self.audio_format
        options = _TurnOptions(
            model=args.model or self.model,
            voice=args.voice or self.voice,
            audio_format=audio_format,
            temperature=args.temperature if args.temperature is not None else self.temperature,
            max_tokens=args.max_tokens if args.max_tokens is not None else self.max_tokens,
            text_only=args.text_only or self.text_only,
            # The API streams audio only as pcm16: asking for another format means waiting for it whole.
            stream=(self.stream and not args.no_stream
                    and (args.text_only or self.text_only or audio_format in (None, spec.CHAT_STREAM_AUDIO_FORMAT))),
            live=live,
        )
        client = self.client
        try:
            if isinstance(audio, str):
                audio = self._resolve_audio(audio)
            audio = as_audio_clip(audio, param="--audio") if audio is not None else None
            reply = self._turn(client, conv, name, text, audio, options)
        except NbAudioError as exc:
            self._show_error(client, exc, self.conversations.get(name))
            return
        # Committed only now: a failed first turn (or a failed --new) leaves things as they were.
        self.conversations[name] = conv
        ns["_voice"] = reply
        if args.out:
            ns[args.out] = reply
        if args.save:
            self._save(client, conv, args.save)

    def _turn(self, client: Client, conv: Conversation, name: str, text: str, audio: AudioClip | None,
              options: _TurnOptions) -> ChatReply:
        """Send one user turn and return the reply; on any failure the conversation is unchanged.

        What a relay needs (audio transcribed first, replies spoken, transcripts for ids it drops)
        the client does itself (nbaudio.relay), saying so once per client.
        """
        live = self._live_view(options, name)
        pending = False
        try:
            conv.add_user(text or None, audio)
            pending = True
            reply = self._send(client, conv, options, live)
            pending = False
        except BaseException as exc:
            if live is not None:
                note = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
                live.abort(f"{note}; this turn was not kept")
            raise
        finally:
            if pending:
                conv.pop_turn()
        if live is not None:
            live.finish(reply)
        else:
            display(reply)
        return reply

    def _send(self, client: Client, conv: Conversation, options: _TurnOptions, live: _LiveReply | None) -> ChatReply:
        kwargs = options.chat_kwargs()
        if self.transcribe_model:
            kwargs["audio_bridge"] = {"transcribe": {"model": self.transcribe_model}}
        if not options.stream:
            return client.chat(conv, **kwargs)
        with client.chat(conv, stream=True, **kwargs) as stream:
            for delta in stream:
                if live is not None:
                    live.feed(delta)
        return stream.result

    def _live_view(self, options: _TurnOptions, name: str) -> _LiveReply | None:
        live = self.live_output
        if live is None:
            # Only a kernel has a frontend that redraws outputs; a terminal would print every update.
            live = getattr(self.shell, "kernel", None) is not None
        if not (live and options.stream and options.live):
            return None
        return _LiveReply(name if name != DEFAULT_CONVERSATION else "voice")

    def _resolve_audio(self, source: str) -> Any:
        """A variable's value (`rec` or `{rec}`), else the string as a path."""
        ns = self.shell.user_ns
        bare = source[1:-1] if source.startswith("{") and source.endswith("}") else source
        if bare.isidentifier() and bare in ns:
            return ns[bare]
        return str(Path(interpolate(source, ns)).expanduser())

    def _show_error(self, client: Client, exc: NbAudioError, conv: Conversation | None) -> None:
        kept = ""
        if conv is not None:
            turns = sum(1 for m in conv.messages if m["role"] == "user")
            kept = f" (turn not kept; the conversation still has its {turns} earlier turn{'s' * (turns != 1)})"
        print(client.redact(_one_line(f"{type(exc).__name__}: {exc}{kept}")), file=sys.stderr)

    def _save(self, client: Client, conv: Conversation, path: str) -> Path | None:
        try:
            saved = conv.save(Path(path).expanduser())
        except (OSError, NbAudioError) as exc:
            print(client.redact(_one_line(f"could not save the conversation: {exc}")), file=sys.stderr)
            return None
        print(f"saved {len(conv)} messages to {saved}")
        return saved

    # ---- %voice -------------------------------------------------------------------------------
    @no_var_expand
    @line_magic("voice")
    def voice_line(self, line: str) -> Any:
        """%voice config | history | reset | replay N | export PATH | speak TEXT | transcribe SRC

        %voice [%%voice options]  a chat turn with no text, e.g. `%voice --audio recording`

        config [KEY=VALUE ...]   show or set defaults (model, voice, format, system, temperature,
                                 max_history, stream, text_only, base_url, api_key, timeout, ...)
        history [--name NAME]    show the conversation (and return it)
        reset [--name NAME|--all]  forget a conversation
        replay N [--name NAME]   show (and return) the audio of reply N (1 first, -1 last)
        export PATH [--name NAME]  save the conversation as JSON plus audio files
        speak [--voice V] TEXT   text to speech; returns the AudioClip
        transcribe SRC           speech to text; returns the Transcript
        listen [--max-seconds S] [%%voice options]  a microphone recorder: each recording is sent
                                 as a turn when you press Stop, and the reply shows below it
        login [BASE_URL]         ask for the API key without echo (never type a key into a cell)

        `{name}` is replaced by a variable's value (e.g. `api_key={my_key}` keeps the key out
        of the notebook).
        """
        command, _, rest = line.strip().partition(" ")
        if not command:
            print(inspect.cleandoc(self.voice_line.__doc__ or ""))
            return None
        if command.startswith("-"):
            # IPython refuses a cell magic with an empty body, so `%voice --audio rec` is the way
            # to send audio with no text.
            return self.voice_cell(line, "")
        if command not in _SUBCOMMANDS:
            raise UsageError(f"unknown %voice command {command!r}; use one of {', '.join(_SUBCOMMANDS)}\n"
                             "usage: %voice {" + "|".join(_SUBCOMMANDS) + "} ...")
        parser = _SUBCOMMANDS[command].parser
        handler = getattr(self, f"_cmd_{command}")
        if command in ("speak", "listen"):
            return handler(parser, rest)
        args = _parse(parser, _split(rest))
        client = self.client
        try:
            return handler(parser, args)
        except NbAudioError as exc:
            self._show_error(client, exc, None)
            return None

    def _conversation(self, parser: MagicArgumentParser, name: str) -> Conversation:
        conv = self.conversations.get(name)
        if conv is None:
            known = ", ".join(sorted(self.conversations)) or "none yet"
            raise _usage_error(parser, f"no conversation named {name!r} (conversations: {known})")
        return conv

    def _cmd_history(self, parser: MagicArgumentParser, args: Any) -> Conversation | None:
        if args.name not in self.conversations:
            print(f"no conversation {args.name!r} yet: run a %%voice cell first")
            return None
        return self.conversations[args.name]

    def _cmd_reset(self, parser: MagicArgumentParser, args: Any) -> None:
        if args.all:
            self.conversations.clear()
            self._caps.clear()
            print("all conversations forgotten")
            return
        dropped = self.conversations.pop(args.name, None)
        self._caps.pop(args.name, None)
        print(f"conversation {args.name!r} {'forgotten' if dropped is not None else 'was empty'}")

    def _cmd_replay(self, parser: MagicArgumentParser, args: Any) -> AudioClip | None:
        conv = self._conversation(parser, args.name)
        replies = [reply for _, reply in conv.turns() if reply is not None]
        index = args.n - 1 if args.n > 0 else args.n
        if args.n == 0 or not -len(replies) <= index < len(replies):
            raise _usage_error(parser, f"conversation {args.name!r} has {len(replies)} replies; N is 1 to "
                                       f"{len(replies)} (or -1 for the last)")
        reply = replies[index]
        if reply.audio is None:
            print(f"reply {args.n} has no audio (it was a text reply, or loaded without its audio file)")
            return None
        return reply.audio

    def _cmd_export(self, parser: MagicArgumentParser, args: Any) -> Path | None:
        conv = self._conversation(parser, args.name)
        self._save(self.client, conv, interpolate(args.path, self.shell.user_ns))
        return None

    def _cmd_speak(self, parser: MagicArgumentParser, rest: str) -> AudioClip | None:
        options = []
        while (m := _LEADING_OPTIONS.match(rest)) and m.group(1):
            options.append(m.group(1))
            rest = rest[m.end():]
        args = _parse(parser, _split(" ".join(options)))
        text = interpolate(rest.strip(), self.shell.user_ns)
        if not text:
            raise _usage_error(parser, "nothing to say: %voice speak [options] TEXT")
        kwargs = {k: v for k, v in vars(args).items() if v is not None}
        if self.voice:
            kwargs.setdefault("voice", self.voice)
        client = self.client
        try:
            return client.speak(text, **kwargs)
        except NbAudioError as exc:
            self._show_error(client, exc, None)
            return None

    def _cmd_listen(self, parser: MagicArgumentParser, rest: str) -> None:
        import ipywidgets

        from .recorder import MAX_SECONDS_LIMIT
        from .widgets import Recorder

        try:
            own, forwarded = parser.parse_known_args(_split(rest))
        except UsageError as exc:
            raise UsageError(f"{exc}\n{_usage(parser)}") from None
        if not 0 < own.max_seconds <= MAX_SECONDS_LIMIT:
            raise _usage_error(parser, f"--max-seconds must be more than 0 and at most {MAX_SECONDS_LIMIT:g}, "
                                       f"not {own.max_seconds:g}")
        args = self._cell_args(shlex.join(forwarded))  # the %%voice options, checked now rather than at Stop
        if args.audio is not None:
            raise _usage_error(parser, "%voice listen sends what you record; drop --audio (or use %%voice --audio)")
        recorder = Recorder(max_seconds=own.max_seconds)
        replies = ipywidgets.Output()

        def send(clip: AudioClip) -> None:
            # Runs in the kernel's widget-message handler, after the cell has ended: the Output widget
            # takes what it displays to this cell (there is no live view there, so the reply shows whole).
            before = self.conversations.get(args.name)
            with replies:
                self._voice_turn(args, "", clip, live=False)
            if self.conversations.get(args.name) is not before:
                args.new = False  # --new started one conversation; the later recordings continue it

        recorder.on_recorded(send)
        self.listener = recorder
        display(ipywidgets.VBox([recorder, replies]))

    def _cmd_transcribe(self, parser: MagicArgumentParser, args: Any) -> Transcript:
        kwargs = {k: v for k, v in (("model", args.model or self.transcribe_model), ("language", args.language),
                                    ("prompt", args.prompt)) if v is not None}
        audio = as_audio_clip(self._resolve_audio(args.source), param="SRC")
        return self.client.transcribe(audio, **kwargs)

    # ---- %voice config ------------------------------------------------------------------------
    _CONFIG_TRAITS = {"model": "model", "voice": "voice", "format": "audio_format", "audio_format": "audio_format",
                      "system": "system", "temperature": "temperature", "max_tokens": "max_tokens",
                      "max_history": "max_history",
                      "stream": "stream", "text_only": "text_only", "live_output": "live_output",
                      "transcribe_model": "transcribe_model"}
    _CLIENT_KEYS = ("base_url", "api_key", "timeout")

    def _cmd_config(self, parser: MagicArgumentParser, args: Any) -> None:
        if not args.settings:
            self._print_config()
            return
        if find_keys(" ".join(args.settings), configured_keys(self)):
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
                raise _usage_error(parser, f"settings are KEY=VALUE, not {item!r}")
            value = interpolate(raw, ns)
            if key == "api_key" and value == raw and raw.strip().lower() not in ("", "none"):
                raise UsageError("api_key= takes a variable, api_key={name}, not the key itself (a typed key is "
                                 f"saved in the notebook and IPython's history); or {LOGIN_HINT}.")
            if key in self._CLIENT_KEYS:
                client_changes[key] = None if value.strip().lower() in ("", "none") else value.strip()
            elif key in self._CONFIG_TRAITS:
                traits[self._CONFIG_TRAITS[key]] = self._trait_value(parser, self._CONFIG_TRAITS[key], value)
            else:
                keys = sorted(set(self._CONFIG_TRAITS) | set(self._CLIENT_KEYS))
                raise _usage_error(parser, f"unknown setting {key!r}; settings are {', '.join(keys)}")
        if traits.get("audio_format") is not None and traits["audio_format"] not in spec.CHAT_AUDIO_FORMATS:
            raise _usage_error(parser, f"format must be one of {', '.join(spec.CHAT_AUDIO_FORMATS)}")
        if client_changes:
            self._configure_client(client_changes)  # may raise InvalidInputError: nothing set yet then
        try:
            for trait, value in traits.items():
                setattr(self, trait, value)
        except TraitError as exc:
            raise _usage_error(parser, _one_line(str(exc))) from None
        changed = sorted(set(traits) | set(client_changes))
        print("set " + ", ".join(changed))

    def _cmd_login(self, parser: MagicArgumentParser, args: Any) -> None:
        # getpass is looked up now: ipykernel replaces it with a prompt in the notebook.
        key = getpass.getpass("API key (not shown): ").strip()
        if not key:
            print("no key entered; nothing changed")
            return
        changes = {"api_key": key, **({"base_url": args.base_url} if args.base_url else {})}
        self._configure_client(changes)
        print(f"key set (not shown); %%voice and %voice now use {self.client!r}")

    def _trait_value(self, parser: MagicArgumentParser, trait: str, raw: str) -> Any:
        value = raw.strip()
        kind = self.traits()[trait]
        if value.lower() in ("", "none"):
            if not kind.allow_none:
                raise _usage_error(parser, f"{trait} cannot be unset; give a value")
            return None
        try:
            if isinstance(kind, Bool):
                flags = {"true": True, "yes": True, "on": True, "1": True,
                         "false": False, "no": False, "off": False, "0": False}
                return flags[value.lower()]
            if isinstance(kind, Integer):
                return int(value)
            if isinstance(kind, Float):
                return float(value)
        except (KeyError, ValueError):
            raise _usage_error(parser, f"{trait}={value!r} is not a valid {type(kind).__name__.lower()}") from None
        return raw

    def _configure_client(self, changes: Mapping[str, Any]) -> None:
        settings = {**self._client_settings, **{k: v for k, v in changes.items() if k != "api_key"}}
        api_key = self._api_key
        if "api_key" in changes:
            api_key = Secret(changes["api_key"])
        kwargs: dict[str, Any] = {"base_url": settings.get("base_url"), "api_key": api_key.get()}
        if settings.get("timeout") is not None:
            try:
                kwargs["timeout"] = float(settings["timeout"])
            except ValueError:
                raise UsageError(f"timeout must be a number of seconds, not {settings['timeout']!r}") from None
        client = Client(**kwargs)
        self.client = client
        self._owns_client = True
        self._client_settings = settings
        self._api_key = api_key

    def _print_config(self) -> None:
        client = self.client if self._client is not None else None
        rows = [("client", repr(client) if client is not None else f"default {default_client()!r}"),
                ("api_key", "*** (set)" if self._api_key else "not set here (environment or none)")]
        for key in ("model", "voice", "audio_format", "system", "temperature", "max_tokens", "max_history", "stream",
                    "text_only", "live_output", "transcribe_model"):
            value = getattr(self, key)
            rows.append((key, "(default)" if value is None else repr(value)))
        rows.append(("conversations", ", ".join(f"{n} ({len(c)} messages)" for n, c in self.conversations.items())
                     or "none"))
        width = max(len(k) for k, _ in rows)
        redact = self.client.redact
        print("\n".join(redact(f"{k:<{width}}  {v}") for k, v in rows))


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """`%load_ext nbaudio` (or `nbaudio.magic`): registers `%%voice` and `%voice`, and the check
    that warns when a cell contains an API key (nbaudio._keyguard). The one entry point: both
    extension names come here, so neither can skip the key guard."""
    from ._keyguard import install

    ipython.register_magics(VoiceMagics)
    install(ipython, ipython.magics_manager.registry.get("VoiceMagics"))
