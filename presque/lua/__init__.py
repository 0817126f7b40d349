"""
The Lua scripts, one per state change, read once at import.

A line C{--@include NAME} in a script is replaced by C{includes/NAME.lua},
so helpers shared by several scripts are written once and each script is
still sent to Redis as one self-contained source. Two includes are written
from the Python declarations instead of a file, so that a key or a setting
is declared once:

- C{queue_keys}: the table C{K} of a queue's keys (C{K.ready}, ...) and
  channels (C{K.wake}, ...), from L{presque.broker.keys}; the script is a
  per-queue one, called with the queue's keys as KEYS.
- C{settings}: C{setting(name)}, the queue's own value of a setting or else
  the server's default, from L{presque.broker.settings}. The defaults travel
  as the last ARGV of every call (L{LuaScript.uses_settings}), after the
  script's own; C{NARGV} is the number of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files

from presque.broker.keys import QUEUE_CHANNELS, QUEUE_KEYS
from presque.broker.settings import setting_fields
from presque.redis import Script

_INCLUDE = re.compile(r"^--@include (\w+)$", re.MULTILINE)


@dataclass(frozen=True)
class LuaScript(Script):
    """A script of presque's, and what its callers must send it."""

    #: Called with a queue's keys as KEYS.
    per_queue: bool = False
    #: Called with the server's default settings after its own ARGV.
    uses_settings: bool = False


def _queue_keys() -> str:
    names = ", ".join(f"{name} = KEYS[{i}]" for i, (name, _) in enumerate(QUEUE_KEYS, start=1))
    listing = "\n".join(
        f"-- KEYS[{i}] {name}: {what}" for i, (name, what) in enumerate(QUEUE_KEYS, start=1)
    )
    channels = "\n".join(
        f"K.{name} = PREFIX .. '{name}'  -- channel: {what}" for name, what in QUEUE_CHANNELS
    )
    first = QUEUE_KEYS[0][0]
    return (
        f"-- The queue's keys (presque.broker.keys), in this order:\n{listing}\n"
        f"local K = {{{names}}}\n"
        f"local PREFIX = string.sub(K.{first}, 1, -{len(first) + 1})\n"
        f"{channels}\n"
    )


def _settings() -> str:
    names = [setting.name for setting in setting_fields()]
    count = len(names)
    defaults = ", ".join(f"{name} = ARGV[NARGV + {i}]" for i, name in enumerate(names, start=1))
    return (
        "-- The server's default settings (presque.broker.settings) are the last\n"
        f"-- {count} ARGV: {', '.join(names)}.\n"
        f"local NARGV = #ARGV - {count}\n"
        f"local DEFAULTS = {{{defaults}}}\n"
        "-- A setting of this queue (its meta hash), else the server's default.\n"
        "local function setting(name)\n"
        "  return tonumber(redis.call('HGET', K.meta, name) or DEFAULTS[name])\n"
        "end\n"
    )


_GENERATED = {"queue_keys": _queue_keys, "settings": _settings}
_LOADED: dict[str, LuaScript] = {}


def loaded_scripts() -> list[LuaScript]:
    """Every script loaded so far: what a server sends Redis before it serves."""
    return list(_LOADED.values())


def load_script(name: str) -> LuaScript:
    """C{NAME.lua}, its includes expanded."""
    folder = files(__name__)
    used: set[str] = set()

    def include(match: re.Match[str]) -> str:
        included = match.group(1)
        used.add(included)
        if included in _GENERATED:
            return _GENERATED[included]()
        return (folder / "includes" / f"{included}.lua").read_text("utf-8")

    source = _INCLUDE.sub(include, (folder / f"{name}.lua").read_text("utf-8"))
    script = _LOADED[name] = LuaScript(
        name,
        source.encode("utf-8"),
        per_queue="queue_keys" in used,
        uses_settings="settings" in used,
    )
    return script
