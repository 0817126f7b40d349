"""
The daemon as a Twisted service tree, built from a L{Config}.

Start order: the embedded redis-server (if any), the Redis pool and the
wake-up subscription, the scheduler, then the listeners. A stop runs the
other way round, one step at a time: stop listening, answer the requests
waiting for jobs, let in-flight requests finish (up to the grace period),
stop the scheduler, close Redis, and stop redis-server last.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from twisted.application import strports
from twisted.application.service import IService, MultiService, Service
from twisted.internet import defer
from twisted.logger import Logger

from presque.broker import Broker
from presque.config import Config
from presque.embedded import EmbeddedRedis, require_redis_server
from presque.redis import Redis
from presque.scheduler import Scheduler
from presque.web import build_site
from presque.web.longpoll import LongPoll
from presque.web.site import PresqueSite

log = Logger()


class SequentialMultiService(MultiService):
    """A L{MultiService} that stops its children one after the other, last first."""

    def stopService(self) -> defer.Deferred[None]:
        Service.stopService(self)
        children: list[IService] = list(reversed(list(self)))

        async def stop_in_turn() -> None:
            for child in children:
                try:
                    await defer.maybeDeferred(child.stopService)
                except Exception:
                    log.failure("stopping {child} failed", child=child)

        return defer.Deferred.fromCoroutine(stop_in_turn())


class RedisConnection(Service):
    """
    Opens the Redis pool and the long polls' wake-up subscription (once
    C{ready} fires, if given); closes the pool on stop.
    """

    def __init__(
        self,
        redis: Redis,
        longpoll: LongPoll,
        ready: Callable[[], defer.Deferred[None]] | None = None,
    ) -> None:
        self.redis = redis
        self.longpoll = longpoll
        self.ready = ready

    def startService(self) -> None:
        super().startService()
        if self.ready is None:
            self._connect()
            return
        self.ready().addCallbacks(
            lambda _: self._connect() if self.running else None,
            lambda failure: log.failure("redis did not come up", failure),
        )

    def _connect(self) -> None:
        self.redis.connect()
        self.longpoll.listen(self.redis.address)

    def stopService(self) -> defer.Deferred[None]:
        super().stopService()
        return self.redis.close()


class Waiters(Service):
    """On stop, answers every request waiting for a job, before the drain."""

    def __init__(self, longpoll: LongPoll) -> None:
        self.longpoll = longpoll

    def stopService(self) -> defer.Deferred[None]:
        super().stopService()
        return self.longpoll.stop()


class Drain(Service):
    """On stop, waits for the site's requests in flight, up to C{grace} seconds."""

    def __init__(self, site: PresqueSite, grace: float, reactor: Any) -> None:
        self.site = site
        self.grace = grace
        self.reactor = reactor

    def stopService(self) -> defer.Deferred[None]:
        super().stopService()
        if self.site.in_flight:
            log.info("waiting for {n} requests in flight", n=self.site.in_flight)
        return self.site.when_idle().addTimeout(self.grace, self.reactor).addErrback(_give_up)


def _give_up(failure: Any) -> None:
    failure.trap(defer.TimeoutError)
    log.warn("grace period over; dropping the requests still in flight")


def tune_garbage_collector() -> None:
    """
    Collect cycles less often: each request allocates dozens of short-lived
    Deferreds, and the default gen-0 threshold (700) ran a collection every
    few requests (measured: +15% requests/s on POST and GET /q). What exists
    at start-up is frozen, so full collections skip it.
    """
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def make_service(config: Config, reactor: Any = None) -> MultiService:
    """The whole daemon for C{config}."""
    if reactor is None:
        from twisted.internet import reactor
    root = SequentialMultiService()

    settings = config.redis
    address, ready = settings.address, None
    if address is None:
        embedded = EmbeddedRedis(
            settings.data_dir, settings.appendfsync, reactor, binary=require_redis_server()
        )
        embedded.setServiceParent(root)
        address, ready = embedded.address, embedded.when_ready

    redis = Redis(
        address,
        pool_size=settings.pool_size,
        command_timeout=settings.command_timeout,
        connect_timeout=settings.connect_timeout,
    )
    longpoll = LongPoll(reactor)
    RedisConnection(redis, longpoll, ready).setServiceParent(root)
    broker = Broker(redis, config.queues, config.workers.alive_window)
    Scheduler(broker, config.scheduler.interval, reactor).setServiceParent(root)

    site = build_site(broker, config.server, longpoll)
    Drain(site, config.server.shutdown_grace, reactor).setServiceParent(root)
    Waiters(longpoll).setServiceParent(root)
    for description in config.server.listen:
        listener = strports.service(description, site, reactor=reactor)
        # A port that cannot be bound stops the daemon at start.
        listener._raiseSynchronously = True
        listener.setServiceParent(root)
    return root
