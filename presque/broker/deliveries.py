"""
Jobs out: fetching (for good or leased), telling whether the answer went
out, and settling leased jobs (ack, fail, extend).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import replace

from twisted.internet.defer import Deferred, gatherResults
from twisted.logger import Logger

from presque.broker.base import BATCH_LIMIT, check_settled, millis, seconds
from presque.broker.errors import QueueClosed
from presque.broker.keys import job_time, new_nonce
from presque.broker.model import Delivery, FailOutcome, Job
from presque.broker.schedule import ScheduleOperations
from presque.broker.scripts import load_script
from presque.redis import RedisUnavailable

log = Logger()

_FETCH = load_script("fetch")
_CONFIRM = load_script("confirm")
_RELEASE = load_script("release")
_ACK = load_script("ack")
_FAIL = load_script("fail")
_EXTEND = load_script("extend")
_PROGRESS = load_script("progress")
_CURRENT = load_script("current")

#: How long (seconds) the confirmations of written deliveries for good wait
#: for a fetch of their queue to carry them, which saves a script call per
#: request under load. A server killed meanwhile delivers those jobs again.
CONFIRM_DELAY = 0.02

# Receipts and ids of a leased batch travel in response headers; 250 of each
# stays under the 8 KiB header lines common HTTP clients accept.
MAX_LEASED_BATCH = 250


class DeliveryOperations(ScheduleOperations):
    """Handing jobs out and settling them."""

    #: The tokens of written deliveries for good not yet confirmed, by
    #: queue. None when no confirmation is scheduled.
    _unconfirmed: dict[str, list[str]] | None = None

    async def fetch(
        self,
        queue: str,
        count: int = 1,
        worker: str | None = None,
        lease: float | None = None,
    ) -> Delivery:
        """
        Hand out up to C{count} jobs of C{queue}, oldest first (due delayed
        jobs and expired leases ahead of the others). A delivery for good
        must then be told L{delivered} or L{undelivered}; a leased one may
        be told L{undelivered} when its answer could not be written.

        @param lease: seconds to lease the jobs for; None for the queue's
            setting; 0 takes them out for good (presque 1).
        @raise QueueClosed: the queue is closed.
        """
        carried = self._unconfirmed.pop(queue, []) if self._unconfirmed else []
        nonce = new_nonce()
        args = [
            count,
            BATCH_LIMIT,
            millis(lease),
            nonce,
            MAX_LEASED_BATCH,
            millis(self.delivery_timeout),
            worker or "",
            *carried,
        ]
        try:
            reply = await self.run(_FETCH, queue, args)
        except Exception as error:
            # Confirming again is harmless: a confirmation names its delivery.
            self._confirm_later(queue, carried)
            if isinstance(error, RedisUnavailable):
                self._note_unanswered_fetch(queue)
            raise
        await self.note_due(queue, reply[1] if reply[0] == b"closed" else reply[3])
        if reply[0] == b"closed":
            raise QueueClosed(queue)
        kind = reply[1].decode("ascii")
        if not kind:
            held = reply[4].decode("ascii")
            self.metrics.found_nothing(queue, held)
            retry_ms = int(reply[2])
            retry_after = retry_ms / 1000 if retry_ms else None
            return Delivery(queue, [], held=held, retry_after=retry_after)
        if kind == "lease":
            jobs = [
                Job(
                    reply[i].decode("ascii"),
                    reply[i + 1],
                    int(reply[i + 2]),
                    reply[i + 3].decode("ascii"),
                )
                for i in range(4, len(reply), 4)
            ]
        else:
            jobs = [Job(reply[i].decode("ascii"), reply[i + 1]) for i in range(4, len(reply), 2)]
        self._count(queue, jobs)
        if jobs and worker and kind == "handoff":
            await self.redis.execute("HINCRBY", self.keys.worker(worker), "processed", len(jobs))
        return Delivery(queue, jobs, kind, int(reply[2]), worker, token=nonce)

    async def fetch_first(
        self,
        name: str,
        queues: Sequence[str],
        count: int = 1,
        worker: str | None = None,
        lease: float | None = None,
    ) -> Delivery:
        """
        Hand out the jobs of the first of C{queues} (the members of the
        virtual queue C{name}) that has any, as L{fetch} does; closed ones
        are passed over. When none has a job, the delivery says the soonest
        a limit of one of them lets a job out.

        @raise QueueClosed: every one of them is closed.
        """
        empty = []
        for queue in queues:
            try:
                delivery = await self.fetch(queue, count, worker, lease)
            except QueueClosed:
                continue
            if delivery.jobs:
                return delivery
            empty.append(delivery)
        if not empty:
            raise QueueClosed(name)
        held = [delivery for delivery in empty if delivery.held]
        timed = [delivery for delivery in held if delivery.retry_after is not None]
        soonest = min(timed or held or empty, key=lambda delivery: delivery.retry_after or 0)
        return replace(soonest, queue=name)

    def _count(self, queue: str, jobs: list[Job]) -> None:
        first = [job for job in jobs if job.attempt is None or job.attempt == 1]
        self.metrics.delivered(queue, first, lambda job: job_time(job.id))

    def _note_unanswered_fetch(self, queue: str) -> None:
        # The script may have run and its reply be lost, with it the word to
        # the schedule of the deadline of what it handed out. The time is
        # this machine's, a guess: the scheduler looks at the queue then, and
        # again at the real deadline if that is later. In the background:
        # the answer, a 503, must not wait for a Redis that just failed to
        # answer.
        guess = round((time.time() + self.delivery_timeout) * 1000)
        Deferred.fromCoroutine(self.note_due(queue, guess))

    def delivered(self, delivery: Delivery) -> None:
        """
        The answer that carried C{delivery} was written: its jobs taken for
        good are forgotten, by the next fetch of their queue within
        L{CONFIRM_DELAY}, else by a script call of their own.
        """
        if delivery.kind == "handoff" and delivery.jobs:
            self._confirm_later(delivery.queue, [delivery.token])

    def _confirm_later(self, queue: str, tokens: list[str]) -> None:
        if not tokens:
            return
        if self._unconfirmed is None:
            self._unconfirmed = {}
            self.reactor.callLater(CONFIRM_DELAY, self.confirm_deliveries)
        self._unconfirmed.setdefault(queue, []).extend(tokens)

    def confirm_deliveries(self) -> Deferred[None]:
        """
        Confirm at once every written delivery that no fetch carried yet
        (a server about to stop waits for this); failures are logged.
        """
        unconfirmed, self._unconfirmed = self._unconfirmed or {}, None
        calls = [
            Deferred.fromCoroutine(self._confirm(queue, tokens)).addErrback(_not_confirmed, queue)
            for queue, tokens in unconfirmed.items()
        ]
        return gatherResults(calls).addCallback(lambda _: None)

    async def _confirm(self, queue: str, tokens: list[str]) -> None:
        _, schedule_at = await self.run(_CONFIRM, queue, tokens)
        await self.note_due(queue, schedule_at)

    async def undelivered(self, delivery: Delivery) -> None:
        """
        The answer that carried C{delivery} could not be written (its client
        went away): its jobs are ready again at once, as if never handed out.
        A delivery for good comes back whole; of a leased one, the jobs of
        C{delivery.jobs}.
        """
        if not delivery.jobs:
            return
        if delivery.kind == "handoff":
            await self.run(_RELEASE, delivery.queue, ["handoff", delivery.token])
            if delivery.worker:
                await self.redis.execute(
                    "HINCRBY", self.keys.worker(delivery.worker), "processed", -len(delivery.jobs)
                )
            return
        receipts = [x for job in delivery.jobs for x in (job.id, job.receipt or "")]
        await self.run(_RELEASE, delivery.queue, ["lease", *receipts])

    async def ack(
        self,
        queue: str,
        job_id: str,
        receipt: str,
        worker: str | None = None,
        result: bytes | None = None,
    ) -> float:
        """
        The worker holding C{receipt} is done with the job: gone for good,
        but for its outcome and C{result} (JSON text), kept for the queue's
        result_ttl. Returns how long it held the job, in seconds.

        @raise UnknownJob: no such job.
        @raise StaleReceipt: the receipt is not the current delivery's.
        """
        reply = await self.run(_ACK, queue, [job_id, receipt, result or b""])
        if not isinstance(reply, list):
            check_settled(reply, queue, job_id)
        await self.note_due(queue, reply[2])
        ran = int(reply[1]) / 1000
        self.metrics.acked(queue, ran)
        if worker:
            await self.redis.execute("HINCRBY", self.keys.worker(worker), "processed", 1)
        return ran

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
        outcome, due, schedule_at = await self.run(
            _FAIL,
            queue,
            [job_id, receipt, error, millis(delay), "1" if dead else "0", random.random()],
        )
        check_settled(outcome, queue, job_id)
        await self.note_due(queue, schedule_at)
        if worker:
            await self.redis.execute("HINCRBY", self.keys.worker(worker), "failed", 1)
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
        outcome, deadline = await self.run(_EXTEND, queue, [job_id, receipt, millis(lease)])
        check_settled(outcome, queue, job_id)
        return seconds(deadline)

    async def report_progress(
        self, queue: str, job_id: str, receipt: str, value: float, message: str = ""
    ) -> None:
        """
        The worker holding C{receipt} got C{value} far (its own scale) with
        the job, as C{message} says; shown in the job's view.

        @raise UnknownJob: no such job.
        @raise StaleReceipt: the receipt is not the current delivery's.
        """
        outcome, _ = await self.run(_PROGRESS, queue, [job_id, receipt, repr(value), message])
        check_settled(outcome, queue, job_id)

    async def still_current(self, queue: str, deliveries: Sequence[Job]) -> set[str]:
        """The ids of C{deliveries} (leased jobs) that nobody has settled yet."""
        if not deliveries:
            return set()
        args = [x for job in deliveries for x in (job.id, job.receipt or "")]
        return {job_id.decode("ascii") for job_id in await self.run(_CURRENT, queue, args)}


def _not_confirmed(failure, queue: str) -> None:
    # The jobs stay in their handoff and come back when it runs out: a
    # duplicate delivery, never a lost one.
    if failure.check(RedisUnavailable):
        log.warn(
            "deliveries of {queue} not confirmed ({reason}); they will be delivered again",
            queue=queue,
            reason=failure.getErrorMessage(),
        )
    else:
        log.failure("confirming deliveries of {queue} failed", failure, queue=queue)
