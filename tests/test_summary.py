"""GET /summary: every queue at a glance, from the reading /metrics shares."""

from __future__ import annotations

import time

from pytest_twisted import ensureDeferred as async_test
from twisted.internet import reactor
from twisted.internet.task import deferLater

from harness.redis import RedisServer
from presque.config import MetricsSettings
from presque.metrics import Metrics
from tests.conftest import Presque, start_presque
from tests.leasing import bury, lease_one
from tests.support import Http, totals_with


async def summary(http: Http) -> dict:
    reply = await http.get("/summary")
    assert reply.status == 200
    return reply.json()


@async_test
async def test_the_counts_and_totals_of_every_queue_are_added_up(uncached: Presque) -> None:
    http = uncached.http
    await http.post_jobs("q1", 3)
    await http.post_jobs("q2", 2)
    await lease_one(http, "q2")
    await bury(http, "q3", {"n": 1})
    seen = await summary(http)
    assert (seen["redis"], seen["queues"], seen["summed"]) == ("up", 3, 3)
    assert seen["counts"] == {"ready": 4, "delayed": 0, "leased": 1, "dead": 1, "waiting": 0}
    assert seen["totals"] == totals_with(enqueued=6, delivered=2, failed=1, dead=1)


@async_test
async def test_the_oldest_ready_job_of_every_queue_is_told(uncached: Presque) -> None:
    before = time.time()
    await uncached.http.post_job("q2", {"n": 1})
    between = time.time()
    await deferLater(reactor, 0.05)
    await uncached.http.post_job("q1", {"n": 1})
    oldest = (await summary(uncached.http))["oldest_ready"]
    assert before - 0.002 <= oldest <= between + 0.002


@async_test
async def test_nothing_ready_has_no_oldest_job(uncached: Presque) -> None:
    seen = await summary(uncached.http)
    assert (seen["oldest_ready"], seen["queues"], seen["counts"]["ready"]) == (None, 0, 0)


@async_test
async def test_the_time_of_the_reading_is_told(presque: Presque) -> None:
    before = time.time()
    first = await summary(presque.http)
    assert before - 0.01 <= first["at"] <= time.time()
    assert (await summary(presque.http))["at"] == first["at"]


@async_test
async def test_redis_memory_is_told(uncached: Presque) -> None:
    memory = (await summary(uncached.http))["redis_memory"]
    assert memory["used"] > 0 and memory["max"] >= 0


@async_test
async def test_only_the_first_queues_by_name_are_added_up(clean_redis: RedisServer) -> None:
    metrics = Metrics(MetricsSettings(max_queues=2, cache=0))
    server, stop = await start_presque(clean_redis, broker={"metrics": metrics})
    try:
        for queue in ("c", "a", "b"):
            await server.http.post_job(queue, {"n": 1})
        seen = await summary(server.http)
    finally:
        await stop()
    assert (seen["queues"], seen["summed"], seen["counts"]["ready"]) == (3, 2, 2)


@async_test
async def test_a_summary_within_the_cache_is_the_last_reading(presque: Presque) -> None:
    first = await summary(presque.http)
    await presque.http.post_job("q1", {"n": 1})
    assert await summary(presque.http) == first


@async_test
async def test_redis_down_is_told(own_redis: RedisServer) -> None:
    metrics = Metrics(MetricsSettings(cache=0))
    server, stop = await start_presque(own_redis, broker={"metrics": metrics})
    try:
        own_redis.stop()
        seen = await summary(server.http)
    finally:
        await stop()
    assert (seen["redis"], sorted(seen)) == ("down", ["at", "redis"])


@async_test
async def test_the_summary_records_no_worker(http: Http) -> None:
    await http.get("/summary", headers={"X-presque-workerid": "w1"})
    assert (await http.get("/workers")).json()["total"] == 0
