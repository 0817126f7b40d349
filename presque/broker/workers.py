"""
Workers: presque 1's optional registration, the signs of life of every
worker that names itself in its requests, and their counters.

Nothing about a worker outlives the broker's retention without a new sign
of life: its hash and sets expire, and the sorted sets of workers are
trimmed of the older ones whenever they are written.
"""

from __future__ import annotations

import time

from presque.broker.base import BrokerBase, as_int, gather
from presque.broker.model import Page, WorkerStats
from presque.redis import RedisArg


class WorkerOperations(BrokerBase):
    """Registering workers, recording them, and reading their statistics."""

    def _now_ms(self) -> int:
        return int(time.time() * 1000)

    def _stamp(self, key: str, now_ms: int, worker: str, *flags: str) -> list[tuple[RedisArg, ...]]:
        """Commands that record C{worker} in the sorted set C{key} at C{now_ms}."""
        retention_ms = int(self.retention * 1000)
        return [
            ("ZADD", key, *flags, now_ms, worker),
            ("ZREMRANGEBYSCORE", key, "-inf", now_ms - retention_ms),
        ]

    def _keep(self, *keys: str) -> list[tuple[RedisArg, ...]]:
        return [("PEXPIRE", key, int(self.retention * 1000)) for key in keys]

    async def _run_all(self, commands: list[tuple[RedisArg, ...]]) -> None:
        await gather([self.redis.execute(*command) for command in commands])

    async def register_worker(self, queue: str, worker: str) -> None:
        """Record C{worker} as working on C{queue}; a new worker's counters start at 0."""
        now = self._now_ms()
        hash_key, queues_key = self.keys.worker(worker), self.keys.worker_queues(worker)
        await self._run_all(
            [
                *self._stamp(self.keys.workers, now, worker),
                *self._stamp(self.keys.queue(queue).workers, now, worker),
                ("SADD", queues_key, queue),
                ("HSETNX", hash_key, "processed", 0),
                ("HSETNX", hash_key, "failed", 0),
                ("HSETNX", hash_key, "started_at", now // 1000),
                *self._keep(hash_key, queues_key, self.keys.queue(queue).workers),
            ]
        )

    async def unregister_worker(self, queue: str, worker: str) -> None:
        """Forget C{worker} and its counters."""
        keys = self.keys.queue(queue)
        await self._run_all(
            [
                ("ZREM", self.keys.workers, worker),
                ("ZREM", keys.workers, worker),
                ("ZREM", self.keys.seen_workers, worker),
                ("ZREM", keys.seen, worker),
                ("DEL", self.keys.worker(worker), self.keys.worker_queues(worker)),
            ]
        )

    async def seen(self, worker: str, queue: str | None) -> None:
        """C{worker} made a request (on C{queue}): it is alive."""
        now = self._now_ms()
        hash_key, queues_key = self.keys.worker(worker), self.keys.worker_queues(worker)
        commands = [
            *self._stamp(self.keys.seen_workers, now, worker),
            # Registered workers stay registered while they live.
            ("ZADD", self.keys.workers, "XX", now, worker),
            ("HSET", hash_key, "last_seen", now),
            *self._keep(hash_key),
        ]
        if queue:
            seen_key = self.keys.queue(queue).seen
            commands += [
                ("SADD", queues_key, queue),
                *self._stamp(seen_key, now, worker),
                ("ZADD", self.keys.queue(queue).workers, "XX", now, worker),
                *self._keep(queues_key, seen_key),
            ]
        await self._run_all(commands)

    async def workers_alive(self) -> int:
        """How many workers made a request within the alive window."""
        since = self._now_ms() - int(self.alive_window * 1000)
        return int(await self.redis.execute("ZCOUNT", self.keys.seen_workers, since, "+inf"))

    async def _recent(self, key: str, limit: int = -1) -> list[str]:
        """The workers of the sorted set C{key} within the retention, sorted by name."""
        since = self._now_ms() - int(self.retention * 1000)
        names = await self.redis.execute("ZREVRANGEBYSCORE", key, "+inf", since, "LIMIT", 0, limit)
        return sorted(name.decode("utf-8") for name in names)

    async def forget_queue_of_workers(self, queue: str, workers: list[str]) -> None:
        """Take C{queue}, which is gone, off the lists of queues of C{workers}."""
        await self._run_all(
            [("SREM", self.keys.worker_queues(worker), queue) for worker in workers]
        )

    async def queue_workers(self, queue: str) -> list[str]:
        """The workers registered on C{queue}, sorted."""
        return await self._recent(self.keys.queue(queue).workers)

    async def queue_workers_seen(self, queue: str, limit: int) -> list[str]:
        """The workers registered on C{queue} or seen on it lately, at most C{limit}."""
        keys = self.keys.queue(queue)
        registered, seen = await gather(
            [self._recent(keys.workers, limit), self._recent(keys.seen, limit)]
        )
        return sorted({*registered, *seen})[:limit]

    async def workers(self) -> list[str]:
        """Every registered worker, sorted."""
        return await self._recent(self.keys.workers)

    async def known_workers(self, offset: int, limit: int) -> Page[str]:
        """A slice of the sorted names of every worker registered or seen lately."""
        registered, seen = await gather([self.workers(), self._recent(self.keys.seen_workers)])
        names = sorted({*registered, *seen})
        return Page(len(names), names[offset : offset + limit])

    async def worker_stats(self, worker: str) -> WorkerStats:
        """The counters and times of C{worker}."""
        (processed, failed, started_at, last_seen), queues = await gather(
            [
                self.redis.execute(
                    "HMGET",
                    self.keys.worker(worker),
                    "processed",
                    "failed",
                    "started_at",
                    "last_seen",
                ),
                self.sorted_members(self.keys.worker_queues(worker)),
            ]
        )
        seen = int(last_seen) / 1000 if last_seen else None
        return WorkerStats(
            processed=as_int(processed),
            failed=as_int(failed),
            started_at=int(started_at) if started_at else None,
            last_seen=seen,
            queues=queues,
            alive=seen is not None and time.time() - seen <= self.alive_window,
        )

    async def workers_stats(self, workers: list[str]) -> list[WorkerStats]:
        """The counters and times of each of C{workers}."""
        return await gather([self.worker_stats(worker) for worker in workers])
