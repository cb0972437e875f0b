"""What every notebook's cell list is made of: markdown and code cells, nbval's tag, the setup cell."""

from __future__ import annotations

import nbformat

IGNORE = "nbval-ignore-output"

# The first code cell of every notebook: how to point at a remote API, without printing the key.
SETUP = '''import os, getpass
import nbaudio

# Nothing set: the local engine (no key, no internet).
# For OpenAI or a relay, set these two (the key is
# read without echo and never shown):
# os.environ["NBAUDIO_BASE_URL"] = "https://api.openai.com/v1"
# os.environ["NBAUDIO_API_KEY"] = getpass.getpass("API key: ")

nbaudio.default_client()'''


def md(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(text.strip("\n"))


def code(src: str, *tags: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(src.strip("\n"))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def ignored(src: str) -> nbformat.NotebookNode:
    return code(src, IGNORE)
