"""
A plain twisted.web resource for the hot job routes.

Klein's routing costs more than presque's own work on a request as small
as "take one job" (werkzeug binds a URL map and IDNA-encodes the host on
every request), so C{/q/} and C{/qb/} are served by this instead. Handlers
are the same kind of coroutine as the Klein routes' and raise the same
errors, answered by the same L{failure_response}.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from twisted.internet.defer import Deferred
from twisted.web.iweb import IRequest
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from presque.broker import Broker, Delivery, QueueClosed
from presque.web.inputs import Limits, seconds_arg, worker_id
from presque.web.longpoll import LongPoll
from presque.web.responses import ApiError, error_response, failure_response

Handler = Callable[..., Coroutine[Any, Any, bytes]]

#: The path below the queue name: () for C{/q/Q}, (JOB,) for C{/q/Q/<id>},
#: (JOB, "lease") for C{/q/Q/<id>/lease}.
Path = tuple[str, ...]
JOB = "<id>"


class ApiResource(Resource):
    """A plain resource of the API, over the broker and the long polls."""

    isLeaf = True

    def __init__(self, broker: Broker, limits: Limits, longpoll: LongPoll) -> None:
        super().__init__()
        self.broker = broker
        self.limits = limits
        self.longpoll = longpoll


class QueueResource(ApiResource):
    """
    C{/<prefix>/<queue>[/<id>[/...]]}: dispatches on the method and the path
    below the queue to the coroutines that L{handlers} returns, called with
    the request, the checked queue name and the job id if the path has one.
    """

    def __init__(self, broker: Broker, limits: Limits, longpoll: LongPoll) -> None:
        super().__init__(broker, limits, longpoll)
        self._handlers = self.handlers()

    def handlers(self) -> dict[tuple[bytes, Path], Handler]:
        """The handler coroutine of each (method, path below the queue)."""
        raise NotImplementedError

    async def deliver(self, request: IRequest, queue: str, count: int) -> Delivery:
        """
        Up to C{count} jobs of C{queue}: leased with C{lease=S}, waited for
        up to C{wait=S} seconds; or the 404 of a fetch that hands out none.
        """
        lease = seconds_arg(request, b"lease")
        worker = worker_id(request)

        def fetch() -> Deferred[Delivery]:
            return Deferred.fromCoroutine(self.broker.fetch(queue, count, worker, lease=lease))

        wait = min(seconds_arg(request, b"wait") or 0.0, self.limits.max_wait)
        try:
            if wait > 0:
                delivery = await self.longpoll.take(queue, wait, fetch, request.notifyFinish())
            else:
                # The hot path of presque 1's clients: no detour through the waiters.
                delivery = await self.broker.fetch(queue, count, worker, lease=lease)
        except QueueClosed:
            raise ApiError(404, "queue is closed") from None
        if not delivery.jobs:
            raise ApiError(404, "no job")
        if delivery.lease_expires is not None:
            request.setHeader(b"X-Presque-Lease-Expires", f"{delivery.lease_expires:.3f}")
        return delivery

    def render(self, request: IRequest) -> bytes | int:
        name, *below = request.postpath or [b""]
        path = tuple(JOB if i == 0 else part.decode("utf-8") for i, part in enumerate(below))
        handler = self._handlers.get((request.method, path))
        if handler is None:
            allowed = sorted(method for method, known in self._handlers if known == path)
            if not allowed:
                return error_response(request, 404, "not found")
            request.setHeader(b"Allow", b", ".join(allowed))
            return error_response(request, 405, "method not allowed")
        try:
            queue = self.limits.queue_name(name.decode("utf-8"))
        except ApiError as error:
            return error_response(request, error.status, error.message)
        job_ids = [below[0].decode("utf-8")] if below else []
        answer = Deferred.fromCoroutine(handler(request, queue, *job_ids))
        answer.addErrback(lambda failure: failure_response(request, failure))
        answer.addCallback(lambda body: _finish(request, body))
        return NOT_DONE_YET


def _finish(request: IRequest, body: bytes) -> None:
    if request.channel is None:
        # The client went away while Redis answered.
        return
    if request.code != 204:
        # A length instead of chunked encoding: one less chunk to frame.
        request.setHeader(b"Content-Length", b"%d" % len(body))
    request.write(body)
    request.finish()
