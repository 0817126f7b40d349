"""
The Lua scripts, one per state change, read once at import.

A line C{--@include NAME} in a script is replaced by C{includes/NAME.lua},
so helpers shared by several scripts are written once and each script is
still sent to Redis as one self-contained source. A caller may also give
includes of its own, written at load time: the broker writes the table of a
queue's keys and the function that reads its settings from its own
declarations (L{presque.broker.scripts}).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files

from presque.redis import Script

_INCLUDE = re.compile(r"^--@include (\w+)$", re.MULTILINE)


@dataclass(frozen=True)
class LuaScript(Script):
    """A script of presque's, and what its callers must send it."""

    #: The includes it uses, by name: what its callers must send it follows.
    includes: frozenset[str] = frozenset()


#: What the header of a script that changes nothing says: it needs no replica's
#: confirmation (see L{presque.redis.Redis.min_replicas}).
READS_ONLY = "Changes nothing."

_LOADED: dict[str, LuaScript] = {}


def _header(source: str) -> str:
    """The comment lines a script starts with, joined."""
    lines = []
    for line in source.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].strip())
    return " ".join(lines)


def loaded_scripts() -> list[LuaScript]:
    """Every script loaded so far: what a server sends Redis before it serves."""
    return list(_LOADED.values())


def read_script(name: str, written: Mapping[str, str] | None = None) -> LuaScript:
    """C{NAME.lua}, its includes expanded: those of C{written}, else the files."""
    folder = files(__name__)
    used: set[str] = set()

    def include(match: re.Match[str]) -> str:
        included = match.group(1)
        used.add(included)
        if written and included in written:
            return written[included]
        return (folder / "includes" / f"{included}.lua").read_text("utf-8")

    source = _INCLUDE.sub(include, (folder / f"{name}.lua").read_text("utf-8"))
    script = _LOADED[name] = LuaScript(
        name,
        source.encode("utf-8"),
        writes=READS_ONLY not in _header(source),
        includes=frozenset(used),
    )
    return script
