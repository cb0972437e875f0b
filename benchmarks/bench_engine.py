"""The embedded engine against its models called directly, and under concurrent load.

    python -m benchmarks.bench_engine [--quick]

1. Text to speech: `POST /v1/audio/speech` (WAV, voice alloy = the piper voice as trained)
   against piper's `PiperVoice.synthesize` on the same text, compared as real-time factors
   (compute seconds per second of audio; the engine adds 0.12 s pauses between sentences).
2. Speech to text: `POST /v1/audio/transcriptions` (json, language=en) against faster-whisper's
   `WhisperModel.transcribe` on the same WAV bytes (it decodes them itself), same model file,
   same `WhisperModel` options (`nbaudio.server.models.stt.whisper_options`), same beam size.
3. Eight transcriptions sent at once against the same eight one after another (throughput).
All over real HTTP on loopback to an engine in this process; the pairs are interleaved.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import PARAGRAPH, Result, Stat, engine, interleaved, pair_ratios, script_main, speech_wav  # noqa: E402

RTF_TARGET = {"stt": 0.15, "tts": 0.10}


def bench_tts(url: str, repeats: int) -> list[Result]:
    import numpy as np
    import requests
    from piper import PiperVoice, SynthesisConfig

    from nbaudio.audio import AudioClip
    from nbaudio.server.models.sources import piper_source
    from nbaudio.server.models.tts import VOICE_STYLES, load_piper_voice
    from nbaudio.server.settings import Settings

    settings = Settings.from_env()
    src = piper_source(settings)
    voice = PiperVoice.load(src.path, config_path=src.config_path)  # piper as its docs call it
    tuned = load_piper_voice(src.path, src.config_path, settings.threads)  # the engine's onnxruntime options
    cfg = SynthesisConfig(noise_scale=VOICE_STYLES["alloy"].noise)

    def piper_rtf(v) -> float:
        t = time.perf_counter()
        audio = np.concatenate([c.audio_float_array for c in v.synthesize(PARAGRAPH, cfg)])
        return (time.perf_counter() - t) / (audio.shape[0] / v.config.sample_rate)

    def engine_rtf() -> float:
        t = time.perf_counter()
        resp = requests.post(url + "/audio/speech", json={"model": "tts-1", "voice": "alloy", "input": PARAGRAPH,
                                                           "response_format": "wav"})
        resp.raise_for_status()
        return (time.perf_counter() - t) / AudioClip(resp.content).duration

    # Interleaved by hand: each measurement is divided by the length of the audio it made.
    engine_rtf(), piper_rtf(voice), piper_rtf(tuned)  # warm-up
    rounds = [(engine_rtf(), piper_rtf(voice), piper_rtf(tuned)) for _ in range(repeats)]
    ours, peer, same_opts = (Stat([r[i] for r in rounds]) for i in range(3))
    r = ours.median / peer.median
    return [
        Result("engine TTS wall time per second of audio (13 s paragraph, WAV over HTTP)",
               f"RTF {ours.fmt('')}", f"piper direct (default options): RTF {peer.fmt('')}", r, "≤ 1.05×",
               r <= 1.05,
               note=(f"per-pair ratios {pair_ratios(ours, peer).fmt('×')}; against piper with the engine's "
                     f"onnxruntime options (no spinning threads) the engine is {ours.median / same_opts.median:.2f}×"),
               detail=[f"piper direct with the engine's onnxruntime options: RTF {same_opts.fmt('')}"]),
        Result("engine TTS real-time factor (piper en_US joe medium)", f"RTF {ours.fmt('')}", "—",
               ours.median, f"≤ {RTF_TARGET['tts']}", ours.median <= RTF_TARGET["tts"],
               note=f"piper direct with its default options: RTF {peer.median:.3f}"),
    ]


def bench_stt(url: str, wav: bytes, repeats: int) -> tuple[list[Result], callable]:
    import requests
    from faster_whisper import WhisperModel

    from nbaudio.audio import AudioClip
    from nbaudio.server.models.sources import whisper_en_source
    from nbaudio.server.models.stt import whisper_options
    from nbaudio.server.settings import Settings

    settings = Settings.from_env()
    duration = AudioClip(wav).duration
    options = whisper_options(settings)
    model = WhisperModel(whisper_en_source(settings).path, **options)
    texts: dict[str, str] = {}

    def direct() -> None:
        segments, _ = model.transcribe(io.BytesIO(wav), language="en", beam_size=5)
        texts["direct"] = "".join(s.text for s in segments).strip()

    from faster_whisper import decode_audio

    decoded = decode_audio(io.BytesIO(wav), sampling_rate=16000)

    def model_only() -> None:  # the model alone, on samples decoded beforehand
        segments, _ = model.transcribe(decoded, language="en", beam_size=5)
        texts["model only"] = "".join(s.text for s in segments).strip()

    def server() -> None:
        resp = requests.post(url + "/audio/transcriptions", files={"file": ("speech.wav", wav, "audio/wav")},
                             data={"model": "whisper-1", "language": "en"})
        resp.raise_for_status()
        texts["engine"] = resp.json()["text"]

    stats = interleaved({"engine": server, "direct": direct, "model only": model_only}, repeats)
    ours, peer, bare = stats["engine"], stats["direct"], stats["model only"]
    r = ours.median / peer.median
    rtf = Stat([t / duration for t in ours.values])
    rtf_direct = Stat([t / duration for t in peer.values])
    same = ("same text" if texts["engine"] == texts["direct"]
            else f"texts differ: {texts['engine']!r} vs {texts['direct']!r}")
    opts = ", ".join(f"{k}={v}" for k, v in options.items())
    results = [
        Result(f"engine STT wall time, {duration:.1f} s WAV, tiny.en, beam 5 ({same})", ours.fmt("s"),
               f"faster-whisper direct on the same bytes: {peer.fmt('s')}", r, "≤ 1.05×", r <= 1.05,
               note=(f"per-pair ratios {pair_ratios(ours, peer).fmt('×')}; both WhisperModel({opts}); "
                     f"faster-whisper decodes WAV bytes with PyAV (and runs gc.collect()), the engine with "
                     f"soundfile and soxr; against the model alone on samples decoded beforehand the engine, "
                     f"HTTP and decoding included, is {ours.median / bare.median:.2f}×"),
               detail=[f"faster-whisper on samples decoded beforehand (model only): {bare.fmt('s')}"]),
        Result("engine STT real-time factor (whisper tiny.en)", f"RTF {rtf.fmt('')}", "—", rtf.median,
               f"≤ {RTF_TARGET['stt']}", rtf.median <= RTF_TARGET["stt"],
               note=f"faster-whisper direct: RTF {rtf_direct.median:.3f}"),
    ]
    return results, server


def bench_concurrency(post, runs: int, n: int = 8) -> Result:
    errors: list[str] = []
    latencies: list[float] = []

    def one() -> None:
        t = time.perf_counter()
        try:
            post()
        except Exception as exc:  # noqa: BLE001 - counted and reported, the figure is "0 errors"
            errors.append(f"{type(exc).__name__}: {exc}")
        latencies.append(time.perf_counter() - t)

    def serial() -> None:
        for _ in range(n):
            one()

    def concurrent() -> None:
        with ThreadPoolExecutor(n) as pool:
            list(pool.map(lambda _: one(), range(n)))

    concurrent()  # warm-up: the second Whisper worker allocates its buffers on first use
    errors.clear()
    latencies.clear()
    stats = interleaved({"serial": serial, "concurrent": concurrent}, runs, warmup=0)
    speedup = Stat([s / c for s, c in zip(stats["serial"].values, stats["concurrent"].values, strict=True)])
    ok = speedup.median >= 1.5 and not errors
    return Result(f"{n} concurrent transcriptions (the clip above), throughput", stats["concurrent"].fmt("s"),
                  f"the same {n} one after another: {stats['serial'].fmt('s')}", speedup.median,
                  "≥ 1.5× throughput, 0 errors", ok,
                  note=f"speed-up per run {speedup.fmt('×')}; {len(errors)} errors in {runs * 2 * n} requests"
                       + (f" (first: {errors[0]})" if errors else ""),
                  detail=[f"request latency over all runs: median {statistics.median(latencies):.2f} s"])


def collect(quick: bool = False) -> list[Result]:
    repeats, runs = (3, 1) if quick else (9, 5)
    url = engine().base_url
    wav = speech_wav("paragraph").read_bytes()
    stt_results, post = bench_stt(url, wav, repeats)
    return bench_tts(url, repeats) + stt_results + [bench_concurrency(post, runs)]


if __name__ == "__main__":
    raise SystemExit(script_main("embedded engine", collect, __doc__))
