"""
C{presque-worker --batch N}: a loop that fetches up to N leased jobs in one
request runs the function on each, one after the other, while the leases
of all of them are extended; then it acks and fails them all in one
request (C{POST /qb/Q/settle}), instead of one request per job.

A job is settled once the whole batch has run, so a batch should hold the
jobs a loop runs within a few leases; its leases are kept alive meanwhile.
The end of the grace period gives back the jobs not run yet, as it gives
back a job still running.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from twisted.logger import Logger

from presque.client import Fail, Job, PresqueError

if TYPE_CHECKING:
    from presque.worker import InHand, Worker

log = Logger(namespace="presque.worker")


def describe(job: Job, took: float) -> str:
    """The head of the line that tells what became of C{job}, which ran C{took} seconds."""
    return f"job {job.id} (attempt {job.attempt}, {took:.2f}s)"


@dataclass(frozen=True)
class _Ran:
    """A job of the batch whose function returned (C{error} None) or raised."""

    running: InHand
    error: BaseException | None
    took: float


async def handle_batch(worker: Worker, jobs: Sequence[Job]) -> None:
    """Run the function on each of C{jobs}, then settle them all in one request."""
    hand = [worker.take_in_hand(job) for job in jobs]
    extender = worker.keep_leases(hand)
    ran: list[_Ran] = []
    try:
        for running in hand:
            if running.abandoned:
                continue  # the grace period ran out: given back already
            began = worker.reactor.seconds()
            error = await worker.run(running)
            ran.append(_Ran(running, error, worker.reactor.seconds() - began))
    finally:
        for running in hand:
            running.settling = True
        if extender.running:
            extender.stop()
    try:
        await _settle(worker, [job for job in ran if not job.running.abandoned])
    finally:
        for running in hand:
            worker.let_go(running)


async def _settle(worker: Worker, ran: list[_Ran]) -> None:
    """Ack and fail the jobs that ran, in one request; log each one's outcome in one line."""
    heads = {job.running.job.id: describe(job.running.job, job.took) for job in ran}
    messages = {}
    acks, fails = [], []
    for job in ran:
        running = job.running
        if running.lost:
            head = heads[running.job.id]
            log.warn("{head} lost its lease ({why}): not settled", head=head, why=running.lost)
        elif job.error is None:
            acks.append(running.job)
        else:
            messages[running.job.id] = f"{type(job.error).__name__}: {job.error}"
            fails.append(Fail(running.job, messages[running.job.id]))
    if not acks and not fails:
        return
    try:
        settlement = await worker.insist(lambda: worker.client.settle_many(acks, fails))
    except PresqueError as failed:
        log.error(
            "{n} job(s) could not be settled: {failed}", n=len(acks) + len(fails), failed=failed
        )
        return
    for outcome in settlement.refused:
        head = heads[outcome["id"]]
        log.warn("{head} lost its lease ({why}): not settled", head=head, why=outcome["error"])
    for outcome in settlement.settled:
        head, state = heads[outcome["id"]], outcome["state"]
        if state == "done":
            log.info("{head} acked", head=head)
            continue
        after = "dead-lettered" if state == "dead" else "will be retried"
        message = messages[outcome["id"]]
        log.info("{head} failed, {after}: {message}", head=head, after=after, message=message)
