"""
C{presque-worker}: run a Python function on every job of a queue.

    presque-worker --url URL --queue Q [--concurrency N] [--lease S] [--wait S]
                   [--batch N] [--worker-id ID] [--grace S] package.module:function

The successor of presque 1's Perl C{presque::worker}, with leases. N loops
each long-poll for one job leased for S seconds and call the function with
the job's decoded JSON body: a return acks the job, an exception fails it
(C{"ValueError: ..."} goes into the job's errors; the server retries it after
a backoff, then dead-letters it). While the function runs its lease is
extended every S/3 seconds, so a job may run longer than its lease.

With C{--batch N}, each loop fetches up to N leased jobs in one request,
runs them one after the other (their leases extended meanwhile), then acks
and fails them all in one request (L{presque.worker_batch}).

Plain functions run in a pool of N threads; C{async def} functions run on
the Twisted reactor, so they may await Deferreds (treq, deferLater...).

SIGTERM or SIGINT stops fetching, lets the jobs in hand finish within
C{--grace} seconds (those still running then are given back to the queue),
unregisters the worker and exits 0.
"""

from __future__ import annotations

import inspect
import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from twisted.internet.defer import Deferred, DeferredList, race, succeed
from twisted.internet.task import LoopingCall, deferLater, react
from twisted.internet.threads import deferToThreadPool
from twisted.logger import (
    FilteringLogObserver,
    Logger,
    LogLevel,
    LogLevelFilterPredicate,
    globalLogBeginner,
    textFileLogObserver,
)
from twisted.python.threadpool import ThreadPool

from presque.client import (
    AsyncClient,
    Fail,
    Job,
    PresqueError,
    QueueClosed,
    StaleReceipt,
    UnknownJob,
)
from presque.client.errors import Unavailable
from presque.worker_batch import describe, handle_batch
from presque.worker_options import (
    MAX_LEASE,
    Handler,
    Options,
    load_handler,
    parse_options,
    virtual_name,
)

__all__ = [
    "MAX_LEASE",
    "Options",
    "Worker",
    "load_handler",
    "main",
    "parse_options",
    "virtual_name",
]

T = TypeVar("T")

log = Logger(namespace="presque.worker")

RETRY_PAUSE = 1.0  # seconds between two tries while the server is away or the queue closed
QUICK_EMPTY = 0.5  # a poll answering "no job" faster than this did not wait: pause


@dataclass
class InHand:
    """A job being handled, and what became of its lease."""

    job: Job
    call: Deferred[Any] | None = None
    done: bool = False  # the function returned or raised
    settling: bool = False  # its ack or failure is on its way: stop extending
    lost: str | None = None  # why the lease is no longer ours, if it is not
    abandoned: bool = False  # still running at the end of the grace period


