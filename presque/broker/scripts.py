"""
The broker's Lua scripts: those of L{presque.lua}, with includes written
from the broker's own declarations, so that a key or a setting is declared
once, in Python:

- C{queue_keys}: the table C{K} of a queue's keys (C{K.ready}, ...) and
  channels (C{K.wake}, ...), from L{presque.broker.keys}; a script that
  uses it is a per-queue one, called with the queue's meta key as its one
  KEYS, from which it names the others (sending all 27 cost more than the
  script on the hot path). It
  spells no prefix: C{PREFIX} (what the queue's keys start with) and
  C{QUEUE} come from those KEYS, so one script serves every key space.
- C{totals}: C{TOTALS}, the names of a queue's totals, and C{totals()},
  their values, from L{presque.counts}.
- C{settings}: C{setting(name)}, the queue's own value of a setting or else
  the server's default, from L{presque.broker.settings}. The defaults travel
  as the last ARGV of every call, after the script's own (L{presque.broker.base.BrokerBase.run}
  adds them); C{NARGV} is the number of its own.
"""

from __future__ import annotations

from presque.broker.keys import QUEUE_CHANNELS, QUEUE_KEYS
from presque.broker.settings import setting_fields
from presque.counts import QUEUE_TOTALS
from presque.lua import LuaScript, read_script

QUEUE_KEYS_INCLUDE = "queue_keys"
SETTINGS_INCLUDE = "settings"
TOTALS_INCLUDE = "totals"


def _queue_keys() -> str:
    first = QUEUE_KEYS[0][0]
    listing = "\n".join(f"--   {name}: {what}" for name, what in QUEUE_KEYS)
    names = ", ".join(f"{name} = PREFIX .. '{name}'" for name, _ in QUEUE_KEYS[1:])
    channels = "\n".join(
        f"K.{name} = PREFIX .. '{name}'  -- channel: {what}" for name, what in QUEUE_CHANNELS
    )
    every = ", ".join(f"K.{name}" for name, _ in QUEUE_KEYS)
    return (
        f"-- KEYS[1] is the queue's {first} key; its other keys (presque.broker.keys)\n"
        "-- are named from it, in the same hash tag, so the same cluster slot:\n"
        f"{listing}\n"
        f"local PREFIX = string.sub(KEYS[1], 1, -{len(first) + 1})\n"
        f"local K = {{{first} = KEYS[1], {names}}}\n"
        "-- The queue's name, between the braces of its hash tag: from the first\n"
        "-- brace (a key space's prefix has none) to the '}:' that ends PREFIX.\n"
        "local QUEUE = string.sub(PREFIX, string.find(PREFIX, '{', 1, true) + 1, -3)\n"
        f"{channels}\n"
        "-- Every key of the queue, in the order above.\n"
        "local function all_keys()\n"
        f"  return {{{every}}}\n"
        "end\n"
    )


def _settings() -> str:
    names = [setting.name for setting in setting_fields()]
    defaults = ", ".join(f"{name} = ARGV[NARGV + {i}]" for i, name in enumerate(names, start=1))
    return (
        "-- The server's default settings (presque.broker.settings) are the last\n"
        f"-- {len(names)} ARGV: {', '.join(names)}.\n"
        f"local NARGV = #ARGV - {len(names)}\n"
        f"local DEFAULTS = {{{defaults}}}\n"
        "-- A setting of this queue (its meta hash), else the server's default.\n"
        "local function setting(name)\n"
        "  return tonumber(redis.call('HGET', K.meta, name) or DEFAULTS[name])\n"
        "end\n"
    )


def _totals() -> str:
    listing = "\n".join(f"--   {name}: {what}" for name, what in QUEUE_TOTALS)
    names = ", ".join(f"'{name}'" for name, _ in QUEUE_TOTALS)
    return (
        f"-- The fields of a queue's totals (presque.counts), in this order:\n{listing}\n"
        f"local TOTALS = {{{names}}}\n"
        "-- The queue's totals, in the order of TOTALS, 0 when absent.\n"
        "local function totals()\n"
        "  local values = redis.call('HMGET', K.stats, unpack(TOTALS))\n"
        "  for i, value in ipairs(values) do\n"
        "    values[i] = tonumber(value) or 0\n"
        "  end\n"
        "  return values\n"
        "end\n"
    )


_WRITTEN = {
    QUEUE_KEYS_INCLUDE: _queue_keys(),
    SETTINGS_INCLUDE: _settings(),
    TOTALS_INCLUDE: _totals(),
}


def load_script(name: str) -> LuaScript:
    """C{presque/lua/NAME.lua}, with the broker's includes."""
    return read_script(name, _WRITTEN)


def uses_settings(script: LuaScript) -> bool:
    """Whether C{script} is called with the server's default settings after its own ARGV."""
    return SETTINGS_INCLUDE in script.includes
