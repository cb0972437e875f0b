"""What the magics keep between cells: the configurable defaults, the conversations, the client.

The `%voice` commands (config.py, subcommands.py) and the magics themselves (magics.py) are
classes built on this one, so all of them read and change the same state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics
from traitlets import Bool, Float, Integer, Unicode

from .._redaction import Secret
from ..chat import Conversation
from ..client import Client, default_client
from .parsing import TEMPERATURE_RANGE

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

__all__ = ["VoiceState"]


class VoiceState(Magics):
    """Conversations by name, per-conversation history limits, the client, and the defaults.

    Defaults are traitlets, so `ipython_config.py` can set them: `c.VoiceMagics.voice = "coral"`.
    """

    model = Unicode(None, allow_none=True, help="Chat model (None: the client's default).").tag(config=True)
    voice = Unicode(None, allow_none=True, help="Voice of the replies (None: the client's default).").tag(config=True)
    audio_format = Unicode(None, allow_none=True,
                           help="Reply audio format when not streaming (streamed audio is always pcm16)."
                           ).tag(config=True)
    system = Unicode(None, allow_none=True, help="System message of new conversations.").tag(config=True)
    temperature = Float(None, allow_none=True, min=TEMPERATURE_RANGE[0], max=TEMPERATURE_RANGE[1],
                        help="Sampling temperature (None: the server's default).").tag(config=True)
    max_tokens = Integer(None, allow_none=True, min=1,
                         help="Longest reply in tokens (None: the server's default).").tag(config=True)
    max_history = Integer(None, allow_none=True, min=1,
                          help="Send at most this many recent messages (the system message is always kept); "
                               "None sends everything. --max-history overrides it per conversation.").tag(config=True)
    stream = Bool(True, help="Stream replies (text and audio appear as they are generated).").tag(config=True)
    text_only = Bool(False, help="Ask for text replies only.").tag(config=True)
    live_output = Bool(None, allow_none=True,
                       help="Redraw the reply while it streams; None: only inside a notebook kernel.").tag(config=True)
    transcribe_model = Unicode(None, allow_none=True,
                               help="Model for %voice transcribe and for relays that take no audio input."
                               ).tag(config=True)

    def __init__(self, shell: InteractiveShell | None = None, **kwargs: Any) -> None:
        super().__init__(shell, **kwargs)
        self.conversations: dict[str, Conversation] = {}
        self.history_limits: dict[str, int] = {}  # per-conversation --max-history
        self.listener: Any = None  # the Recorder of the last `%voice listen`
        self.live_session: Any = None  # the LiveSession of the last `%voice live`
        self.captions: Any = None  # the Captions of the last `%voice captions`
        self._client: Client | None = None
        self._owns_client = False
        self._client_settings: dict[str, Any] = {}
        self._api_key = Secret(None)

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

    @property
    def configured_client(self) -> Client | None:
        """The client set for the magics (by `%voice config`/`login` or by assigning `.client`), or
        None when they use nbaudio's default. Reading it never creates a client (the key guard reads it)."""
        return self._client

    @property
    def has_api_key(self) -> bool:
        """A key was given here (`%voice login`, `%voice config api_key={var}`), not from the environment."""
        return bool(self._api_key)

    def configure_client(self, changes: Mapping[str, Any]) -> None:
        """Make a client with `changes` (base_url, api_key, timeout) over the settings made so far."""
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
