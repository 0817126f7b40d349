"""
The HTTP site: limits and deadlines on what a client may send, an access
log through twisted.logger, and the count of requests in flight that a
graceful stop waits for.

Twisted answers a request it cannot parse with a bare 400 (or closes the
connection on a line that is too long) before any resource sees it; the
channel here answers those in JSON like every other error: 400 for what
cannot be parsed, 414 for a request line over L{MAX_REQUEST_LINE}, 431 for
headers over L{MAX_HEADERS_SIZE} or L{MAX_HEADERS}, 413 for a body over the
site's limit announced with C{Expect: 100-continue}, and 408 when the headers
or the body do not arrive within their deadlines (a client that trickles a
byte at a time cannot hold a connection for ever).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from twisted.internet import defer
from twisted.internet.address import UNIXAddress
from twisted.logger import Logger
from twisted.web.http import HTTPChannel
from twisted.web.resource import IResource
from twisted.web.server import Request, Site

from presque.logs import ACCESS_LOG_NAMESPACE
from presque.metrics import Metrics

access_log = Logger(namespace=ACCESS_LOG_NAMESPACE)
log = Logger()

#: The longest request line (method, target and version), in bytes.
MAX_REQUEST_LINE = 8192
#: The most bytes of the request line and headers together.
MAX_HEADERS_SIZE = 16384
#: The most header lines of a request.
MAX_HEADERS = 100
#: The longest URI an access log line quotes in full.
MAX_LOGGED_URI = 1024

_REASONS = {
    400: b"Bad Request",
    408: b"Request Timeout",
    413: b"Content Too Large",
    414: b"URI Too Long",
    431: b"Request Header Fields Too Large",
    500: b"Internal Server Error",
}


class PresqueRequest(Request):
    """A request that stops storing its body past the site's limit (answered 413)."""

    too_large = False
    started = 0.0
    #: The template of the route that answered, "" when none did.
    route = ""

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
        self.channel.site.request_started(self)
        super().process()

    def _handleStar(self) -> None:
        # OPTIONS * and the like: answered by the API, in JSON, like any other.
        self.render(self.site.getResourceFor(self))

    def processingFailed(self, reason: Any) -> Any:
        # Never Twisted's HTML page: a JSON 500 (the dispatcher answers every
        # error itself, so this is a bug, logged).
        log.failure("processing {uri} failed", reason, uri=self.uri)
        body = json.dumps({"error": "internal error"}).encode()
        self.setResponseCode(500)
        self.setHeader(b"Content-Type", b"application/json")
        self.setHeader(b"Content-Length", b"%d" % len(body))
        self.write(body)
        self.finish()
        return reason


class PresqueChannel(HTTPChannel):
    """
    An HTTP/1.1 connection with limits and deadlines, whose refusals are
    JSON. The end of what the client sends ends the connection, as Twisted
    has it: a client that half-closes gets no answer, but one that goes away
    is known at once, which waiting requests and streams need (TCP cannot
    tell the two apart).
    """

    MAX_LENGTH = MAX_REQUEST_LINE
    totalHeadersSize = MAX_HEADERS_SIZE
    maxHeaders = MAX_HEADERS

    _deadline: Any = None
    _reading = False
    _refused = False
    _host: Any = None

    def getHost(self) -> Any:
        # Asked for by every request (twisted.web's Request takes it at
        # once), and a system call each time: a connection's own address
        # does not change (measured: 4% of a POST /q).
        if self._host is None:
            self._host = super().getHost()
        return self._host

    def dataReceived(self, data: bytes) -> None:
        if not self._reading and not self._handlingRequest:
            # A new request begins: its headers have their deadline.
            self._reading = True
            self._set_deadline(self.site.header_timeout, "the request headers")
        super().dataReceived(data)

    def lineReceived(self, line: bytes) -> None:
        if self._receivedHeaderSize + len(line) > self.totalHeadersSize:
            self._refuse(431, f"request line and headers are over {self.totalHeadersSize} bytes")
            return
        super().lineReceived(line)

    def headerReceived(self, line: bytes) -> bool:
        if self._receivedHeaderCount >= self.maxHeaders:
            self._refuse(431, f"a request has at most {self.maxHeaders} headers")
            return False
        return super().headerReceived(line)

    def lineLengthExceeded(self, line: bytes) -> None:
        if hasattr(self, "_command"):
            self._refuse(431, f"a header line is over {self.MAX_LENGTH} bytes")
        else:
            self._refuse(414, f"the request line is over {self.MAX_LENGTH} bytes")

    def allHeadersReceived(self) -> None:
        if self._too_large_to_continue():
            # The client waits for a 100 Continue before it sends the body:
            # refused at once, nothing to read. (Any other body over the
            # limit is read and thrown away, then refused: closing on a
            # client still sending would reset the connection, answer and all.)
            self._refuse(413, f"body is larger than {self.site.max_body_size} bytes")
            return
        super().allHeadersReceived()
        self._set_deadline(self.site.body_timeout, "the request body")

    def _too_large_to_continue(self) -> bool:
        expect = self.requests[-1].requestHeaders.getRawHeaders(b"expect") or [b""]
        too_large = self.length is not None and self.length > self.site.max_body_size
        return too_large and expect[0].lower() == b"100-continue"

    def allContentReceived(self) -> None:
        self._set_deadline(None, "")
        self._reading = False
        super().allContentReceived()

    def _respondToBadRequestAndDisconnect(self) -> None:
        self._refuse(400, "the request is not valid HTTP")

    def connectionMade(self) -> None:
        super().connectionMade()
        self.site.channels.add(self)

    def connectionLost(self, reason: Any) -> None:
        self._set_deadline(None, "")
        self.site.channels.discard(self)
        super().connectionLost(reason)

    def stop_keeping_alive(self) -> None:
        """
        Take no more requests: hang up now if none is under way, else once
        its answer is written, which tells the client (C{Connection: close}).
        """
        if not self._handlingRequest:
            self.loseConnection()
            return
        self.persistent = False
        for request in self.requests:
            if not request.startedWriting:
                request.setHeader(b"Connection", b"close")

    def _set_deadline(self, seconds: float | None, what: str) -> None:
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        self._deadline = None
        if seconds:
            self._deadline = self.callLater(seconds, self._too_slow, what, seconds)

    def _too_slow(self, what: str, seconds: float) -> None:
        # Worded here, not when the deadline is set: twice per request.
        self._refuse(408, f"{what} did not arrive within {seconds:g} seconds")

    def _refuse(self, status: int, message: str) -> None:
        """Answer C{status} before any request could be made of what came, and hang up."""
        self._set_deadline(None, "")
        if self.transport is None or self._refused:
            return
        self._refused = True
        body = json.dumps({"error": message}).encode()
        self.transport.write(
            b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n%s" % (status, _REASONS[status], len(body), body)
        )
        self.loseConnection()


