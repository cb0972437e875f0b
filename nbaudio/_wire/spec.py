"""Facts of the wire contract (../shared/reference/openai-audio-openapi.yaml), shared by client and engine.

Choices the engine's request models type as `Literal`s are written once, as the `Literal`; the
tuple the client checks arguments against is read from it (`typing.get_args`).
"""

from __future__ import annotations

import re
from typing import Literal, get_args

# Built-in voices of /audio/speech (VoiceIdsShared plus the older ones the relays list).
Voice = Literal["alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse",
                "marin", "cedar"]
VOICES: tuple[str, ...] = get_args(Voice)

SPEECH_MODELS = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-12-15")
SpeechFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
SPEECH_FORMATS: tuple[str, ...] = get_args(SpeechFormat)
SpeechStreamFormat = Literal["sse", "audio"]
SPEECH_STREAM_FORMATS: tuple[str, ...] = get_args(SpeechStreamFormat)
SPEECH_MAX_INPUT = 4096
SPEED_MIN, SPEED_MAX = 0.25, 4.0

TRANSCRIPTION_MODELS = (
    "whisper-1", "gpt-transcribe", "gpt-4o-transcribe", "gpt-4o-mini-transcribe",
    "gpt-4o-mini-transcribe-2025-12-15", "gpt-4o-transcribe-diarize",
)
TranscriptionFormat = Literal["json", "text", "srt", "verbose_json", "vtt", "diarized_json"]
TRANSCRIPTION_FORMATS: tuple[str, ...] = get_args(TranscriptionFormat)
# The formats each model takes where it takes fewer than all (AudioResponseFormat's description).
# Dated snapshots (`-2025-12-15`) and relay prefixes (`openai/`) follow their base model.
TRANSCRIPTION_MODEL_FORMATS: dict[str, tuple[str, ...]] = {
    "gpt-4o-transcribe": ("json",),
    "gpt-4o-mini-transcribe": ("json",),
    "gpt-4o-transcribe-diarize": ("json", "text", "diarized_json"),
}
# gpt-4o-transcribe-diarize needs chunking_strategy for inputs longer than this.
DIARIZE_UNCHUNKED_MAX_SECONDS = 30.0
TranslationFormat = Literal["json", "text", "srt", "verbose_json", "vtt"]
TRANSLATION_FORMATS: tuple[str, ...] = get_args(TranslationFormat)
# The local engine's warning about a result (a language it translates poorly): a `warning` field in
# a JSON body, this header for every format. Not part of OpenAI's API; clients that ignore it lose nothing.
WARNING_HEADER = "X-NbAudio-Warning"
# On every answer of the local engine: a client on loopback that sees it knows its calls are free
# (nbaudio.pricing), whether it started the engine or was pointed at one (`nbaudio serve`).
ENGINE_HEADER = "X-Nbaudio-Engine"
TimestampGranularity = Literal["word", "segment"]
TIMESTAMP_GRANULARITIES: tuple[str, ...] = get_args(TimestampGranularity)
TranscriptionInclude = Literal["logprobs"]
TRANSCRIPTION_INCLUDE: tuple[str, ...] = get_args(TranscriptionInclude)
MAX_KNOWN_SPEAKERS = 4
# Each known_speaker_references[] sample must be this long (seconds).
KNOWN_SPEAKER_MIN_SECONDS, KNOWN_SPEAKER_MAX_SECONDS = 2.0, 10.0
# The model that labels speakers, and the request fields it does not take (CreateTranscriptionRequest).
DIARIZE_MODEL = "gpt-4o-transcribe-diarize"
DIARIZE_UNSUPPORTED = ("prompt", "include", "timestamp_granularities")
# Upload formats the API accepts (by file extension).
UPLOAD_FORMATS = ("flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "wav", "webm")
MAX_UPLOAD_BYTES = 25 * 1024 * 1024

# Chat models with audio in/out (CreateChatCompletionRequest's model list and the current audio models).
CHAT_MODELS = (
    "gpt-audio", "gpt-audio-mini", "gpt-realtime", "gpt-realtime-mini",
    "gpt-4o-audio-preview", "gpt-4o-audio-preview-2024-10-01", "gpt-4o-audio-preview-2024-12-17",
    "gpt-4o-audio-preview-2025-06-03", "gpt-4o-mini-audio-preview", "gpt-4o-mini-audio-preview-2024-12-17",
)
ChatAudioFormat = Literal["wav", "aac", "mp3", "flac", "opus", "pcm16"]
CHAT_AUDIO_FORMATS: tuple[str, ...] = get_args(ChatAudioFormat)
ChatInputAudioFormat = Literal["wav", "mp3"]
CHAT_INPUT_AUDIO_FORMATS: tuple[str, ...] = get_args(ChatInputAudioFormat)
ChatModality = Literal["text", "audio"]
CHAT_MODALITIES: tuple[str, ...] = get_args(ChatModality)
CHAT_STREAM_AUDIO_FORMAT = "pcm16"

# Raw PCM from the API: signed 16-bit little-endian, mono, 24 kHz.
PCM_SAMPLE_RATE = 24000

MIME_TYPES: dict[str, str] = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "ogg": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/L16",
    "pcm16": "audio/L16",
    "m4a": "audio/mp4",
    "mp4": "audio/mp4",
    "webm": "audio/webm",
}

# Every parameter each endpoint knows (the API's request fields and the client's own keyword
# arguments): an unknown argument close to one of these is taken for a typo and warned about.
SPEECH_PARAMS = ("input", "text", "model", "voice", "response_format", "speed", "instructions", "stream_format",
                 "stream", "timeout",
                 # fields other speech servers take: known, so never "did you mean speed"
                 "seed", "language", "lang_code", "sample_rate")
TRANSLATION_PARAMS = ("file", "audio", "model", "response_format", "prompt", "temperature", "timeout")
TRANSCRIPTION_PARAMS = TRANSLATION_PARAMS + (
    "language", "timestamp_granularities", "include", "chunking_strategy", "known_speaker_names",
    "known_speaker_references", "known_speakers", "stream")
CHAT_PARAMS = (
    "messages", "model", "voice", "audio", "audio_format", "modalities", "stream", "stream_options", "timeout",
    "temperature", "top_p", "max_tokens", "max_completion_tokens", "n", "stop", "seed", "tools", "tool_choice",
    "parallel_tool_calls", "response_format", "frequency_penalty", "presence_penalty", "logprobs", "top_logprobs",
    "logit_bias", "user", "metadata", "store", "prediction", "reasoning_effort", "service_tier",
    "web_search_options", "audio_bridge",
    # fields other OpenAI-compatible servers take (llama.cpp, vLLM): known, so never "did you mean top_p"
    "top_k", "min_p", "typical_p", "repeat_penalty", "repetition_penalty", "mirostat",
)


_SNAPSHOT_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def base_model(model: str) -> str:
    """The model a name stands for, whatever its spelling: without a relay's provider prefix
    (`openai/`), a dated snapshot suffix (`-2025-03-20`) or capitals. The one place that reads them."""
    return _SNAPSHOT_SUFFIX.sub("", model.strip().rsplit("/", 1)[-1].lower())
