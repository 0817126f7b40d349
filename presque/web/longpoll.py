"""
Long polling: requests that wait (C{?wait=S}) for a job to arrive.

Waiting requests are kept in memory, per queue, first come first served.
Each queue with waiters is subscribed to its wake channel, on which the
scripts publish whenever jobs become ready (on any server sharing the
Redis). A wake-up lets the first waiter try again; one that gets a job
wakes the next, since there may be more. No Redis command is spent while
nothing happens: idle waiters cost a timer each.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from twisted.internet import defer

from presque.broker import Delivery
from presque.broker.keys import QueueKeys, queue_of_wake_channel
from presque.pubsub import Subscriber
from presque.redis_url import RedisAddress


class LongPoll:
    """The waiting requests of one server."""

    def __init__(self, reactor: Any) -> None:
        self.reactor = reactor
        self.subscriber: Subscriber | None = None
        self._waiters: dict[str, deque[defer.Deferred[bool]]] = {}
        # Bumped on every wake-up of a queue: a waiter that saw it change
        # since its last try knows to try again before sleeping.
        self._generation: dict[str, int] = {}
        self._closed = False

    def listen(self, address: RedisAddress) -> None:
        """Start hearing wake-ups from the Redis at C{address}."""
        self.subscriber = Subscriber(address, self.reactor, self.woken, self.wake_all)
        for queue in self._waiters:
            self.subscriber.subscribe(QueueKeys(queue).wake)
        self.subscriber.start()

    def stop(self) -> defer.Deferred[None]:
        """Answer every waiter (no job), let no new one wait, stop listening."""
        self.close()
        subscriber, self.subscriber = self.subscriber, None
        return subscriber.stop() if subscriber else defer.succeed(None)

    def waiting(self, queue: str | None = None) -> int:
        """How many requests wait (on C{queue}, or on all queues)."""
        if queue is not None:
            return len(self._waiters.get(queue, ()))
        return sum(len(waiters) for waiters in self._waiters.values())

    async def take(
        self,
        queue: str,
        wait: float,
        fetch: Callable[[], Awaitable[Delivery]],
        gone: defer.Deferred[Any],
    ) -> Delivery:
        """
        C{fetch()} until it hands out jobs or C{wait} seconds pass, sleeping
        between tries until the queue is woken. C{gone} fires (or fails) when
        the client goes away, which ends the wait at once.
        """
        generation = self._generation.get(queue, 0)
        delivery = await fetch()
        if delivery.jobs or wait <= 0:
            return delivery
        line = _Place(queue, self.reactor.seconds() + wait)
        gone.addErrback(lambda _: self._leave(line))
        while not (self._closed or line.gone):
            if self._generation.get(queue, 0) == generation and not await self._sleep(line):
                break
            generation = self._generation.get(queue, 0)
            delivery = await fetch()
            if delivery.jobs:
                self._wake_first(queue)
                break
            # Lost the race for that job: keep the place in the line.
            line.front = True
        return delivery

    def _sleep(self, line: _Place) -> defer.Deferred[bool]:
        """Fires True when woken, False at the deadline, on shutdown or when gone."""
        woken: defer.Deferred[bool] = defer.Deferred()
        waiters = self._waiters.get(line.queue)
        if waiters is None:
            waiters = self._waiters[line.queue] = deque()
            if self.subscriber is not None:
                self.subscriber.subscribe(QueueKeys(line.queue).wake)
        if line.front:
            waiters.appendleft(woken)
        else:
            waiters.append(woken)
        line.sleeping = woken
        delay = max(0.0, line.deadline - self.reactor.seconds())
        timer = self.reactor.callLater(delay, self._leave, line)
        return woken.addBoth(lambda result: _cancel(timer) or result)

    def _leave(self, line: _Place) -> None:
        """The deadline passed or the client went away: stop waiting."""
        line.gone = True
        woken, line.sleeping = line.sleeping, None
        if woken is not None and not woken.called:
            self._forget(line.queue, woken)
            woken.callback(False)

    def _forget(self, queue: str, woken: defer.Deferred[bool]) -> None:
        waiters = self._waiters.get(queue)
        if waiters is None:
            return
        waiters.remove(woken)
        if not waiters:
            del self._waiters[queue]
            if self.subscriber is not None:
                self.subscriber.unsubscribe(QueueKeys(queue).wake)

    def _wake_first(self, queue: str) -> None:
        waiters = self._waiters.get(queue)
        if waiters:
            first = waiters[0]
            self._forget(queue, first)
            first.callback(True)

    def woken(self, channel: str) -> None:
        """A message on a wake channel: jobs became ready in its queue."""
        queue = queue_of_wake_channel(channel)
        if queue is not None:
            self._generation[queue] = self._generation.get(queue, 0) + 1
            self._wake_first(queue)

    def wake_all(self) -> None:
        """Let every waiter try again: messages may have been missed."""
        for queue in list(self._waiters):
            self._generation[queue] = self._generation.get(queue, 0) + 1
            for waiter in list(self._waiters.get(queue, ())):
                self._forget(queue, waiter)
                waiter.callback(True)

    def close(self) -> None:
        """Answer every waiter now (no job) and let no new one wait."""
        self._closed = True
        for queue in list(self._waiters):
            for waiter in list(self._waiters.get(queue, ())):
                self._forget(queue, waiter)
                waiter.callback(False)


class _Place:
    """One request's place in a queue's line of waiters."""

    def __init__(self, queue: str, deadline: float) -> None:
        self.queue = queue
        self.deadline = deadline
        self.front = False
        self.gone = False
        self.sleeping: defer.Deferred[bool] | None = None


def _cancel(timer: Any) -> None:
    if timer.active():
        timer.cancel()