class Worker:
    """The fetch loops of one worker process, on C{reactor} through C{client}."""

    def __init__(self, reactor: Any, client: AsyncClient, options: Options, handler: Handler):
        self.reactor = reactor
        self.client = client
        self.options = options
        self.handler = handler
        self.in_hand: dict[str, InHand] = {}  # by receipt: a job may come back
        self.stopping = False
        self._loops: list[Deferred[None]] = []
        self._polls: set[Deferred[Any]] = set()
        self._naps: set[Deferred[None]] = set()
        self._stopped: Deferred[None] | None = None
        #: Fires once the worker has stopped and unregistered.
        self.finished: Deferred[None] = Deferred()
        self._threads = ThreadPool(0, options.concurrency, "presque-worker")
        # Daemon threads: a function still running after the grace period must
        # not keep the process alive (ThreadPool.stop would join it forever).
        self._threads.threadFactory = _daemon_thread  # type: ignore[assignment]

    async def start(self) -> None:
        """Register the worker on its queues (defining their virtual queue), then start."""
        if self.options.queues:
            await self.client.set_virtual(self.options.queue, self.options.queues)
        for queue in self.options.served:
            await self.client.register(queue)
        self._threads.start()
        self._loops = [
            Deferred.fromCoroutine(self._loop()) for _ in range(self.options.concurrency)
        ]
        log.info(
            "worker {o.worker_id} started: {o.concurrency} loop(s) on queue {o.queue} of"
            " {o.url}, lease {o.lease}s, handler {o.handler}",
            o=self.options,
        )

    def stop(self) -> Deferred[None]:
        """Stop fetching, drain (see the module), unregister; fires when all is done."""
        if self._stopped is None:
            self._stopped = Deferred.fromCoroutine(self._drain())
            # Whatever happens, the process must get to its end.
            self._stopped.addErrback(lambda failure: log.failure("stopping failed", failure))
            self._stopped.addBoth(lambda _: self.finished.callback(None))
        return self._stopped

    async def _drain(self) -> None:
        self.stopping = True
        # A poll cut short may have been handed a job just now: its lease runs
        # out and it is delivered again, as when a worker dies.
        for poll in list(self._polls):
            poll.cancel()
        for nap in list(self._naps):
            nap.callback(None)
        log.info("stopping with {n} job(s) in hand", n=len(self.in_hand))
        # A shield, so that losing the race does not cancel the loops.
        shield: Deferred[Any] = Deferred()
        DeferredList(self._loops).addBoth(shield.callback)
        deadline: Deferred[None] = Deferred()

        def end_grace() -> None:
            if not deadline.called:
                deadline.callback(None)

        self.reactor.callLater(self.options.grace, end_grace)
        # A second SIGTERM or SIGINT ends the grace period now (the reactor's own
        # handler would only complain that it is already stopping).
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.reactor.callFromThread(end_grace))
        winner, _ = await race([shield, deadline])
        finished = winner == 0
        # Jobs done and being settled are left to finish settling.
        abandoned = [] if finished else [r for r in self.in_hand.values() if not r.done]
        if abandoned:
            await self._abandon(abandoned)
        try:
            for queue in self.options.served:
                await self.client.unregister(queue)
        except PresqueError as error:
            log.warn("could not unregister: {error}", error=error)
        await self.client.close()
        if not abandoned:
            self._threads.stop()
        log.info("worker {worker} stopped", worker=self.options.worker_id)

    async def _abandon(self, hand: list[InHand]) -> None:
        """Give back the jobs still running (or, of a batch, not run yet) after the grace
        period, to be delivered again now rather than when their leases run out: in one
        request."""
        for running in hand:
            running.abandoned = True
            if running.call is not None:
                running.call.cancel()  # stops an async function; a thread runs on, unheard
        why = "worker stopped before the job finished"
        try:
            settlement = await self.client.settle_many(
                fails=[Fail(running.job, why, delay=0) for running in hand]
            )
        except PresqueError as error:
            log.warn("{n} job(s) could not be given back: {error}", n=len(hand), error=error)
            return
        for refused in settlement.refused:
            log.warn("job {id}: could not give it back: {error}", **refused)
        for given in settlement.settled:
            log.warn("job {id} abandoned: still running at the end; given back", id=given["id"])

    def _nap(self, seconds: float) -> Deferred[None]:
        """Sleep C{seconds}, or until the worker stops."""
        if self.stopping:
            return succeed(None)
        nap: Deferred[None] = Deferred()
        self._naps.add(nap)
        self.reactor.callLater(seconds, lambda: nap.called or nap.callback(None))
        return nap.addBoth(lambda _: self._naps.discard(nap))

    async def _loop(self) -> None:
        """Fetch and handle one job (or one batch) at a time until the worker stops."""
        while not self.stopping:
            began = self.reactor.seconds()
            try:
                jobs = await self._poll()
            except QueueClosed:
                await self._nap(RETRY_PAUSE)  # paused: it may be resumed any time
                continue
            except PresqueError as error:
                if not self.stopping:
                    log.warn("fetch failed: {error}; trying again", error=error)
                    await self._nap(RETRY_PAUSE)
                continue
            except Exception:
                log.failure("fetch failed")
                await self._nap(RETRY_PAUSE)
                continue
            if jobs:
                try:
                    if self.options.batch > 1:
                        await handle_batch(self, jobs)
                    else:
                        await self._handle(jobs[0])
                except Exception:
                    log.failure("jobs {ids} went wrong", ids=",".join(job.id for job in jobs))
            elif self.reactor.seconds() - began < QUICK_EMPTY:
                await self._nap(QUICK_EMPTY)  # the server did not hold the poll: do not spin

    async def _poll(self) -> list[Job]:
        o = self.options
        if o.batch > 1:
            fetch = self.client.fetch_many(o.queue, o.batch, lease=o.lease, wait=o.wait)
        else:
            fetch = self.client.fetch(o.queue, lease=o.lease, wait=o.wait)
        poll = Deferred.fromCoroutine(fetch)
        self._polls.add(poll)
        try:
            found = await poll
        finally:
            self._polls.discard(poll)
        return found if isinstance(found, list) else [found] if found else []

    def _call(self, body: Any) -> Deferred[Any]:
        """Run the function on C{body}: on the reactor if it is async, else in a thread."""
        if inspect.iscoroutinefunction(self.handler):
            return Deferred.fromCoroutine(self.handler(body))
        return deferToThreadPool(self.reactor, self._threads, self.handler, body)

    async def _handle(self, job: Job) -> None:
        """Run the function on C{job} under a lease kept alive, then settle it."""
        running = self.take_in_hand(job)
        extender = self.keep_leases([running])
        began = self.reactor.seconds()
        try:
            error = await self.run(running)
        finally:
            running.settling = True
            if extender.running:
                extender.stop()
        try:
            if not running.abandoned:
                await self._settle(running, error, self.reactor.seconds() - began)
        finally:
            self.let_go(running)

    def take_in_hand(self, job: Job) -> InHand:
        """C{job}, now in hand: given back if still there at the end of the grace period."""
        running = self.in_hand[str(job.receipt)] = InHand(job)
        return running

    def let_go(self, running: InHand) -> None:
        """The job is settled, or given up: no longer in hand."""
        del self.in_hand[str(running.job.receipt)]

    async def run(self, running: InHand) -> BaseException | None:
        """Run the function on the job in hand; what it raised, if it did."""
        try:
            running.call = self._call(running.job.body)
            await running.call
        except BaseException as raised:  # the job's failure, whatever it is
            return raised
        finally:
            running.done = True
        return None

    def keep_leases(self, hand: list[InHand]) -> LoopingCall:
        """Extend the leases of the jobs in C{hand} every lease/3 seconds until stopped."""
        extender = LoopingCall(self._extend_all, hand)
        extender.clock = self.reactor
        extending = extender.start(self.options.lease / 3, now=False)
        extending.addErrback(lambda failure: log.failure("extending failed", failure))
        return extender

    def _extend_all(self, hand: list[InHand]) -> Deferred[Any]:
        return DeferredList([Deferred.fromCoroutine(self._extend(running)) for running in hand])

    async def _extend(self, running: InHand) -> None:
        """Renew the lease of a job in hand that is not being settled yet."""
        if running.settling or running.lost or running.abandoned:
            return
        try:
            await self.client.extend(running.job, self.options.lease)
        except (StaleReceipt, UnknownJob) as error:
            # Settled meanwhile: the answer that tells is its settle's.
            if not running.settling:
                running.lost = str(error)
                log.warn("job {id}: lease lost ({why})", id=running.job.id, why=running.lost)
        except PresqueError as error:
            log.warn(
                "job {id}: could not extend its lease: {error}", id=running.job.id, error=error
            )

    async def _settle(self, running: InHand, error: BaseException | None, took: float) -> None:
        """Ack or fail the job, and log its outcome in one line."""
        job = running.job
        head = describe(job, took)
        if running.lost:
            log.warn("{head} lost its lease ({why}): not acked", head=head, why=running.lost)
            return
        try:
            if error is None:
                await self.insist(lambda: self.client.ack(job))
                log.info("{head} acked", head=head)
                return
            message = f"{type(error).__name__}: {error}"
            answer = await self.insist(lambda: self.client.fail(job, message))
        except (StaleReceipt, UnknownJob) as lost:
            log.warn("{head} lost its lease ({lost}): not settled", head=head, lost=lost)
            return
        except PresqueError as failed:
            log.error("{head} could not be settled: {failed}", head=head, failed=failed)
            return
        after = "dead-lettered" if answer.get("state") == "dead" else "will be retried"
        log.info("{head} failed, {after}: {message}", head=head, after=after, message=message)

    async def insist(self, action: Callable[[], Awaitable[T]]) -> T:
        """C{action()}, tried again while the server is away, for up to a lease."""
        waited = 0.0
        while True:
            try:
                return await action()
            except Unavailable:
                if waited >= self.options.lease:
                    raise
            await deferLater(self.reactor, RETRY_PAUSE)
            waited += RETRY_PAUSE


