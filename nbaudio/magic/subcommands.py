"""The `%voice` commands on conversations and on audio alone: history, reset, replay, export,
speak and transcribe (their parsers, which magic_arguments also turns into their help)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from IPython.core.magic_arguments import MagicArgumentParser, argument, magic_arguments

from .._wire import spec
from ..audio import AudioClip, as_audio_clip
from ..chat import Conversation
from ..errors import NbAudioError
from ..transcript import Transcript
from .interpolate import interpolate, resolve_audio
from .parsing import DEFAULT_CONVERSATION, parse_options, split_line, usage_error
from .report import save_conversation, show_error
from .state import VoiceState

__all__ = [
    "ConversationCommands",
    "export_args",
    "history_args",
    "replay_args",
    "reset_args",
    "speak_args",
    "transcribe_args",
]

# Options of `%voice speak` all take a value; the text after them is kept exactly as typed.
_LEADING_OPTIONS = re.compile(r"""\s*(--[\w-]+(?:=(?:"[^"]*"|'[^']*'|\S+)|\s+(?:"[^"]*"|'[^']*'|\S+)))""")


@magic_arguments("voice history")
@argument("--name", default=DEFAULT_CONVERSATION, help="Which conversation.")
def history_args() -> None:
    """Show a conversation (and return it)."""


@magic_arguments("voice reset")
@argument("--name", default=DEFAULT_CONVERSATION, help="Which conversation.")
@argument("--all", action="store_true", help="Forget every conversation.")
def reset_args() -> None:
    """Forget a conversation; the next %%voice cell starts a new one."""


@magic_arguments("voice replay")
@argument("n", type=int, metavar="N", help="Which reply: 1 is the first, -1 the last.")
@argument("--name", default=DEFAULT_CONVERSATION, help="Which conversation.")
def replay_args() -> None:
    """Show (and return) the audio of reply N."""


@magic_arguments("voice export")
@argument("path", metavar="PATH", help="JSON file; each reply's audio is saved beside it.")
@argument("--name", default=DEFAULT_CONVERSATION, help="Which conversation.")
def export_args() -> None:
    """Save a conversation as JSON plus audio files."""


@magic_arguments("voice speak")
@argument("--voice", help="Voice name.")
@argument("--model", help="Speech model.")
@argument("--format", dest="response_format", choices=spec.SPEECH_FORMATS, help="Audio format.")
@argument("--speed", type=float, help=f"{spec.SPEED_MIN} to {spec.SPEED_MAX}.")
@argument("--instructions", help="How to speak (models that take it).")
def speak_args() -> None:
    """Text to speech only: `%voice speak [options] TEXT`; returns the AudioClip."""


@magic_arguments("voice transcribe")
@argument("source", metavar="SRC", help="A path, or a variable holding an AudioClip, bytes or a recording.")
@argument("--model", help="Transcription model.")
@argument("--language", help="ISO-639-1 code, e.g. en.")
@argument("--prompt", help="Text to guide the transcription.")
def transcribe_args() -> None:
    """Speech to text only; returns the Transcript."""


class ConversationCommands(VoiceState):
    """The handlers of `%voice history|reset|replay|export|speak|transcribe` (VoiceMagics dispatches to them)."""

    def command_history(self, parser: MagicArgumentParser, args: Any) -> Conversation | None:
        if args.name not in self.conversations:
            print(f"no conversation {args.name!r} yet: run a %%voice cell first")
            return None
        return self.conversations[args.name]

    def command_reset(self, parser: MagicArgumentParser, args: Any) -> None:
        if args.all:
            self.conversations.clear()
            self.history_limits.clear()
            print("all conversations forgotten")
            return
        dropped = self.conversations.pop(args.name, None)
        self.history_limits.pop(args.name, None)
        print(f"conversation {args.name!r} {'forgotten' if dropped is not None else 'was empty'}")

    def command_replay(self, parser: MagicArgumentParser, args: Any) -> AudioClip | None:
        conv = self._conversation(parser, args.name)
        replies = [reply for _, reply in conv.turns() if reply is not None]
        index = args.n - 1 if args.n > 0 else args.n
        if args.n == 0 or not -len(replies) <= index < len(replies):
            raise usage_error(parser, f"conversation {args.name!r} has {len(replies)} replies; N is 1 to "
                                      f"{len(replies)} (or -1 for the last)")
        reply = replies[index]
        if reply.audio is None:
            print(f"reply {args.n} has no audio (it was a text reply, or loaded without its audio file)")
            return None
        return reply.audio

    def command_export(self, parser: MagicArgumentParser, args: Any) -> Path | None:
        conv = self._conversation(parser, args.name)
        save_conversation(self.client, conv, interpolate(args.path, self.shell.user_ns))
        return None

    def command_speak(self, parser: MagicArgumentParser, rest: str) -> AudioClip | None:
        """Takes the rest of the line unsplit: the text is kept exactly as typed."""
        options = []
        while (m := _LEADING_OPTIONS.match(rest)) and m.group(1):
            options.append(m.group(1))
            rest = rest[m.end():]
        args = parse_options(parser, split_line(" ".join(options)))
        text = interpolate(rest.strip(), self.shell.user_ns)
        if not text:
            raise usage_error(parser, "nothing to say: %voice speak [options] TEXT")
        kwargs = {k: v for k, v in vars(args).items() if v is not None}
        if self.voice:
            kwargs.setdefault("voice", self.voice)
        client = self.client
        try:
            return client.speak(text, **kwargs)
        except NbAudioError as exc:
            show_error(client, exc, None)
            return None

    def command_transcribe(self, parser: MagicArgumentParser, args: Any) -> Transcript:
        kwargs = {k: v for k, v in (("model", args.model or self.transcribe_model), ("language", args.language),
                                    ("prompt", args.prompt)) if v is not None}
        audio = as_audio_clip(resolve_audio(args.source, self.shell.user_ns), param="SRC")
        return self.client.transcribe(audio, **kwargs)

    def _conversation(self, parser: MagicArgumentParser, name: str) -> Conversation:
        conv = self.conversations.get(name)
        if conv is None:
            known = ", ".join(sorted(self.conversations)) or "none yet"
            raise usage_error(parser, f"no conversation named {name!r} (conversations: {known})")
        return conv
