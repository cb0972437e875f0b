"""Who spoke when on the embedded engine: diarization error rate and speed on a synthetic meeting.

    python -m benchmarks.bench_diarize [--quick]

The meeting is tests/support/meeting.py's: 36 turns of three voices (piper joe, espeak-ng, espeak-ng
formant-shifted), ~2.2 minutes, with known turn times. Figures:
- DER of the engine's `diarized_json` (gpt-4o-transcribe-diarize) against those turns: NIST's
  missed + false alarm + confusion over reference speech, without a collar and with the usual 0.25 s
  (nbaudio.speakers.diarization_error_rate; pyannote.metrics needs no torch but pyannote.audio does,
  so no peer system runs here).
- diarization real-time factor: the diarizer alone (Silero VAD, Resemblyzer encoder in numpy,
  clustering) in this process, seconds per second of audio; and the whole request (Whisper too).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import Result, Stat, engine, script_main  # noqa: E402

DER_TARGET = 0.15
RTF_TARGET = 0.2


def collect(quick: bool = False) -> list[Result]:
    import requests

    from nbaudio.server.diarization.pipeline import load_diarizer
    from nbaudio.server.settings import Settings
    from nbaudio.speakers import diarization_error_rate
    from tests.support.meeting import SCRIPT, build_meeting

    server = engine()
    meeting = build_meeting(server.base_url, SCRIPT[:12] if quick else SCRIPT)
    wav = meeting.wav()

    def request() -> tuple[dict, float]:
        t0 = time.perf_counter()
        r = requests.post(server.base_url + "/audio/transcriptions", timeout=900,
                          data={"model": "gpt-4o-transcribe-diarize", "response_format": "diarized_json"},
                          files={"file": ("meeting.wav", wav, "audio/wav")})
        r.raise_for_status()
        return r.json(), time.perf_counter() - t0

    body, _ = request()  # warm-up: every model loaded
    hyp = [(s["start"], s["end"], s["speaker"]) for s in body["segments"]]
    plain = diarization_error_rate(meeting.turns, hyp)
    collar = diarization_error_rate(meeting.turns, hyp, collar=0.25)
    diarizer = load_diarizer(Settings.from_env().cache_dir)
    repeats = 2 if quick else 5
    alone, whole = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        diarizer.diarize(meeting.samples)
        alone.append((time.perf_counter() - t0) / meeting.duration)
        whole.append(request()[1] / meeting.duration)
    rtf, req = Stat(alone), Stat(whole)
    return [
        Result("diarization error rate, engine diarized_json (3 voices, no collar)", f"{plain.der:.1%}", "—",
               plain.der, f"≤ {DER_TARGET:.0%}", plain.der <= DER_TARGET,
               note=f"{meeting.duration:.0f} s meeting, {len(meeting.turns)} turns; missed {plain.missed:.1f} s, "
                    f"false alarm {plain.false_alarm:.1f} s, confusion {plain.confusion:.1f} s of "
                    f"{plain.total:.1f} s of speech; with a 0.25 s collar: {collar.der:.1%}"),
        Result("diarization real-time factor (VAD + speaker encoder + clustering, in process)", rtf.fmt("×"), "—",
               rtf.median, f"≤ {RTF_TARGET}", rtf.median <= RTF_TARGET,
               note=f"the whole diarized_json request (Whisper tiny.en with word times too): {req.fmt('×')}"),
    ]


if __name__ == "__main__":
    raise SystemExit(script_main("diarization", collect, __doc__))
