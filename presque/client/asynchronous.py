"""
The asynchronous client, for Twisted programs, on treq. This module imports
Twisted only when an L{AsyncClient} is made, so that importing
L{presque.client} stays free of it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any, TypeVar

from presque.client.errors import Unavailable
from presque.client.models import (
    DEFAULT_BATCH,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    Answer,
    Call,
    Job,
    Outcome,
    lower_headers,
    retry_delays,
    token_or_environment,
)
from presque.client.requests import NO_RESULT
from presque.client.requests import Requests as R
from presque.client.settling import Ack, Fail, Settlement, settle_calls

T = TypeVar("T")


class AsyncClient:
    """
    The methods of L{presque.client.Client} as coroutines: same arguments,
    results and exceptions. C{http_client} is a treq C{HTTPClient} to use
    (with a pool of your own, say); by default the client makes one with a
    persistent connection pool, which L{close} closes.
    """

    def __init__(
        self,
        base_url: str,
        worker_id: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        http_client: Any = None,
        retries: int = DEFAULT_RETRIES,
        token: str | None = None,
    ) -> None:
        from treq.client import HTTPClient
        from twisted.internet import defer, error, reactor
        from twisted.web import client

        self.base_url = base_url.rstrip("/")
        self.worker_id = worker_id
        self.token = token_or_environment(token)
        self.timeout = timeout
        self.retries = retries
        self._reactor = reactor
        self._pool: Any = None
        if http_client is None:
            self._pool = client.HTTPConnectionPool(reactor, persistent=True)
            http_client = HTTPClient(client.Agent(reactor, pool=self._pool))
        self.http_client = http_client
        # No answer: the server is down, unreachable, or did not answer in time.
        self._unreachable = (
            *(error.ConnectError, error.ConnectionLost, error.DNSLookupError),
            *(error.TimeoutError, defer.CancelledError),
            *(client.ResponseFailed, client.ResponseNeverReceived),
        )

    async def close(self) -> None:
        """Close the connections of the client's own pool (not of a given C{http_client})."""
        if self._pool is not None:
            await self._pool.closeCachedConnections()

    async def _send(self, call: Call[T]) -> T:
        from twisted.internet.task import deferLater

        for delay in retry_delays(self.retries if call.repeatable else 0):
            try:
                return await self._send_once(call)
            except Unavailable:
                await deferLater(self._reactor, delay)
        return await self._send_once(call)

    async def _send_once(self, call: Call[T]) -> T:
        data = call.data()
        headers = call.headers_for(data, self.worker_id, self.token)
        try:
            response = await self.http_client.request(
                call.method,
                call.url(self.base_url),
                data=data,
                headers={name: [value] for name, value in headers.items()},
                timeout=self.timeout + call.wait,
            )
            body = await response.content()
        except self._unreachable as error:
            raise Unavailable(None, f"{self.base_url}: {error}") from error
        raw = response.headers.getAllRawHeaders()
        pairs = ((name.decode("latin-1"), values[-1].decode("latin-1")) for name, values in raw)
        return call.result(Answer(response.code, lower_headers(pairs), body))

    async def post(
        self,
        queue: str,
        job: Any,
        delay: float | None = None,
        run_at: float | None = None,
        uniq: str | None = None,
        priority: int | None = None,
        idempotency_key: str | None = None,
        group: str | None = None,
        wait_for_result: float | None = None,
    ) -> Any:
        """Add one job; answer its id, or its L{Outcome} (see L{Client.post})."""
        call = R.post(queue, job, delay, run_at, uniq, priority, idempotency_key, group)
        job_id = await self._send(call)
        if wait_for_result is None:
            return job_id
        return await self.wait_for(queue, job_id, wait_for_result)

    async def wait_for(self, queue: str, job_id: str, timeout: float) -> Outcome:
        """The L{Outcome} of a job once it is done or dead, or after C{timeout}
        seconds (see L{Client.wait_for})."""
        deadline = time.monotonic() + timeout
        while True:
            left = max(0.0, deadline - time.monotonic())
            outcome = await self._send(R.outcome(queue, job_id, left))
            if outcome.finished or left == 0:
                return outcome

    async def post_many(
        self,
        queue: str,
        jobs: Iterable[Any],
        delay: float | None = None,
        run_at: float | None = None,
        priority: int | None = None,
        batch: int = DEFAULT_BATCH,
        idempotency_key: str | None = None,
    ) -> list[str]:
        """Add jobs in order, C{batch} per request; answer their ids (see L{Client.post_many})."""
        ids: list[str] = []
        for call in R.post_many(queue, jobs, delay, run_at, priority, batch, idempotency_key):
            ids.extend(await self._send(call))
        return ids

    async def fetch(
        self, queue: str, lease: float | None = None, wait: float | None = None
    ) -> Job | None:
        """Take the next job, or None (see L{Client.fetch})."""
        return await self._send(R.fetch(queue, lease, wait))

    async def fetch_many(
        self, queue: str, count: int, lease: float | None = None, wait: float | None = None
    ) -> list[Job]:
        """Take up to C{count} jobs, or [] (see L{Client.fetch_many})."""
        return await self._send(R.fetch_many(queue, count, lease, wait))

    async def ack(self, job: Job, result: Any = NO_RESULT) -> None:
        """Settle a leased job as done, with C{result} if given (see L{Client.ack})."""
        if call := R.ack(job, result):
            await self._send(call)

    async def settle_many(
        self, acks: Iterable[Job | Ack] = (), fails: Iterable[Fail] = (), batch: int = DEFAULT_BATCH
    ) -> Settlement:
        """Ack and fail many leased jobs at once (see L{Client.settle_many})."""
        settlement = Settlement()
        for call in settle_calls(acks, fails, batch):
            settlement.add(await self._send(call))
        return settlement

    async def progress(self, job: Job, value: float, message: str = "") -> None:
        """Tell how far a leased job got (see L{Client.progress})."""
        await self._send(R.progress(job, value, message))

    async def fail(
        self, job: Job, error: str | None = None, delay: float | None = None, dead: bool = False
    ) -> dict:
        """Fail a leased job, or give back one taken for good (see L{Client.fail})."""
        return await self._send(R.fail(job, error, delay, dead))

    async def extend(self, job: Job, seconds: float) -> float:
        """Renew the lease; answer the new deadline (see L{Client.extend})."""
        return await self._send(R.extend(job, seconds))

    async def job_info(self, queue: str, job_id: str) -> dict:
        """Everything about one job (see L{Client.job_info})."""
        return await self._send(R.job_info(queue, job_id))

    async def queues(self) -> list[dict]:
        """Every queue (see L{Client.queues})."""
        return await self._send(R.queues())

    async def workers(self) -> list[dict]:
        """Every worker (see L{Client.workers})."""
        return await self._send(R.workers())

    async def queue_info(self, queue: str) -> dict:
        """Everything about a queue (see L{Client.queue_info})."""
        return await self._send(R.queue_info(queue))

    async def configure(self, queue: str, **settings: float) -> dict:
        """Change a queue's settings (see L{Client.configure})."""
        return await self._send(R.configure(queue, settings))

    async def stats(self, queue: str) -> dict:
        """A queue's counters (see L{Client.stats})."""
        return await self._send(R.stats(queue))

    async def pause(self, queue: str) -> None:
        """Close a queue (see L{Client.pause})."""
        await self._send(R.control(queue, "stop"))

    async def resume(self, queue: str) -> None:
        """Open a queue again (see L{Client.resume})."""
        await self._send(R.control(queue, "start"))

    async def dead_letters(self, queue: str, offset: int = 0, limit: int = 100) -> dict:
        """A page of dead letters (see L{Client.dead_letters})."""
        return await self._send(R.dead_letters(queue, offset, limit))

    async def retry_dead(self, queue: str, ids: list[str] | None = None) -> int:
        """Put dead letters back in the queue; how many (see L{Client.retry_dead})."""
        return await self._send(R.retry_dead(queue, ids))

    async def purge_dead(self, queue: str) -> int:
        """Drop every dead letter; how many (see L{Client.purge_dead})."""
        return await self._send(R.purge_dead(queue))

    async def jobs(
        self, queue: str, state: str = "ready", offset: int = 0, limit: int = 100
    ) -> dict:
        """A page of a queue's jobs in one state (see L{Client.jobs})."""
        return await self._send(R.jobs(queue, state, offset, limit))

    async def make_ready(self, queue: str, job_id: str) -> dict:
        """Run a delayed job or a dead letter now (see L{Client.make_ready})."""
        return await self._send(R.move_job(queue, job_id, "ready"))

    async def send_to_dead(self, queue: str, job_id: str, error: str | None = None) -> dict:
        """Send a job to the dead letters at once (see L{Client.send_to_dead})."""
        return await self._send(R.move_job(queue, job_id, "dead", error))

    async def remove_job(self, queue: str, job_id: str, force: bool = False) -> None:
        """Cancel a job (see L{Client.remove_job})."""
        await self._send(R.remove_job(queue, job_id, force))

    async def summary(self) -> dict:
        """Every queue at a glance (see L{Client.summary})."""
        return await self._send(R.summary())

    async def purge(self, queue: str) -> None:
        """Drop every job of a queue (see L{Client.purge})."""
        await self._send(R.purge(queue))

    async def set_virtual(self, name: str, queues: Iterable[str]) -> dict:
        """Define a virtual queue (see L{Client.set_virtual})."""
        return await self._send(R.set_virtual(name, list(queues)))

    async def schedules(self, offset: int = 0, limit: int = 100) -> list[dict]:
        """A page of the schedules (see L{Client.schedules})."""
        return await self._send(R.schedules(offset, limit))

    async def put_schedule(self, name: str, **definition: Any) -> dict:
        """Write a schedule (see L{Client.put_schedule})."""
        return await self._send(R.put_schedule(name, definition))

    async def pause_schedule(self, name: str) -> dict:
        """Pause a schedule (see L{Client.pause_schedule})."""
        return await self._send(R.schedule_action(name, "pause"))

    async def resume_schedule(self, name: str) -> dict:
        """Resume a schedule (see L{Client.resume_schedule})."""
        return await self._send(R.schedule_action(name, "resume"))

    async def delete_schedule(self, name: str) -> None:
        """Delete a schedule (see L{Client.delete_schedule})."""
        await self._send(R.schedule_action(name, "delete"))

    async def register(self, queue: str) -> None:
        """Register this client's worker id on a queue (see L{Client.register})."""
        await self._send(R.register(queue, True))

    async def unregister(self, queue: str) -> None:
        """Unregister this client's worker id from a queue (see L{Client.unregister})."""
        await self._send(R.register(queue, False))
