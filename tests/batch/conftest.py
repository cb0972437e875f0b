"""The batch tests' corpus: 40 short sentences spoken by the engine (speak_many, which is so
tested too), written once per session into a temporary folder, and their transcription on
threads (compared with Dask's and the relay's)."""

from __future__ import annotations

import pytest

SUBJECTS = ("The dog", "My sister", "A teacher", "The old man", "Our neighbour")
VERBS = ("reads", "likes", "finds", "paints", "sells", "needs", "opens", "washes")
OBJECTS = ("a red book", "the green door", "two apples", "a small boat", "the blue car")
N_FILES = 40


def sentences() -> list[str]:
    """40 different short sentences (about 1.5 s spoken)."""
    out = []
    for i in range(N_FILES):
        out.append(f"{SUBJECTS[i % 5]} {VERBS[i // 5]} {OBJECTS[(i + i // 5) % 5]}.")
    assert len(set(out)) == N_FILES
    return out


@pytest.fixture(scope="session")
def engine_client(engine):
    import nbaudio

    return nbaudio.Client(engine.base_url)


@pytest.fixture(scope="session")
def corpus(engine_client, tmp_path_factory):
    """(folder of 40 WAV files, {file stem: sentence}, speak_many's result)."""
    import nbaudio

    folder = tmp_path_factory.mktemp("corpus")
    texts = sentences()
    spoken = nbaudio.speak_many(texts, client=engine_client, out_dir=folder, response_format="wav")
    refs = {}
    for path, text in zip(spoken["path"], texts, strict=True):
        refs[path.rsplit("/", 1)[-1].removesuffix(".wav")] = text
    return folder, refs, spoken


@pytest.fixture(scope="session")
def thread_rows(corpus, engine_client):
    """The 40 files transcribed on threads (the reference run for the other executors)."""
    import nbaudio

    folder, refs, _ = corpus
    return nbaudio.transcribe_many(folder, client=engine_client, references=refs, language="en")
