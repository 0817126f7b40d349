"""
The daemon as a Twisted service tree, built from a L{Config}.

Start order: the embedded redis-server (if any), the Redis pool and the
wake-up subscription, the scheduler, then the listeners. The listeners bind
their ports at once (a port in use stops the daemon at start) but accept
connections only once Redis answers and knows the scripts, so a client of a
daemon that just started waits a moment instead of getting a 503. A stop
runs the other way round, one step at a time: stop listening, answer the
requests waiting for jobs, let in-flight requests finish (up to the grace
period), stop the scheduler, confirm the deliveries written meanwhile,
close Redis, and stop redis-server last. Under systemd (C{Type=notify}),
the daemon says it is ready once it accepts connections.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from twisted.application.service import IService, MultiService, Service
from twisted.internet import defer
from twisted.logger import Logger

from presque.auth import Authority
from presque.broker import Broker
from presque.broker.keys import KeySpace
from presque.cluster import RedisCluster
from presque.config import Config, RedisSettings
from presque.embedded import EmbeddedRedis, require_redis_server
from presque.listeners import InheritedListener, Listener, warn_of_unnamed_hosts
from presque.logs import TextLog, quiet_reconnection_attempts
from presque.longpoll import LongPoll
from presque.lua import loaded_scripts
from presque.metrics import Metrics
from presque.metrics_share import FiguresFolder, FiguresWriter, remove_left_folders
from presque.processes import FIRST_INHERITED_FD, ChildPlan, ServingProcesses
from presque.redis import Redis
from presque.redis_tls import client_options
from presque.redis_url import RedisAddress
from presque.scheduler import Scheduler
from presque.sentinel import SentinelWatch
from presque.systemd import Notifier, SystemdNotification
from presque.web import build_site
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
    C{started} fires, if given; with C{sentinels}, once they name the master,
    which the sentinels then move from master to master); L{ready} fires
    once Redis answers and knows every script. Closes the pool on stop.
    """

    def __init__(
        self,
        redis: Redis,
        longpoll: LongPoll,
        reactor: Any,
        started: Callable[[], defer.Deferred[None]] | None = None,
        sentinels: SentinelWatch | None = None,
    ) -> None:
        self.redis = redis
        self.longpoll = longpoll
        self.reactor = reactor
        self.started = started
        self.sentinels = sentinels
        #: Fires once Redis is ready to serve.
        self.ready: defer.Deferred[None] = defer.Deferred()

    def startService(self) -> None:
        super().startService()
        if self.started is None:
            self._connect()
            return
        self.started().addCallbacks(
            lambda _: self._connect() if self.running else None,
            lambda failure: log.failure("redis did not come up", failure),
        )

    def _connect(self) -> None:
        if self.sentinels is None:
            self.redis.connect()
            self.longpoll.listen(self.redis.address, self.redis.tls)
            self._until_ready()
        else:
            self.sentinels.start()
            self.sentinels.found.addCallback(lambda _: self._until_ready())

    def _until_ready(self) -> None:
        until = defer.Deferred.fromCoroutine(self.redis.until_ready(loaded_scripts(), self.reactor))
        until.chainDeferred(self.ready)

    def stopService(self) -> defer.Deferred[None]:
        super().stopService()
        if self.sentinels is None:
            return self.redis.close()
        return self.sentinels.stop().addCallback(lambda _: self.redis.close())


class Confirmations(Service):
    """
    On stop, confirms the deliveries whose answers were written and that no
    fetch carried yet: after the drain, before Redis closes, so that a clean
    stop delivers no job twice.
    """

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def stopService(self) -> defer.Deferred[None]:
        super().stopService()
        return self.broker.confirm_deliveries()


def _authority(config: Config) -> Authority | None:
    """The tokens the routes need, or None when they are off; saying what it means."""
    if config.auth.mode == "off":
        if config.tokens:
            log.warn("[auth] mode is off: the [token:NAME] sections are not used, anyone may call")
        return None
    if not config.tokens:
        log.warn("[auth] mode is on with no [token:NAME] section: only the open routes answer")
    else:
        log.info("tokens on: {names}", names=", ".join(token.name for token in config.tokens))
    return Authority(config.tokens)


