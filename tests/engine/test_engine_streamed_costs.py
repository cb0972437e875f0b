"""On the real engine, answers whose usage comes at the end are priced too, as the engine's: a
streamed transcription, a streamed chat and a Realtime session (sync and asyncio) say
"free (local)", from a Client given only the engine's URL (it tells the engine by its stamp on
the HTTP answer and on the WebSocket upgrade)."""

from __future__ import annotations

import asyncio

import pytest

import nbaudio
import nbaudio.realtime
from tests.support.real_speech import recording

pytestmark = pytest.mark.engine

SHORT = {"max_tokens": 12, "temperature": 0.2, "seed": 7}


def test_streamed_transcription_and_chat_on_the_engine_are_free(engine):
    rec = recording("fleurs-en-008.ogg")
    with nbaudio.Client(engine.base_url) as client:
        stream = client.transcribe(str(rec.path), stream=True)
        heard = "".join(stream)
        t = stream.result
        reply = client.chat("Say hello.", modalities=["text"], stream=True, **SHORT).collect()
    assert heard.strip() and t.cost is not None and t.cost.free and str(t.cost) == "free (local)"
    assert reply.text and reply.cost is not None and str(reply.cost) == "free (local)"
    assert "free (local)" in reply._repr_mimebundle_()["text/html"]


def test_a_realtime_session_on_the_engine_is_free(engine):
    client = nbaudio.Client(engine.base_url)
    with nbaudio.realtime.connect(client=client, session={"output_modalities": ["text"]}) as rt:
        rt.send_text("Say hello.")
        rt.wait_for("response.done")
    reply = rt.conversation.last_reply
    assert reply.text and str(reply.cost) == "free (local)" and str(rt.cost) == "free (local)"
    assert "cost: free (local)" in rt.conversation._repr_mimebundle_()["text/html"]

    async def main() -> str:
        async with nbaudio.realtime.aconnect(client=client, session={"output_modalities": ["text"]}) as art:
            await art.send_text("Say hello.")
            await art.wait_for("response.done")
        return str(art.cost)

    assert asyncio.run(main()) == "free (local)"
