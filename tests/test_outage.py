"""Redis going away: 503 JSON within the command timeout, then recovery."""

from __future__ import annotations

import time

import pytest
from pytest_twisted import ensureDeferred as async_test
from twisted.internet import reactor
from twisted.internet.task import deferLater

from harness.polling import eventually
from harness.redis import RedisServer
from tests.conftest import Presque, start_presque
from tests.support import REDIS_UNAVAILABLE, Reply

COMMAND_TIMEOUT = 2.0


async def served(presque: Presque) -> Reply | None:
    """The answer to GET /q/work, unless it is a 503."""
    reply = await presque.http.get("/q/work")
    return reply if reply.status != 503 else None


@async_test
async def test_requests_get_503_json_while_redis_is_down(presque_alone: Presque) -> None:
    presque_alone.redis_server.stop()
    await deferLater(reactor, 0.2)
    started = time.monotonic()
    fetched = await presque_alone.http.get("/q/work")
    posted = await presque_alone.http.post_job("work", {"n": 1})
    assert (fetched.status, fetched.json()) == REDIS_UNAVAILABLE
    assert (posted.status, posted.json()) == REDIS_UNAVAILABLE
    assert time.monotonic() - started < COMMAND_TIMEOUT


@async_test
async def test_a_hung_redis_gets_503_within_the_command_timeout(
    presque_alone: Presque,
) -> None:
    presque_alone.redis_server.pause()
    started = time.monotonic()
    reply = await presque_alone.http.get("/q/work")
    elapsed = time.monotonic() - started
    presque_alone.redis_server.resume()
    assert (reply.status, reply.json()) == REDIS_UNAVAILABLE
    assert elapsed < COMMAND_TIMEOUT + 1.0


@async_test
async def test_the_same_server_serves_again_when_redis_returns(
    presque_alone: Presque,
) -> None:
    await presque_alone.http.post_job("work", {"kept": True})
    presque_alone.redis_server.stop()
    assert (await presque_alone.http.get("/q/work")).status == 503
    presque_alone.redis_server.start()
    reply = await eventually(lambda: served(presque_alone), 15, "still 503 after Redis came back")
    assert (reply.status, reply.json()) == (200, {"kept": True})


@async_test
async def test_a_hung_redis_that_wakes_up_is_used_again(presque_alone: Presque) -> None:
    presque_alone.redis_server.pause()
    assert (await presque_alone.http.get("/q/stalled")).status == 503
    presque_alone.redis_server.resume()
    await eventually(lambda: served(presque_alone), 15, "still 503 after Redis woke up")
    await presque_alone.http.post_job("work", {"after": "wake-up"})
    reply = await presque_alone.http.get("/q/work")
    assert (reply.status, reply.json()) == (200, {"after": "wake-up"})


@pytest.mark.parametrize("db", [0, 1])
@async_test
async def test_a_redis_that_hangs_while_the_pool_reconnects_is_used_again(
    own_redis: RedisServer, db: int
) -> None:
    # Database 1 makes each new connection send SELECT, which times out too.
    server, stop = await start_presque(
        own_redis, redis_url=f"redis://127.0.0.1:{own_redis.port}/{db}", command_timeout=0.3
    )
    try:
        for _ in range(2):
            own_redis.pause()
            assert (await server.http.get("/q/stalled")).status == 503
            # Long enough for the pool to reconnect, and its handshakes to time out.
            await deferLater(reactor, 1.5)
            own_redis.resume()
            await eventually(lambda: served(server), 15, "still 503 after Redis woke up")
    finally:
        own_redis.resume()
        await stop()