class Waiters(Service):
    """On stop, answers every request waiting for a job, before the drain."""

    def __init__(self, longpoll: LongPoll) -> None:
        self.longpoll = longpoll

    def stopService(self) -> defer.Deferred[None]:
        super().stopService()
        return self.longpoll.stop()


class Drain(Service):
    """
    On stop, ends the connections kept alive and waits for the site's
    requests in flight, up to C{grace} seconds.
    """

    def __init__(self, site: PresqueSite, grace: float, reactor: Any) -> None:
        self.site = site
        self.grace = grace
        self.reactor = reactor

    def stopService(self) -> defer.Deferred[None]:
        super().stopService()
        self.site.stop_keeping_alive()
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
    few requests (measured: +15% requests/s on POST and GET /q). The older
    generations keep their default ratios (10), so that the cycles of
    requests that lived long (streams, long polls, and the jobs they hold)
    are collected within seconds under load, not hours. What exists at
    start-up is frozen, so full collections skip it.
    """
    gc.freeze()
    gc.set_threshold(100_000, 10, 10)


def _redis_tls(settings: RedisSettings, address: RedisAddress) -> Any:
    if not address.tls:
        return None
    return client_options(
        address.host or "", settings.tls_ca_file, settings.tls_cert_file, settings.tls_key_file
    )


def _sentinels(
    settings: RedisSettings, address: RedisAddress, redis: Redis, longpoll: LongPoll, reactor: Any
) -> SentinelWatch | None:
    """What follows the master through the sentinels, if there are any."""
    if not settings.sentinels:
        return None

    def follow(host: str, port: int) -> None:
        master = replace(address, host=host, port=port)
        tls = _redis_tls(settings, master)
        redis.move_to(master, tls)
        longpoll.move_to(master, tls)

    return SentinelWatch(
        [
            RedisAddress(
                host=host,
                port=port,
                username=settings.sentinel_username,
                password=settings.sentinel_password,
            )
            for host, port in settings.sentinels
        ],
        settings.master_name,
        reactor,
        follow,
        command_timeout=settings.connect_timeout,
        connect_timeout=settings.connect_timeout,
    )


def make_service(
    config: Config, reactor: Any = None, text_log: TextLog | None = None
) -> MultiService:
    """
    The whole daemon for C{config}: with C{[server] processes} above 1, the
    first of its serving processes, which supervises the others. With
    C{text_log}, the daemon's log on standard output, the access lines go
    there as text, and the other processes write their own there too.

    @raise DataDirInUse: another daemon runs the embedded Redis of C{data_dir}.
    @raise BadTLSFiles: the files for TLS to Redis are unusable.
    """
    if reactor is None:
        from twisted.internet import reactor
    root = SequentialMultiService()

    settings = config.redis
    address, started = settings.address, None
    if settings.sentinels or settings.cluster:
        # Where the master is comes from the sentinels or the cluster's map;
        # the url, if any, says how to log in to it.
        address = address or RedisAddress()
    elif address is None:
        embedded = EmbeddedRedis(
            settings.data_dir, settings.appendfsync, reactor, binary=require_redis_server()
        )
        embedded.claim_data_dir()
        embedded.setServiceParent(root)
        address, started = embedded.address, embedded.when_ready
        # The other serving processes talk to the same redis-server.
        config = replace(config, redis=replace(settings, address=address))

    figures = None
    if config.server.processes > 1:
        # Made after removing the folders left by daemons that were killed.
        folder = FiguresFolder.make()
        folder.setServiceParent(root)
        figures = folder.path
    else:
        remove_left_folders()
    site, ready = _serve(config, address, started, reactor, root, figures, True, text_log)
    shared = config.server.processes > 1
    listeners = [
        Listener(description, site, reactor, ready, shared) for description in config.server.listen
    ]
    for listener in listeners:
        listener.setServiceParent(root)
    if figures is not None:
        plan = ChildPlan(config, config.server.listen, figures, os.getpid(), text_log is not None)
        others = ServingProcesses(plan, listeners, config.server.processes - 1, ready, reactor)
        others.setServiceParent(root)
    # Last: ready once every listener accepts, and the first to say a stop began.
    SystemdNotification(Notifier(), ready, reactor).setServiceParent(root)
    quiet_reconnection_attempts()
    return root


def make_child_service(
    plan: ChildPlan, reactor: Any, text_log: TextLog | None = None
) -> MultiService:
    """
    A serving child of a daemon (L{presque.processes}): every route, over
    the sockets it inherited, with no embedded Redis and no due work; its
    access lines go to C{text_log} as text, if given.
    """
    root = SequentialMultiService()
    config = plan.config
    address = config.redis.address or RedisAddress()
    site, ready = _serve(config, address, None, reactor, root, plan.figures, False, text_log)
    for offset, description in enumerate(plan.listen):
        fd = FIRST_INHERITED_FD + offset
        InheritedListener(fd, description, site, reactor, ready).setServiceParent(root)
    quiet_reconnection_attempts()
    return root


def _serve(
    config: Config,
    address: RedisAddress,
    started: Callable[[], defer.Deferred[None]] | None,
    reactor: Any,
    root: MultiService,
    figures: Path | None,
    due_work: bool,
    text_log: TextLog | None,
) -> tuple[PresqueSite, defer.Deferred[None]]:
    """
    What every serving process runs, under C{root}: Redis, the broker, the
    scheduler (with the C{due_work}, or only what each process needs to
    know), the site and its drain, and with C{figures}, the writing of its
    own figures there for the others. Returns the site and when it may
    accept (Redis answers, the scripts and the virtual queues are loaded).
    """
    settings = config.redis
    metrics = Metrics(config.metrics, shared_in=figures)
    if metrics.shared is not None:
        FiguresWriter(metrics.shared, reactor).setServiceParent(root)

    def pool_for(node: RedisAddress) -> Redis:
        return Redis(
            node,
            pool_size=settings.pool_size,
            command_timeout=settings.command_timeout,
            connect_timeout=settings.connect_timeout,
            timed=metrics.redis_called,
            tls=_redis_tls(settings, node),
            min_replicas=settings.min_replicas,
            replica_timeout=settings.replica_timeout,
            reactor=reactor,
        )

    # One key space for the broker and the long polls: they must agree on
    # the channels the scripts publish on.
    keys = KeySpace(settings.prefix)
    longpoll = LongPoll(reactor, keys)
    redis: Redis | RedisCluster
    if settings.cluster:
        seeds = [replace(address, host=host, port=port) for host, port in settings.cluster]
        redis = RedisCluster(
            seeds,
            pool_for,
            reactor,
            on_nodes=lambda node: longpoll.move_to(node, _redis_tls(settings, node)),
        )
        redis.tls = _redis_tls(settings, seeds[0])
    else:
        redis = pool_for(address)
    sentinels = _sentinels(settings, address, redis, longpoll, reactor)
    connection = RedisConnection(redis, longpoll, reactor, started, sentinels)
    connection.setServiceParent(root)
    broker = Broker(
        redis,
        config.queues,
        alive_window=config.workers.alive_window,
        retention=config.workers.retention,
        idempotency_window=config.server.idempotency_window,
        delivery_timeout=config.server.delivery_timeout,
        reactor=reactor,
        metrics=metrics,
        keys=keys,
    )
    Confirmations(broker).setServiceParent(root)
    # The virtual queues are known before the first request (the scheduler
    # reloads them when they change); the listeners wait for this.
    connection.ready.addCallback(lambda _: defer.Deferred.fromCoroutine(broker.reload_virtual()))
    connection.ready.addErrback(
        lambda failure: log.failure("reading the virtual queues failed", failure)
    )
    Scheduler(
        broker,
        config.scheduler.interval,
        reactor,
        config.history,
        memory_share=config.redis.producer_memory_share,
        due_work=due_work,
    ).setServiceParent(root)

    warn_of_unnamed_hosts(config.server)
    access_lines = text_log.access_line if text_log is not None else None
    site = build_site(broker, config.server, longpoll, _authority(config), access_lines)
    Drain(site, config.server.shutdown_grace, reactor).setServiceParent(root)
    Waiters(longpoll).setServiceParent(root)
    return site, connection.ready
