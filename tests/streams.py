"""A raw client of GET /sse/Q, for the tests of streams."""

from __future__ import annotations

import json

from twisted.internet import defer, reactor
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.protocol import Protocol

from tests.support import Http


class EventStream(Protocol):
    """
    A raw HTTP/1.0 client of /sse/ (so the body is not chunked), parsing
    events as they arrive; dropping its connection is what a dying consumer
    does.
    """

    def __init__(self, path: bytes, headers: dict[str, str] | None = None) -> None:
        self.path = path
        self.request_headers = headers or {}
        self.head = b""
        self.headers: dict[str, str] | None = None
        self.buffer = b""
        self.events: list[dict[str, str]] = []
        self.done: defer.Deferred[None] = defer.Deferred()

    def connectionMade(self) -> None:
        lines = "".join(f"{name}: {value}\r\n" for name, value in self.request_headers.items())
        self.transport.write(b"GET " + self.path + b" HTTP/1.0\r\n" + lines.encode() + b"\r\n")

    def dataReceived(self, data: bytes) -> None:
        if self.headers is None:
            self.head += data
            if b"\r\n\r\n" not in self.head:
                return
            head, data = self.head.split(b"\r\n\r\n", 1)
            lines = head.decode().split("\r\n")[1:]
            self.headers = dict(line.split(": ", 1) for line in lines)
        self.buffer += data
        while b"\n\n" in self.buffer:
            block, self.buffer = self.buffer.split(b"\n\n", 1)
            fields = dict(
                line.split(": ", 1) for line in block.decode().splitlines() if ": " in line
            )
            if "event" in fields:
                self.events.append(fields)

    def connectionLost(self, reason: object) -> None:
        self.done.callback(None)

    def jobs(self) -> list[dict]:
        return [json.loads(event["data"]) for event in self.events if event["event"] == "job"]

    def close(self) -> None:
        self.transport.loseConnection()


async def open_stream(
    http: Http, queue: str, headers: dict[str, str] | None = None, **params: str
) -> EventStream:
    port = int(http.base.rsplit(":", 1)[1])
    query = "&".join(f"{name}={value}" for name, value in params.items())
    stream = EventStream(f"/sse/{queue}?{query}".encode(), headers)
    await connectProtocol(TCP4ClientEndpoint(reactor, "127.0.0.1", port), stream)
    return stream
