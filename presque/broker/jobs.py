"""Jobs in and out: enqueue, fetch (for good or leased), settle, inspect."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

from presque.broker.base import (
    BATCH_LIMIT,
    BrokerBase,
    as_int,
    check_settled,
    errors_of,
    gather,
    seconds,
)
from presque.broker.keys import QUEUES_KEY, QueueKeys, new_job_id, new_nonce, worker_key
from presque.broker.model import (
    Delivery,
    DuplicateJob,
    FailOutcome,
    Job,
    JobView,
    QueueClosed,
    UnknownJob,
)
from presque.lua import load_script

_ENQUEUE = load_script("enqueue")
_FETCH = load_script("fetch")
_ACK = load_script("ack")
_FAIL = load_script("fail")
_EXTEND = load_script("extend")
_INSPECT = load_script("inspect")
_PURGE = load_script("purge")
_TICK = load_script("tick")
_CURRENT = load_script("current")


# Receipts and ids of a leased batch travel in response headers; 250 of each
# stays under the 8 KiB header lines common HTTP clients accept.
MAX_LEASED_BATCH = 250


def _millis(value: float | None) -> int | str:
    return "" if value is None else int(value * 1000)


class JobOperations(BrokerBase):
    """Adding, handing out and settling jobs."""

    async def enqueue(
        self,
        queue: str,
        payloads: Sequence[bytes],
        run_at: float | None = None,
        uniq: str | None = None,
        failed_by: str | None = None,
        as_failure: bool = False,
        priority: int = 0,
    ) -> list[str]:
        """
        Add C{payloads} to C{queue} as jobs and return their ids.

        @param run_at: unix time before which the jobs are not handed out.
        @param uniq: refuse the job while another with this key is queued.
        @param as_failure: a worker gives the job back after failing it:
            count a failure for the queue, and for the worker C{failed_by}.
        @param priority: 0 to 9; higher priorities are handed out first.
        @raise DuplicateJob: C{uniq} is taken.
        """
        ids = [new_job_id() for _ in payloads]
        args: list[str | bytes | int] = [
            _millis(run_at),
            uniq or "",
            "1" if as_failure else "0",
            priority,
        ]
        for job_id, payload in zip(ids, payloads, strict=True):
            args += (job_id, payload)
        status, unlisted = await self.run(_ENQUEUE, queue, args)
        if as_failure and failed_by:
            await self.redis.execute("HINCRBY", worker_key(failed_by), "failed", 1)
        if status == b"exists":
            raise DuplicateJob(uniq)
        if unlisted:
            # Recorded in the queue's own keys only once the set has it, so
            # a crash in between leaves the next enqueue to try again.
            await self.redis.execute("SADD", QUEUES_KEY, queue)
            await self.redis.execute("HSET", QueueKeys(queue).meta, "listed", "1")
        return ids

    async def fetch(
        self,
        queue: str,
        count: int = 1,
        worker: str | None = None,
        lease: float | None = None,
    ) -> Delivery:
        """
        Hand out up to C{count} jobs of C{queue}, oldest first (due delayed
        jobs and expired leases ahead of the others).

        @param lease: seconds to lease the jobs for; None for the queue's
            setting; 0 takes them out for good (presque 1).
        @raise QueueClosed: the queue is closed.
        """
        reply = await self.run(
            _FETCH,
            queue,
            [
                count,
                BATCH_LIMIT,
                _millis(lease),
                int(self.defaults.lease * 1000),
                self.defaults.max_attempts,
                new_nonce(),
                MAX_LEASED_BATCH,
            ],
        )
        if reply[0] == b"closed":
            raise QueueClosed(queue)
        deadline = seconds(reply[1]) or None
        jobs = [
            Job(
                reply[i].decode("ascii"),
                reply[i + 1],
                int(reply[i + 2]) if deadline else None,
                reply[i + 3].decode("ascii") if deadline else None,
            )
            for i in range(2, len(reply), 4)
        ]
        if jobs and worker and deadline is None:
            await self.redis.execute("HINCRBY", worker_key(worker), "processed", len(jobs))
        return Delivery(jobs, deadline)

    async def ack(self, queue: str, job_id: str, receipt: str, worker: str | None = None) -> None:
        """
        The worker holding C{receipt} is done with the job: gone for good.

        @raise UnknownJob: no such job.
        @raise StaleReceipt: the receipt is not the current delivery's.
        """
        check_settled(await self.run(_ACK, queue, [job_id, receipt]), queue, job_id)
        if worker:
            await self.redis.execute("HINCRBY", worker_key(worker), "processed", 1)

    async def fail(
        self,
        queue: str,
        job_id: str,
        receipt: str,
        error: str = "",
        delay: float | None = None,
        dead: bool = False,
        worker: str | None = None,
    ) -> FailOutcome:
        """
        The worker holding C{receipt} failed the job: retry it after
        C{delay} seconds (default: the queue's backoff) or, with C{dead}, or
        once its attempts are used up, park it in the dead letters.

        @raise UnknownJob: no such job.
        @raise StaleReceipt: the receipt is not the current delivery's.
        """
        defaults = self.defaults
        outcome, due = await self.run(
            _FAIL,
            queue,
            [
                job_id,
                receipt,
                error,
                _millis(delay),
                "1" if dead else "0",
                random.random(),
                defaults.max_attempts,
                defaults.backoff_base,
                defaults.backoff_cap,
            ],
        )
        check_settled(outcome, queue, job_id)
        if worker:
            await self.redis.execute("HINCRBY", worker_key(worker), "failed", 1)
        if outcome == b"dead":
            return FailOutcome(dead=True)
        return FailOutcome(dead=False, retry_at=seconds(due))

    async def extend(self, queue: str, job_id: str, receipt: str, lease: float) -> float:
        """
        Give the worker holding C{receipt} C{lease} more seconds from now;
        returns the new deadline.

        @raise UnknownJob: no such job.
        @raise StaleReceipt: the receipt is not the current delivery's.
        """
        outcome, deadline = await self.run(_EXTEND, queue, [job_id, receipt, _millis(lease)])
        check_settled(outcome, queue, job_id)
        return seconds(deadline)

    async def still_current(self, queue: str, deliveries: Sequence[Job]) -> set[str]:
        """The ids of C{deliveries} (leased jobs) that nobody has settled yet."""
        if not deliveries:
            return set()
        args = [x for job in deliveries for x in (job.id, job.receipt or "")]
        return {job_id.decode("ascii") for job_id in await self.run(_CURRENT, queue, args)}

    async def inspect(self, queue: str, job_id: str) -> JobView:
        """
        Everything about one job.

        @raise UnknownJob: no such job.
        """
        reply = await self.run(_INSPECT, queue, [job_id])
        if not reply:
            raise UnknownJob(f"{queue}/{job_id}")
        payload, raw_info, due, deadline, dead_since = reply
        info = json.loads(raw_info)
        state = "dead" if dead_since else "leased" if deadline else "delayed" if due else "ready"
        return JobView(
            id=job_id,
            state=state,
            payload=payload,
            attempts=info.get("attempts", 0),
            errors=errors_of(info),
            created=seconds(info.get("created")),
            next_run=seconds(due),
            lease_expires=seconds(deadline),
            dead_since=seconds(dead_since),
        )

    async def purge(self, queue: str) -> None:
        """Remove every job of C{queue}, in every state, its uniq keys and counters."""
        await self.run(_PURGE, queue, [])

    async def tick(self) -> tuple[int, int]:
        """
        The scheduler's work on every queue: due delayed jobs to the head of
        their queue, expired leases back or to the dead letters. Returns how
        many jobs were (promoted, expired).
        """
        queues = await self.sorted_members(QUEUES_KEY)
        replies = await gather(
            [self.run(_TICK, queue, [BATCH_LIMIT, self.defaults.max_attempts]) for queue in queues]
        )
        return sum(as_int(r[0]) for r in replies), sum(as_int(r[1]) for r in replies)
