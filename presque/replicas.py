"""
Waiting for replicas (Redis' WAIT) after the writes of a connection, as a
group: one WAIT confirms every write that connection sent before it.

WAIT blocks its connection in Redis, so the scripts sent behind it run only
once it returns; answering each script with its own WAIT would make every
write wait for its own round trip to the replicas. Instead, the scripts
answered while a WAIT is out share the next one (a group commit).
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from twisted.internet import defer
from twisted.python.failure import Failure


class NotReplicated(Exception):
    """
    A change was made on the master but fewer replicas than C{min_replicas}
    confirmed it in time: it may be lost if the master is lost now.
    """


class ReplicaWaits:
    """The WAITs of one connection: L{confirm} after each of its writes."""

    def __init__(self, connection: Any, replicas: int, timeout: float) -> None:
        self._connection = connection
        self._replicas = replicas
        self._timeout = timeout
        self._out = False
        self._next: list[defer.Deferred[None]] = []

    def confirm(self) -> defer.Deferred[None]:
        """
        Fires once enough replicas have every write sent so far.

        @raise NotReplicated: too few of them confirmed within the timeout.
        """
        confirmed: defer.Deferred[None] = defer.Deferred()
        self._next.append(confirmed)
        if not self._out:
            self._send()
        return confirmed

    def _send(self) -> None:
        waiting, self._next = self._next, []
        self._out = True
        millis = max(1, round(self._timeout * 1000))
        sent = self._connection.execute_command("WAIT", self._replicas, millis)
        sent.addBoth(self._answered, waiting)

    def _answered(self, reply: Any, waiting: list[defer.Deferred[None]]) -> None:
        self._out = False
        if not isinstance(reply, Failure) and int(reply) < self._replicas:
            reply = Failure(
                NotReplicated(
                    f"{int(reply)} of the {self._replicas} replicas needed confirmed the change"
                    f" within {self._timeout:g} s"
                )
            )
        for confirmed in waiting:
            if isinstance(reply, Failure):
                confirmed.errback(reply)
            else:
                confirmed.callback(None)
        if self._next:
            self._send()


_WAITS: WeakKeyDictionary[Any, ReplicaWaits] = WeakKeyDictionary()


def waits_of(connection: Any, replicas: int, timeout: float) -> ReplicaWaits:
    """The L{ReplicaWaits} of C{connection}, made on its first write."""
    waits = _WAITS.get(connection)
    if waits is None:
        waits = _WAITS[connection] = ReplicaWaits(connection, replicas, timeout)
    return waits
