"""`VoiceMagics`: the `%%voice` cell magic (a chat turn per cell), `%voice listen` (a turn per
recording) and the `%voice` line magic, which hands its other commands to config.py and subcommands.py."""

from __future__ import annotations

import inspect
import shlex
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import MagicArgumentParser, argument, magic_arguments
from IPython.display import display

from .._wire import spec
from ..audio import AudioClip, as_audio_clip
from ..chat import ChatReply, Conversation
from ..client import Client
from ..errors import NbAudioError
from .captions import CaptionsCommands, captions_args
from .config import ConfigCommands, config_args, login_args
from .interpolate import interpolate, resolve_audio
from .live import LiveCommands, live_args
from .parsing import (
    DEFAULT_CONVERSATION,
    TEMPERATURE_RANGE,
    parse_known_options,
    parse_options,
    split_line,
    usage_error,
)
from .report import save_conversation, show_error
from .streaming_reply import StreamingReply
from .subcommands import (
    ConversationCommands,
    export_args,
    history_args,
    replay_args,
    reset_args,
    speak_args,
    transcribe_args,
)
from .turn import TurnOptions

__all__ = ["VoiceMagics"]


@magic_arguments("voice listen")
@argument("--max-seconds", type=float, default=120.0, metavar="S", help="A recording stops by itself after S seconds.")
def listen_args() -> None:
    """Show a microphone recorder; each recording, when you press Stop, is sent as the next turn and the
    reply shows below the recorder. Any %%voice option applies too: `%voice listen --voice coral --name tutor`."""


# `%voice NAME ...`: the function whose `.parser` reads the options; the handler is `command_NAME`.
SUBCOMMANDS: dict[str, Callable[..., None]] = {
    "config": config_args, "history": history_args, "reset": reset_args, "replay": replay_args,
    "export": export_args, "speak": speak_args, "transcribe": transcribe_args, "listen": listen_args,
    "login": login_args, "live": live_args, "captions": captions_args,
}
# These take the rest of the line as typed (speak keeps its text; listen passes %%voice options on).
_RAW_LINE = ("speak", "listen")


