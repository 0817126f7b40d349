"""The service tree: start and graceful stop, in process."""

from __future__ import annotations

import socket

import pytest
from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer, reactor
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread

from harness.processes import free_port
from harness.redis import RedisServer
from presque.config import Config, RedisSettings, SchedulerSettings, ServerSettings
from presque.redis_url import parse_redis_url
from tests.support import REDIS_UNAVAILABLE, read_until_closed, serving


def config_for(redis: RedisServer, port: int) -> Config:
    return Config(
        server=ServerSettings(
            listen=(f"tcp:{port}:interface=127.0.0.1",), access_log=False, shutdown_grace=10
        ),
        redis=RedisSettings(address=parse_redis_url(redis.url), command_timeout=1.5),
        scheduler=SchedulerSettings(interval=0.1),
    )


@async_test
async def test_the_scheduler_promotes_due_delayed_jobs(own_redis: RedisServer) -> None:
    port = free_port()
    service, http = await serving(config_for(own_redis, port), port)
    try:
        await http.post_job("later", {"n": 1}, delayed="0")
        await deferLater(reactor, 0.5)
        assert own_redis.command("LLEN", "presque:{later}:ready").strip() == "1"
        assert own_redis.command("ZCARD", "presque:{later}:delayed").strip() == "0"
    finally:
        await service.stopService()


@async_test
async def test_a_stop_lets_requests_in_flight_finish_and_refuses_new_ones(
    own_redis: RedisServer,
) -> None:
    port = free_port()
    service, http = await serving(config_for(own_redis, port), port)

    own_redis.pause()
    in_flight = defer.Deferred.fromCoroutine(http.get("/q/slow"))
    await deferLater(reactor, 0.2)
    stopped = service.stopService()
    await deferLater(reactor, 0.1)

    assert not stopped.called
    try:
        await http.get("/q/slow")
    except ConnectionRefusedError:
        pass
    else:
        raise AssertionError("a stopping server accepted a new request")
    reply = await in_flight
    assert (reply.status, reply.json()) == REDIS_UNAVAILABLE
    await stopped


def kept_alive(port: int) -> socket.socket:
    """A connection that asked one request and is kept alive for the next."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=5)
    connection.sendall(b"GET /j/probe HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    answer = b""
    while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
        answer += connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200"), answer
    return connection


@async_test
async def test_a_stop_closes_the_connections_kept_alive_between_requests(
    own_redis: RedisServer,
) -> None:
    # Else their next request, sent while the server stops, gets a 503 once
    # Redis is closed, instead of going to a server that can serve it.
    port = free_port()
    service, _ = await serving(config_for(own_redis, port), port)
    with await deferToThread(kept_alive, port) as connection:
        await service.stopService()
        data, closed = await deferToThread(read_until_closed, connection)
    assert (data, closed) == (b"", True)


@async_test
async def test_a_request_in_flight_at_a_stop_is_answered_connection_close(
    own_redis: RedisServer,
) -> None:
    port = free_port()
    service, _ = await serving(config_for(own_redis, port), port)
    with await deferToThread(kept_alive, port) as connection:
        own_redis.pause()
        connection.sendall(b"GET /q/slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await deferLater(reactor, 0.2)
        stopped = service.stopService()
        data, closed = await deferToThread(read_until_closed, connection)
        await stopped
    head = data.partition(b"\r\n\r\n")[0].lower()
    assert head.startswith(b"http/1.1 503") and b"\r\nconnection: close" in head, data
    assert closed


@pytest.mark.parametrize(
    ("listen", "hosts", "warned"),
    [
        ("tcp:8080:interface=0.0.0.0", None, True),
        ("tcp:8080", None, True),
        ("tcp:8080:interface=127.0.0.1", None, False),
        ("tcp6:8080:interface=\\:\\:1", None, False),
        ("unix:/run/presque.sock", None, False),
        ("tcp:8080", ("*",), False),
        ("tcp:8080", ("queue.internal",), False),
    ],
)
def test_listening_beyond_loopback_with_only_loopback_names_is_warned_of(
    listen: str, hosts: tuple[str, ...] | None, warned: bool
) -> None:
    from twisted.logger import capturedLogs

    from presque.config import ServerSettings
    from presque.listeners import warn_of_unnamed_hosts

    settings = ServerSettings(listen=(listen,), **({"allowed_hosts": hosts} if hosts else {}))
    with capturedLogs() as events:
        warn_of_unnamed_hosts(settings)
    assert any("allowed_hosts" in event["log_format"] for event in events) is warned
