"""Queues as a whole: listing, status, counts, settings, deletion."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from twisted.logger import Logger

from presque.broker.base import gather
from presque.broker.keys import job_time
from presque.broker.model import PRIORITIES, Figures, Page, QueueSummary, QueueView
from presque.broker.schedule import ScheduleOperations
from presque.broker.scripts import load_script
from presque.broker.settings import QueueSettings, setting_fields
from presque.broker.workers import WorkerOperations
from presque.counts import QUEUE_TOTALS

log = Logger()

_SUMMARY = load_script("summary")
_SET_META = load_script("set_meta")
_PEEK = load_script("peek")
_DELETE_QUEUE = load_script("delete_queue")
_FORGET_QUEUE = load_script("forget_queue")

_TOTALS = tuple(name for name, _ in QUEUE_TOTALS)
#: The most workers one queue's view lists.
MAX_LISTED_WORKERS = 1000
#: The most workers a deleted queue is taken off the lists of.
MAX_FORGOTTEN_WORKERS = 10_000


class QueueOperations(WorkerOperations, ScheduleOperations):
    """What is known about queues."""

    async def queues(self) -> list[str]:
        """The names of all queues that ever received a job, sorted."""
        return await self.queue_range()

    async def queue_names(self, offset: int, limit: int) -> Page[str]:
        """A slice of the sorted names of all queues."""
        total = int(await self.redis.execute("ZCARD", self.keys.queues))
        names = await self.queue_range(offset, offset + limit - 1) if limit else []
        return Page(total, names)

    async def summary(self, queue: str) -> QueueSummary:
        """The status, counts and counters of C{queue} (all 0 for an unknown one)."""
        status, *numbers = await self.run(_SUMMARY, queue)
        ready = [int(n) for n in numbers[: len(PRIORITIES)]]
        *counts, next_ready, next_urgent = numbers[len(PRIORITIES) :]
        delayed, leased, dead, waiting, *totals = (int(n) for n in counts)
        posted = [job_time(head.decode("ascii")) for head in (next_ready, next_urgent) if head]
        return QueueSummary(
            name=queue,
            open=status != b"0",
            ready_by_priority=ready,
            delayed=delayed,
            leased=leased,
            dead=dead,
            waiting=waiting,
            totals=dict(zip(_TOTALS, totals, strict=True)),
            oldest_ready=min((t for t in posted if t is not None), default=None),
        )

    async def summaries(self, queues: Sequence[str]) -> list[QueueSummary]:
        """The summary of each of C{queues}."""
        return await gather([self.summary(queue) for queue in queues])

    async def ready_count(self, queue: str) -> int:
        """How many jobs of C{queue} are ready to be handed out, of every priority."""
        return (await self.summary(queue)).ready

    async def ready_payloads(self, queue: str, limit: int) -> list[bytes]:
        """The payloads of the first C{limit} ready jobs, in delivery order."""
        return await self.run(_PEEK, queue, [limit - 1])

    async def is_open(self, queue: str) -> bool:
        """Whether jobs can be taken from C{queue}; unknown queues are open."""
        status = await self.redis.execute("HGET", self.keys.queue(queue).meta, "status")
        return status != b"0"

    async def set_open(self, queue: str, is_open: bool) -> None:
        """Open or close C{queue}."""
        await self._set_meta(queue, ["status", "1" if is_open else "0"])

    async def _set_meta(self, queue: str, fields: list[str | float | int]) -> None:
        if await self.run(_SET_META, queue, fields):
            await self.list_queue(queue)

    async def settings(self, queue: str) -> QueueSettings:
        """The settings in force for C{queue}: its own, else the defaults."""
        names = [setting.name for setting in setting_fields()]
        values = await self.redis.execute("HMGET", self.keys.queue(queue).meta, *names)
        own = {name: float(value) for name, value in zip(names, values, strict=True) if value}
        try:
            return self.defaults.updated(own)
        except ValueError as error:
            # Written by hand into Redis, say: the defaults are still usable.
            log.warn(
                "queue {queue}: ignoring its stored settings: {error}", queue=queue, error=error
            )
            return self.defaults

    async def configure(self, queue: str, changes: Mapping[str, Any]) -> QueueSettings:
        """
        Override settings of C{queue}; returns the settings now in force.

        @raise ValueError: an unknown setting or an unusable value.
        """
        settings = (await self.settings(queue)).updated(changes)
        if changes:
            stored = settings.as_dict()
            await self._set_meta(queue, [x for name in changes for x in (name, stored[name])])
        return settings

    async def figures(self, max_queues: int) -> Figures:
        """The counts of the first C{max_queues} queues, the workers alive, Redis's memory."""
        names = await self.queue_names(0, max_queues)
        summaries, alive, memory = await gather(
            [self.summaries(names.items), self.workers_alive(), self.redis_memory()]
        )
        return Figures(names.total, summaries, alive, memory)

    async def watch_memory(self, share: float) -> bool:
        """
        Read Redis' memory, and refuse posts (L{memory_full}) while it is past
        C{share} of C{maxmemory}, so that consumers can still drain what is
        stored (acks free memory) before Redis refuses every write. Whether
        it is past.
        """
        used, most = await self.redis_memory()
        self.memory_full = bool(most) and used >= share * most
        return self.memory_full

    async def redis_memory(self) -> tuple[int, int]:
        """Redis's used_memory and maxmemory (0: no limit), in bytes."""
        info = (await self.redis.execute("INFO", "memory")).decode("ascii", "replace")
        fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
        return int(fields.get("used_memory", 0)), int(fields.get("maxmemory", 0))

    async def queue_view(self, queue: str) -> QueueView:
        """Everything about C{queue}."""
        summary, settings, workers = await gather(
            [
                self.summary(queue),
                self.settings(queue),
                self.queue_workers_seen(queue, MAX_LISTED_WORKERS),
            ]
        )
        return QueueView(summary, settings, workers)

    async def delete_queue(self, queue: str) -> None:
        """
        Remove C{queue} and everything about it: jobs in every state, counters,
        settings, workers, remembered Idempotency-Keys, its place in the set
        of queues and in its workers' lists of queues. The jobs of other
        queues waiting on its jobs are dead.
        """
        workers = await self.queue_workers_seen(queue, MAX_FORGOTTEN_WORKERS)
        await self.cancel_dependents(queue)
        scheduled = await self.run(_DELETE_QUEUE, queue)
        await self.redis.execute("ZREM", self.keys.queues, queue)
        if await self.run(_FORGET_QUEUE, queue) == b"revived":
            # A job arrived in between: the queue lives on, and is listed.
            await self.list_queue(queue)
        await self.forget_queue_of_workers(queue, workers)
        if scheduled:
            # Due now: the next round finds nothing due and takes it off the schedule.
            await self.note_due(queue, 1)
