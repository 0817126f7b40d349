"""
The queues' history: a sample per minute of each queue's counts and totals,
written once per minute across servers, read by GET /queues/Q/history.
"""

from __future__ import annotations

import time
from unittest import mock

from pytest_twisted import ensureDeferred as async_test

from tests.conftest import Presque
from tests.leasing import ack, lease_one
from tests.support import Http, assert_error, totals_with

DAY = 86400.0


class Clock:
    """time.time() of the broker's history, moved by hand a minute at a time."""

    def __init__(self) -> None:
        self.now = (time.time() // 60 - 1000) * 60

    def time(self) -> float:
        return self.now

    def next_minute(self) -> None:
        self.now += 60


async def sample(presque: Presque, clock: Clock, max_queues: int = 200) -> int:
    """What one server's scheduler does at the start of the next minute."""
    clock.next_minute()
    with mock.patch("presque.broker.history.time", clock):
        return await presque.broker.record_history(max_queues, 7 * DAY)


async def history(http: Http, queue: str, **params: str) -> list[dict]:
    reply = await http.get(f"/queues/{queue}/history", params=params or None)
    assert reply.status == 200
    assert reply.json()["queue"] == queue
    return reply.json()["samples"]


@async_test
async def test_a_sample_holds_the_counts_and_totals_of_its_minute(presque: Presque) -> None:
    clock = Clock()
    await presque.http.post_jobs("q1", 3)
    leased = await lease_one(presque.http, "q1")
    await ack(presque.http, "q1", leased.id, leased.receipt)
    assert await sample(presque, clock) == 1
    [taken] = await history(presque.http, "q1")
    assert taken["at"] == clock.now
    assert taken["counts"] == {"ready": 2, "delayed": 0, "leased": 0, "dead": 0, "waiting": 0}
    assert taken["totals"] == totals_with(enqueued=3, delivered=1, acked=1, processed=1)


@async_test
async def test_a_minute_is_sampled_by_one_server_only(two_servers: list[Presque]) -> None:
    clock = Clock()
    await two_servers[0].http.post_job("q1", {"n": 1})
    clock.next_minute()
    with mock.patch("presque.broker.history.time", clock):
        written = [await server.broker.record_history(200, DAY) for server in two_servers]
    assert sorted(written) == [0, 1]
    assert len(await history(two_servers[1].http, "q1")) == 1


@async_test
async def test_a_minute_in_which_nothing_changed_gets_no_sample(presque: Presque) -> None:
    clock = Clock()
    await presque.http.post_job("q1", {"n": 1})
    await sample(presque, clock)
    assert await sample(presque, clock) == 0
    await presque.http.post_job("q1", {"n": 2})
    assert await sample(presque, clock) == 1
    readings = await history(presque.http, "q1")
    assert [taken["counts"]["ready"] for taken in readings] == [1, 2]


@async_test
async def test_samples_come_oldest_first_from_since(presque: Presque) -> None:
    clock = Clock()
    minutes = []
    for n in range(3):
        await presque.http.post_job("q1", {"n": n})
        await sample(presque, clock)
        minutes.append(clock.now)
    readings = await history(presque.http, "q1", since=str(minutes[1]))
    assert [taken["at"] for taken in readings] == minutes[1:]


@async_test
async def test_limit_caps_the_samples(presque: Presque) -> None:
    clock = Clock()
    for n in range(3):
        await presque.http.post_job("q1", {"n": n})
        await sample(presque, clock)
    assert len(await history(presque.http, "q1", limit="2")) == 2


@async_test
async def test_samples_past_the_retention_are_forgotten(presque: Presque) -> None:
    clock = Clock()
    for n in range(120):
        await presque.http.post_job("q1", {"n": n})
        clock.next_minute()
        with mock.patch("presque.broker.history.time", clock):
            await presque.broker.record_history(200, 600.0)
    # MINID trims whole blocks of entries ("~"): a bound, not an exact count.
    length = presque.redis_server.call("XLEN", presque.broker.keys.queue("q1").history)
    assert length < 120


@async_test
async def test_only_the_first_queues_by_name_are_sampled(presque: Presque) -> None:
    clock = Clock()
    for queue in ("c", "a", "b"):
        await presque.http.post_job(queue, {"n": 1})
    assert await sample(presque, clock, max_queues=2) == 2
    assert await history(presque.http, "c") == []


@async_test
async def test_a_queue_never_used_has_no_history(http: Http) -> None:
    assert await history(http, "never-seen") == []


@async_test
async def test_deleting_a_queue_deletes_its_history(presque: Presque) -> None:
    clock = Clock()
    await presque.http.post_job("q1", {"n": 1})
    await sample(presque, clock)
    assert (await presque.http.delete("/queues/q1")).status == 204
    assert await history(presque.http, "q1") == []


@async_test
async def test_a_limit_past_seven_days_of_minutes_is_refused(http: Http) -> None:
    reply = await http.get("/queues/q1/history", params={"limit": "10081"})
    assert assert_error(reply, 400) == "limit must be an integer from 0 to 10080"


# The history of every queue together


async def total_history(http: Http, **params: str) -> list[dict]:
    reply = await http.get("/history", params=params or None)
    assert reply.status == 200
    assert reply.json()["queue"] is None
    return reply.json()["samples"]


@async_test
async def test_the_total_history_adds_up_every_sampled_queue(presque: Presque) -> None:
    clock = Clock()
    await presque.http.post_jobs("q1", 3)
    await presque.http.post_jobs("q2", 2)
    await lease_one(presque.http, "q2")
    await sample(presque, clock)
    [taken] = await total_history(presque.http)
    assert taken["at"] == clock.now
    assert taken["counts"] == {"ready": 4, "delayed": 0, "leased": 1, "dead": 0, "waiting": 0}
    assert taken["totals"] == totals_with(enqueued=5, delivered=1)


@async_test
async def test_the_total_history_counts_queues_that_did_not_change(presque: Presque) -> None:
    clock = Clock()
    await presque.http.post_jobs("q1", 3)
    await sample(presque, clock)
    await presque.http.post_job("q2", {"n": 1})
    await sample(presque, clock)
    readings = await total_history(presque.http)
    assert [taken["counts"]["ready"] for taken in readings] == [3, 4]


@async_test
async def test_the_total_history_leaves_out_queues_past_the_sampled_ones(
    presque: Presque,
) -> None:
    clock = Clock()
    for queue in ("a", "b", "c"):
        await presque.http.post_job(queue, {"n": 1})
    await sample(presque, clock, max_queues=2)
    [taken] = await total_history(presque.http)
    assert taken["counts"]["ready"] == 2


@async_test
async def test_the_total_history_is_empty_before_any_job(http: Http) -> None:
    assert await total_history(http) == []


@async_test
async def test_a_limit_of_0_answers_no_sample(presque: Presque) -> None:
    clock = Clock()
    await presque.http.post_job("q1", {"n": 1})
    await sample(presque, clock)
    assert await history(presque.http, "q1", limit="0") == []
    assert await total_history(presque.http, limit="0") == []
