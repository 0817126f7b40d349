"""
Settling many leased jobs of a queue at once: acks and failures in one
script call (C{settle.lua}), each job as C{ack} and C{fail} of
L{presque.broker.deliveries} settle one, and each on its own.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from presque.broker.base import millis, seconds
from presque.broker.schedule import ScheduleOperations
from presque.broker.scripts import load_script
from presque.redis import RedisArg

_SETTLE = load_script("settle")


@dataclass(frozen=True)
class Ack:
    """A leased job to ack: its id, the receipt of its delivery, and its result (JSON text)."""

    id: str
    receipt: str
    result: bytes | None = None


@dataclass(frozen=True)
class Fail:
    """
    A leased job to fail, as the broker's C{fail} takes it: retried
    after C{delay} seconds (None: the queue's backoff), or dead at once
    with C{dead}.
    """

    id: str
    receipt: str
    error: str = ""
    delay: float | None = None
    dead: bool = False


@dataclass(frozen=True)
class Settled:
    """
    What became of one job of a batch: C{outcome} is C{"done"} (acked),
    C{"delayed"} (to be retried at C{retry_at}), C{"dead"}, or a refusal:
    C{"unknown"} (no such job) or C{"stale"} (the receipt is not current).
    """

    id: str
    outcome: str
    retry_at: float | None = None

    @property
    def refused(self) -> bool:
        """Whether the job was left as it was."""
        return self.outcome in _REFUSALS


_REFUSALS = ("unknown", "stale")
_OUTCOMES = {b"ok": "done", b"retry": "delayed", b"dead": "dead"}


class SettleOperations(ScheduleOperations):
    """Acking and failing many leased jobs of one queue in one Redis call."""

    async def settle(
        self,
        queue: str,
        acks: Sequence[Ack],
        fails: Sequence[Fail],
        worker: str | None = None,
    ) -> list[Settled]:
        """
        Ack C{acks}, then fail C{fails}, atomically for each job: a job
        refused (unknown, or its receipt not current) is left as it was and
        the others are settled all the same. Answers what became of each,
        acks first, in the order given. The caller makes sure that no id
        comes twice (the second would be refused as stale).
        """
        if not acks and not fails:
            return []
        args: list[RedisArg] = [len(acks), len(fails)]
        for ack in acks:
            args += (ack.id, ack.receipt, ack.result or b"")
        for fail in fails:
            dead = "1" if fail.dead else "0"
            args += (fail.id, fail.receipt, fail.error, millis(fail.delay), dead, random.random())
        reply = await self.run(_SETTLE, queue, args)
        await self.note_due(queue, reply[0])
        ids = [ack.id for ack in acks] + [fail.id for fail in fails]
        settled = []
        for i, job_id in enumerate(ids):
            word, number = reply[1 + 2 * i], reply[2 + 2 * i]
            outcome = _OUTCOMES.get(word) or word.decode("ascii")
            if outcome == "done":
                self.metrics.acked(queue, int(number) / 1000)
            retry_at = seconds(number) if outcome == "delayed" else None
            settled.append(Settled(job_id, outcome, retry_at))
        if worker:
            await self._count_for(worker, settled[: len(acks)], settled[len(acks) :])
        return settled

    async def _count_for(
        self, worker: str, acked: Sequence[Settled], failed: Sequence[Settled]
    ) -> None:
        """The worker's counters, as one ack or failure at a time moves them."""
        key = self.keys.worker(worker)
        for field, outcomes in (("processed", acked), ("failed", failed)):
            count = sum(not outcome.refused for outcome in outcomes)
            if count:
                await self.redis.execute("HINCRBY", key, field, count)
