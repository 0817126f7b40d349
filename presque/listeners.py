"""
Where a server accepts connections: endpoints it binds itself
(L{Listener}), or sockets inherited from the daemon by a serving child
(L{InheritedListener}, see L{presque.processes}). Both accept only once
Redis is ready, so that a client of a server that just started waits a
moment in the listen backlog instead of getting a 503.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from twisted.application.service import Service
from twisted.internet import defer
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IListeningPort
from twisted.logger import Logger

from presque.addresses import TCP_ENDPOINTS, endpoint_parts
from presque.config import ServerSettings
from presque.web.site import PresqueSite

log = Logger()


class _Serving(Service):
    """
    Serves C{site} on a port of the endpoint C{description} once C{ready}
    fires; a subclass says where the port comes from.
    """

    def __init__(
        self,
        description: str,
        site: PresqueSite,
        reactor: Any,
        ready: defer.Deferred[None],
        shared: bool = False,
    ) -> None:
        self.description = description
        self.site = site
        self.reactor = reactor
        self.ready = ready
        #: Whether other serving processes accept on the same socket.
        self.shared = shared
        self.port: IListeningPort | None = None

    def _serve_on(self, port: IListeningPort) -> None:
        self.port = port
        if self.shared:
            _accept_one_at_a_time(port)

    def stopService(self) -> defer.Deferred[None] | None:
        super().stopService()
        port, self.port = self.port, None
        return defer.maybeDeferred(port.stopListening) if port is not None else None


class Listener(_Serving):
    """
    Serves C{site} on the endpoint C{description}: bound at start, accepting
    connections once C{ready} fires (they wait in the listen backlog until then).
    """

    def privilegedStartService(self) -> None:
        super().privilegedStartService()
        self._bind()

    def startService(self) -> None:
        super().startService()
        if self.port is None:
            self._bind()

    def _bind(self) -> None:
        endpoint = serverFromString(self.reactor, self.description)
        bound = endpoint.listen(self.site)
        # TCP, UNIX and SSL endpoints listen at once: a failure is raised here.
        failure: list[Any] = []
        bound.addCallbacks(self._bound, failure.append)
        if failure:
            failure[0].raiseException()

    def _bound(self, port: IListeningPort) -> None:
        self._serve_on(port)
        port.stopReading()
        self.ready.addCallback(self._accept)
        log.info("presque listens on {where}", where=_describe(port.getHost()))

    def _accept(self, _: object) -> None:
        if self.port is not None and self.running:
            self.port.startReading()


_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def warn_of_unnamed_hosts(server: ServerSettings) -> None:
    """Say so when presque listens beyond loopback but allows only loopback names."""
    if "*" in server.allowed_hosts or not set(server.allowed_hosts) <= _LOOPBACK:
        return
    for endpoint in server.listen:
        kind, _, options = endpoint_parts(endpoint)
        if kind not in TCP_ENDPOINTS:
            continue
        if options.get("interface", "") not in _LOOPBACK:
            log.warn(
                "presque listens beyond loopback ({endpoint}) but [server] allowed_hosts names"
                " only loopback: requests naming another host get 421; list the names clients"
                " use",
                endpoint=endpoint,
            )
            return


def _describe(address: Any) -> str:
    if hasattr(address, "port"):
        return f"{address.host}:{address.port}"
    return str(getattr(address, "name", address))


class InheritedListener(_Serving):
    """
    Serves C{site} on the listening socket of descriptor C{fd}, inherited
    from the daemon that bound it from the endpoint C{description}.
    """

    def __init__(
        self,
        fd: int,
        description: str,
        site: PresqueSite,
        reactor: Any,
        ready: defer.Deferred[None],
    ) -> None:
        super().__init__(description, site, reactor, ready, shared=True)
        self.fd = fd

    def startService(self) -> None:
        super().startService()
        self.ready.addCallback(self._adopt)

    def _adopt(self, _: object) -> None:
        if not self.running:
            return
        with socket.socket(fileno=os.dup(self.fd)) as inherited:
            family = inherited.family
        self._serve_on(
            self.reactor.adoptStreamPort(self.fd, family, _factory(self.description, self.site))
        )
        # The reactor listens on a copy of the descriptor.
        os.close(self.fd)


def _accept_one_at_a_time(port: Any) -> None:
    """
    Make C{port} accept one connection each time it is ready. Twisted's
    ports accept every connection waiting (up to 100 and more): of the
    processes woken together on a shared socket, the first took a burst of
    new connections whole (49 of 50 measured), and served them alone.
    """
    read = port.doRead

    def read_one() -> None:
        port.numberAccepts = 1
        read()

    port.doRead = read_one


def _factory(description: str, site: PresqueSite) -> Any:
    """C{site}, behind TLS when C{description} is an C{ssl:} endpoint's."""
    if not description.startswith("ssl:"):
        return site
    from twisted.internet import reactor
    from twisted.protocols.tls import TLSMemoryBIOFactory

    endpoint = serverFromString(reactor, description)
    return TLSMemoryBIOFactory(endpoint._sslContextFactory, False, site)