@magics_class
class VoiceMagics(ConfigCommands, ConversationCommands, LiveCommands, CaptionsCommands):
    """`%%voice` (a chat turn per cell) and `%voice` (config, history, reset, replay, export, speak,
    transcribe, listen, live, login). Conversations live here, by name; the defaults are configurable
    traitlets (see nbaudio.magic.state)."""

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
            raise usage_error(self.voice_cell.parser, "the cell is empty: write a message below %%voice, or pass "
                                                      "--audio SRC (audio alone: %voice --audio SRC)")
        self._voice_turn(args, text, args.audio or None)

    def _cell_args(self, line: str) -> Any:
        """The %%voice options on `line`, interpolated and checked (UsageError when one is wrong)."""
        parser = self.voice_cell.parser
        args = parse_options(parser, split_line(line))
        ns = self.shell.user_ns
        for field in ("model", "voice", "system", "name", "save", "out"):
            value = getattr(args, field)
            if value is not None:
                setattr(args, field, interpolate(value, ns))
        if args.temperature is not None and not TEMPERATURE_RANGE[0] <= args.temperature <= TEMPERATURE_RANGE[1]:
            raise usage_error(parser, f"--temperature {args.temperature} is out of range; use 0 to 2")
        if args.max_tokens is not None and args.max_tokens < 1:
            raise usage_error(parser, f"--max-tokens must be 1 or more, not {args.max_tokens}")
        if args.max_history is not None and args.max_history < 1:
            raise usage_error(parser, f"--max-history must be 1 or more, not {args.max_history}")
        if args.out is not None and not args.out.isidentifier():
            raise usage_error(parser, f"--out needs a variable name, not {args.out!r}")
        if not args.name.strip():
            raise usage_error(parser, "--name needs a conversation name")
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
                    raise usage_error(parser, f"conversation {name!r} has turns already; add --new to start "
                                              "a new one with this --system")
                conv = Conversation(system=args.system)
        if args.max_history is not None:
            self.history_limits[name] = args.max_history
        conv.max_history = self.history_limits.get(name, self.max_history)

        audio_format = args.audio_format or self.audio_format
        options = TurnOptions(
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
                audio = resolve_audio(audio, ns)
            audio = as_audio_clip(audio, param="--audio") if audio is not None else None
            reply = self._turn(client, conv, name, text, audio, options)
        except NbAudioError as exc:
            show_error(client, exc, self.conversations.get(name))
            return
        # Committed only now: a failed first turn (or a failed --new) leaves things as they were.
        self.conversations[name] = conv
        ns["_voice"] = reply
        if args.out:
            ns[args.out] = reply
        if args.save:
            save_conversation(client, conv, args.save)

    def _turn(self, client: Client, conv: Conversation, name: str, text: str, audio: AudioClip | None,
              options: TurnOptions) -> ChatReply:
        """Send one user turn and return the reply; on any failure the conversation is unchanged.

        What a relay needs (audio transcribed first, replies spoken, transcripts for ids it drops)
        the client does itself (nbaudio.relay), saying so once per client.
        """
        # Start the embedded engine (if this client uses it) before the reply's display exists, so
        # its one-line notice prints above the reply instead of below it.
        client.open()
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

    def _send(self, client: Client, conv: Conversation, options: TurnOptions, live: StreamingReply | None) -> ChatReply:
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

    def _live_view(self, options: TurnOptions, name: str) -> StreamingReply | None:
        live = self.live_output
        if live is None:
            # Only a kernel has a frontend that redraws outputs; a terminal would print every update.
            live = getattr(self.shell, "kernel", None) is not None
        if not (live and options.stream and options.live):
            return None
        return StreamingReply(name if name != DEFAULT_CONVERSATION else "voice")

    # ---- %voice listen: a turn per recording ----------------------------------------------------
    def command_listen(self, parser: MagicArgumentParser, rest: str) -> None:
        import ipywidgets  # the widgets only when asked for: `%load_ext nbaudio` stays light

        from ..display import mimebundle
        from ..widgets.recorder import MAX_SECONDS_LIMIT, Recorder
        from ..widgets.saved_view import SavedView, show_widget

        own, forwarded = parse_known_options(parser, split_line(rest))
        if not 0 < own.max_seconds <= MAX_SECONDS_LIMIT:
            raise usage_error(parser, f"--max-seconds must be more than 0 and at most {MAX_SECONDS_LIMIT:g}, "
                                      f"not {own.max_seconds:g}")
        args = self._cell_args(shlex.join(forwarded))  # the %%voice options, checked now rather than at Stop
        if args.audio is not None:
            raise usage_error(parser, "%voice listen sends what you record; drop --audio (or use %%voice --audio)")
        recorder = Recorder(max_seconds=own.max_seconds)
        replies = ipywidgets.Output()
        sent = []  # the recordings sent as turns

        def saved_content() -> tuple[str, str]:
            # The saved view (nbaudio.widgets.saved_view): the last recording, then the conversation.
            body, text = recorder.saved_content("%voice listen")
            conv = self.conversations.get(args.name) if sent else None
            if conv is not None:
                body += mimebundle(conv, include=["text/html"]).get("text/html", "")
                text += f"; {len(sent)} sent to conversation {args.name!r}"
            return body, text

        def send(clip: AudioClip) -> None:
            # Runs in the kernel's widget-message handler, after the cell has ended: the Output widget
            # takes what it displays to this cell (there is no live view there, so the reply shows whole).
            before = self.conversations.get(args.name)
            length = len(before.messages) if before is not None else 0
            with replies:
                self._voice_turn(args, "", clip, live=False)
            after = self.conversations.get(args.name)
            if after is not before:
                args.new = False  # --new started one conversation; the later recordings continue it
            if after is not None and (after is not before or len(after.messages) != length):
                sent.append(clip)
                recorder.saved_view.refresh()

        recorder.saved_view = SavedView(saved_content)
        recorder.on_recorded(send)
        self.listener = recorder
        show_widget(ipywidgets.VBox([recorder, replies]), recorder.saved_view)

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
        live [--voice V] [--vad server|manual] [--instructions TEXT]  a spoken conversation in
                                 real time with a Realtime model; its record stays when you stop
        captions [--language L] [--translate] [--max-minutes N]  live captions of the microphone;
                                 when you stop, their Transcript stays (and is bound to _captions)
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
        if command not in SUBCOMMANDS:
            raise UsageError(f"unknown %voice command {command!r}; use one of {', '.join(SUBCOMMANDS)}\n"
                             "usage: %voice {" + "|".join(SUBCOMMANDS) + "} ...")
        parser = SUBCOMMANDS[command].parser
        handler = getattr(self, f"command_{command}")
        if command in _RAW_LINE:
            return handler(parser, rest)
        args = parse_options(parser, split_line(rest))
        client = self.client
        try:
            return handler(parser, args)
        except NbAudioError as exc:
            show_error(client, exc, None)
            return None
