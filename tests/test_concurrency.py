"""Many producers and consumers at once, on two servers sharing one Redis."""

from __future__ import annotations

import itertools
from collections import Counter

from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer

from harness.polling import eventually
from tests.conftest import Presque
from tests.support import Reply

PRODUCERS = 20
CONSUMERS = 20
JOBS_PER_PRODUCER = 100
# The limit on one test (timeout in setup.cfg), which alone bounded a consumer's wait.
TEST_TIMEOUT = 120


@async_test
async def test_every_job_is_delivered_exactly_once(two_servers: list[Presque]) -> None:
    total = PRODUCERS * JOBS_PER_PRODUCER
    received: Counter[tuple[int, int]] = Counter()
    producing_done = False

    async def produce(producer: int, server: Presque) -> None:
        for n in range(JOBS_PER_PRODUCER):
            reply = await server.http.post_job("shared", {"p": producer, "n": n})
            assert reply.status == 201

    async def consume(server: Presque) -> None:
        async def answer() -> Reply | None:
            """The next answer to GET, or None for a 404 while jobs may still come."""
            reply = await server.http.get("/q/shared")
            return None if reply.status == 404 and not producing_done else reply

        while not (producing_done and sum(received.values()) >= total):
            reply = await eventually(answer, TEST_TIMEOUT, "no job and producing not done")
            if reply.status == 200:
                job = reply.json()
                received[(job["p"], job["n"])] += 1
            elif reply.status == 404:
                return
            else:
                raise AssertionError(f"unexpected {reply.status}: {reply.body!r}")

    servers = itertools.cycle(two_servers)
    consumers = [defer.Deferred.fromCoroutine(consume(next(servers))) for _ in range(CONSUMERS)]
    await defer.gatherResults(
        [defer.Deferred.fromCoroutine(produce(p, next(servers))) for p in range(PRODUCERS)],
        consumeErrors=True,
    )
    producing_done = True
    await defer.gatherResults(consumers, consumeErrors=True)

    expected = {(p, n) for p in range(PRODUCERS) for n in range(JOBS_PER_PRODUCER)}
    assert set(received) == expected
    assert [key for key, times in received.items() if times > 1] == []


@async_test
async def test_one_consumer_gets_a_producers_jobs_in_posting_order(
    two_servers: list[Presque],
) -> None:
    producer, consumer = two_servers
    await producer.http.post_jobs("ordered", 200)
    taken = []
    while (reply := await consumer.http.get("/q/ordered")).status == 200:
        taken.append(reply.json()["n"])
    assert taken == list(range(200))
