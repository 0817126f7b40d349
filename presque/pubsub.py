"""
One Redis pub/sub connection per server, for wake-ups that cross servers.

Kept apart from the command pool: a subscribed connection can do nothing
else. It reconnects by itself; subscriptions are not restored by Redis, so
on every (re)connection it subscribes again to every channel it should
hear and tells its owner, which may have missed messages meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.application.internet import ClientService, backoffPolicy
from twisted.internet import defer, protocol
from twisted.internet.endpoints import HostnameEndpoint, UNIXClientEndpoint, wrapClientTLS
from twisted.logger import Logger

from presque.redis_url import RedisAddress

log = Logger()


class Subscriber:
    """
    Hears messages on a changing set of channels and calls C{on_message}
    with each channel name and message; calls C{on_reconnect} after every
    connection.
    """

    def __init__(
        self,
        address: RedisAddress,
        reactor: Any,
        on_message: Callable[[str, bytes], None],
        on_reconnect: Callable[[], None],
        tls: Any = None,
    ) -> None:
        self.address = address
        self.tls = tls
        self.reactor = reactor
        self.on_message = on_message
        self.on_reconnect = on_reconnect
        self.channels: set[str] = set()
        self._protocol: Any = None
        self._service: ClientService | None = None
        self._factory: _SubscriberFactory | None = None

    def start(self) -> None:
        """Connect, and keep reconnecting until L{stop}."""
        if self.address.unix_path:
            endpoint = UNIXClientEndpoint(self.reactor, self.address.unix_path)
        else:
            endpoint = HostnameEndpoint(self.reactor, self.address.host, self.address.port)
            if self.tls is not None:
                endpoint = wrapClientTLS(self.tls, endpoint)
        self._factory = _SubscriberFactory(self)
        self._service = ClientService(
            endpoint,
            self._factory,
            retryPolicy=backoffPolicy(initialDelay=0.1, maxDelay=2.0),
            clock=self.reactor,
        )
        self._service.startService()

    def move_to(self, address: RedisAddress, tls: Any = None) -> None:
        """
        Hear the Redis at C{address} from now on (a new master): reconnect
        there, subscribe again and tell the owner, as after any reconnection.
        """
        if address == self.address and self._service is not None:
            return
        self.address, self.tls = address, tls
        old, self._service, self._protocol = self._service, None, None
        if old is not None:
            old.stopService()
        self.start()

    def stop(self) -> defer.Deferred[None]:
        """Disconnect for good."""
        service, self._service = self._service, None
        return defer.maybeDeferred(service.stopService) if service else defer.succeed(None)

    def subscribe(self, channel: str) -> defer.Deferred[None]:
        """
        Hear C{channel} from now on (and after every reconnection). Fires
        once Redis confirms: messages published before that are not heard.
        """
        if channel in self.channels:
            return defer.succeed(None)
        self.channels.add(channel)
        return self._send("subscribe", channel)

    def unsubscribe(self, channel: str) -> None:
        """Stop hearing C{channel}."""
        if channel in self.channels:
            self.channels.discard(channel)
            self._send("unsubscribe", channel)

    def _send(self, command: str, channel: str) -> defer.Deferred[None]:
        if self._protocol is None:
            # The next connection subscribes to every channel and tells the owner.
            return defer.succeed(None)
        sent = getattr(self._protocol, command)([channel])
        return sent.addCallbacks(lambda _: None, _log_failure, errbackArgs=(command,))

    def _ready(self, connection: Any) -> None:
        if connection.factory is not self._factory:
            return  # a connection to the server heard before a move_to, closing
        self._protocol = connection
        if self.channels:
            connection.subscribe(sorted(self.channels)).addErrback(_log_failure, "subscribe")
        self.on_reconnect()

    def _lost(self, connection: Any) -> None:
        if self._protocol is connection:
            self._protocol = None


def _log_failure(failure: Any, command: str) -> None:
    log.warn("redis {command} failed: {reason}", command=command, reason=failure.getErrorMessage())


class _SubscriberFactory(protocol.Factory):
    noisy = False

    def __init__(self, owner: Subscriber) -> None:
        self.owner = owner

    def buildProtocol(self, addr: Any) -> Any:
        import txredisapi

        owner = self.owner

        class Subscription(txredisapi.SubscriberProtocol):
            def messageReceived(self, pattern: Any, channel: bytes, message: Any) -> None:
                if isinstance(message, str):
                    message = message.encode("utf-8")
                owner.on_message(channel.decode("utf-8"), message)

            def connectionLost(self, reason: Any) -> None:
                owner._lost(self)
                super().connectionLost(reason)

        connection = Subscription(
            charset=None,
            convertNumbers=False,
            password=owner.address.password,
            username=owner.address.username,
        )
        connection.factory = self
        connection.whenConnected().addCallback(owner._ready)
        return connection

    # What txredisapi's protocol asks of its factory when logging in fails.
    def stopTrying(self) -> None:
        log.error("redis refused the subscriber's credentials")

    def connectionError(self, message: str) -> None:
        log.error("{message}", message=message)

    isLazy = True
