"""
Redis Sentinel: which server is the master now, and following it when it moves.

Every sentinel is asked in turn (the first that answers names the master)
at start and every C{interval} seconds, and every sentinel's C{+switch-master}
announcements are heard, so a failover is followed as soon as any sentinel
tells it, and a missed announcement (a sentinel that restarted, a lost
connection) within one interval. The owner is told each new master; it moves
its pool and its wake-ups there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from twisted.internet import defer
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from presque.pubsub import Subscriber
from presque.redis import Redis, RedisRefused, RedisUnavailable
from presque.redis_url import RedisAddress

log = Logger()

#: The channel on which sentinels announce a new master:
#: "<name> <old ip> <old port> <new ip> <new port>".
SWITCH_MASTER = "+switch-master"


class SentinelWatch:
    """
    Finds the master named C{master_name} through C{sentinels} and calls
    C{follow(host, port)} whenever it is another server than the last one.
    """

    def __init__(
        self,
        sentinels: Sequence[RedisAddress],
        master_name: str,
        reactor: Any,
        follow: Callable[[str, int], None],
        interval: float = 1.0,
        command_timeout: float = 1.0,
        connect_timeout: float = 1.0,
    ) -> None:
        self.master_name = master_name
        self.reactor = reactor
        self.follow = follow
        self.interval = interval
        #: The master's (host, port) as last followed, None until one is known.
        self.master: tuple[str, int] | None = None
        #: Fires once a master is known (at once if one already is).
        self.found: defer.Deferred[None] = defer.Deferred()
        self._askers = [
            Redis(
                address,
                pool_size=1,
                command_timeout=command_timeout,
                connect_timeout=connect_timeout,
            )
            for address in sentinels
        ]
        self._listeners = [
            Subscriber(address, reactor, self._heard, self._reconnected) for address in sentinels
        ]
        self._loop = LoopingCall(self._check)
        self._loop.clock = reactor

    def start(self) -> None:
        """Ask and listen to every sentinel, until L{stop}."""
        log.info(
            "asking sentinels {where} for the master {name}",
            where=" ".join(f"{asker.address.host}:{asker.address.port}" for asker in self._askers),
            name=self.master_name,
        )
        for asker in self._askers:
            asker.connect()
        for listener in self._listeners:
            listener.subscribe(SWITCH_MASTER)
            listener.start()
        self._loop.start(self.interval, now=True)

    def stop(self) -> defer.Deferred[None]:
        """Stop asking and listening."""
        if self._loop.running:
            self._loop.stop()
        closing = [asker.close() for asker in self._askers]
        closing += [listener.stop() for listener in self._listeners]
        return defer.gatherResults(closing).addCallback(lambda _: None)

    async def ask(self) -> tuple[str, int] | None:
        """The master as the first sentinel that answers names it; None if none does."""
        for asker in self._askers:
            if not asker.connected:
                continue
            try:
                reply = await asker.execute("SENTINEL", "get-master-addr-by-name", self.master_name)
            except (RedisUnavailable, RedisRefused) as error:
                log.debug("sentinel {where}: {error}", where=asker.address.describe(), error=error)
                continue
            if reply:
                host, port = reply
                return host.decode("utf-8"), int(port)
        return None

    def _check(self) -> defer.Deferred[None]:
        async def check() -> None:
            master = await self.ask()
            if master is not None:
                self._switch(master)

        return defer.Deferred.fromCoroutine(check()).addErrback(
            lambda failure: log.failure("asking the sentinels failed", failure)
        )

    def _heard(self, channel: str, message: bytes) -> None:
        words = message.decode("utf-8", "replace").split()
        if channel != SWITCH_MASTER or len(words) != 5 or words[0] != self.master_name:
            return
        if words[4].isdigit():
            self._switch((words[3], int(words[4])))

    def _reconnected(self) -> None:
        # An announcement may have been missed while disconnected.
        if self._loop.running:
            self._check()

    def _switch(self, master: tuple[str, int]) -> None:
        if master == self.master:
            return
        if self.master is None:
            log.info(
                "the redis master {name} is {host}:{port}",
                name=self.master_name,
                host=master[0],
                port=master[1],
            )
        else:
            log.warn(
                "the redis master {name} moved from {old} to {host}:{port}",
                name=self.master_name,
                old=f"{self.master[0]}:{self.master[1]}",
                host=master[0],
                port=master[1],
            )
        self.master = master
        self.follow(*master)
        if not self.found.called:
            self.found.callback(None)
