"""Engine overhead and concurrency (not a test): run `python benchmarks/bench_engine.py`.

1. Text to speech: real-time factor (seconds of compute per second of audio) through
   `/v1/audio/speech` vs calling piper directly on the same text.
2. Speech to text: RTF through `/v1/audio/transcriptions` vs calling faster-whisper directly
   on the same audio, same model, same beam size.
3. Eight transcriptions sent at once vs one after the other (wall time).
"""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from nbaudio import local
from nbaudio.audio import AudioClip, resample
from nbaudio.server.models import piper_source, whisper_en_source
from nbaudio.server.settings import Settings

TEXT = ("The library opens at nine in the morning. Visitors can borrow up to ten books at a time. "
        "Quiet rooms on the second floor are free for students. Please return your books before the due date. "
        "Late returns cost a small fee for every day.")
REPEATS = 3


def best(fn, repeats=REPEATS):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    settings = Settings.from_env()
    with local.start() as server:
        url = server.base_url
        # warm up every model once
        wav = requests.post(url + "/audio/speech", json={"model": "tts-1", "voice": "alloy", "input": TEXT,
                                                          "response_format": "wav"}).content
        clip = AudioClip(wav)
        audio_s = clip.duration
        requests.post(url + "/audio/transcriptions", files={"file": ("a.wav", wav)}, data={"model": "whisper-1",
                                                                                          "language": "en"})

        # 1. TTS
        from piper import PiperVoice, SynthesisConfig

        src = piper_source(settings)
        voice = PiperVoice.load(src.path, config_path=src.config_path)
        cfg = SynthesisConfig(noise_scale=0.667)
        direct_audio = []
        t_direct = best(lambda: direct_audio.append(sum(len(c.audio_float_array) for c in voice.synthesize(TEXT, cfg))))
        direct_s = direct_audio[-1] / voice.config.sample_rate
        t_server = best(lambda: requests.post(url + "/audio/speech", json={
            "model": "tts-1", "voice": "alloy", "input": TEXT, "response_format": "wav"}).content)
        print(f"TTS  piper direct   RTF {t_direct / direct_s:.3f}  ({t_direct:.2f} s for {direct_s:.1f} s audio)")
        print(f"TTS  server (wav)   RTF {t_server / audio_s:.3f}  ({t_server:.2f} s for {audio_s:.1f} s audio)"
              f"   server/direct = {(t_server / audio_s) / (t_direct / direct_s):.2f}")

        # 2. STT on the same audio
        from faster_whisper import WhisperModel

        model = WhisperModel(whisper_en_source(settings).path, device="cpu", compute_type="int8",
                             cpu_threads=settings.threads)
        samples = resample(clip.mono().samples, clip.sample_rate, 16000)
        t_direct = best(lambda: "".join(s.text for s in model.transcribe(samples, language="en", beam_size=5)[0]))
        post = lambda: requests.post(url + "/audio/transcriptions", files={"file": ("a.wav", wav)},  # noqa: E731
                                     data={"model": "whisper-1", "language": "en"}).json()
        t_server = best(post)
        print(f"STT  whisper direct RTF {t_direct / audio_s:.3f}  ({t_direct:.2f} s for {audio_s:.1f} s audio)")
        print(f"STT  server         RTF {t_server / audio_s:.3f}  ({t_server:.2f} s)"
              f"   server/direct = {t_server / t_direct:.2f}")

        # 3. concurrency
        n = 8
        t0 = time.perf_counter()
        for _ in range(n):
            post()
        serial = time.perf_counter() - t0
        latencies = []

        def timed():
            t = time.perf_counter()
            post()
            latencies.append(time.perf_counter() - t)

        t0 = time.perf_counter()
        with ThreadPoolExecutor(n) as pool:
            list(pool.map(lambda _: timed(), range(n)))
        concurrent = time.perf_counter() - t0
        print(f"STT  {n} serial {serial:.2f} s | {n} concurrent {concurrent:.2f} s | concurrent/serial = "
              f"{concurrent / serial:.2f} | median latency when concurrent {statistics.median(latencies):.2f} s")


if __name__ == "__main__":
    main()
