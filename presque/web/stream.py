"""
C{GET /sse/Q?lease=S&prefetch=N}: jobs streamed as Server-Sent Events.

Each event is one leased job: C{id:} its id, C{event: job}, and C{data:}
a JSON object with the job, its receipt, attempt and lease deadline. At most
N jobs of a stream are unsettled at once; the consumer settles them through
the REST routes (ack, fail, extend), and a stream that drops simply leaves
its jobs to expire and be delivered again. Usable with C{curl -N} and a
browser's EventSource.
"""

from __future__ import annotations

import json

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.web.iweb import IRequest
from twisted.web.server import NOT_DONE_YET

from presque.broker import Job, QueueClosed
from presque.redis import RedisUnavailable
from presque.web.inputs import count_arg, seconds_arg, worker_id
from presque.web.resource import ApiResource
from presque.web.responses import ApiError, error_response

log = Logger()

DEFAULT_LEASE = 30.0
MAX_PREFETCH = 100
# A comment line this often keeps proxies from closing an idle stream.
KEEPALIVE = 15.0


class StreamResource(ApiResource):
    """The C{/sse/} route."""

    def render_GET(self, request: IRequest) -> bytes | int:
        try:
            if len(request.postpath) != 1:
                raise ApiError(404, "not found")
            queue = self.limits.queue_name(request.postpath[0].decode("utf-8"))
            lease = seconds_arg(request, b"lease", lowest=0.001) or DEFAULT_LEASE
            prefetch = max(1, count_arg(request, b"prefetch", 1, MAX_PREFETCH))
        except ApiError as error:
            return error_response(request, error.status, error.message)
        request.setHeader(b"Content-Type", b"text/event-stream")
        request.setHeader(b"Cache-Control", b"no-cache")
        request.write(b"retry: 1000\n\n")
        gone: Deferred[None] = Deferred()
        request.notifyFinish().addBoth(lambda _: gone.called or gone.callback(None))
        stream = _Stream(self, request, queue, lease, prefetch, gone)
        Deferred.fromCoroutine(stream.run()).addBoth(lambda _: stream.end())
        return NOT_DONE_YET


class _Stream:
    def __init__(
        self,
        resource: StreamResource,
        request: IRequest,
        queue: str,
        lease: float,
        prefetch: int,
        gone: Deferred[None],
    ) -> None:
        self.broker = resource.broker
        self.longpoll = resource.longpoll
        self.request = request
        self.queue = queue
        self.lease = lease
        self.prefetch = prefetch
        self.gone = gone
        self.unsettled: list[Job] = []

    async def run(self) -> None:
        while not (self.gone.called or self.longpoll.closed):
            try:
                await self._step()
            except QueueClosed:
                self._send(b"event: closed\ndata: {}\n\n")
                return
            except RedisUnavailable:
                self._send(b": redis is unavailable\n\n")
                return

    async def _step(self) -> None:
        current = await self.broker.still_current(self.queue, self.unsettled)
        self.unsettled = [job for job in self.unsettled if job.id in current]
        free = self.prefetch - len(self.unsettled)
        if free <= 0:
            await self.longpoll.settled(self.queue, min(self.lease, KEEPALIVE), self.gone)
            return
        worker = worker_id(self.request)

        def fetch() -> Deferred:
            return Deferred.fromCoroutine(
                self.broker.fetch(self.queue, free, worker, lease=self.lease)
            )

        delivery = await self.longpoll.take(self.queue, KEEPALIVE, fetch, self.gone)
        if not delivery.jobs:
            self._send(b": keepalive\n\n")
            return
        for job in delivery.jobs:
            self.unsettled.append(job)
            self._send(_event(job, delivery.lease_expires))

    def _send(self, data: bytes) -> None:
        if not self.gone.called:
            self.request.write(data)

    def end(self) -> None:
        if not self.gone.called:
            self.request.finish()


def _event(job: Job, lease_expires: float | None) -> bytes:
    data = {
        "id": job.id,
        "receipt": job.receipt,
        "attempt": job.attempt,
        "lease_expires": lease_expires,
        "job": json.loads(job.payload),
    }
    return b"id: %s\nevent: job\ndata: %s\n\n" % (
        job.id.encode("ascii"),
        json.dumps(data, separators=(",", ":")).encode("utf-8"),
    )
