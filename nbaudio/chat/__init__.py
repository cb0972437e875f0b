"""Chat as values: `ChatReply` (text, transcript, audio, audio id and expiry, usage), `Conversation`
(the turns, remembered by audio id and transcript; `save()` / `load()`), and the messages they make.

Inside: `_reply` (ChatReply, Usage, message parts, the stream assembler), `_conversation`
(Conversation), `_files` (a conversation saved beside its audio).
"""

from ._conversation import Conversation, build_messages
from ._files import AUDIO_NOT_SAVED
from ._reply import ChatReply, ChatStreamAssembler, Usage, message_text

__all__ = ["AUDIO_NOT_SAVED", "ChatReply", "ChatStreamAssembler", "Conversation", "Usage", "build_messages",
           "message_text"]
