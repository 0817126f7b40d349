"""
What a queue keeps aside for its deliveries for good not yet confirmed (see
presque/lua/includes/handoff.lua), read straight from Redis.
"""

from __future__ import annotations

from harness.redis import RedisServer
from presque.broker.keys import KeySpace

#: The tests' servers use the default prefix.
_KEYS = KeySpace()

# The jobs of each delivery are packed together; Redis unpacks them.
_HANDED_IDS = """
local ids = {}
for _, packed in ipairs(redis.call('HVALS', KEYS[1])) do
  for _, id in ipairs(cmsgpack.unpack(packed)[1]) do
    ids[#ids + 1] = id
  end
end
return ids
"""


def unconfirmed_jobs(redis_server: RedisServer, queue: str) -> list[str]:
    """The ids of the jobs of C{queue}'s deliveries not yet confirmed, each once."""
    return redis_server.call("EVAL", _HANDED_IDS, "1", _KEYS.queue(queue).handed)


def unconfirmed_deliveries(redis_server: RedisServer, queue: str) -> int:
    """How many deliveries of C{queue} wait for their confirmation."""
    return redis_server.call("ZCARD", _KEYS.queue(queue).handoff)
