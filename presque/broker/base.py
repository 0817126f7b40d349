"""What every part of the broker shares: the Redis pool and the defaults."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from twisted.internet import defer

from presque.broker.keys import QueueKeys
from presque.broker.model import QueueSettings, StaleReceipt, UnknownJob
from presque.redis import Redis, RedisArg, Script

# How many jobs one maintenance step (promotions, expiries, dead-letter
# moves) handles per script call, so that no call holds Redis for long.
BATCH_LIMIT = 1000


class BrokerBase:
    """A Redis pool, the server's default L{QueueSettings} and liveness window."""

    def __init__(
        self, redis: Redis, defaults: QueueSettings | None = None, alive_window: float = 60.0
    ) -> None:
        self.redis = redis
        self.defaults = defaults or QueueSettings()
        #: A worker seen within this many seconds counts as alive.
        self.alive_window = alive_window

    def run(self, script: Script, queue: str, args: Sequence[RedisArg]) -> defer.Deferred[Any]:
        """Run a per-queue script with the queue's keys."""
        return self.redis.eval(script, QueueKeys(queue).all, args)

    async def sorted_members(self, key: str) -> list[str]:
        """The members of a Redis set, decoded and sorted."""
        members = await self.redis.execute("SMEMBERS", key)
        return sorted(name.decode("utf-8") for name in members)


async def gather(calls: Sequence[Awaitable[Any]]) -> list[Any]:
    """Await C{calls} concurrently; the first failure is raised as itself."""
    try:
        return await defer.gatherResults(
            [defer.ensureDeferred(call) for call in calls], consumeErrors=True
        )
    except defer.FirstError as error:
        error.subFailure.raiseException()
        raise  # unreachable: raiseException always raises


def as_int(value: bytes | None) -> int:
    """A Redis reply as an integer, 0 when absent."""
    return int(value) if value else 0


def seconds(millis: bytes | int | None) -> float | None:
    """Milliseconds from Redis as unix seconds, None when absent."""
    return None if millis is None or millis is False else int(float(millis)) / 1000


def errors_of(info: dict[str, Any]) -> list[dict[str, Any]]:
    """A job's recorded errors, their times in unix seconds like every time of the API."""
    return [{**error, "at": seconds(error.get("at"))} for error in info.get("errors") or []]


def check_settled(outcome: bytes, queue: str, job_id: str) -> None:
    """Turn a settling script's refusal into its exception."""
    if outcome == b"unknown":
        raise UnknownJob(f"{queue}/{job_id}")
    if outcome == b"stale":
        raise StaleReceipt(f"{queue}/{job_id}")
