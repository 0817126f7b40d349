"""The Redis connection: scripts by SHA, replies untouched."""

from __future__ import annotations

from pytest_twisted import ensureDeferred as async_test

from harness.redis import RedisServer
from presque.broker.scripts import load_script
from tests.conftest import Presque


@async_test
async def test_scripts_flushed_from_redis_are_sent_again(presque: Presque) -> None:
    await presque.http.post_job("q1", {"n": 1})
    presque.redis_server.command("SCRIPT", "FLUSH")
    assert (await presque.http.post_job("q1", {"n": 2})).status == 201
    assert (await presque.http.get("/q/q1")).json() == {"n": 1}


@async_test
async def test_replies_are_bytes_never_numbers(presque: Presque) -> None:
    await presque.broker.redis.execute("SET", "presque:test", "00123")
    assert await presque.broker.redis.execute("GET", "presque:test") == b"00123"


def test_a_script_carries_the_sha_redis_knows_it_by(redis_server: RedisServer) -> None:
    script = load_script("fetch")
    assert redis_server.command("SCRIPT", "LOAD", script.source.decode()).strip() == (script.sha)
