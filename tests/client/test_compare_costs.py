"""compare_transcripts against an OpenAI-like server: without a reference the systems are compared
with the first one; costs come from each answer's usage at OpenAI's prices; a refused model is that
system's error, not the comparison's; a hostile name stays text."""

from __future__ import annotations

import json

import pytest
from werkzeug import Request, Response

import nbaudio
from nbaudio import AudioClip, Client
from tests.support.magic_fakes import wav_bytes
from tests.support.signals import tone_pcm16

CLIP = AudioClip(wav_bytes(tone_pcm16(2.0, amp=0.3)), "wav")
HOSTILE = "<img src=x onerror=alert(1)>"
HEARD = {"whisper-1": "the cat sat on the mat", "gpt-4o-transcribe": "the cat sat on a mat today"}


def _answer(request: Request) -> Response:
    model = request.form["model"]
    if model not in HEARD:
        body = {"error": {"message": f"The model '{model}' does not exist", "type": "invalid_request_error",
                          "code": "model_not_found", "param": None}}
        return Response(json.dumps(body), status=404, content_type="application/json")
    text = HEARD[model]
    if model == "whisper-1":
        words = [{"word": w, "start": i * 0.3, "end": i * 0.3 + 0.25} for i, w in enumerate(text.split())]
        body = {"task": "transcribe", "language": "english", "duration": 2.0, "text": text, "words": words,
                "segments": [], "usage": {"type": "duration", "seconds": 2}}
    else:
        body = {"text": text, "usage": {"type": "tokens", "input_tokens": 40, "output_tokens": 8,
                                        "input_token_details": {"text_tokens": 0, "audio_tokens": 40}}}
    return Response(json.dumps(body), content_type="application/json")


def test_compared_with_the_first_system_and_priced(httpserver):
    httpserver.expect_request("/v1/audio/transcriptions").respond_with_handler(_answer)
    with Client(httpserver.url_for("/v1"), max_retries=0) as c:
        with pytest.warns(UserWarning):  # gpt-4o-transcribe takes only json: said once
            cmp = nbaudio.compare_transcripts(CLIP, models=["whisper-1", "gpt-4o-transcribe", HOSTILE],
                                              clients={"api": c}, concurrency=1)
    assert cmp.baseline == "whisper-1" and list(cmp.diffs) == ["gpt-4o-transcribe"]
    d = cmp.diffs["gpt-4o-transcribe"]
    assert d.reference_label == "whisper-1" and (d.counts["substitutions"], d.counts["insertions"]) == (1, 1)
    rows = {r["system"]: r for r in cmp.rows()}
    assert rows["whisper-1"]["cost_usd"] == pytest.approx(2 / 60 * 0.006) and rows["whisper-1"]["words_timed"]
    assert rows["gpt-4o-transcribe"]["cost_usd"] == pytest.approx((40 * 6 + 8 * 10) / 1e6)
    assert not rows["gpt-4o-transcribe"]["words_timed"] and rows["whisper-1"]["wer"] is None
    assert rows[HOSTILE]["error"].startswith("NotFoundError") and rows[HOSTILE]["text"] is None
    html = cmp._repr_mimebundle_()["text/html"]
    # the hostile name, as the label and in the error, is text
    assert "<img src=x" not in html and html.count("&lt;img src=x") >= 2
    assert "no word times" in html and "does not exist" in html
    text = str(cmp)
    assert "gpt-4o-transcribe: the cat sat on [the→a] mat {+today+}" in text
    with pytest.raises(nbaudio.InvalidInputError, match="no reference"):
        cmp.diff("gpt-4o-transcribe")
    with pytest.raises(nbaudio.InvalidInputError, match="not one of the systems"):
        cmp.diff("whisper-2")
