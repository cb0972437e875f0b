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

The modules, from the bottom up: `parsing` (options and usage errors), `interpolate` (`{name}`
fields), `keyguard` (the check for API keys typed into cells), `turn` (one turn's options),
`live` (the live view of a streaming reply), `report` (errors and saves, one line each),
`state` (the defaults, conversations and client), `config` and `subcommands` (the `%voice`
commands), `magics` (`VoiceMagics` itself).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import keyguard
from .interpolate import interpolate
from .magics import VoiceMagics

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

__all__ = ["VoiceMagics", "interpolate", "load_ipython_extension"]


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """`%load_ext nbaudio` (or `nbaudio.magic`): registers `%%voice` and `%voice`, and the check
    that warns when a cell contains an API key (nbaudio.magic.keyguard). The one entry point: both
    extension names come here, so neither can skip the key guard."""
    magics = VoiceMagics(ipython)
    ipython.register_magics(magics)
    keyguard.install(ipython, lambda: magics.configured_client)
