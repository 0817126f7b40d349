"""Queues and workers as a whole: listing, status, settings, statistics."""

from __future__ import annotations

import time

from presque.broker.base import BrokerBase, as_int, gather
from presque.broker.keys import (
    QUEUES_KEY,
    SEEN_WORKERS_KEY,
    WORKERS_KEY,
    QueueKeys,
    worker_key,
    worker_queues_key,
)
from presque.broker.model import QueueCounts, QueueSettings, QueueView, WorkerStats
from presque.lua import load_script

_PEEK = load_script("peek")
_SET_META = load_script("set_meta")

# As in lua/includes/ready.lua: the score range of each priority.
_PRIORITY_SPAN = 2**44

_SETTINGS = ("lease", "max_attempts", "backoff_base", "backoff_cap")
_TOTALS = ("processed", "failed", "retried", "dead")


class RegistryOperations(BrokerBase):
    """What is known about queues and workers."""

    async def queues(self) -> list[str]:
        """The names of all queues that ever received a job, sorted."""
        return await self.sorted_members(QUEUES_KEY)

    async def counts(self, queue: str) -> QueueCounts:
        """Ready jobs and the processed/failed counters of C{queue}."""
        keys = QueueKeys(queue)
        ready, (processed, failed) = await gather(
            [
                self.ready_count(queue),
                self.redis.execute("HMGET", keys.stats, "processed", "failed"),
            ]
        )
        return QueueCounts(ready, as_int(processed), as_int(failed))

    async def overview(self) -> list[tuple[str, QueueCounts]]:
        """Every queue with its counts, sorted by name."""
        queues = await self.queues()
        counts = await gather([self.counts(queue) for queue in queues])
        return list(zip(queues, counts, strict=True))

    async def ready_count(self, queue: str) -> int:
        """How many jobs of C{queue} are ready to be handed out, of every priority."""
        keys = QueueKeys(queue)
        plain, urgent = await gather(
            [self.redis.execute("LLEN", keys.ready), self.redis.execute("ZCARD", keys.urgent)]
        )
        return int(plain) + int(urgent)

    async def ready_by_priority(self, queue: str) -> list[int]:
        """How many jobs of each priority (0 to 9) are ready."""
        keys = QueueKeys(queue)
        per_priority = [
            self.redis.execute(
                "ZCOUNT", keys.urgent, (9 - p) * _PRIORITY_SPAN, f"({(10 - p) * _PRIORITY_SPAN}"
            )
            for p in range(1, 10)
        ]
        counts = await gather([self.redis.execute("LLEN", keys.ready), *per_priority])
        return [int(count) for count in counts]

    async def ready_payloads(self, queue: str, limit: int | None = None) -> list[bytes]:
        """The payloads of the ready jobs (up to C{limit}), in delivery order."""
        return await self.run(_PEEK, queue, [-1 if limit is None else limit - 1])

    async def is_open(self, queue: str) -> bool:
        """Whether jobs can be taken from C{queue}; unknown queues are open."""
        status = await self.redis.execute("HGET", QueueKeys(queue).meta, "status")
        return status != b"0"

    async def set_open(self, queue: str, is_open: bool) -> None:
        """Open or close C{queue}."""
        await self.run(_SET_META, queue, ["status", "1" if is_open else "0"])

    async def settings(self, queue: str) -> QueueSettings:
        """The settings in force for C{queue}: its own, else the defaults."""
        values = await self.redis.execute("HMGET", QueueKeys(queue).meta, *_SETTINGS)
        own = {name: float(v) for name, v in zip(_SETTINGS, values, strict=True) if v}
        return self.defaults.updated(own)

    async def configure(self, queue: str, changes: dict[str, float | int]) -> QueueSettings:
        """
        Override settings of C{queue}; returns the settings now in force.

        @raise ValueError: an unknown setting or an unusable value.
        """
        settings = (await self.settings(queue)).updated(changes)
        if changes:
            fields = [str(x) for name in changes for x in (name, getattr(settings, name))]
            await self.run(_SET_META, queue, fields)
        return settings

    async def queue_view(self, queue: str) -> QueueView:
        """Everything about C{queue}."""
        keys = QueueKeys(queue)
        meta, ready, delayed, stats, leased, dead, workers, settings = await gather(
            [
                self.redis.execute("HGET", keys.meta, "status"),
                self.ready_by_priority(queue),
                self.redis.execute("ZCARD", keys.all[2]),
                self.redis.execute("HMGET", keys.stats, *_TOTALS),
                self.redis.execute("ZCARD", keys.all[7]),
                self.redis.execute("ZCARD", keys.all[8]),
                self._queue_workers_seen_or_registered(keys),
                self.settings(queue),
            ]
        )
        return QueueView(
            name=queue,
            open=meta != b"0",
            counts={"ready": sum(ready), "delayed": delayed, "leased": leased, "dead": dead},
            ready_by_priority={str(p): n for p, n in enumerate(ready) if n},
            totals={name: as_int(v) for name, v in zip(_TOTALS, stats, strict=True)},
            workers=workers,
            settings=settings,
        )

    async def _queue_workers_seen_or_registered(self, keys: QueueKeys) -> list[str]:
        registered, seen = await gather(
            [self.sorted_members(keys.workers), self.redis.execute("ZRANGE", keys.seen, 0, -1)]
        )
        return sorted(set(registered) | {name.decode("utf-8") for name in seen})

    async def register_worker(self, queue: str, worker: str) -> None:
        """Record C{worker} as working on C{queue}, with fresh counters."""
        await gather(
            [
                self.redis.execute("SADD", WORKERS_KEY, worker),
                self.redis.execute("SADD", QueueKeys(queue).workers, worker),
                self.redis.execute("SADD", worker_queues_key(worker), queue),
                self.redis.execute(
                    "HSET",
                    worker_key(worker),
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
        await gather(
            [
                self.redis.execute("SREM", WORKERS_KEY, worker),
                self.redis.execute("SREM", QueueKeys(queue).workers, worker),
                self.redis.execute("ZREM", SEEN_WORKERS_KEY, worker),
                self.redis.execute("ZREM", QueueKeys(queue).seen, worker),
                self.redis.execute("DEL", worker_key(worker), worker_queues_key(worker)),
            ],
        )

    async def seen(self, worker: str, queue: str | None) -> None:
        """C{worker} made a request (on C{queue}): it is alive."""
        now = time.time()
        calls = [
            self.redis.execute("ZADD", SEEN_WORKERS_KEY, int(now * 1000), worker),
            self.redis.execute("HSET", worker_key(worker), "last_seen", int(now * 1000)),
        ]
        if queue:
            calls.append(self.redis.execute("SADD", worker_queues_key(worker), queue))
            calls.append(self.redis.execute("ZADD", QueueKeys(queue).seen, int(now * 1000), worker))
        await gather(calls)

    async def queue_workers(self, queue: str) -> list[str]:
        """The workers registered on C{queue}, sorted."""
        return await self.sorted_members(QueueKeys(queue).workers)

    async def workers(self) -> list[str]:
        """Every registered worker, sorted."""
        return await self.sorted_members(WORKERS_KEY)

    async def known_workers(self) -> list[str]:
        """Every worker registered or seen, sorted."""
        seen = await self.redis.execute("ZRANGE", SEEN_WORKERS_KEY, 0, -1)
        return sorted({name.decode("utf-8") for name in seen} | set(await self.workers()))

    async def worker_stats(self, worker: str) -> WorkerStats:
        """The counters and times of C{worker}."""
        (processed, failed, started_at, last_seen), queues = await gather(
            [
                self.redis.execute(
                    "HMGET", worker_key(worker), "processed", "failed", "started_at", "last_seen"
                ),
                self.sorted_members(worker_queues_key(worker)),
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

    async def queue_views(self) -> list[QueueView]:
        """Everything about every queue, sorted by name."""
        return await gather([self.queue_view(queue) for queue in await self.queues()])