def _daemon_thread(*args: Any, **kwargs: Any) -> threading.Thread:
    thread = threading.Thread(*args, **kwargs)
    thread.daemon = True
    return thread


async def serve(reactor: Any, options: Options, handler: Handler) -> None:
    """Run a worker until the reactor shuts down (SIGTERM, SIGINT)."""
    client = AsyncClient(options.url, worker_id=options.worker_id, token=options.token)
    worker = Worker(reactor, client, options, handler)
    try:
        await worker.start()
    except PresqueError as error:
        log.critical("cannot register on {queue}: {error}", queue=options.queue, error=error)
        await client.close()
        raise SystemExit(1) from None
    # The reactor's own SIGTERM/SIGINT handlers stop it; shutdown waits for this.
    reactor.addSystemEventTrigger("before", "shutdown", worker.stop)
    await worker.finished


def main(argv: list[str] | None = None) -> NoReturn:
    """The C{presque-worker} command."""
    options, handler = parse_options(argv)
    # treq's connection pool logs every connection it opens or closes: not news.
    quiet = LogLevelFilterPredicate(LogLevel.info)
    quiet.setLogLevelForNamespace("twisted.web.client", LogLevel.warn)
    observer = FilteringLogObserver(textFileLogObserver(sys.stdout), [quiet])
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)
    react(serve, (options, handler))


if __name__ == "__main__":
    main()
