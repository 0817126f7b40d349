"""
C{GET /sse/Q?lease=S&prefetch=N}: jobs streamed as Server-Sent Events.

Each event is one leased job: C{id:} its id, C{event: job}, and C{data:}
a JSON object with the job, its receipt, attempt and lease deadline. At most
N jobs of a stream are unsettled at once; the consumer settles them through
the REST routes (ack, fail, extend). A stream that drops leaves the jobs it
had sent to their leases, and gives back at once those it could not send.
A client that does not read pauses its stream: the jobs fetched for it that
its transport would have to hold go back at once, so at most a buffer's
worth (and one job) waits in memory for a stream.
Usable with C{curl -N} and a browser's EventSource.
"""

from __future__ import annotations

import re
from dataclasses import replace

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IPushProducer
from twisted.web.iweb import IRequest
from zope.interface import implementer

from presque.broker import Broker, Delivery, Job, QueueClosed
from presque.longpoll import Departure, LongPoll
from presque.redis import RedisUnavailable
from presque.web.answers import STREAMED, Answer
from presque.web.context import Context, Resource
from presque.web.errors import ApiError
from presque.web.inputs import PREFETCH, STREAM_LEASE, WORKER
from presque.web.jsontext import spliced
from presque.web.routing import Call, Route

# A comment line this often keeps proxies from closing an idle stream.
KEEPALIVE = 15.0


class Streams(Resource):
    """The C{/sse/} route."""

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        #: Streams open now.
        self.open = 0

    def routes(self) -> list[Route]:
        return [
            Route(
                "GET",
                "/sse/{queue}",
                self.stream,
                "Stream leased jobs as Server-Sent Events.",
                args=(STREAM_LEASE, PREFETCH),
                headers=(WORKER,),
                answers={200: ("A stream of events (text/event-stream).", None)},
                sighting="queue",
                scope="consume",
            )
        ]

    async def stream(self, call: Call) -> Answer:
        if self.broker.members(call.queue) is not None:
            raise ApiError(400, "a virtual queue is not streamed: stream its queues")
        request = call.request
        lease, prefetch = STREAM_LEASE.read(request), PREFETCH.read(request)
        request.setHeader(b"Content-Type", b"text/event-stream")
        request.setHeader(b"Cache-Control", b"no-cache")
        request.write(b"retry: 1000\n\n")
        stream = _Stream(self.context, call, lease, prefetch)
        request.registerProducer(stream, True)
        self.open += 1
        Deferred.fromCoroutine(stream.run()).addBoth(lambda _: self._ended(stream))
        return STREAMED

    def _ended(self, stream: _Stream) -> None:
        self.open -= 1
        stream.end()


@implementer(IPushProducer)
class _Stream:
    def __init__(self, context: Context, call: Call, lease: float, prefetch: int) -> None:
        self.broker: Broker = context.broker
        self.longpoll: LongPoll = context.longpoll
        self.request: IRequest = call.request
        self.queue = call.queue
        self.worker = call.worker
        self.lease = lease
        self.prefetch = prefetch
        self.departure = Departure.of_request(call.request)
        self.unsettled: list[Job] = []
        self._resumed: Deferred[None] | None = None

    # The transport pauses the stream while the client does not read.
    def pauseProducing(self) -> None:
        if self._resumed is None:
            self._resumed = Deferred()

    def resumeProducing(self) -> None:
        resumed, self._resumed = self._resumed, None
        if resumed is not None:
            resumed.callback(None)

    def stopProducing(self) -> None:
        self.departure.happen()
        self.resumeProducing()

    async def run(self) -> None:
        while not (self.departure.happened or self.longpoll.closed):
            if self._resumed is not None:
                await self._resumed
                continue
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
            await self.longpoll.settled(self.queue, min(self.lease, KEEPALIVE), self.departure)
            return

        def fetch() -> Deferred[Delivery]:
            return Deferred.fromCoroutine(
                self.broker.fetch(self.queue, free, self.worker, lease=self.lease)
            )

        delivery = await self.longpoll.take(self.queue, KEEPALIVE, fetch, self.departure)
        if not delivery.jobs:
            self._send(b": keepalive\n\n")
            return
        for sent, job in enumerate(delivery.jobs):
            if self.departure.happened or self._resumed is not None:
                # Gone, or not reading: what was not sent goes back at once,
                # rather than wait in memory (or in its lease) for nobody.
                unsent = replace(delivery, jobs=delivery.jobs[sent:])
                await self.broker.undelivered(unsent)
                return
            self.unsettled.append(job)
            self._send(_event(job, delivery.lease_expires))

    def _send(self, data: bytes) -> None:
        if not self.departure.happened:
            self.request.write(data)

    def end(self) -> None:
        # The stream, its request and its transport hold one another: let go
        # of the jobs now rather than when the collector comes round.
        self.unsettled = []
        if not self.departure.happened:
            self.request.unregisterProducer()
            self.request.finish()


def _event(job: Job, lease_expires: float | None) -> bytes:
    data = spliced(
        {
            "id": job.id,
            "receipt": job.receipt,
            "attempt": job.attempt,
            "lease_expires": lease_expires,
        },
        "job",
        job.payload,
    )
    # A job posted over several lines has line breaks only between its
    # tokens (JSON strings cannot hold them raw): one data line each, which
    # the client joins back with newlines into the same JSON.
    lines = b"".join(b"data: %s\n" % line for line in _LINE_BREAK.split(data))
    return b"id: %s\nevent: job\n%s\n" % (job.id.encode("ascii"), lines)


_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
