"""Priorities: POST ?priority=P (0-9), higher first, FIFO within one."""

from __future__ import annotations

import json
import time

from pytest_twisted import ensureDeferred as async_test
from twisted.internet import reactor
from twisted.internet.task import deferLater

from tests.conftest import Presque
from tests.leasing import fail, lease_one
from tests.support import Http, run_due


async def take_all(http: Http, queue: str) -> list[object]:
    taken = []
    while (reply := await http.get(f"/q/{queue}")).status == 200:
        taken.append(reply.json()["n"])
    return taken


@async_test
async def test_higher_priorities_come_out_first(http: Http) -> None:
    for n, priority in enumerate([0, 5, 9, 0, 5, 1]):
        await http.post_job("q1", {"n": n}, priority=str(priority))
    assert await take_all(http, "q1") == [2, 1, 4, 5, 0, 3]


@async_test
async def test_jobs_of_one_priority_come_out_in_posting_order(http: Http) -> None:
    for n in range(20):
        await http.post_job("q1", {"n": n}, priority="3")
    assert await take_all(http, "q1") == list(range(20))


@async_test
async def test_a_batch_takes_one_priority(http: Http) -> None:
    await http.post_job("q1", {"n": "low"})
    await http.post(
        "/qb/q1", json_body={"jobs": [{"n": "a"}, {"n": "b"}]}, params={"priority": "7"}
    )
    reply = await http.get("/qb/q1", params={"batch_size": "3"})
    assert [json.loads(job)["n"] for job in reply.json()] == ["a", "b", "low"]


@async_test
async def test_priority_0_is_the_default(http: Http) -> None:
    await http.post_job("q1", {"n": "default"})
    await http.post_job("q1", {"n": "zero"}, priority="0")
    assert await take_all(http, "q1") == ["default", "zero"]


@async_test
async def test_an_invalid_priority_is_400_and_stores_nothing(http: Http) -> None:
    for priority in ("10", "-1", "high", "1.5", "\u0661", "+1", "1e0"):
        reply = await http.post_job("q1", {"n": 1}, priority=priority)
        assert reply.status == 400, priority
        assert reply.json() == {"error": "priority must be an integer from 0 to 9"}
    assert await http.job_count("q1") == 0


@async_test
async def test_ready_jobs_of_every_priority_count_for_old_clients(http: Http) -> None:
    await http.post_job("q1", {"n": 1}, priority="9")
    await http.post_job("q1", {"n": 2})
    assert (await http.get("/j/q1")).json()["job_count"] == 2
    desc = (await http.get("/status/q1", params={"with_desc": "1"})).json()
    assert desc == {"queue": "q1", "size": 2, "jobs": ['{"n": 1}', '{"n": 2}']}


@async_test
async def test_the_queue_view_counts_ready_jobs_per_priority(http: Http) -> None:
    await http.post_job("q1", {"n": 1}, priority="9")
    await http.post_job("q1", {"n": 2}, priority="9")
    await http.post_job("q1", {"n": 3})
    view = (await http.get("/queues/q1")).json()
    assert view["ready_by_priority"] == {"0": 1, "9": 2}
    assert view["counts"]["ready"] == 3


@async_test
async def test_one_job_of_each_priority_counts_once_in_its_own(http: Http) -> None:
    for priority in range(10):
        await http.post_job("q1", {"n": priority}, priority=str(priority))
    view = (await http.get("/queues/q1")).json()
    assert view["ready_by_priority"] == {str(priority): 1 for priority in range(10)}
    assert view["counts"]["ready"] == 10


@async_test
async def test_a_delayed_job_keeps_its_priority(http: Http) -> None:
    await http.post_job("q1", {"n": "plain"})
    await http.post_job("q1", {"n": "urgent"}, priority="8", delayed=f"{time.time() + 0.1:.3f}")
    await deferLater(reactor, 0.15)
    assert await take_all(http, "q1") == ["urgent", "plain"]


@async_test
async def test_a_retried_job_keeps_its_priority(http: Http, presque: Presque) -> None:
    await http.post_job("q1", {"n": "urgent"}, priority="6")
    leased = await lease_one(http, "q1")
    await http.post_job("q1", {"n": "plain"})
    await fail(http, "q1", leased.id, leased.receipt, delay="0")
    await run_due(presque.broker)
    assert await take_all(http, "q1") == ["urgent", "plain"]


@async_test
async def test_an_expired_lease_keeps_its_priority(http: Http, presque: Presque) -> None:
    await http.post_job("q1", {"n": "urgent"}, priority="4")
    await lease_one(http, "q1", seconds=0.05)
    await http.post_job("q1", {"n": "plain"})
    await deferLater(reactor, 0.1)
    await run_due(presque.broker)
    assert await take_all(http, "q1") == ["urgent", "plain"]


@async_test
async def test_purge_removes_jobs_of_every_priority(http: Http) -> None:
    await http.post_job("q1", {"n": 1}, priority="9")
    await http.delete("/q/q1")
    assert await http.job_count("q1") == 0
    assert (await http.get("/q/q1")).status == 404