class PresqueSite(Site):
    """A L{Site} for the presque API."""

    protocol = PresqueChannel
    requestFactory = PresqueRequest
    noisy = False
    displayTracebacks = False

    def __init__(
        self,
        resource: IResource,
        max_body_size: int,
        log_requests: bool = True,
        idle_timeout: float = 60.0,
        header_timeout: float = 10.0,
        body_timeout: float = 60.0,
        metrics: Metrics | None = None,
        access_lines: Callable[[str], None] | None = None,
    ) -> None:
        # Form parsing would cost every POST with a Content-Type for nothing.
        super().__init__(resource, parsePOSTFormSubmission=False, timeout=idle_timeout)
        self.max_body_size = max_body_size
        self.log_requests = log_requests
        #: Where the access lines go as text (L{presque.logs.TextLog}), if
        #: not as twisted.logger events.
        self.access_lines = access_lines
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.metrics = metrics or Metrics()
        self.in_flight = 0
        self._idle: list[defer.Deferred[None]] = []
        #: The open connections, which a stop stops keeping alive.
        self.channels: set[PresqueChannel] = set()

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

    def stop_keeping_alive(self) -> None:
        """
        A stop began: every connection ends after the request it is serving,
        if any, so that no new request arrives to find Redis closed.
        """
        for channel in list(self.channels):
            channel.stop_keeping_alive()

    def when_idle(self) -> defer.Deferred[None]:
        """Fire once no request is in flight."""
        if not self.in_flight:
            return defer.succeed(None)
        waiter: defer.Deferred[None] = defer.Deferred()
        self._idle.append(waiter)
        return waiter

    def log(self, request: Request) -> None:
        """One line per request, through twisted.logger, and its time for the metrics."""
        method = request.method.decode("ascii", "replace")
        seconds = time.monotonic() - request.started
        self.metrics.request_answered(request.route, method, request.code, seconds)
        if not self.log_requests:
            return
        uri = request.uri[:MAX_LOGGED_URI].decode("utf-8", "replace")
        if len(request.uri) > MAX_LOGGED_URI:
            uri += "..."
        duration_ms = round(seconds * 1000, 2)
        client = _client_name(request.getClientAddress())
        line = f"{method} {uri} {request.code} {request.sentLength} {duration_ms}ms {client}"
        if self.access_lines is not None:
            self.access_lines(line)
            return
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


def _client_name(address: Any) -> str:
    """The client of a request, for its log line: its host, or C{unix} over a Unix socket."""
    if isinstance(address, UNIXAddress):
        # A client's end of a Unix socket has no name: UNIXAddress(None).
        return "unix"
    return getattr(address, "host", None) or str(address)
