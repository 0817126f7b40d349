"""
Nothing grows without bound from anonymous traffic: the long-poll
bookkeeping of a server, the watchers of a client's departure, the records
of workers (which expire after the broker's retention), the keys of queues
that are only mentioned, and the dashboard's list of queues.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator

import pytest_twisted
from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer, reactor

from harness.polling import eventually
from harness.redis import RedisServer
from presque.broker import Delivery
from presque.longpoll import Departure, LongPoll
from presque.web.site import PresqueRequest
from tests.conftest import Presque, start_presque
from tests.support import NO_JOB, WORKER, Http

#: The retention of worker records on the site of L{short_memory}, in seconds.
RETENTION = 1.0


async def in_batches(calls: list, size: int = 100) -> list:
    """Await the coroutines of C{calls}, C{size} at a time; their results in order."""
    results = []
    for first in range(0, len(calls), size):
        batch = [defer.ensureDeferred(call) for call in calls[first : first + size]]
        results += await defer.gatherResults(batch, consumeErrors=True)
    return results


async def no_job_anywhere(queue: str) -> Delivery:
    """A fetch that never finds a job."""
    return Delivery(queue, [])


# Long polling


@async_test
async def test_long_polls_on_many_queues_leave_nothing_tracked(presque: Presque) -> None:
    names = [f"anonymous-{n}" for n in range(500)]
    replies = await in_batches(
        [presque.http.get(f"/q/{name}", params={"wait": "0.05"}) for name in names]
    )
    assert [(r.status, r.json()) for r in replies] == [NO_JOB] * len(names)
    assert presque.longpoll.tracked() == 0
    assert presque.longpoll.waiting() == 0


@async_test
async def test_long_polls_on_many_queues_leave_no_subscription(
    presque: Presque, clean_redis: RedisServer
) -> None:
    names = [f"anonymous-{n}" for n in range(200)]
    await in_batches([presque.http.get(f"/q/{name}", params={"wait": "0.05"}) for name in names])
    await eventually(
        lambda: clean_redis.call("PUBSUB", "CHANNELS", "presque:*") == [],
        5,
        lambda: f"still subscribed: {clean_redis.call('PUBSUB', 'CHANNELS', 'presque:*')[:5]}",
    )


@async_test
async def test_answers_of_no_job_keep_no_request_alive(presque: Presque) -> None:
    # What every presque 1 worker polling an empty queue does, all day.
    await in_batches([presque.http.get("/q/q1") for _ in range(200)])
    gc.collect()
    alive = [thing for thing in gc.get_objects() if isinstance(thing, PresqueRequest)]
    assert len(alive) < 10


@async_test
async def test_a_departure_keeps_no_watcher_of_waits_that_ended() -> None:
    longpoll, departure = LongPoll(reactor), Departure()
    for _ in range(1000):
        delivery = await longpoll.take("q1", 0.001, lambda: no_job_anywhere("q1"), departure)
        assert delivery.jobs == []
    assert departure._watchers == {}
    assert longpoll.tracked() == 0


@async_test
async def test_a_departure_keeps_no_watcher_of_settlement_waits_that_ended() -> None:
    # What a stream with a full window does over and over, for hours.
    longpoll, departure = LongPoll(reactor), Departure()
    for _ in range(1000):
        await longpoll.settled("q1", 0.001, departure)
    assert departure._watchers == {}
    assert longpoll.tracked() == 0


# Worker records


@pytest_twisted.async_yield_fixture
async def short_memory(clean_redis: RedisServer) -> AsyncIterator[Presque]:
    """presque over the session's Redis, forgetting workers after RETENTION seconds."""
    server, stop = await start_presque(clean_redis, broker={"retention": RETENTION})
    yield server
    await stop()


async def listed_workers(http: Http) -> list[str]:
    reply = await http.get("/workers")
    assert reply.status == 200, reply.body
    return [entry["worker_id"] for entry in reply.json()["workers"]]


async def registered_workers(http: Http) -> list[str]:
    reply = await http.get("/w/")
    assert reply.status == 200, reply.body
    return reply.json()


W1_KEYS = ("presque:worker:{w1}", "presque:worker:{w1}:queues", "presque:{q1}:seen")


@async_test
async def test_a_worker_seen_once_is_recorded_for_the_retention_only(
    short_memory: Presque, clean_redis: RedisServer
) -> None:
    http = short_memory.http
    reply = await http.get("/q/q1", headers={WORKER: "w1"})
    assert (reply.status, reply.json()) == NO_JOB

    async def listed() -> bool:
        return "w1" in await listed_workers(http)

    await eventually(listed, 5, "w1 never listed by GET /workers")

    def ttls() -> dict[str, int]:
        return {key: clean_redis.call("PTTL", key) for key in W1_KEYS}

    # The record's commands run concurrently: the expiries may follow the listing.
    await eventually(
        lambda: all(0 < ttl <= RETENTION * 1000 for ttl in ttls().values()),
        RETENTION,
        lambda: f"not kept for at most {RETENTION}s: {ttls()}",
    )


@async_test
async def test_a_worker_not_seen_for_the_retention_is_forgotten(
    short_memory: Presque, clean_redis: RedisServer
) -> None:
    http = short_memory.http
    await http.get("/q/q1", headers={WORKER: "w1"})

    async def listed() -> bool:
        return "w1" in await listed_workers(http)

    await eventually(listed, 5, "w1 never listed by GET /workers")

    async def forgotten() -> bool:
        return "w1" not in await listed_workers(http)

    await eventually(forgotten, RETENTION + 1.5, "w1 still listed after the retention")
    await eventually(
        lambda: not any(clean_redis.call("EXISTS", key) for key in W1_KEYS),
        1.0,
        lambda: f"left: {[key for key in W1_KEYS if clean_redis.call('EXISTS', key)]}",
    )


@async_test
async def test_a_registered_worker_never_seen_again_drops_out_after_the_retention(
    short_memory: Presque, clean_redis: RedisServer
) -> None:
    http = short_memory.http
    assert (await http.post("/w/q1", headers={WORKER: "w1"})).status == 201
    assert await registered_workers(http) == ["w1"]

    async def dropped() -> bool:
        return "w1" not in await registered_workers(http)

    await eventually(dropped, RETENTION + 1.5, "w1 still registered after the retention")
    await eventually(
        lambda: not clean_redis.call("EXISTS", "presque:worker:{w1}"),
        1.0,
        "the hash of w1 outlived the retention",
    )


# Queues only mentioned


@async_test
async def test_queues_only_mentioned_are_not_listed_and_leave_no_lasting_key(
    presque: Presque, clean_redis: RedisServer
) -> None:
    names = [f"mentioned-{n}" for n in range(50)]
    replies = await in_batches(
        [presque.http.get(f"/q/{name}", headers={WORKER: "w1"}) for name in names]
    )
    assert [(r.status, r.json()) for r in replies] == [NO_JOB] * len(names)
    # The sightings are written after the answers: wait until they are.
    await eventually(
        lambda: all(clean_redis.call("EXISTS", f"presque:{{{name}}}:seen") for name in names),
        5,
        "the sightings of w1 were never written",
    )
    listed = set(clean_redis.call("ZRANGE", "presque:queues", 0, -1))
    assert listed.isdisjoint(names)
    for name in names:
        keys = clean_redis.call("KEYS", f"presque:{{{name}}}:*")
        lasting = [key for key in keys if clean_redis.call("PTTL", key) < 0]
        assert lasting == [], name


# The dashboard
