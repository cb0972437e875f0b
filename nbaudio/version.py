"""nbaudio's version: its one home (pyproject.toml reads it; the User-Agent and the engine's /openapi.json show it)."""

__version__ = "0.1.0"
