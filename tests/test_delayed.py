"""Delayed jobs (POST /q/Q?delayed=<epoch>) and the scheduler's promotion."""

from __future__ import annotations

import json
import time

from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer, reactor
from twisted.internet.task import deferLater

from tests.support import NO_JOB, NO_QUEUES, Http, assert_error, epoch, epoch_seconds, run_due


async def sleep_until(when: str, margin: float = 0.05) -> None:
    delay = float(when) - time.time() + margin
    if delay > 0:
        await deferLater(reactor, delay)


@async_test
async def test_delayed_job_is_not_handed_out_before_its_time(http: Http) -> None:
    reply = await http.post_job("q1", {"n": 1}, delayed=epoch_seconds(60))
    assert reply.status == 201
    taken = await http.get("/q/q1")
    assert (taken.status, taken.json()) == NO_JOB
    assert await http.job_count("q1") == 0


@async_test
async def test_delayed_job_is_not_in_status_with_desc_before_its_time(http: Http) -> None:
    await http.post_job("q1", {"n": 1}, delayed=epoch_seconds(60))
    reply = await http.get("/status/q1", params={"with_desc": "1"})
    assert reply.json() == {"queue": "q1", "size": 0, "jobs": []}


@async_test
async def test_delayed_job_is_handed_out_by_get_right_after_its_time(http: Http) -> None:
    due = epoch(1.0)
    await http.post_job("q1", {"n": 1}, delayed=due)
    early = await http.get("/q/q1")
    assert (early.status, early.json()) == NO_JOB
    await sleep_until(due)
    # No scheduler runs in these tests: the GET itself must find the due job.
    taken = await http.get("/q/q1")
    assert (taken.status, taken.json()) == (200, {"n": 1})


@async_test
async def test_due_delayed_job_is_handed_out_once(http: Http) -> None:
    await http.post_job("q1", {"n": 1}, delayed=epoch(-1))
    assert (await http.get("/q/q1")).status == 200
    again = await http.get("/q/q1")
    assert (again.status, again.json()) == NO_JOB


@async_test
async def test_due_delayed_job_jumps_ahead_of_waiting_jobs(http: Http) -> None:
    due = epoch(0.5)
    await http.post_job("q1", {"n": "delayed"}, delayed=due)
    await http.post_jobs("q1", 3)
    assert (await http.get("/q/q1")).json() == {"n": 0}
    await sleep_until(due)
    taken = [(await http.get("/q/q1")).json()["n"] for _ in range(3)]
    assert taken == ["delayed", 1, 2]


@async_test
async def test_due_delayed_jobs_come_out_earliest_due_first(http: Http) -> None:
    dues = {"third": epoch(0.6), "first": epoch(0.2), "second": epoch(0.4)}
    for name, due in dues.items():
        await http.post_job("q1", {"n": name}, delayed=due)
    await http.post_job("q1", {"n": "ready"})
    await sleep_until(max(dues.values()))
    taken = [(await http.get("/q/q1")).json()["n"] for _ in range(4)]
    assert taken == ["first", "second", "third", "ready"]


@async_test
async def test_delayed_jobs_due_at_the_same_time_come_out_in_posting_order(http: Http) -> None:
    # Old clients send whole seconds: many jobs share one due time.
    due = epoch_seconds(-1)
    await http.post_jobs("q1", 6, delayed=due)
    taken = [(await http.get("/q/q1")).json()["n"] for _ in range(6)]
    assert taken == [0, 1, 2, 3, 4, 5]


@async_test
async def test_due_delayed_jobs_come_out_earliest_due_first_in_a_batch(http: Http) -> None:
    base = time.time()
    for name, offset in (("third", -1), ("first", -3), ("second", -2)):
        await http.post_job("q1", {"n": name}, delayed=f"{base + offset:.3f}")
    reply = await http.get("/qb/q1")
    assert reply.status == 200
    assert [json.loads(job)["n"] for job in reply.json()] == ["first", "second", "third"]


@async_test
async def test_tick_promotes_makes_due_jobs_ready(http: Http, presque) -> None:
    await http.post_jobs("q1", 3, delayed=epoch(-1))
    assert await http.job_count("q1") == 0
    assert await run_due(presque.broker) == (3, 0)
    assert await http.job_count("q1") == 3


@async_test
async def test_tick_promotes_leaves_jobs_not_yet_due(http: Http, presque) -> None:
    await http.post_job("q1", {"n": "due"}, delayed=epoch(-1))
    await http.post_job("q1", {"n": "later"}, delayed=epoch(60))
    assert await run_due(presque.broker) == (1, 0)
    assert await http.job_count("q1") == 1
    assert (await http.get("/q/q1")).json() == {"n": "due"}
    assert (await http.get("/q/q1")).status == 404


@async_test
async def test_tick_promotes_puts_due_jobs_at_the_head(http: Http, presque) -> None:
    await http.post_job("q1", {"n": "ready"})
    await http.post_job("q1", {"n": "first"}, delayed=epoch(-2))
    await http.post_job("q1", {"n": "second"}, delayed=epoch(-1))
    await run_due(presque.broker)
    reply = await http.get("/status/q1", params={"with_desc": "1"})
    assert reply.json() == {
        "queue": "q1",
        "size": 3,
        "jobs": ['{"n": "first"}', '{"n": "second"}', '{"n": "ready"}'],
    }


@async_test
async def test_tick_promotes_moves_jobs_of_every_queue(http: Http, presque) -> None:
    await http.post_job("q1", {"n": 1}, delayed=epoch(-1))
    await http.post_job("q2", {"n": 2}, delayed=epoch(-1))
    assert await run_due(presque.broker) == (2, 0)
    assert await http.job_count("q1") == 1
    assert await http.job_count("q2") == 1


@async_test
async def test_concurrent_tick_promotes_moves_each_job_exactly_once(http: Http, presque) -> None:
    await http.post_jobs("q1", 5, delayed=epoch(-1))
    moved = await defer.gatherResults(
        [
            defer.Deferred.fromCoroutine(run_due(presque.broker)),
            defer.Deferred.fromCoroutine(run_due(presque.broker)),
        ],
        consumeErrors=True,
    )
    assert sum(promoted for promoted, _ in moved) == 5
    assert await http.job_count("q1") == 5
    taken = [(await http.get("/q/q1")).json()["n"] for _ in range(5)]
    assert sorted(taken) == [0, 1, 2, 3, 4]
    empty = await http.get("/q/q1")
    assert (empty.status, empty.json()) == NO_JOB


@async_test
async def test_tick_promotes_twice_moves_nothing_the_second_time(http: Http, presque) -> None:
    await http.post_job("q1", {"n": 1}, delayed=epoch(-1))
    assert await run_due(presque.broker) == (1, 0)
    assert await run_due(presque.broker) == (0, 0)
    assert await http.job_count("q1") == 1


@async_test
async def test_invalid_delayed_is_refused(http: Http, presque) -> None:
    assert_error(await http.post_job("q1", {"n": 1}, delayed="soon"), 400)


@async_test
async def test_invalid_delayed_stores_nothing(http: Http, presque) -> None:
    await http.post_job("q1", {"n": 1}, delayed="soon")
    assert await run_due(presque.broker) == (0, 0)
    assert await http.job_count("q1") == 0
    taken = await http.get("/q/q1")
    assert (taken.status, taken.json()) == NO_JOB
    assert (await http.get("/status/")).json() == NO_QUEUES
