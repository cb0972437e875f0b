"""chat(tools=[f]) against the engine: the local model calls the notebook's function, the kernel
runs it, its result goes back, and the answer reads it; the Conversation records every step."""

from __future__ import annotations

import pytest

from nbaudio import Client, Conversation
from nbaudio.errors import InvalidInputError

pytestmark = pytest.mark.timeout(600)


def test_a_python_function_is_called_run_and_answered(engine):
    asked = []

    def get_weather(city: str) -> dict:
        """The current weather in a city."""
        asked.append(city)
        return {"temperature_c": 18, "sky": "sunny"}

    conv = Conversation()
    conv.add_user("What is the weather in Paris?")
    with Client(engine.base_url) as client:
        reply = client.chat(conv, model="gpt-4o-mini", modalities=["text"], tools=[get_weather])
    assert asked == ["Paris"]
    [run] = reply.tool_runs
    assert run.name == "get_weather" and run.arguments == {"city": "Paris"} and run.error is None
    assert reply.finish_reason == "stop" and not reply.tool_calls
    assert "18" in reply.text or "sunny" in reply.text.lower(), reply.text
    roles = [m["role"] for m in conv.to_messages()]
    assert roles == ["user", "assistant", "tool", "assistant"], roles
    assert conv.to_messages()[2]["tool_call_id"] == conv.to_messages()[1]["tool_calls"][0]["id"]
    assert "get_weather" in reply._repr_html_() if hasattr(reply, "_repr_html_") else True


def test_python_tools_cannot_stream(engine):
    def f(x: int) -> int:
        """Echo."""
        return x

    with Client(engine.base_url) as client, pytest.raises(InvalidInputError) as err:
        client.chat("Hi", model="gpt-4o-mini", modalities=["text"], tools=[f], stream=True)
    assert err.value.param == "stream"
