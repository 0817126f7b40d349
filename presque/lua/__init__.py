"""
The Lua scripts, one per state change, read once at import.

A line C{--@include NAME} in a script is replaced by C{includes/NAME.lua},
so helpers shared by several scripts are written once and each script is
still sent to Redis as one self-contained source.
"""

from __future__ import annotations

import re
from importlib.resources import files

from presque.redis import Script

_INCLUDE = re.compile(r"^--@include (\w+)$", re.MULTILINE)


def load_script(name: str) -> Script:
    """C{NAME.lua}, its includes expanded."""
    folder = files(__name__)

    def include(match: re.Match[str]) -> str:
        return (folder / "includes" / f"{match.group(1)}.lua").read_text("utf-8")

    source = (folder / f"{name}.lua").read_text("utf-8")
    return Script(name, _INCLUDE.sub(include, source).encode("utf-8"))
