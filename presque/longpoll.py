"""
Long polling: requests that wait (C{?wait=S}) for a job to arrive, and
streams that wait for one of their jobs to be settled.

Waiting requests are kept in memory, per queue, first come first served.
Each queue with waiters is subscribed to its wake channel, on which the
scripts publish whenever jobs become ready (on any server sharing the
Redis). A wake-up lets the first waiter try again; one that gets a job
wakes the next, since there may be more. No Redis command is spent while
nothing happens: idle waiters cost a timer each. Nothing is kept about a
queue once nobody waits on it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from itertools import count
from typing import Any

from twisted.internet import defer

from presque.broker import Delivery
from presque.broker.keys import KeySpace
from presque.pubsub import Subscriber
from presque.redis import RedisUnavailable
from presque.redis_url import RedisAddress


class Departure:
    """Something that goes away once, such as a client: tells those who watch it."""

    def __init__(self) -> None:
        self.happened = False
        self._watchers: dict[int, Callable[[], None]] = {}
        self._ids = count()

    @classmethod
    def of_request(cls, request: Any) -> Departure:
        """The departure of C{request}'s client before its answer is written."""
        departure = cls()
        request.notifyFinish().addErrback(lambda _: departure.happen())
        return departure

    def watch(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call C{callback} when it happens (at once if it did); returns what stops watching."""
        if self.happened:
            callback()
            return _nothing
        key = next(self._ids)
        self._watchers[key] = callback

        def unwatch() -> None:
            self._watchers.pop(key, None)

        return unwatch

    def happen(self) -> None:
        """It happened: tell every watcher, once."""
        if self.happened:
            return
        self.happened = True
        watchers, self._watchers = self._watchers, {}
        for callback in watchers.values():
            callback()


def _nothing() -> None:
    pass


class LongPoll:
    """The waiting requests and streams of one server."""

    def __init__(self, reactor: Any, keys: KeySpace | None = None) -> None:
        self.reactor = reactor
        #: The deployment's key space, whose channels alone it hears: the
        #: wake-ups of another prefix on the same Redis are not its own.
        self.keys = keys or KeySpace()
        self.subscriber: Subscriber | None = None
        # Each queue's line of waiting requests, first come first served; a
        # request stays in line while it tries a fetch after a wake-up.
        self._lines: dict[str, deque[_Place]] = {}
        # The queues whose wake-ups concern each line (itself, or the members
        # of a virtual queue), and the lines each such queue's wake-ups
        # concern: a queue's channel is subscribed while any line hears it.
        self._sources: dict[str, tuple[str, ...]] = {}
        self._heard_by: dict[str, set[str]] = {}
        # Requests waiting for a message on a queue's channel of a kind
        # (settled, finished), by kind and queue, then by what they wait for:
        # "" for any message, else that message (a job id).
        self._watchers: dict[tuple[str, str], dict[str, list[defer.Deferred[None]]]] = {}
        # The last wake-up of each queue with a line, as a number never used
        # before: a waiter that saw it change since its last try knows to try
        # again before sleeping. Dropped with the line.
        self._woken: dict[str, int] = {}
        self._wakes = count(1)
        self._closed = False

    def listen(self, address: RedisAddress, tls: Any = None) -> None:
        """Start hearing wake-ups from the Redis at C{address} (over C{tls}, if given)."""
        self.subscriber = Subscriber(address, self.reactor, self.woken, self.wake_all, tls)
        for queue in self._heard_by:
            self.subscriber.subscribe(self.keys.queue(queue).wake)
        for kind, queue in self._watchers:
            self.subscriber.subscribe(self._channel(queue, kind))
        self.subscriber.start()

    def move_to(self, address: RedisAddress, tls: Any = None) -> None:
        """
        Hear wake-ups from the Redis at C{address} from now on (a new master),
        listening there first if it did not listen yet. Every waiter tries
        again once it hears there: what was published meanwhile is lost.
        """
        if self.subscriber is None:
            self.listen(address, tls)
        else:
            self.subscriber.move_to(address, tls)

    def stop(self) -> defer.Deferred[None]:
        """Answer every waiter (no job), let no new one wait, stop listening."""
        self.close()
        subscriber, self.subscriber = self.subscriber, None
        return subscriber.stop() if subscriber else defer.succeed(None)

    def waiting(self, queue: str | None = None) -> int:
        """How many requests wait (on C{queue}, or on all queues)."""
        if queue is not None:
            return len(self._lines.get(queue, ()))
        return sum(len(line) for line in self._lines.values())

    def tracked(self) -> int:
        """How many queues this server keeps anything about (waiters, watchers, wake-ups)."""
        watched = {queue for _, queue in self._watchers}
        return len(self._lines.keys() | watched | self._woken.keys())

    async def take(
        self,
        queue: str,
        wait: float,
        fetch: Callable[[], Awaitable[Delivery]],
        departure: Departure,
        sources: Sequence[str] = (),
    ) -> Delivery:
        """
        C{fetch()} until it hands out jobs or C{wait} seconds pass, sleeping
        between tries until the queue (or one of C{sources}, the members of
        a virtual queue) is woken. The wait ends at once when C{departure}
        happens.
        """
        seen = self._woken.get(queue, 0)
        delivery = await fetch()
        if delivery.jobs or wait <= 0 or self._closed or departure.happened:
            return delivery
        place = _Place(queue, self.reactor.seconds() + wait)
        place.held = bool(delivery.held)
        self._join(place, tuple(sources) or (queue,))
        unwatch = departure.watch(lambda: self._leave(place))
        try:
            while not (self._closed or place.gone):
                unchanged = self._woken.get(queue, 0) == seen
                if unchanged and not await self._sleep(place, delivery.retry_after):
                    break
                seen = self._woken.get(queue, 0)
                try:
                    delivery = await fetch()
                except RedisUnavailable:
                    # Woken by the pub/sub connection coming back before the
                    # pool did: the next wake-up comes once jobs can be posted.
                    continue
                place.held = bool(delivery.held)
                if delivery.jobs:
                    break
        finally:
            unwatch()
            self._depart(place)
        if delivery.jobs:
            # There may be more: the next in line tries too.
            self._wake_first(queue)
        return delivery

    def _join(self, place: _Place, sources: tuple[str, ...]) -> None:
        line = self._lines.get(place.queue)
        if line is None:
            line = self._lines[place.queue] = deque()
            self._sources[place.queue] = sources
            for source in sources:
                self._hear(source, place.queue)
        line.append(place)

    def _hear(self, source: str, queue: str) -> None:
        heard = self._heard_by.setdefault(source, set())
        heard.add(queue)
        if len(heard) == 1 and self.subscriber is not None:
            # A job posted before Redis confirms goes unheard: look again then.
            subscribed = self.subscriber.subscribe(self.keys.queue(source).wake)
            subscribed.addCallback(lambda _: self._recheck(source))

    def _stop_hearing(self, source: str, queue: str) -> None:
        heard = self._heard_by.get(source, set())
        heard.discard(queue)
        if not heard:
            self._heard_by.pop(source, None)
            if self.subscriber is not None:
                self.subscriber.unsubscribe(self.keys.queue(source).wake)

    def _depart(self, place: _Place) -> None:
        line = self._lines.get(place.queue)
        if line is None or place not in line:
            return
        first = line[0] is place
        line.remove(place)
        if first and line and place.held:
            # The timer of the queue's rate went with it: the next in line
            # tries now, and learns when to try again.
            self._rouse(line[0], True)
        if not line:
            del self._lines[place.queue]
            self._woken.pop(place.queue, None)
            for source in self._sources.pop(place.queue, ()):
                self._stop_hearing(source, place.queue)

    def _sleep(self, place: _Place, retry_after: float | None) -> defer.Deferred[bool]:
        """
        Fires True when woken or, for the first in line, after C{retry_after}
        seconds (when the queue's rate lets a job out: those behind it wait
        their turn rather than all try at once), False at the deadline, on
        shutdown or when gone.
        """
        woken: defer.Deferred[bool] = defer.Deferred()
        place.sleeping = woken
        delay = max(0.0, place.deadline - self.reactor.seconds())
        line = self._lines.get(place.queue)
        first = bool(line) and line[0] is place
        if first and retry_after is not None and retry_after < delay:
            timer = self.reactor.callLater(retry_after, self._rouse, place, True)
        else:
            timer = self.reactor.callLater(delay, self._leave, place)
        return woken.addBoth(lambda result: _cancel(timer) or result)

    def _leave(self, place: _Place) -> None:
        """The deadline passed, the client went away or the server stops."""
        place.gone = True
        self._rouse(place, False)

    def _rouse(self, place: _Place, woken: bool) -> None:
        sleeping, place.sleeping = place.sleeping, None
        if sleeping is not None and not sleeping.called:
            sleeping.callback(woken)

    def _wake_first(self, queue: str) -> None:
        # The first in line tries; if it is trying already, it will see the
        # new wake-up and try again, so nobody overtakes it.
        line = self._lines.get(queue)
        if line:
            self._rouse(line[0], True)

    def _recheck(self, source: str) -> None:
        """Jobs became ready in C{source}: the lines that hear it try again."""
        for queue in list(self._heard_by.get(source, ())):
            if queue in self._lines:
                self._woken[queue] = next(self._wakes)
                self._wake_first(queue)

    def woken(self, channel: str, message: bytes = b"") -> None:
        """
        A message on a channel: jobs became ready in its queue (wake), a
        leased job of it was settled (settled), or the job named by the
        message was acked or dead-lettered (finished).
        """
        parsed = self.keys.parse_channel(channel)
        if parsed is None:
            return
        queue, kind = parsed
        if kind == "wake":
            self._recheck(queue)
        else:
            self._release(kind, queue, message.decode("ascii", "replace"))

    def settled(self, queue: str, timeout: float, departure: Departure) -> defer.Deferred[None]:
        """
        Fire when a leased job of C{queue} is settled anywhere, after
        C{timeout} seconds, or when C{departure} happens: whichever comes
        first. Streams with a full window wait on this.
        """
        return self._watch("settled", queue, "", timeout, departure)

    def finished(
        self, queue: str, job_id: str, timeout: float, departure: Departure
    ) -> defer.Deferred[None]:
        """
        Fire when job C{job_id} of C{queue} is acked or dead-lettered
        anywhere (or when messages may have been missed), after C{timeout}
        seconds, or when C{departure} happens. Producers waiting for a
        job's outcome wait on this, then look.
        """
        return self._watch("finished", queue, job_id, timeout, departure)

    def _watch(
        self, kind: str, queue: str, subject: str, timeout: float, departure: Departure
    ) -> defer.Deferred[None]:
        subjects = self._watchers.get((kind, queue))
        if subjects is None:
            subjects = self._watchers[(kind, queue)] = {}
            if self.subscriber is not None:
                # A message before Redis confirms goes unheard: look again then.
                subscribed = self.subscriber.subscribe(self._channel(queue, kind))
                subscribed.addCallback(lambda _: self._release(kind, queue, None))
        done: defer.Deferred[None] = defer.Deferred()
        subjects.setdefault(subject, []).append(done)

        def release() -> None:
            if not done.called:
                self._unwatch(kind, queue, subject, done)
                done.callback(None)

        timer = self.reactor.callLater(timeout, release)
        unwatch = departure.watch(release)
        return done.addBoth(lambda result: _cancel(timer) or unwatch() or result)

    def _unwatch(self, kind: str, queue: str, subject: str, done: defer.Deferred[None]) -> None:
        subjects = self._watchers.get((kind, queue), {})
        waiting = subjects.get(subject, [])
        if done in waiting:
            waiting.remove(done)
        if not waiting:
            subjects.pop(subject, None)
        if not subjects and (kind, queue) in self._watchers:
            del self._watchers[(kind, queue)]
            if self.subscriber is not None:
                self.subscriber.unsubscribe(self._channel(queue, kind))

    def _release(self, kind: str, queue: str, message: str | None) -> None:
        """
        Fire the watchers of C{queue}'s C{kind} that C{message} concerns:
        those waiting for any message, and those waiting for it; all of
        them when C{message} is None (messages may have been missed).
        """
        subjects = self._watchers.get((kind, queue), {})
        chosen = list(subjects) if message is None else [s for s in ("", message) if s in subjects]
        for subject in chosen:
            for done in list(subjects.get(subject, ())):
                self._unwatch(kind, queue, subject, done)
                done.callback(None)

    def _channel(self, queue: str, kind: str) -> str:
        """The channel of C{queue} on which the scripts tell of C{kind}."""
        return getattr(self.keys.queue(queue), kind)

    def _release_all(self) -> None:
        for kind, queue in list(self._watchers):
            self._release(kind, queue, None)

    def wake_all(self) -> None:
        """Let every waiter and watcher try again: messages may have been missed."""
        self._release_all()
        for queue, line in list(self._lines.items()):
            self._woken[queue] = next(self._wakes)
            for place in list(line):
                self._rouse(place, True)

    @property
    def closed(self) -> bool:
        """Whether the server is stopping: nobody should start waiting."""
        return self._closed

    def close(self) -> None:
        """Answer every waiter now (no job) and let no new one wait."""
        self._closed = True
        self._release_all()
        for line in list(self._lines.values()):
            for place in list(line):
                self._leave(place)


class _Place:
    """One request's place in a queue's line of waiters."""

    def __init__(self, queue: str, deadline: float) -> None:
        self.queue = queue
        self.deadline = deadline
        self.gone = False
        #: Fired to wake the request while it sleeps; None while it tries.
        self.sleeping: defer.Deferred[bool] | None = None
        #: A limit of the queue held its last try back.
        self.held = False


def _cancel(timer: Any) -> None:
    if timer.active():
        timer.cancel()
