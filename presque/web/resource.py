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

from presque.broker import Broker
from presque.web.inputs import Limits
from presque.web.responses import ApiError, error_response, failure_response

Handler = Callable[[IRequest, str], Coroutine[Any, Any, bytes]]


class QueueResource(Resource):
    """
    C{/<prefix>/<queue>}: dispatches on the method to the coroutines that
    L{handlers} returns, with the queue name checked.
    """

    isLeaf = True

    def __init__(self, broker: Broker, limits: Limits) -> None:
        super().__init__()
        self.broker = broker
        self.limits = limits
        self._handlers = self.handlers()
        self._allow = b", ".join(sorted(self._handlers))

    def handlers(self) -> dict[bytes, Handler]:
        """The handler coroutine of each method."""
        raise NotImplementedError

    def render(self, request: IRequest) -> bytes | int:
        if len(request.postpath) != 1:
            return error_response(request, 404, "not found")
        handler = self._handlers.get(request.method)
        if handler is None:
            request.setHeader(b"Allow", self._allow)
            return error_response(request, 405, "method not allowed")
        try:
            queue = self.limits.queue_name(request.postpath[0].decode("utf-8"))
        except ApiError as error:
            return error_response(request, error.status, error.message)
        answer = Deferred.fromCoroutine(handler(request, queue))
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
