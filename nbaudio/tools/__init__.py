"""Plain Python functions as tools a model may call (chat(tools=[f]), LiveSession(tools=[f])).

Inside: `_schema` (a function's JSON schema from its signature, type hints and docstring; the
check of a model's arguments), `_run` (ToolBox: running a call safely, ToolRun: what it gave).
"""

from ._run import MAX_ARGUMENTS, MAX_OUTPUT, ToolBox, ToolRun
from ._schema import MAX_STRING, Tool, ToolSchemaError, describe

__all__ = ["MAX_ARGUMENTS", "MAX_OUTPUT", "MAX_STRING", "Tool", "ToolBox", "ToolRun", "ToolSchemaError", "describe"]
