"""Speech to text with faster-whisper: transcription, translation, words, token logprobs.

Which model hears which part of a recording (English-only tiny.en or multilingual base, window by
window) is decided in `server/transcribe.py`; where the windows are cut, in stt_windows.py.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..._wire.languages import WHISPER_LANGUAGES, language_code
from ...transcript import clamp_span
from . import loops

if TYPE_CHECKING:
    from ..catalog.weights import ModelSource
    from ..settings import Settings

__all__ = ["WhisperEngine", "SttRequest", "SttSegment", "BlockFeatures", "LANGUAGES", "language_code",
           "SAMPLE_RATE", "whisper_options", "clamp_times", "shift_times"]

SAMPLE_RATE = 16000  # what Whisper listens at

# Whisper's languages (code -> name; verbose_json reports names) and reading a code or a name:
# one table for the client and the engine (nbaudio._wire.languages).
LANGUAGES = WHISPER_LANGUAGES


@dataclass
class SttRequest:
    samples: np.ndarray  # float32 mono at 16 kHz
    task: str = "transcribe"
    language: str | None = None
    prompt: str | None = None
    temperature: float | None = None
    words: bool = False
    logprobs: bool = False
    vad: bool = False
    # The request named the multilingual model ("whisper-base"): it hears English windows too.
    multilingual: bool = False


@dataclass
class SttSegment:
    id: int
    seek: int
    start: float
    end: float
    text: str
    tokens: list[int]
    temperature: float
    avg_logprob: float
    compression_ratio: float
    no_speech_prob: float
    words: list[dict[str, Any]] = field(default_factory=list)
    logprobs: list[dict[str, Any]] = field(default_factory=list)
    language: str | None = None  # Whisper's code for the language the segment was decoded in


def whisper_options(settings: Settings) -> dict[str, Any]:
    """`WhisperModel` arguments: int8 on CPU, the cores split between two parallel workers.

    CTranslate2 runs `num_workers` replicas that share one copy of the weights; each call uses
    `cpu_threads` intra-op threads. Measured on 2 cores with tiny.en (benchmarks/bench_engine.py):
    one 13 s clip takes no longer with 2 workers x 1 thread than with 1 worker x 2 threads (a
    single decode does not keep two threads busy), and 8 concurrent requests finish ~1.8x sooner.
    """
    workers = 2 if settings.threads >= 2 else 1
    return {"device": "cpu", "compute_type": "int8", "num_workers": workers,
            "cpu_threads": max(1, settings.threads // workers)}


class BlockFeatures:
    """faster-whisper's log-Mel features, computed a block of frames at a time.

    faster-whisper's own extractor frames, windows and transforms the whole recording in one go:
    its temporaries take ~45 bytes per sample (13 minutes of audio: +560 MB of peak memory, for a
    25 MB result). This does the same arithmetic on blocks of 30 s of frames and applies the
    global normalisation (which needs the maximum over the whole file) to the small Mel
    spectrogram at the end, so the peak is the audio, one padded copy and the features. Short
    audio and `chunk_length` calls (batched mode) go to faster-whisper's extractor unchanged.
    """

    BLOCK_FRAMES = 3000  # 30 s at Whisper's 10 ms hop

    def __init__(self, extractor: Any) -> None:
        self._extractor = extractor

    def __call__(self, waveform: np.ndarray, padding: int = 160, chunk_length: int | None = None) -> np.ndarray:
        fe = self._extractor
        if chunk_length is not None or waveform.shape[0] <= 2 * self.BLOCK_FRAMES * fe.hop_length:
            return fe(waveform, padding=padding, chunk_length=chunk_length)
        n_fft, hop = fe.n_fft, fe.hop_length
        x = np.asarray(waveform, dtype=np.float32)
        # faster-whisper: pad `padding` zeros at the end, then center the frames (reflect n_fft/2).
        x = np.pad(np.pad(x, (0, padding)), n_fft // 2, mode="reflect")
        frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]
        window = np.hanning(n_fft + 1)[:-1].astype("float32")
        keep = frames.shape[0] - 1  # faster-whisper drops the last frame
        mel = np.empty((fe.mel_filters.shape[0], keep), dtype=np.float32)
        for a in range(0, keep, self.BLOCK_FRAMES):
            b = min(keep, a + self.BLOCK_FRAMES)
            spectrum = np.fft.rfft(frames[a:b] * window, n=n_fft, axis=-1).astype("complex64").T
            mel[:, a:b] = fe.mel_filters @ (np.abs(spectrum) ** 2)
        log_spec = np.log10(np.clip(mel, a_min=1e-10, a_max=None), out=mel)
        np.maximum(log_spec, log_spec.max() - 8.0, out=log_spec)
        log_spec += 4.0
        log_spec /= 4.0
        return log_spec

    def __getattr__(self, name: str) -> Any:
        return getattr(self._extractor, name)


class _AlignRecorder:
    """Stands in for the CTranslate2 model and keeps what `align()` computes.

    faster-whisper force-aligns the decoded text tokens to get word times; the same call
    yields each token's probability (`text_token_probs`), which we keep as the real token
    logprobs for `include[]=logprobs`. Everything else is passed through. The sink is
    per thread: several requests decode at once (one per worker), each in its own thread.
    """

    def __init__(self, model: Any) -> None:
        self._model = model
        self._local = threading.local()

    @property
    def sink(self) -> list[float] | None:
        return getattr(self._local, "sink", None)

    @sink.setter
    def sink(self, value: list[float] | None) -> None:
        self._local.sink = value

    def align(self, *args: Any, **kwargs: Any) -> Any:
        results = self._model.align(*args, **kwargs)
        sink = self.sink
        if sink is not None:
            for r in results:
                sink.extend(float(p) for p in r.text_token_probs)
        return results

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


class WhisperEngine:
    """One loaded faster-whisper model with `workers` slots (see registry.py on concurrency)."""

    def __init__(self, source: ModelSource, settings: Settings) -> None:
        from faster_whisper import WhisperModel

        self.name = source.name
        self.origin = source.origin
        options = whisper_options(settings)
        self.model = WhisperModel(source.path, download_root=str(settings.cache_dir / "hub"), **options)
        self.multilingual = bool(self.model.model.is_multilingual)
        self._recorder = _AlignRecorder(self.model.model)
        self.model.model = self._recorder
        self.model.feature_extractor = BlockFeatures(self.model.feature_extractor)
        # As many calls at once as there are workers: more would only queue inside CTranslate2
        # while holding their decoded features in memory.
        self.workers = options["num_workers"]
        self.slots = threading.BoundedSemaphore(self.workers)

    def detect_language(self, samples: np.ndarray) -> tuple[str, float]:
        with self.slots:
            lang, prob, _ = self.model.detect_language(samples)
        return lang, float(prob)

    def segments(self, req: SttRequest, windows: list[tuple[float, float]] | None = None,
                 offset: float = 0.0) -> tuple[Iterator[SttSegment], dict[str, Any]]:
        """Decode lazily: the iterator runs the model one 30-second window at a time.

        `windows` ((start, end) seconds into `req.samples`, stt_windows.py) are where each window
        starts and ends; `offset` is added to every time (the samples are a part of a longer
        recording). A slot is taken per window, not for the whole file, so a client that stops
        reading a stream can never keep a worker busy.
        """
        from faster_whisper.tokenizer import Tokenizer

        kwargs: dict[str, Any] = {
            "task": req.task,
            "language": req.language if self.multilingual else None,
            "initial_prompt": req.prompt or None,
            "word_timestamps": req.words or req.logprobs,
            "vad_filter": req.vad and windows is None,  # planned windows have left silence out already
            "beam_size": 5,
            # Feeding each window the text before it lets one hallucination seed the next; off, as
            # WhisperX and whisper-timestamped do. Loops inside a window are cut after decoding (loops.py).
            "condition_on_previous_text": False,
        }
        if windows:
            kwargs["clip_timestamps"] = [t for w in windows for t in w]
        if req.temperature is not None and req.temperature > 0:
            kwargs["temperature"] = [float(req.temperature)]
        with self.slots:
            gen, info = self.model.transcribe(req.samples, **kwargs)
        tokenizer = Tokenizer(self.model.hf_tokenizer, self.multilingual, task=req.task,
                              language=info.language if self.multilingual else None)
        eot = tokenizer.eot
        meta = {"language": info.language if self.multilingual else "en", "duration": float(info.duration),
                "language_probability": float(info.language_probability)}
        return self._iterate(gen, req, tokenizer, eot, round(meta["duration"], 3), offset, meta["language"]), meta

    def _iterate(self, gen: Iterator[Any], req: SttRequest, tokenizer: Any, eot: int,
                 duration: float, offset: float, language: str) -> Iterator[SttSegment]:
        probs: list[float] = []
        previous_text, next_id = "", 0
        while True:
            with self.slots:
                self._recorder.sink = probs if req.logprobs else None
                try:
                    seg = next(gen)
                except StopIteration:
                    return
                finally:
                    self._recorder.sink = None
            out = SttSegment(
                id=seg.id - 1 if seg.id else 0, seek=int(seg.seek), start=round(float(seg.start), 3),
                end=round(float(seg.end), 3), text=seg.text, tokens=list(seg.tokens),
                temperature=float(seg.temperature or 0.0), avg_logprob=float(seg.avg_logprob),
                compression_ratio=float(seg.compression_ratio), no_speech_prob=float(seg.no_speech_prob),
                language=language,
            )
            if req.words and seg.words:
                out.words = [{"word": w.word, "start": round(float(w.start), 3), "end": round(float(w.end), 3),
                              "probability": float(w.probability)} for w in seg.words]
            if req.logprobs:
                text_tokens = [t for t in seg.tokens if t < eot]
                mine, probs[:] = probs[: len(text_tokens)], probs[len(text_tokens):]
                # The recorder may have caught fewer probabilities than there are tokens: pair what there is.
                for tok, p in zip(text_tokens, mine, strict=False):
                    piece = tokenizer.decode([tok])
                    out.logprobs.append({"token": piece, "logprob": math.log(max(p, 1e-12)),
                                         "bytes": list(piece.encode("utf-8"))})
            if loops.same_words(previous_text, out.text) or loops.repeats_the_end(previous_text, out.text):
                continue  # the previous segment, or its last phrase, again: a loop (loops.py)
            _cut_loops(out, tokenizer, eot)
            clamp_times(out, duration)
            if offset:
                shift_times(out, offset, int(round(offset * 100)))
            previous_text, out.id = out.text, next_id
            next_id += 1
            yield out


def clamp_times(seg: SttSegment, duration: float) -> None:
    """Keep the segment's and its words' times within [0, duration], start <= end.

    Whisper's timestamps run past the audio when speech stops at a cut (an 8.18 s clip can get a
    segment ending at 10.0 s): the times are the decoder's guesses, the audio ends where it ends.
    """
    seg.start, seg.end = clamp_span(seg.start, seg.end, 0.0, duration)
    for w in seg.words:
        w["start"], w["end"] = clamp_span(w["start"], w["end"], 0.0, duration)


def shift_times(seg: SttSegment, seconds: float, frames: int) -> None:
    """Move the segment (its times, words and seek, in 10 ms frames) later by `seconds`."""
    seg.start, seg.end = round(seg.start + seconds, 3), round(seg.end + seconds, 3)
    seg.seek += frames
    for w in seg.words:
        w["start"], w["end"] = round(w["start"] + seconds, 3), round(w["end"] + seconds, 3)


def _cut_loops(seg: SttSegment, tokenizer: Any, eot: int) -> None:
    """Remove repeated copies of a phrase from the segment's text, tokens, words and logprobs."""
    spans = loops.loop_spans(seg.text)
    if not spans:
        return
    seg.text = loops.cut_spans(seg.text, spans)
    specials = [t for t in seg.tokens if t >= eot]
    seg.tokens = [*specials[:1], *tokenizer.encode(seg.text), *specials[1:]]
    if seg.words:
        keep = loops.keep_pieces([w["word"] for w in seg.words])
        seg.words = [w for w, k in zip(seg.words, keep, strict=True) if k]
    if seg.logprobs:
        keep = loops.keep_pieces([lp["token"] for lp in seg.logprobs])
        seg.logprobs = [lp for lp, k in zip(seg.logprobs, keep, strict=True) if k]

