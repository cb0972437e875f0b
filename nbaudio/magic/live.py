"""`%voice live`: a spoken conversation in real time (nbaudio.widgets.LiveSession), whose record
becomes a conversation of the magics when it stops, so `%%voice` cells can go on with it."""

from __future__ import annotations

from typing import Any

from IPython.core.magic_arguments import MagicArgumentParser, argument, magic_arguments
from IPython.display import display

from ..chat import Conversation
from .parsing import DEFAULT_CONVERSATION, usage_error
from .state import VoiceState

__all__ = ["LiveCommands", "live_args"]


@magic_arguments("voice live")
@argument("--model", help="Realtime model (default gpt-realtime).")
@argument("--voice", help="Voice of the replies.")
@argument("--instructions", help="How the model should behave (the session's instructions).")
@argument("--system", help="The same as --instructions (the name %%voice uses).")
@argument("--vad", choices=("server", "manual"), default="server",
          help="server: the server hears when you stop, and speaking over a reply cuts it; manual: ● Talk / ■ Send.")
@argument("--max-minutes", type=float, default=15.0, metavar="N", help="The session ends by itself after N minutes.")
@argument("--transcribe-model", metavar="M", help="Model that transcribes your speech (default whisper-1).")
@argument("--language", metavar="CODE", help="The language you speak (ISO-639-1, e.g. en): replies come sooner.")
@argument("--name", default=DEFAULT_CONVERSATION, help="Conversation to continue, and to keep the session in.")
@argument("--new", action="store_true", help="Start a new conversation instead of continuing --name.")
@argument("--out", metavar="VAR", help="Also bind the conversation to this variable when the session stops.")
@argument("--tools", metavar="F,G", help="Functions of the notebook the model may call (by name, comma-separated); "
                                         "each call runs in the kernel and the model answers with its result.")
def live_args() -> None:
    """A live spoken conversation: press ▶ Start and talk; the reply plays as it streams, and speaking
    over it cuts it. ■ Stop turns the widget into the conversation's record; the conversation goes on
    in %%voice cells (and is bound to `_voice`). Where the kernel takes widget messages only between
    cells, it pauses while a cell runs."""


class LiveCommands(VoiceState):
    """The handler of `%voice live` (VoiceMagics dispatches to it)."""

    def command_live(self, parser: MagicArgumentParser, args: Any) -> None:
        from ..widgets.live import DEFAULT_REALTIME_MODEL, DEFAULT_TRANSCRIBE_MODEL, MAX_MINUTES_LIMIT, LiveSession

        if args.instructions is not None and args.system is not None:
            raise usage_error(parser, "give --instructions or --system, not both (they are the same thing)")
        if not 0 < args.max_minutes <= MAX_MINUTES_LIMIT:
            raise usage_error(parser, f"--max-minutes must be more than 0 and at most {MAX_MINUTES_LIMIT:g}, "
                                      f"not {args.max_minutes:g}")
        if args.out is not None and not args.out.isidentifier():
            raise usage_error(parser, f"--out needs a variable name, not {args.out!r}")
        if not args.name.strip():
            raise usage_error(parser, "--name needs a conversation name")
        tools = self._tool_functions(parser, args.tools)
        name = args.name
        instructions = args.instructions if args.instructions is not None else args.system
        earlier = None if args.new else self.conversations.get(name)
        conversation = earlier if earlier is not None else Conversation(
            system=instructions if instructions is not None else self.system)
        live = LiveSession(args.model or DEFAULT_REALTIME_MODEL, client=self.client, voice=args.voice or self.voice,
                           instructions=instructions, vad=args.vad, max_minutes=args.max_minutes,
                           transcribe_model=args.transcribe_model or self.transcribe_model or DEFAULT_TRANSCRIBE_MODEL,
                           language=args.language, conversation=conversation, tools=tools)
        ns = self.shell.user_ns

        def keep(conv: Conversation) -> None:
            # On the session's thread, after it ended: the conversation is the magics' from now on.
            self.conversations[name] = conv
            ns["_voice"] = conv
            if args.out:
                ns[args.out] = conv

        live.on_stop(keep)
        self.live_session = live
        display(live)

    def _tool_functions(self, parser: MagicArgumentParser, names: str | None) -> list[Any]:
        """The notebook's functions named by --tools (a usage error names one that is not a function)."""
        if names is None:
            return []
        found = []
        for name in (n.strip() for n in names.split(",")):
            value = self.shell.user_ns.get(name) if name.isidentifier() else None
            if not callable(value):
                raise usage_error(parser, f"--tools: {name!r} is not a function defined in this notebook")
            found.append(value)
        return found
