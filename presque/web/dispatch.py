"""
The one resource of the API: every request, whatever its method and path,
goes through L{Api.render}, which finds its route, runs it, and writes its
answer, or the answer to its error from L{presque.web.errors}. So every
route checks names, answers 404, 405 and 413, and tells the broker whether
the jobs it handed out reached their client, the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.http import RESPONSES
from twisted.web.iweb import IRequest
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from presque.broker import Broker
from presque.web.access import Access, record
from presque.web.answers import STREAMED, Answer
from presque.web.errors import ApiError, error_answer
from presque.web.inputs import worker_id
from presque.web.routing import Call, Router
from presque.web.sightings import Sightings

log = Logger()


class Api(Resource):
    """Serves every route of C{router}."""

    isLeaf = True

    def __init__(
        self,
        router: Router,
        broker: Broker,
        sightings: Sightings | None = None,
        access: Access | None = None,
    ) -> None:
        super().__init__()
        self.router = router
        self.broker = broker
        self.sightings = sightings
        self.access = access or Access(None)

    def render(self, request: IRequest) -> int:
        Deferred.fromCoroutine(self._serve(request))
        return NOT_DONE_YET

    async def _serve(self, request: IRequest) -> None:
        call: Call | None = None
        try:
            if request.too_large:
                limit = request.channel.site.max_body_size
                raise ApiError(413, f"body is larger than {limit} bytes")
            call = self.router.resolve(request)
            request.route = call.route.path
            self.access.check(request, call)
            call.worker = worker_id(request)
            answer = await call.route.handler(call)
            refusal = False
        except Exception:
            error = error_answer(Failure(), request.uri)
            answer = _error(error.status, error.message, error.headers)
            refusal = error.refusal
        if answer is not STREAMED:
            record(request, call, answer.status)
            self._write(request, answer)
        if call is not None and call.worker and not refusal and self.sightings is not None:
            self._saw(call)

    def _saw(self, call: Call) -> None:
        if call.route.sighting != "none":
            queue = call.queue if call.route.sighting == "queue" else ""
            self.sightings.saw(call.worker, queue)

    def _write(self, request: IRequest, answer: Answer) -> None:
        delivery = answer.delivery
        if request.channel is None:
            # The client went away first: its jobs go back at once.
            if delivery is not None:
                Deferred.fromCoroutine(self.broker.undelivered(delivery)).addErrback(_not_released)
            return
        request.setResponseCode(answer.status, _reason_phrase(answer.status))
        request.setHeader(b"Content-Type", answer.content_type)
        for name, value in (*answer.headers.items(), *self.access.cors_headers(request).items()):
            request.setHeader(name, value)
        if answer.status != 204:
            # A length instead of chunked encoding: one less chunk to frame.
            request.setHeader(b"Content-Length", b"%d" % len(answer.body))
        request.write(answer.body)
        request.finish()
        if delivery is not None:
            self.broker.delivered(delivery)


def _reason_phrase(status: int) -> bytes | None:
    # Twisted knows no phrase for some codes (421): the standard library's.
    if status in RESPONSES:
        return None
    try:
        return HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        return None


def _error(status: int, message: str, headers: Mapping[str, str]) -> Answer:
    # ASCII only, escapes for the rest: an error that quotes the request
    # always encodes, whatever it quotes.
    return Answer(status, json.dumps({"error": message}).encode("ascii"), dict(headers))


def _not_released(failure: Failure) -> None:
    # The jobs stay handed out until their deadline, then come back.
    log.warn(
        "the jobs of a client that went away were not given back at once: {reason}",
        reason=failure.getErrorMessage(),
    )
