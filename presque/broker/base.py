"""What every part of the broker shares: the Redis pool, the defaults, the helpers."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from twisted.internet import defer

from presque.broker.errors import JobInState, StaleReceipt, UnknownJob
from presque.broker.keys import KeySpace
from presque.broker.scripts import uses_settings
from presque.broker.settings import QueueSettings, setting_fields
from presque.lua import LuaScript, loaded_scripts
from presque.metrics import Metrics
from presque.redis import RedisArg, RedisClient

# How many jobs one maintenance step (promotions, expiries, dead-letter
# moves) handles per script call, so that no call holds Redis for long.
BATCH_LIMIT = 1000


class BrokerBase:
    """
    A Redis pool, the key space of this deployment in it, the server's
    default L{QueueSettings} and its other limits.
    """

    def __init__(
        self,
        redis: RedisClient,
        defaults: QueueSettings | None = None,
        alive_window: float = 60.0,
        retention: float = 86400.0,
        idempotency_window: float = 3600.0,
        delivery_timeout: float = 30.0,
        reactor: Any = None,
        metrics: Metrics | None = None,
        keys: KeySpace | None = None,
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor
        self.redis = redis
        #: The names of this deployment's keys ([redis] prefix): every call goes through them.
        self.keys = keys or KeySpace()
        self.reactor = reactor
        self.defaults = defaults or QueueSettings()
        #: A worker seen within this many seconds counts as alive.
        self.alive_window = alive_window
        #: Worker records unseen for this many seconds are forgotten.
        self.retention = retention
        #: How long an Idempotency-Key is remembered, in seconds.
        self.idempotency_window = idempotency_window
        #: How long a delivery for good waits for its confirmation (seconds).
        self.delivery_timeout = delivery_timeout
        #: Told of every delivery and ack, for GET /metrics.
        self.metrics = metrics or Metrics()
        #: Redis' memory passed the share producers may fill (L{watch_memory}).
        self.memory_full = False
        # As bytes: they go with every call, and need no encoding then.
        self._default_args = [
            str(getattr(self.defaults, f.name)).encode("ascii") for f in setting_fields()
        ]

    def run(
        self, script: LuaScript, queue: str, args: Sequence[RedisArg] = ()
    ) -> defer.Deferred[Any]:
        """Run a per-queue script with the queue's keys (and the defaults it needs)."""
        keys = self.keys.queue(queue).script_keys
        if uses_settings(script):
            args = [*args, *self._default_args]
        return self.redis.eval(script, keys, args)

    async def check_ready(self) -> None:
        """
        Make sure that Redis answers and knows every script (sending those
        it forgot).

        @raise RedisUnavailable: Redis cannot serve.
        @raise RedisRefused: Redis refused a command.
        """
        await self.redis.check_ready(loaded_scripts())

    async def sorted_members(self, key: str) -> list[str]:
        """The members of a Redis set, decoded and sorted."""
        members = await self.redis.execute("SMEMBERS", key)
        return sorted(name.decode("utf-8") for name in members)

    async def list_queue(self, queue: str) -> None:
        """
        Record C{queue} in the set of queues. Its meta hash learns it only
        once the set has it, so a crash in between leaves the next script
        to say again that the queue is not listed.
        """
        await self.redis.execute("ZADD", self.keys.queues, 0, queue)
        await self.redis.execute("HSET", self.keys.queue(queue).meta, "listed", "1")

    async def queue_range(self, first: int = 0, last: int = -1) -> list[str]:
        """The names of the queues from C{first} to C{last} (included), in order."""
        names = await self.redis.execute("ZRANGE", self.keys.queues, first, last)
        return [name.decode("utf-8") for name in names]


async def gather(calls: Sequence[Awaitable[Any]]) -> list[Any]:
    """Await C{calls} concurrently; the first failure is raised as itself."""
    try:
        return await defer.gatherResults(
            [defer.ensureDeferred(call) for call in calls], consumeErrors=True
        )
    except defer.FirstError as error:
        error.subFailure.raiseException()
        raise  # unreachable: raiseException always raises


def as_int(value: bytes | int | None) -> int:
    """A Redis reply as an integer, 0 when absent."""
    return int(value) if value else 0


def millis(value: float | None) -> int | str:
    """Seconds as the milliseconds a script takes; '' for None."""
    return "" if value is None else round(value * 1000)


def seconds(value: bytes | int | None) -> float | None:
    """Milliseconds from Redis as unix seconds, None when absent."""
    return None if value is None or value is False or value == b"" else int(float(value)) / 1000


def errors_of(info: dict[str, Any]) -> list[dict[str, Any]]:
    """A job's recorded errors, their times in unix seconds like every time of the API."""
    return [{**error, "at": seconds(error.get("at"))} for error in info.get("errors") or []]


def check_settled(outcome: bytes, queue: str, job_id: str) -> None:
    """Turn a settling script's refusal into its exception."""
    if outcome == b"unknown":
        raise UnknownJob(f"{queue}/{job_id}")
    if outcome == b"stale":
        raise StaleReceipt(f"{queue}/{job_id}")


def check_moved(reply: bytes | list[Any], queue: str, job_id: str) -> None:
    """
    Turn the refusal of an operator's action on one job (a word naming why:
    unknown, or the job's state) into its exception; a list is a success.
    """
    if isinstance(reply, list) or reply == b"ok":
        return
    if reply == b"unknown":
        raise UnknownJob(f"{queue}/{job_id}")
    raise JobInState(f"{queue}/{job_id}", reply.decode("ascii"))
