"""How nbaudio errors show in a notebook: one line with the next step and the user's own line, not
nbaudio's internal frames; `%xmode Verbose` brings the full traceback back. And the next steps
themselves: nothing listening, a rejected key, a changed environment."""

from __future__ import annotations

import re
import socket

import pytest
from werkzeug import Response

import nbaudio
from nbaudio import APIConnectionError, AuthenticationError, Client
from nbaudio.backend import REMOTE_ENV
from nbaudio.client import default_client, set_default_client

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _free_port() -> int:
    with socket.socket() as s:  # bound, then closed: nothing listens there afterwards
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _shown(shell, capsys, source: str) -> str:
    """What the cell's error printed (IPython prints tracebacks to stdout)."""
    capsys.readouterr()
    assert not shell.run_cell(source).success, "the cell raised nothing"
    return ANSI.sub("", capsys.readouterr().out).strip()


def test_an_nbaudio_error_shows_one_line_with_the_users_line(shell, capsys, monkeypatch):
    monkeypatch.setenv("NBAUDIO_BASE_URL", f"http://127.0.0.1:{_free_port()}/v1")
    monkeypatch.delenv("NBAUDIO_API_KEY", raising=False)
    shown = _shown(shell, capsys, "import nbaudio\nnbaudio.Client(max_retries=0).speak('hello')")
    lines = shown.splitlines()
    assert lines[0].startswith("APIConnectionError: nothing listens at http://127.0.0.1:")
    assert "check NBAUDIO_BASE_URL, or unset it to use the embedded engine" in lines[0]
    assert "raised by: nbaudio.Client(max_retries=0).speak('hello')" in shown
    assert "%xmode Verbose" in shown
    assert "site-packages" not in shown and "nbaudio/client" not in shown, shown  # no internal frames


def test_xmode_verbose_shows_the_full_traceback(shell, capsys, monkeypatch):
    monkeypatch.setenv("NBAUDIO_BASE_URL", f"http://127.0.0.1:{_free_port()}/v1")
    shell.run_line_magic("xmode", "Verbose")
    try:
        shown = _shown(shell, capsys, "import nbaudio\nnbaudio.Client(max_retries=0).speak('hello')")
    finally:
        shell.run_line_magic("xmode", "Context")
    assert "core.py" in shown and "def post" not in shown.splitlines()[0]
    assert "Traceback" in shown or "----" in shown


def test_other_errors_keep_their_traceback(shell, capsys):
    shown = _shown(shell, capsys, "def f():\n    raise KeyError('x')\nf()")
    assert "KeyError" in shown and "%xmode Verbose" not in shown


def test_invalid_input_reads_as_a_sentence(shell, capsys):
    shown = _shown(shell, capsys, "import nbaudio\nnbaudio.AudioClip(b'just some words, clearly not audio\\n' * 3)")
    assert shown.splitlines()[0] == ("AudioDecodeError: the data is text, not audio; pass an audio file (wav, mp3, "
                                     "flac, ogg, m4a, webm) — to turn text into speech, use nbaudio.speak(text)")


# ---- next steps ------------------------------------------------------------------------------------

@pytest.mark.parametrize("source,hint", [
    ("NBAUDIO_API_KEY", "check NBAUDIO_API_KEY, or run `%voice login` in a notebook"),
    ("argument", "check the api_key given to the Client (in a notebook: `%voice login`)"),
    (None, "this server needs a key: run `%voice login` in a notebook, or set NBAUDIO_API_KEY"),
])
def test_a_rejected_key_says_what_to_do(httpserver, monkeypatch, source, hint):
    for name in REMOTE_ENV:
        monkeypatch.delenv(name, raising=False)
    httpserver.expect_request("/v1/audio/speech").respond_with_response(Response(
        '{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}', status=401,
        content_type="application/json"))
    url = httpserver.url_for("/v1")
    if source == "NBAUDIO_API_KEY":
        monkeypatch.setenv("NBAUDIO_API_KEY", "sk-wrong-key-0123456789")
        client = Client(url)
    else:
        client = Client(url, api_key="sk-wrong-key-0123456789" if source else None)
    with client, pytest.raises(AuthenticationError) as caught:
        client.speak("hello")
    assert str(caught.value).endswith(f"— {hint}")
    assert "sk-wrong" not in str(caught.value)


def test_the_default_client_follows_a_changed_environment(monkeypatch):
    for name in REMOTE_ENV:
        monkeypatch.delenv(name, raising=False)
    set_default_client(None)
    try:
        monkeypatch.setenv("NBAUDIO_BASE_URL", "http://127.0.0.1:9/v1")
        first = default_client()
        assert first.base_url == "http://127.0.0.1:9/v1"
        assert default_client() is first  # nothing changed: the same client
        monkeypatch.setenv("NBAUDIO_BASE_URL", f"http://127.0.0.1:{_free_port()}/v1")
        second = default_client()
        assert second is not first and second.base_url != first.base_url
        with pytest.raises(APIConnectionError, match="nothing listens at " + re.escape(second.base_url[:-3])):
            nbaudio.speak("hello", timeout=5)  # the module-level function goes to the new address
        explicit = Client("http://127.0.0.1:8/v1")
        set_default_client(explicit)  # set by hand: the environment does not replace it
        monkeypatch.setenv("NBAUDIO_BASE_URL", "http://127.0.0.1:7/v1")
        assert default_client() is explicit
    finally:
        set_default_client(None)


def test_reload_ext_starts_the_magic_afresh_without_a_message(shell, capsys):
    """Notebook 03 begins with `%reload_ext nbaudio`: run again in the same kernel, it gives the same
    result (no "already loaded" line, no conversation carried over from the first run)."""
    shell.run_line_magic("reload_ext", "nbaudio")
    first = shell.magics_manager.registry["VoiceMagics"]
    first.conversations["tutor"] = nbaudio.Conversation(system="old")
    capsys.readouterr()
    shell.run_line_magic("reload_ext", "nbaudio")
    out = capsys.readouterr()
    again = shell.magics_manager.registry["VoiceMagics"]
    assert "already loaded" not in out.out + out.err
    assert again is not first and "tutor" not in again.conversations
