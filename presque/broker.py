"""
The queue model: the only code that knows Redis key names.

Every state change of a request is one Lua script from L{presque.lua}, so a
crash at any instant leaves each job either wholly in its queue or wholly
out of it. Per-queue keys carry the hash tag C{presque:{Q}:...} so that each
script touches a single Redis Cluster slot; data across queues (the set of
queues, the workers) is updated outside those scripts, idempotently.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

from twisted.internet import defer

from presque.lua import load_script
from presque.redis import Redis

QUEUES_KEY = "presque:queues"
WORKERS_KEY = "presque:workers"

# How many due delayed jobs one script call promotes at most; the rest wait
# for the next call, so no call holds Redis for long.
PROMOTE_LIMIT = 1000

_ENQUEUE = load_script("enqueue")
_FETCH = load_script("fetch")
_PROMOTE = load_script("promote")
_PURGE = load_script("purge")
_PEEK = load_script("peek")
_SET_STATUS = load_script("set_status")


class QueueClosed(Exception):
    """The queue is closed: jobs may be added but none handed out."""


class DuplicateJob(Exception):
    """A job with the same uniq key is still in the queue."""


@dataclass(frozen=True)
class Job:
    """A job handed out by L{Broker.fetch}."""

    id: str
    payload: bytes


@dataclass(frozen=True)
class QueueCounts:
    """The numbers old clients read from C{/j/Q}."""

    ready: int
    processed: int
    failed: int


@dataclass(frozen=True)
class WorkerStats:
    """A worker's counters; C{started_at} is None if it never registered."""

    processed: int
    failed: int
    started_at: int | None


class _QueueKeys:
    """The Redis keys of one queue."""

    __slots__ = ("delayed", "info", "jobs", "meta", "ready", "stats", "uniq", "workers")

    def __init__(self, queue: str) -> None:
        prefix = f"presque:{{{queue}}}:"
        self.meta = prefix + "meta"
        self.ready = prefix + "ready"
        self.delayed = prefix + "delayed"
        self.jobs = prefix + "jobs"
        self.info = prefix + "info"
        self.uniq = prefix + "uniq"
        self.stats = prefix + "stats"
        self.workers = prefix + "workers"

    def for_jobs(self) -> list[str]:
        """The keys that the enqueue and fetch scripts take, in their order."""
        return [
            self.meta,
            self.ready,
            self.delayed,
            self.jobs,
            self.info,
            self.uniq,
            self.stats,
        ]


def _worker_key(worker: str) -> str:
    return f"presque:worker:{{{worker}}}"


class _IdClock:
    """Milliseconds that never go back, and a sequence within each one."""

    millis = 0
    sequence = 0


