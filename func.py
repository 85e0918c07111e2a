"""OCI Functions entry point (`fdk /function/func.py handler`): the work is in sync.function.handler."""

import os
import sys

# The FDK loads this file by path; make its directory importable wherever it is run from.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

# pydantic looks for plugins through importlib.metadata's entry points when it builds its first
# model (~10 ms and a module tree at cold start); the function uses none.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from sync.function.handler import handler  # noqa: E402

__all__ = ["handler"]
