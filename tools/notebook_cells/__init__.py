"""The teaching notebooks as cell lists, one module per notebook (built by tools/build_notebooks.py)."""

from __future__ import annotations

from .nb01_quickstart import quickstart
from .nb02_transcripts import transcripts
from .nb03_voice_chat import voice_chat
from .nb04_classroom import classroom
from .nb05_live import live
from .nb06_compare import compare
from .nb07_voice_agents import voice_agents

NOTEBOOK_CELLS = {
    "01_quickstart": quickstart,
    "02_transcripts": transcripts,
    "03_voice_chat": voice_chat,
    "04_classroom": classroom,
    "05_live": live,
    "06_compare": compare,
    "07_voice_agents": voice_agents,
}