def new_job_id() -> str:
    """
    A fresh job id, unique across queues and servers, that sorts in creation
    order within a server: milliseconds, a sequence, then randomness.

    Delayed jobs with the same due time tie in their sorted set, where Redis
    orders them by id: this keeps them in the order they were posted.
    """
    millis = max(time.time_ns() // 1_000_000, _IdClock.millis)
    if millis == _IdClock.millis:
        _IdClock.sequence += 1
    else:
        _IdClock.millis, _IdClock.sequence = millis, 0
    sequence = _IdClock.sequence
    # Uniqueness, not secrecy: ids are not credentials, and os.urandom
    # costs a system call per job.
    return f"{millis:012x}{sequence:06x}{random.getrandbits(32):08x}"


async def _gather(calls: Sequence[Awaitable[Any]]) -> list[Any]:
    """Await C{calls} concurrently; the first failure is raised as itself."""
    try:
        return await defer.gatherResults(
            [defer.ensureDeferred(call) for call in calls], consumeErrors=True
        )
    except defer.FirstError as error:
        error.subFailure.raiseException()
        raise  # unreachable: raiseException always raises


def _int(value: bytes | None) -> int:
    return int(value) if value else 0


class Broker:
    """Queue operations on top of one L{Redis} connection pool."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def enqueue(
        self,
        queue: str,
        payloads: Sequence[bytes],
        run_at: float | None = None,
        uniq: str | None = None,
        failed_by: str | None = None,
        as_failure: bool = False,
    ) -> list[str]:
        """
        Add C{payloads} to C{queue} as jobs and return their ids.

        @param run_at: unix time before which the jobs are not handed out.
        @param uniq: refuse the job while another with this key is queued.
        @param as_failure: a worker gives the job back after failing it:
            count a failure for the queue, and for the worker C{failed_by}.
        @raise DuplicateJob: C{uniq} is taken.
        """
        ids = [new_job_id() for _ in payloads]
        args: list[str | bytes | int] = [
            "" if run_at is None else int(run_at * 1000),
            uniq or "",
            "1" if as_failure else "0",
        ]
        for job_id, payload in zip(ids, payloads, strict=True):
            args += (job_id, payload)
        keys = _QueueKeys(queue)
        status, unlisted = await self.redis.eval(_ENQUEUE, keys.for_jobs(), args)
        if as_failure and failed_by:
            await self.redis.execute("HINCRBY", _worker_key(failed_by), "failed", 1)
        if status == b"exists":
            raise DuplicateJob(uniq)
        if unlisted:
            await self._list_queue(queue, keys)
        return ids

    async def _list_queue(self, queue: str, keys: _QueueKeys) -> None:
        # Recorded in the queue's own keys only once the set has it, so a
        # crash in between leaves the next enqueue to try again.
        await self.redis.execute("SADD", QUEUES_KEY, queue)
        await self.redis.execute("HSET", keys.meta, "listed", "1")

    async def fetch(self, queue: str, count: int = 1, worker: str | None = None) -> list[Job]:
        """
        Take up to C{count} jobs out of C{queue}, oldest first (due delayed
        jobs ahead of the others).

        @raise QueueClosed: the queue is closed.
        """
        reply = await self.redis.eval(_FETCH, _QueueKeys(queue).for_jobs(), [count, PROMOTE_LIMIT])
        if reply[0] == b"closed":
            raise QueueClosed(queue)
        jobs = [Job(reply[i].decode("ascii"), reply[i + 1]) for i in range(1, len(reply), 2)]
        if jobs and worker:
            await self.redis.execute("HINCRBY", _worker_key(worker), "processed", len(jobs))
        return jobs

    async def purge(self, queue: str) -> None:
        """Remove every job of C{queue}, its uniq keys and its counters."""
        keys = _QueueKeys(queue)
        await self.redis.eval(
            _PURGE, [keys.ready, keys.delayed, keys.jobs, keys.info, keys.uniq, keys.stats], []
        )

    async def promote_due(self) -> int:
        """Move due delayed jobs of every queue to the head of their queue."""
        queues = await self.queues()
        moved = await _gather([self._promote_queue(queue) for queue in queues])
        return sum(moved)

    def _promote_queue(self, queue: str) -> defer.Deferred[int]:
        keys = _QueueKeys(queue)
        return self.redis.eval(_PROMOTE, [keys.delayed, keys.ready], [PROMOTE_LIMIT])

    async def queues(self) -> list[str]:
        """The names of all queues that ever received a job, sorted."""
        return await self._sorted_members(QUEUES_KEY)

    async def counts(self, queue: str) -> QueueCounts:
        """Ready jobs and the processed/failed counters of C{queue}."""
        keys = _QueueKeys(queue)
        ready, (processed, failed) = await _gather(
            [
                self.redis.execute("LLEN", keys.ready),
                self.redis.execute("HMGET", keys.stats, "processed", "failed"),
            ],
        )
        return QueueCounts(int(ready), _int(processed), _int(failed))

    async def overview(self) -> list[tuple[str, QueueCounts]]:
        """Every queue with its counts, sorted by name."""
        queues = await self.queues()
        counts = await _gather([self.counts(queue) for queue in queues])
        return list(zip(queues, counts, strict=True))

    async def ready_count(self, queue: str) -> int:
        """How many jobs of C{queue} are ready to be handed out."""
        return int(await self.redis.execute("LLEN", _QueueKeys(queue).ready))

    async def ready_payloads(self, queue: str, limit: int | None = None) -> list[bytes]:
        """The payloads of the ready jobs (up to C{limit}), in delivery order."""
        keys = _QueueKeys(queue)
        last = -1 if limit is None else limit - 1
        return await self.redis.eval(_PEEK, [keys.ready, keys.jobs], [last])

    async def is_open(self, queue: str) -> bool:
        """Whether jobs can be taken from C{queue}; unknown queues are open."""
        status = await self.redis.execute("HGET", _QueueKeys(queue).meta, "status")
        return status != b"0"

    async def set_open(self, queue: str, is_open: bool) -> None:
        """Open or close C{queue}."""
        await self.redis.eval(_SET_STATUS, [_QueueKeys(queue).meta], ["1" if is_open else "0"])

    async def register_worker(self, queue: str, worker: str) -> None:
        """Record C{worker} as working on C{queue}, with fresh counters."""
        await _gather(
            [
                self.redis.execute("SADD", WORKERS_KEY, worker),
                self.redis.execute("SADD", _QueueKeys(queue).workers, worker),
                self.redis.execute(
                    "HSET",
                    _worker_key(worker),
                    "processed",
                    0,
                    "failed",
                    0,
                    "started_at",
                    int(time.time()),
                ),
            ],
        )

    async def unregister_worker(self, queue: str, worker: str) -> None:
        """Forget C{worker} and its counters."""
        await _gather(
            [
                self.redis.execute("SREM", WORKERS_KEY, worker),
                self.redis.execute("SREM", _QueueKeys(queue).workers, worker),
                self.redis.execute("DEL", _worker_key(worker)),
            ],
        )

    async def queue_workers(self, queue: str) -> list[str]:
        """The workers registered on C{queue}, sorted."""
        return await self._sorted_members(_QueueKeys(queue).workers)

    async def workers(self) -> list[str]:
        """Every registered worker, sorted."""
        return await self._sorted_members(WORKERS_KEY)

    async def _sorted_members(self, key: str) -> list[str]:
        members = await self.redis.execute("SMEMBERS", key)
        return sorted(name.decode("utf-8") for name in members)

    async def worker_stats(self, worker: str) -> WorkerStats:
        """The counters of C{worker}."""
        processed, failed, started_at = await self.redis.execute(
            "HMGET", _worker_key(worker), "processed", "failed", "started_at"
        )
        return WorkerStats(_int(processed), _int(failed), int(started_at) if started_at else None)
