"""The model families, each in its module: Whisper for speech to text (`stt`, its loop guard
`loops`, its translation quality `translation_quality`), piper and espeak-ng for speech (`tts`,
`espeak`), the chat model on llama.cpp or an upstream (`llm`, what an upstream sends
`upstream_reply`, a reply cut at its last sentence `tail_cut`), and which weights a setting means
(`sources`). The registry (nbaudio.server.registry) loads each once."""
