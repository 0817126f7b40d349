"""C{/health} (liveness) and C{/ready} (readiness): what a load balancer asks."""

from __future__ import annotations

from pytest_twisted import ensureDeferred as async_test

from presque.lua import loaded_scripts
from tests.conftest import Presque
from tests.support import REDIS_UNAVAILABLE, Http


@async_test
async def test_health_answers_ok(http: Http) -> None:
    reply = await http.get("/health")
    assert (reply.status, reply.json()) == (200, {"status": "ok"})
    assert reply.header("Content-Type") == "application/json"


@async_test
async def test_ready_answers_ready_when_redis_serves(http: Http) -> None:
    reply = await http.get("/ready")
    assert (reply.status, reply.json()) == (200, {"status": "ready"})


@async_test
async def test_health_stays_ok_while_redis_is_down(presque_alone: Presque) -> None:
    presque_alone.redis_server.stop()
    reply = await presque_alone.http.get("/health")
    assert (reply.status, reply.json()) == (200, {"status": "ok"})


@async_test
async def test_ready_is_a_503_naming_the_reason_while_redis_is_down(
    presque_alone: Presque,
) -> None:
    presque_alone.redis_server.stop()
    reply = await presque_alone.http.get("/ready")
    assert (reply.status, reply.json()) == REDIS_UNAVAILABLE


@async_test
async def test_ready_sends_redis_the_scripts_it_forgot(presque: Presque) -> None:
    presque.redis_server.call("SCRIPT", "FLUSH")
    reply = await presque.http.get("/ready")
    assert reply.status == 200
    shas = [script.sha for script in loaded_scripts()]
    assert presque.redis_server.call("SCRIPT", "EXISTS", *shas) == [1] * len(shas)


@async_test
async def test_head_of_health_answers_without_a_body(http: Http) -> None:
    reply = await http.request("HEAD", "/health")
    assert (reply.status, reply.body) == (200, b"")


@async_test
async def test_health_records_no_worker(http: Http) -> None:
    await http.get("/health", headers={"X-presque-workerid": "probe"})
    await http.get("/ready", headers={"X-presque-workerid": "probe"})
    reply = await http.get("/workers")
    assert reply.json()["workers"] == []
