"""
Producers told to wait instead of an out-of-memory Redis: a queue's
max_length, and the share of Redis' maxmemory past which posts get 429 while
consumers keep draining.
"""

from __future__ import annotations

import json

from pytest_twisted import ensureDeferred as async_test

from harness.redis import RedisServer
from presque.broker import QueueSettings
from presque.scheduler import Scheduler
from tests.conftest import Presque, start_presque
from tests.leasing import ack, configure, lease_one
from tests.support import JSON, Http, assert_error, epoch, totals_with


async def bounded(http: Http, queue: str, most: int) -> None:
    assert (await configure(http, queue, {"max_length": most})).status == 200


def assert_told_to_wait(reply, note: str) -> None:
    assert note in assert_error(reply, 429)
    assert reply.header("Retry-After") == "1"


# A queue's max_length


@async_test
async def test_a_post_past_max_length_is_429_and_stores_nothing(http: Http) -> None:
    await bounded(http, "q1", 2)
    await http.post_jobs("q1", 2)
    assert_told_to_wait(
        await http.post_job("q1", {"n": 2}), "queue is full: it holds its max_length, 2"
    )
    view = (await http.get("/queues/q1")).json()
    assert (view["counts"]["ready"], view["totals"]) == (2, totals_with(enqueued=2))


@async_test
async def test_a_batch_that_would_pass_max_length_is_refused_whole(http: Http) -> None:
    await bounded(http, "q1", 3)
    await http.post_job("q1", {"n": 0})
    reply = await http.post("/qb/q1", json_body={"jobs": [{"n": 1}, {"n": 2}, {"n": 3}]})
    assert_told_to_wait(reply, "queue is full")
    assert await http.job_count("q1") == 1
    assert (await http.post("/qb/q1", json_body={"jobs": [{"n": 1}, {"n": 2}]})).status == 201


@async_test
async def test_delayed_and_leased_jobs_count_toward_max_length(http: Http) -> None:
    await bounded(http, "q1", 2)
    await http.post_job("q1", {"n": 0}, delayed=epoch(600))
    await http.post_job("q1", {"n": 1})
    await lease_one(http, "q1")
    assert_told_to_wait(await http.post_job("q1", {"n": 2}), "queue is full")


@async_test
async def test_a_full_queue_takes_jobs_again_once_one_is_acked(http: Http) -> None:
    await bounded(http, "q1", 1)
    await http.post_job("q1", {"n": 0})
    leased = await lease_one(http, "q1")
    assert (await http.post_job("q1", {"n": 1})).status == 429
    await ack(http, "q1", leased.id, leased.receipt)
    assert (await http.post_job("q1", {"n": 1})).status == 201


@async_test
async def test_a_job_given_back_is_taken_by_a_full_queue(http: Http) -> None:
    await bounded(http, "q1", 1)
    await http.post_job("q1", {"n": 0})
    taken = (await http.get("/q/q1")).body
    await http.post_job("q1", {"n": 1})
    reply = await http.put("/q/q1", body=taken, headers=JSON)
    assert reply.status == 201
    assert await http.job_count("q1") == 2


@async_test
async def test_a_repeated_post_of_a_full_queue_answers_the_first_one(http: Http) -> None:
    await bounded(http, "q1", 1)
    key = {"Idempotency-Key": "order-1"}
    first = await http.post("/q/q1", json_body={"n": 0}, headers=key)
    again = await http.post("/q/q1", json_body={"n": 0}, headers=key)
    assert (again.status, again.header("Idempotent-Replayed")) == (201, "true")
    assert again.header("X-Presque-Job-Id") == first.header("X-Presque-Job-Id")


@async_test
async def test_max_length_0_sets_no_limit(http: Http) -> None:
    await bounded(http, "q1", 0)
    reply = await http.post("/qb/q1", json_body={"jobs": [{"n": n} for n in range(500)]})
    assert reply.status == 201


@async_test
async def test_the_queues_default_max_length_applies_to_every_queue(
    clean_redis: RedisServer,
) -> None:
    server, stop = await start_presque(
        clean_redis, broker={"defaults": QueueSettings(max_length=1)}
    )
    try:
        await server.http.post_job("q1", {"n": 0})
        assert (await server.http.post_job("q1", {"n": 1})).status == 429
        assert (await server.http.post_job("q2", {"n": 0})).status == 201
    finally:
        await stop()


