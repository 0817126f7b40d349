"""
How a server confirms the deliveries for good whose answers it wrote (see
tests/test_delivery_for_good.py for why they wait in a handoff set): the
next fetch of the same queue carries the confirmations in its own script
call, so a busy queue pays no extra call per request; a queue that nobody
fetches from again gets its own call after C{CONFIRM_DELAY}; a server that
stops sends what is left before it closes Redis; a fetch that failed leaves
its confirmations to be sent again.

Each broker here times its confirmations on a L{Clock}, so a test decides
when the delay has passed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_twisted
from pytest_twisted import ensureDeferred as async_test
from twisted.internet.task import Clock

from harness.polling import eventually
from harness.redis import RedisServer
from presque.broker.deliveries import CONFIRM_DELAY
from presque.service import Confirmations
from tests.conftest import Presque, start_presque
from tests.handoffs import unconfirmed_jobs


class Timed:
    """presque whose broker times its confirmations on C{clock}."""

    def __init__(self, presque: Presque, clock: Clock) -> None:
        self.presque = presque
        self.clock = clock

    async def take(self) -> str:
        """GET /q/q1 for good; the job's id."""
        reply = await self.presque.http.get("/q/q1")
        assert reply.status == 200, reply.body
        job_id = reply.header("X-Presque-Job-Id")
        assert job_id
        return job_id

    def unconfirmed(self) -> set[str]:
        """The ids of the jobs of q1 whose delivery Redis still waits to hear of."""
        return set(unconfirmed_jobs(self.presque.redis_server, "q1"))


async def timed_over(redis_server: RedisServer) -> tuple[Timed, object]:
    clock = Clock()
    presque, stop = await start_presque(redis_server, broker={"reactor": clock})
    return Timed(presque, clock), stop


@pytest_twisted.async_yield_fixture
async def timed(clean_redis: RedisServer) -> AsyncIterator[Timed]:
    server, stop = await timed_over(clean_redis)
    yield server
    await stop()


@pytest_twisted.async_yield_fixture
async def timed_alone(own_redis: RedisServer) -> AsyncIterator[Timed]:
    """Like C{timed}, over a Redis the test may stop and start again."""
    server, stop = await timed_over(own_redis)
    yield server
    await stop()


@async_test
async def test_the_next_fetch_of_the_queue_confirms_the_delivery_written_before_it(
    timed: Timed,
) -> None:
    await timed.presque.http.post_jobs("q1", 2)
    first = await timed.take()
    assert timed.unconfirmed() == {first}
    second = await timed.take()
    # No time passed on the clock: the second fetch carried the confirmation.
    assert timed.unconfirmed() == {second}


@async_test
async def test_a_fetch_that_finds_no_job_still_confirms_the_queue_s_deliveries(
    timed: Timed,
) -> None:
    await timed.presque.http.post_jobs("q1", 1)
    await timed.take()
    assert (await timed.presque.http.get("/q/q1")).status == 404
    assert timed.unconfirmed() == set()


@async_test
async def test_a_fetch_of_another_queue_leaves_the_confirmations_of_this_one(
    timed: Timed,
) -> None:
    await timed.presque.http.post_jobs("q1", 1)
    taken = await timed.take()
    assert (await timed.presque.http.get("/q/q2")).status == 404
    assert timed.unconfirmed() == {taken}


@async_test
async def test_a_delivery_no_fetch_carried_is_confirmed_after_the_delay(timed: Timed) -> None:
    await timed.presque.http.post_jobs("q1", 1)
    taken = await timed.take()
    timed.clock.advance(CONFIRM_DELAY / 2)
    assert timed.unconfirmed() == {taken}
    timed.clock.advance(CONFIRM_DELAY / 2)
    await eventually(lambda: not timed.unconfirmed(), 5, "the delivery was never confirmed")


@async_test
async def test_a_stopping_server_confirms_what_it_delivered_before_closing_redis(
    timed: Timed,
) -> None:
    await timed.presque.http.post_jobs("q1", 1)
    await timed.take()
    confirmations = Confirmations(timed.presque.broker)
    confirmations.startService()
    await confirmations.stopService()
    assert timed.unconfirmed() == set()


@async_test
async def test_the_confirmations_a_failed_fetch_carried_are_sent_again(
    timed_alone: Timed,
) -> None:
    http, redis_server = timed_alone.presque.http, timed_alone.presque.redis_server
    await http.post_jobs("q1", 2)
    first = await timed_alone.take()
    redis_server.stop()
    assert (await http.get("/q/q1")).status == 503
    redis_server.start()
    second = await eventually(_taken(timed_alone), 15, "still no job after Redis came back")
    assert first != second
    assert timed_alone.unconfirmed() == {second}


def _taken(timed: Timed):
    async def attempt() -> str | None:
        reply = await timed.presque.http.get("/q/q1")
        return reply.header("X-Presque-Job-Id") if reply.status == 200 else None

    return attempt
