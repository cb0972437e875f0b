"""Reading the magics' options: shell-like splitting, and argparse errors as IPython UsageErrors
that carry the usage line."""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicArgumentParser

__all__ = [
    "DEFAULT_CONVERSATION",
    "TEMPERATURE_RANGE",
    "parse_known_options",
    "parse_options",
    "split_line",
    "usage_error",
    "usage_line",
]

DEFAULT_CONVERSATION = "default"
TEMPERATURE_RANGE = (0.0, 2.0)


def split_line(line: str) -> list[str]:
    """Shell-like split with quotes removed (`--system "You are terse"` is one value)."""
    try:
        return shlex.split(line, posix=True)
    except ValueError as exc:  # unbalanced quotes
        raise UsageError(f"could not read the options ({exc}): {line.strip()}") from None


def usage_line(parser: MagicArgumentParser) -> str:
    """`usage: %%voice [--model MODEL] ...` (the magic's own formatter dresses it up as reST)."""
    # magic_arguments names a parser without its first `%`; its formatter adds it back.
    plain = argparse.ArgumentParser(prog=f"%{parser.prog}", parents=[parser], add_help=False)
    return plain.format_usage().strip()


def parse_options(parser: MagicArgumentParser, argv: list[str]) -> Any:
    """Parse with the magic's parser; a bad option raises UsageError carrying the usage line."""
    try:
        return parser.parse_args(argv)
    except UsageError as exc:
        raise UsageError(f"{exc}\n{usage_line(parser)}") from None


def parse_known_options(parser: MagicArgumentParser, argv: list[str]) -> tuple[Any, list[str]]:
    """Like `parse_options`, keeping the arguments `parser` does not know for another parser."""
    try:
        return parser.parse_known_args(argv)
    except UsageError as exc:
        raise UsageError(f"{exc}\n{usage_line(parser)}") from None


def usage_error(parser: MagicArgumentParser, message: str) -> UsageError:
    return UsageError(f"{message}\n{usage_line(parser)}")
