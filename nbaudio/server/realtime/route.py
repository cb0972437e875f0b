"""`WS /v1/realtime?model=...`: the WebSocket of a Realtime session (with `intent=transcription`, of
a transcription session: transcription.py).

The guard (guard.py) has already checked the upgrade's Host, Origin and key. Here: the session
limit (one more than `max_sessions` is told so and closed with 1013, not left waiting), the size of
each message (1009), the idle timeout and the session's maximum length (an error event saying so,
then close 1000), and a sender task that writes the session's events in order and drops a client
that reads nothing for the engine's send_timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from ..._wire.realtime import PATH, SUBPROTOCOL, error_event
from ..model_names import chat_model_ok
from .limits import RealtimeHub
from .outbox import Outbox
from .session import RealtimeSession
from .transcription import TranscriptionSession

__all__ = ["router", "DEFAULT_MODEL"]

log = logging.getLogger("nbaudio.server")
router = APIRouter()
DEFAULT_MODEL = "gpt-realtime"
_GONE = (WebSocketDisconnect, RuntimeError, OSError)  # the client went away (uvicorn raises OSError kinds)


@router.websocket(PATH)
async def realtime(websocket: WebSocket) -> None:
    state = websocket.app.state
    engine, hub = state.engine, state.realtime
    limits = hub.limits
    offered = websocket.scope.get("subprotocols") or []
    await websocket.accept(subprotocol=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    model = websocket.query_params.get("model") or DEFAULT_MODEL
    transcribing = websocket.query_params.get("intent") == "transcription"  # no chat model is asked
    if not transcribing and not chat_model_ok(model, upstream=bool(engine.settings.chat_upstream)):
        await _refuse(websocket, 1008, error_event(
            f"The model '{model[:100]}' does not exist; the local engine answers 'gpt-realtime' and other gpt-* "
            "names.", code="model_not_found", param="model"))
        return
    if hub.active >= limits.max_sessions:
        hub.refused += 1
        await _refuse(websocket, 1013, error_event(
            f"The engine already runs {hub.active} Realtime sessions, its limit; close one or try again later.",
            type="server_error", code="session_limit_reached"))
        return
    hub.active += 1
    outbox = Outbox()
    session: RealtimeSession | TranscriptionSession = (
        TranscriptionSession(engine, limits, outbox) if transcribing
        else RealtimeSession(engine, state.admission, limits, model, outbox))
    sender = asyncio.get_running_loop().create_task(_send_all(websocket, outbox, engine.settings.send_timeout))
    session.created()
    code, reason = 1011, "internal_error"
    try:
        code, reason = await _receive_all(websocket, session, hub)
    except Exception:  # a bug in a handler: the client is told before the close, the log has the rest
        log.exception("realtime session %s failed", session.id)
        session.emit(error_event("The engine failed while handling an event; see its log.", type="server_error",
                                 code="internal_error"))
    finally:
        hub.active -= 1
        await session.close()
        outbox.close()
        await asyncio.gather(sender, return_exceptions=True)
        if code is not None:
            try:
                await websocket.close(code, reason)
            except _GONE:
                pass


async def _receive_all(websocket: WebSocket, session: RealtimeSession | TranscriptionSession,
                       hub: RealtimeHub) -> tuple[int | None, str]:
    """Handle client events until the client leaves (None: nothing to close) or a limit ends it."""
    limits = hub.limits
    loop = asyncio.get_running_loop()
    ends = loop.time() + limits.max_session_seconds
    while True:
        wait = min(limits.idle_seconds, ends - loop.time())
        try:
            async with asyncio.timeout(max(0.0, wait)):
                message = await websocket.receive()
        except TimeoutError:
            if loop.time() >= ends:
                session.emit(error_event(f"Your session hit the maximum duration of "
                                         f"{limits.max_session_seconds:g} seconds.", code="session_expired"))
                return 1000, "session_expired"
            session.emit(error_event(f"The session was idle for {limits.idle_seconds:g} seconds and was closed.",
                                     code="session_idle_timeout"))
            return 1000, "idle_timeout"
        except _GONE:
            return None, ""
        if message["type"] == "websocket.disconnect":
            return None, ""
        data: Any = message.get("text")
        if data is None:
            data = message.get("bytes") or b""
        if len(data) > limits.max_message_bytes:
            session.emit(error_event(f"The message is {len(data)} bytes; this server takes at most "
                                     f"{limits.max_message_bytes} per event. Send audio in smaller appends.",
                                     code="message_too_large"))
            return 1009, "message_too_large"
        await session.handle(data)


async def _send_all(websocket: WebSocket, outbox: Outbox, timeout: float) -> None:
    while (event := await outbox.get()) is not None:
        try:
            async with asyncio.timeout(timeout):
                await websocket.send_text(json.dumps(event))
        except TimeoutError:
            log.warning("realtime client read nothing for %g s; closing its session", timeout)
            await websocket.close(1008, "client_not_reading")
            return
        except _GONE:
            return


async def _refuse(websocket: WebSocket, code: int, event: dict[str, Any]) -> None:
    await websocket.send_text(json.dumps(event))
    await websocket.close(code, event["error"]["code"])
