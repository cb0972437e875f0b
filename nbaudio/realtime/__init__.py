"""The Realtime API client: a voice session over a WebSocket, GA protocol (`nbaudio._wire.realtime`).

    import nbaudio.realtime
    with nbaudio.realtime.connect(model="gpt-realtime") as rt:      # the default client's API
        rt.send_text("Is a golden retriever a good family dog?")
        rt.wait_for("response.done")
    rt.conversation                                                  # turns with AudioClips

`connect(intent="transcription", ...)` opens a transcription session instead: audio in, the words
of each turn out as they are recognised (what `%voice captions` runs on).

It talks to OpenAI (wss://api.openai.com/v1/realtime), to relays (their base URL with http(s)
turned into ws(s), or `websocket_base_url=`) and to the embedded engine. `aconnect()` is the asyncio
form (`async with nbaudio.realtime.aconnect(...) as rt:`). The package: connection.py (URL,
handshake, close codes), events.py (the wire both forms share), core.py (their state, record and
docstrings), session.py (sync), aio.py (asyncio),
record.py (the turns).
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any

from .._http.validation import check_seconds
from ..client import Client, default_client
from ..errors import InvalidInputError
from .aio import AsyncRealtimeSession
from .connection import check_intent
from .events import DEFAULT_TIMEOUT, FIRST_EVENT_TIMEOUT, RealtimeEvent
from .record import Turn
from .session import RealtimeSession

__all__ = ["connect", "aconnect", "RealtimeSession", "AsyncRealtimeSession", "RealtimeEvent", "Turn"]


def _checked(client: Any, first_event_timeout: Any, timeout: Any, session: Any) -> Client:
    if client is not None and not isinstance(client, Client):
        raise InvalidInputError(f"client= takes an nbaudio.Client, not {type(client).__name__}.", param="client")
    for name, value in (("first_event_timeout", first_event_timeout), ("timeout", timeout)):
        check_seconds(value, name)
    if session is not None and not isinstance(session, dict):
        raise InvalidInputError("session= takes a dict of session fields (as in session.update).", param="session")
    return client or default_client()


def connect(model: str = "gpt-realtime", *, client: Client | None = None, websocket_base_url: str | None = None,
            session: dict[str, Any] | None = None, first_event_timeout: float = FIRST_EVENT_TIMEOUT,
            timeout: float = DEFAULT_TIMEOUT, intent: str | None = None) -> RealtimeSession:
    """Open a Realtime session with `client`'s API (the default client when None; with no remote API
    configured, the embedded engine, started now). `session` is sent as a first `session.update`.
    `intent="transcription"`: a transcription session (audio in, the words of each turn out as
    `conversation.item.input_audio_transcription.delta` / `.completed`; no replies).
    Returns once `session.created` (and `session.updated`) arrived."""
    client = _checked(client, first_event_timeout, timeout, session)
    check_intent(intent)
    base_url = client.open()
    rt = RealtimeSession(model=model, base_url=base_url, api_key=client.api_key.get(),
                         websocket_base_url=websocket_base_url, first_event_timeout=first_event_timeout,
                         timeout=timeout, redact=client.redact, intent=intent, prices=client.price_table)
    if session:
        try:
            rt.update_session(**session)
        except BaseException:
            rt.close()
            raise
    return rt


class _Opening:
    """What `aconnect()` returns: await it for the session, or use it in `async with`."""

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._session: AsyncRealtimeSession | None = None

    async def _open(self) -> AsyncRealtimeSession:
        kw = self._kwargs
        client = kw.pop("client")
        session = kw.pop("session")
        base_url = await asyncio.to_thread(client.open)  # may start the embedded engine
        rt = await AsyncRealtimeSession.open(base_url=base_url, api_key=client.api_key.get(), redact=client.redact,
                                             prices=client.price_table, **kw)
        if session:
            try:
                await rt.update_session(**session)
            except BaseException:
                await rt.close()
                raise
        return rt

    def __await__(self) -> Generator[Any, None, AsyncRealtimeSession]:
        return self._open().__await__()

    async def __aenter__(self) -> AsyncRealtimeSession:
        self._session = await self._open()
        return self._session

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()


def aconnect(model: str = "gpt-realtime", *, client: Client | None = None, websocket_base_url: str | None = None,
             session: dict[str, Any] | None = None, first_event_timeout: float = FIRST_EVENT_TIMEOUT,
             timeout: float = DEFAULT_TIMEOUT, intent: str | None = None) -> _Opening:
    """`connect()` for asyncio: `async with aconnect(...) as rt:` or `rt = await aconnect(...)`.
    Arguments are checked now, before anything connects."""
    client = _checked(client, first_event_timeout, timeout, session)
    check_intent(intent)
    return _Opening(model=model, client=client, websocket_base_url=websocket_base_url, session=session,
                    first_event_timeout=first_event_timeout, timeout=timeout, intent=intent)
