"""
The HTTP site: request body limits, an access log through twisted.logger,
and the count of requests in flight that a graceful stop waits for.
"""

from __future__ import annotations

import time
from urllib.parse import unquote_to_bytes

from twisted.internet import defer
from twisted.logger import Logger
from twisted.web.resource import IResource
from twisted.web.server import Request, Site

from presque.web.responses import JSON_TYPE, encode_json
from presque.web.sightings import Sightings

access_log = Logger(namespace="presque.access")


class PresqueRequest(Request):
    """
    A request that stops storing its body past the site's limit and is
    answered 413 without reaching a route.
    """

    too_large = False
    started = 0.0

    def gotLength(self, length: int | None) -> None:
        self.started = time.monotonic()
        self._body_size = 0
        self.too_large = length is not None and length > self.channel.site.max_body_size
        super().gotLength(None if self.too_large else length)

    def handleContentChunk(self, data: bytes) -> None:
        if self.too_large:
            return
        self._body_size += len(data)
        if self._body_size > self.channel.site.max_body_size:
            self.too_large = True
            self.content.truncate(0)
            return
        super().handleContentChunk(data)

    def process(self) -> None:
        site = self.channel.site
        site.request_started(self)
        refusal = self._refusal(site.max_body_size)
        if refusal is None:
            if site.sightings is not None:
                site.sightings.saw(self)
            super().process()
            return
        # Answered here because no route should see such a request at all.
        self.site = site
        status, message = refusal
        self.setResponseCode(status)
        self.setHeader(b"Content-Type", JSON_TYPE)
        self.write(encode_json({"error": message}))
        self.finish()

    def _refusal(self, max_body_size: int) -> tuple[int, str] | None:
        if self.too_large:
            return 413, f"body is larger than {max_body_size} bytes"
        try:
            unquote_to_bytes(self.path).decode("utf-8")
        except UnicodeDecodeError:
            return 400, "the URL path is not valid UTF-8"
        return None


class PresqueSite(Site):
    """A L{Site} for the presque API."""

    requestFactory = PresqueRequest
    noisy = False

    def __init__(
        self,
        resource: IResource,
        max_body_size: int,
        log_requests: bool = True,
        sightings: Sightings | None = None,
    ) -> None:
        # Form parsing would cost every POST with a Content-Type for nothing.
        super().__init__(resource, parsePOSTFormSubmission=False)
        self.max_body_size = max_body_size
        self.log_requests = log_requests
        self.in_flight = 0
        #: Told of every request, for worker liveness.
        self.sightings = sightings
        self._idle: list[defer.Deferred[None]] = []

    def request_started(self, request: PresqueRequest) -> None:
        """Count C{request} as in flight until it is answered or dropped."""
        self.in_flight += 1
        request.notifyFinish().addBoth(self._request_done)

    def _request_done(self, _: object) -> None:
        self.in_flight -= 1
        if not self.in_flight:
            idle, self._idle = self._idle, []
            for waiter in idle:
                waiter.callback(None)

    def when_idle(self) -> defer.Deferred[None]:
        """Fire once no request is in flight."""
        if not self.in_flight:
            return defer.succeed(None)
        waiter: defer.Deferred[None] = defer.Deferred()
        self._idle.append(waiter)
        return waiter

    def log(self, request: Request) -> None:
        """One line per request, through twisted.logger."""
        if not self.log_requests:
            return
        method = request.method.decode("ascii", "replace")
        uri = request.uri.decode("utf-8", "replace")
        duration_ms = round((time.monotonic() - request.started) * 1000, 2)
        client = request.getClientAddress().host
        line = f"{method} {uri} {request.code} {request.sentLength} {duration_ms}ms {client}"
        # Formatted here, once: twisted.logger's own formatting of several
        # fields costs more than the request. The fields stay in the event
        # for JSON logs.
        access_log.info(
            "{line}",
            line=line,
            method=method,
            uri=uri,
            code=request.code,
            length=request.sentLength,
            duration_ms=duration_ms,
            client=client,
        )