@async_test
async def test_an_invalid_max_length_is_refused(http: Http) -> None:
    reply = await configure(http, "q1", {"max_length": -1})
    assert "max_length must be an integer from 0" in assert_error(reply)


# Redis nearly full


#: Room left under maxmemory: the consumers' requests need some, since Redis'
#: used_memory moves by tens of KB on a tiny instance (Redis 7 grows by ~50 KB
#: at its first stream, ~25 KB at its first hash).
ROOM = 2 * 1024 * 1024

#: The share of maxmemory past which the tests' producers wait: well under
#: what near_limit leaves Redis (about 0.4 of maxmemory used).
SHARE = 0.25


def near_limit(redis: RedisServer) -> None:
    """A maxmemory that leaves Redis L{ROOM} (noeviction, as it must be)."""
    redis.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
    redis.call("CONFIG", "SET", "maxmemory", str(redis.used_memory() + ROOM))


@async_test
async def test_posts_wait_while_redis_is_past_its_share(presque_alone: Presque) -> None:
    near_limit(presque_alone.redis_server)
    assert await presque_alone.broker.watch_memory(SHARE)
    reply = await presque_alone.http.post_job("q1", {"n": 0})
    assert_told_to_wait(reply, "redis is nearly full")
    batch = await presque_alone.http.post("/qb/q1", json_body={"jobs": [{"n": 1}]})
    assert_told_to_wait(batch, "redis is nearly full")


@async_test
async def test_consumers_drain_while_producers_wait(presque_alone: Presque) -> None:
    http = presque_alone.http
    await http.post_jobs("q1", 2)
    near_limit(presque_alone.redis_server)
    await presque_alone.broker.watch_memory(SHARE)
    leased = await lease_one(http, "q1")
    assert (await ack(http, "q1", leased.id, leased.receipt)).status == 204
    taken = await http.get("/q/q1")
    assert taken.status == 200
    given_back = await http.put(
        "/q/q1", body=taken.body, headers={"Content-Type": "application/json"}
    )
    assert given_back.status == 201


@async_test
async def test_posts_resume_once_redis_has_room(presque_alone: Presque) -> None:
    near_limit(presque_alone.redis_server)
    await presque_alone.broker.watch_memory(SHARE)
    presque_alone.redis_server.call("CONFIG", "SET", "maxmemory", "0")
    assert not await presque_alone.broker.watch_memory(SHARE)
    assert (await presque_alone.http.post_job("q1", {"n": 0})).status == 201


@async_test
async def test_redis_without_maxmemory_is_never_nearly_full(presque_alone: Presque) -> None:
    presque_alone.redis_server.call("CONFIG", "SET", "maxmemory", "0")
    assert not await presque_alone.broker.watch_memory(0.01)


@async_test
async def test_the_scheduler_watches_redis_memory_each_round(presque_alone: Presque) -> None:
    from twisted.internet import reactor

    near_limit(presque_alone.redis_server)
    await Scheduler(presque_alone.broker, 1.0, reactor, memory_share=SHARE).tick()
    assert presque_alone.broker.memory_full
    await Scheduler(presque_alone.broker, 1.0, reactor, memory_share=1.0).tick()
    assert presque_alone.broker.memory_full, "a share of 1 never looks"


@async_test
async def test_nothing_is_lost_while_producers_are_told_to_wait(presque_alone: Presque) -> None:
    http, broker = presque_alone.http, presque_alone.broker
    stored, refused = [], 0
    for n in range(60):
        if n == 30:
            near_limit(presque_alone.redis_server)
            await broker.watch_memory(SHARE)
        reply = await http.post_job("q1", {"n": n})
        if reply.status == 201:
            stored.append(n)
        else:
            assert reply.status == 429
            refused += 1
    drained = []
    while (reply := await http.get("/q/q1", params={"lease": "30"})).status == 200:
        drained.append(json.loads(reply.body)["n"])
        await ack(http, "q1", reply.header("X-Presque-Job-Id"), reply.header("X-Presque-Receipt"))
    assert (stored, refused, drained) == (list(range(30)), 30, list(range(30)))
