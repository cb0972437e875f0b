"""`%voice captions`: live captions of the microphone (nbaudio.widgets.Captions); when they stop,
the widget becomes their Transcript, bound to `_captions` (and to --out)."""

from __future__ import annotations

from typing import Any

from IPython.core.magic_arguments import MagicArgumentParser, argument, magic_arguments
from IPython.display import display

from .parsing import usage_error
from .state import VoiceState

__all__ = ["CaptionsCommands", "captions_args"]


@magic_arguments("voice captions")
@argument("--language", metavar="CODE", help="The language spoken (ISO-639-1, e.g. en); detected when left out.")
@argument("--translate", action="store_true", help="Show English captions of speech in another language.")
@argument("--max-minutes", type=float, default=15.0, metavar="N", help="Captioning stops by itself after N minutes.")
@argument("--model", metavar="M", help="Transcription model (default: the magics' transcribe_model, or whisper-1).")
@argument("--prompt", metavar="TEXT", help="Words to expect (names, terms of the subject).")
@argument("--out", metavar="VAR", help="Also bind the transcript to this variable when captioning stops.")
def captions_args() -> None:
    """Live captions: press ▶ Start and speak; the words appear as they are recognised (grey until
    final). ■ Stop turns the widget into the transcript (segments, words, times, the recording),
    bound to `_captions`."""


class CaptionsCommands(VoiceState):
    """The handler of `%voice captions` (VoiceMagics dispatches to it)."""

    def command_captions(self, parser: MagicArgumentParser, args: Any) -> None:
        from ..widgets.captions import MAX_MINUTES_LIMIT, Captions

        if not 0 < args.max_minutes <= MAX_MINUTES_LIMIT:
            raise usage_error(parser, f"--max-minutes must be more than 0 and at most {MAX_MINUTES_LIMIT:g}, "
                                      f"not {args.max_minutes:g}")
        language = args.language
        if language is not None and not (language.isalpha() and 2 <= len(language) <= 3):
            raise usage_error(parser, f"--language takes an ISO-639-1 code such as en or fr, not {language!r}")
        if args.out is not None and not args.out.isidentifier():
            raise usage_error(parser, f"--out needs a variable name, not {args.out!r}")
        model = args.model or self.transcribe_model or "whisper-1"
        captions = Captions(client=self.client, language=language and language.lower(), translate=args.translate,
                            model=model, prompt=args.prompt, max_minutes=args.max_minutes)
        ns = self.shell.user_ns

        def keep(transcript: Any) -> None:
            ns["_captions"] = transcript
            if args.out:
                ns[args.out] = transcript

        captions.on_stop(keep)
        self.captions = captions
        display(captions)
