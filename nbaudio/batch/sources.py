"""What a batch works on: `sources` (a glob, a folder, a list of paths / clips / bytes, a pandas
Series or one-column DataFrame) turned into jobs, and `references` matched to them.

A job carries a path when the input is a file, so a worker reads the file itself and the
scheduler never carries the audio; only in-memory clips travel as their encoded bytes.
"""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._wire.user_files import os_reason, shown_path
from ..audio import AudioClip
from ..errors import InvalidInputError

__all__ = ["AUDIO_SUFFIXES", "Job", "audio_jobs", "match_references", "text_jobs"]

# A folder's files that are taken as audio (what the API accepts, plus FLAC / AIFF read locally).
AUDIO_SUFFIXES = frozenset({".wav", ".mp3", ".m4a", ".mp4", ".mpeg", ".mpga", ".ogg", ".oga", ".opus", ".webm",
                            ".flac", ".aac", ".aiff", ".aif"})
# Column names a DataFrame's audio column is looked for under, when it has more than one.
_COLUMNS = ("path", "source", "audio", "file")
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class Job:
    """One input: `key` identifies it in a results file; `source` is what its row shows."""

    index: int
    key: str
    source: str
    path: str | None = None  # a file the worker reads
    data: bytes | None = None  # an in-memory clip's encoded bytes
    text: str | None = None  # speak_many's input

    def clip(self) -> AudioClip:
        """The audio (read here, on the worker); a missing or empty file raises InvalidInputError."""
        if self.path is not None:
            return AudioClip.from_file(self.path)
        assert self.data is not None
        return AudioClip(self.data, name=self.source)

    def __repr__(self) -> str:  # never the bytes
        return f"<Job {self.index} {self.source!r}>"


def _pandas_values(obj: Any) -> list[Any] | None:
    """The values of a pandas Series or DataFrame (None for anything else); pandas is not imported."""
    kind = type(obj).__name__
    if not type(obj).__module__.startswith("pandas"):
        return None
    if kind == "Series":
        return list(obj)
    if kind == "DataFrame":
        cols = list(obj.columns)
        if len(cols) == 1:
            return list(obj[cols[0]])
        for name in _COLUMNS:
            if name in cols:
                return list(obj[name])
        raise InvalidInputError(f"the DataFrame has columns {cols}; pass the column of audio, e.g. df[{cols[0]!r}]",
                                param="sources")
    return None


def _expand_path(text: str) -> list[str]:
    p = Path(os.path.expanduser(text))  # pathlib's expanduser raises RuntimeError for "~unknown-user"
    try:
        found = (sorted(str(f) for f in p.iterdir() if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES)
                 if p.is_dir() else None)
    except OSError as exc:  # a name too long, a folder that cannot be listed
        raise InvalidInputError(f"sources={shown_path(text)} cannot be read: {os_reason(exc)}",
                                param="sources") from None
    if found is not None:
        if not found:
            raise InvalidInputError(f"the folder {text!r} holds no audio files ({', '.join(sorted(AUDIO_SUFFIXES))})",
                                    param="sources")
        return found
    if _GLOB_CHARS & set(text):
        found = sorted(glob.glob(os.path.expanduser(text), recursive=True))
        if not found:
            raise InvalidInputError(f"the pattern {text!r} matches no files (relative to {os.getcwd()!r})",
                                    param="sources")
        return found
    return [text]  # a single file; if it is missing, its row says so


def audio_jobs(sources: Any) -> list[Job]:
    """Jobs for transcribe_many's `sources`; InvalidInputError (before anything is sent) when
    there is nothing to do or an item is of a kind that is not audio."""
    if isinstance(sources, (str, os.PathLike)):
        items: list[Any] = list(_expand_path(os.fspath(sources)))
    else:
        values = _pandas_values(sources)
        if values is None:
            if isinstance(sources, (bytes, bytearray, AudioClip)) or not isinstance(sources, Iterable):
                values = [sources]
            else:
                values = list(sources)
        items = values
    if not items:
        raise InvalidInputError("sources is empty: pass a folder, a glob such as 'audio/*.wav', or a list of files",
                                param="sources")
    jobs = []
    for i, item in enumerate(items):
        if isinstance(item, (str, os.PathLike)):
            path = os.fspath(item)
            jobs.append(Job(i, "path:" + os.path.abspath(os.path.expanduser(path)), path, path=path))
        elif isinstance(item, AudioClip):
            data = item.data
            jobs.append(Job(i, _digest_key(data), item.name or f"clip {i}", data=data))
        elif isinstance(item, (bytes, bytearray, memoryview)):
            data = bytes(item)
            jobs.append(Job(i, _digest_key(data), f"bytes {i}", data=data))
        else:
            raise InvalidInputError(f"sources[{i}] is a {type(item).__name__}; each input must be a path, an "
                                    "AudioClip or audio bytes", param="sources")
    keys = [j.key for j in jobs]
    if len(set(keys)) != len(keys):  # one row per input: a results file keys rows by input
        twice = next(j.source for j in jobs if keys.count(j.key) > 1)
        raise InvalidInputError(f"sources holds {twice!r} more than once; list each input once", param="sources")
    return jobs


def text_jobs(texts: Any) -> list[Job]:
    """Jobs for speak_many's `texts` (a list, a pandas Series, or one string)."""
    values = _pandas_values(texts)
    if values is None:
        values = [texts] if isinstance(texts, str) else list(texts)
    if not values:
        raise InvalidInputError("texts is empty: pass a list of texts to speak", param="texts")
    jobs = []
    for i, text in enumerate(values):
        if not isinstance(text, str) or not text.strip():
            raise InvalidInputError(f"texts[{i}] is {text!r}; each item must be non-empty text", param="texts")
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        jobs.append(Job(i, f"text:{i}:{digest}", text, text=text))
    return jobs


def _digest_key(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def match_references(references: Any, jobs: list[Job]) -> list[str | None]:
    """The reference text of each job: `references` is a mapping (by source, file name or file
    stem) or a sequence / Series in the order of the inputs."""
    if isinstance(references, Mapping):
        out = []
        for j in jobs:
            name = os.path.basename(j.source)
            out.append(next((references[k] for k in (j.source, name, os.path.splitext(name)[0]) if k in references),
                            None))
        return out
    values = _pandas_values(references)
    values = list(references) if values is None else values
    if len(values) != len(jobs):
        raise InvalidInputError(f"references has {len(values)} items for {len(jobs)} inputs; pass one per input, "
                                "or a dict keyed by file name", param="references")
    return [v if isinstance(v, str) else None for v in values]
