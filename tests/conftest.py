"""
Fixtures: one redis-server for the whole session (flushed before each test)
and a presque site served in-process on a free loopback port; the headless
browser's are in L{tests.browser}.
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_twisted

from harness.polling import eventually
from harness.redis import RedisServer
from presque.client import AsyncClient, Client
from tests.support import Daemons, Http

pytest_plugins = ["tests.browser", "tests.pages"]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def clean_redis(redis_server: RedisServer) -> RedisServer:
    redis_server.command("FLUSHALL")
    return redis_server


@pytest_twisted.async_yield_fixture
async def own_redis() -> AsyncIterator[RedisServer]:
    """A redis-server for this test alone, which it may stop, pause or restart."""
    server = RedisServer().start()
    yield server
    server.resume()
    server.stop()


class Presque:
    """A presque site under test: its HTTP client, broker and Redis."""

    def __init__(self, http: Http, broker, redis_server: RedisServer, site, longpoll) -> None:
        self.http = http
        self.broker = broker
        self.redis_server = redis_server
        self.site = site
        self.longpoll = longpoll


async def start_presque(
    redis_server: RedisServer,
    *,
    redis_url: str | None = None,
    command_timeout: float = 2.0,
    broker: dict[str, Any] | None = None,
    authority: Any = None,
    prefix: str | None = None,
    **server_settings: Any,
):
    """
    Serve presque over C{redis_server}; return (Presque, stop). C{redis_url}
    is where its Redis calls go instead (a relay in front of the server, say;
    wake-ups still come from C{redis_server}); C{broker} holds options of its
    L{Broker}, C{authority} the tokens (none: tokens off), C{prefix} that of
    its keys ([redis] prefix; none: the default) and C{server_settings} of
    its L{ServerSettings}. As the daemon does, it sends Redis every script
    before it serves.
    """
    from twisted.internet import reactor
    from twisted.internet.endpoints import TCP4ServerEndpoint

    from presque.broker import Broker
    from presque.broker.keys import KeySpace
    from presque.config import ServerSettings
    from presque.longpoll import LongPoll
    from presque.lua import loaded_scripts
    from presque.metrics import Metrics
    from presque.redis import Redis
    from presque.redis_url import parse_redis_url
    from presque.web import build_site

    options = dict(broker or {})
    # The broker and the long polls share one key space, as in the daemon.
    keys = options.setdefault("keys", KeySpace() if prefix is None else KeySpace(prefix))
    metrics = options.setdefault("metrics", Metrics())
    address = parse_redis_url(redis_server.url)
    redis = Redis(
        parse_redis_url(redis_url or redis_server.url),
        command_timeout=command_timeout,
        timed=metrics.redis_called,
    )
    redis.connect()
    await _until_connected(redis)
    await redis.until_ready(loaded_scripts(), reactor)
    server = Broker(redis, **options)
    longpoll = LongPoll(reactor, keys)
    longpoll.listen(address)
    settings = ServerSettings(access_log=False, **server_settings)
    site = build_site(server, settings, longpoll, authority)
    port = await TCP4ServerEndpoint(reactor, 0, backlog=1024, interface="127.0.0.1").listen(site)
    http = Http(f"http://127.0.0.1:{port.getHost().port}")

    async def stop() -> None:
        await port.stopListening()
        await longpoll.stop()
        await redis.close()

    return Presque(http, server, redis_server, site, longpoll), stop


async def _until_connected(redis) -> None:
    await eventually(lambda: redis.connected, 10, "could not connect to the test redis-server")


@pytest_twisted.async_yield_fixture
async def presque(clean_redis: RedisServer) -> AsyncIterator[Presque]:
    """presque over the session's (flushed) Redis."""
    server, stop = await start_presque(clean_redis)
    yield server
    await stop()


@pytest_twisted.async_yield_fixture
async def presque_alone(own_redis: RedisServer) -> AsyncIterator[Presque]:
    """presque over a Redis of its own, which the test may stop, pause or restart."""
    server, stop = await start_presque(own_redis)
    yield server
    await stop()


@pytest_twisted.async_yield_fixture
async def two_servers(clean_redis: RedisServer) -> AsyncIterator[list[Presque]]:
    """Two presque servers sharing the session's (flushed) Redis."""
    first, stop_first = await start_presque(clean_redis)
    second, stop_second = await start_presque(clean_redis)
    yield [first, second]
    await stop_first()
    await stop_second()


@pytest_twisted.async_yield_fixture
async def uncached(clean_redis: RedisServer) -> AsyncIterator[Presque]:
    """presque whose figures from Redis are read again at every scrape."""
    from presque.config import MetricsSettings
    from presque.metrics import Metrics

    metrics = Metrics(MetricsSettings(cache=0))
    server, stop = await start_presque(clean_redis, broker={"metrics": metrics})
    yield server
    await stop()


@pytest.fixture
def http(presque: Presque) -> Http:
    return presque.http


@pytest.fixture
def client(presque: Presque) -> Client:
    """The blocking Python client of the presque under test."""
    return Client(presque.http.base)


@pytest_twisted.async_yield_fixture
async def aclient(presque: Presque) -> AsyncIterator[AsyncClient]:
    """The Twisted Python client of the presque under test, closed after the test."""
    client = AsyncClient(presque.http.base)
    yield client
    await client.close()


@pytest.fixture
def daemons() -> Iterator[Daemons]:
    """Daemons a test starts, killed (with their embedded Redis) after it."""
    started = Daemons()
    yield started
    for daemon in started:
        if daemon.process is not None:
            daemon.stop(signal.SIGKILL)
    for pidfile in {d.redis_pidfile for d in started}:
        if pidfile.exists():
            os.kill(int(pidfile.read_text()), signal.SIGTERM)
