"""Files a user names (audio to send, conversations, batch results): their paths checked and read
with errors that say which file and why, as InvalidInputError, never a raw OSError.

Only regular files are read: a FIFO blocks its reader until something writes to it (forever, in
a notebook), and a device such as /dev/zero never ends. The file is opened without blocking and
looked at through the open descriptor, so what is read is what was checked.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

from ..errors import InvalidInputError

__all__ = ["folder_reason", "os_reason", "read_regular_file", "shown_path", "user_path"]

SHOWN_PATH_CHARS = 120  # a path longer than this shows as its start and end in messages

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a pipe (FIFO)"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def shown_path(path: str | os.PathLike) -> str:
    """The path quoted for a message; a very long one cut in the middle."""
    text = os.fsdecode(path)
    if len(text) > SHOWN_PATH_CHARS:
        half = SHOWN_PATH_CHARS // 2
        text = f"{text[:half]}…{text[-half:]}"
    return repr(text)


def os_reason(exc: OSError) -> str:
    """What the operating system said, in its words ("File name too long")."""
    if exc.errno is not None:
        return exc.strerror or os.strerror(exc.errno)
    return str(exc) or type(exc).__name__


def folder_reason(folder: Path, exc: OSError) -> str:
    """Why `folder` could not be made or written in: a file where a folder of its path should be
    (the system says only "File exists" or "Not a directory"), else what the system said."""
    for place in (folder, *folder.parents):
        try:
            if place.exists():
                return os_reason(exc) if place.is_dir() else f"{shown_path(place)} is a file, not a folder"
        except OSError:  # a name too long: what the system said is the reason
            break
    return os_reason(exc)


def user_path(value: Any, param: str) -> Path:
    """A str / bytes / PathLike path as a Path (`~` expanded); anything else, or a path with a NUL
    character (which no system call takes), is refused."""
    try:
        text = os.fsdecode(os.fspath(value))
    except TypeError:
        raise InvalidInputError(f"{param} must be a path (str or pathlib.Path), not {type(value).__name__}",
                                param=param) from None
    try:
        os.fsencode(text)
    except UnicodeEncodeError:  # a lone surrogate ("\ud800"): no system call takes it
        raise InvalidInputError(f"{param} has characters no file name can hold: {shown_path(text)}",
                                param=param) from None
    if "\0" in text:
        raise InvalidInputError(f"{param} contains a NUL character, which no file name can hold", param=param)
    if not text.strip():
        raise InvalidInputError(f"{param} is an empty path", param=param)
    return Path(os.path.expanduser(text))  # pathlib raises RuntimeError for "~unknown-user"


def read_regular_file(path: Path, what: str, param: str | None = None) -> bytes:
    """The bytes of the regular file at `path`. InvalidInputError says why not: missing, a folder,
    a FIFO or device, or what the system said when opening or reading it (`what`: "audio file")."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise InvalidInputError(f"{what} not found: {shown_path(path)}; check the path (relative to "
                                f"{os.getcwd()!r})", param=param) from None
    except IsADirectoryError:
        raise _not_regular(path, "a folder", what, param) from None
    except OSError as exc:
        raise _unreadable(path, what, exc, param) from None
    try:
        mode = os.fstat(fd).st_mode
        kind = next((name for test, name in _KINDS if test(mode)), None)
        if kind is not None:
            raise _not_regular(path, kind, what, param)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read()
    except OSError as exc:
        raise _unreadable(path, what, exc, param) from None
    finally:
        os.close(fd)


def _not_regular(path: Path, kind: str, what: str, param: str | None) -> InvalidInputError:
    return InvalidInputError(f"{shown_path(path)} is {kind}, not a regular file: give the path of the {what} itself",
                             param=param)


def _unreadable(path: Path, what: str, exc: OSError, param: str | None) -> InvalidInputError:
    hint = " (shorten the file or folder names)" if exc.errno == errno.ENAMETOOLONG else ""
    return InvalidInputError(f"the {what} {shown_path(path)} could not be opened: {os_reason(exc)}{hint}",
                             param=param)
