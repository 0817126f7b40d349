"""Why isn't my job running? A job's view names what holds it back."""

from __future__ import annotations

import time

from pytest_twisted import ensureDeferred as async_test

from tests.flow import limit
from tests.leasing import lease_one
from tests.support import Http

WORKER = {"X-presque-workerid": "host1-1"}


async def held_by(http: Http, queue: str, job_id: str) -> list[dict]:
    reply = await http.get(f"/q/{queue}/{job_id}")
    assert reply.status == 200, reply.body
    return reply.json()["held_by"]


async def reasons(http: Http, queue: str, job_id: str) -> list[str]:
    return [hold["reason"] for hold in await held_by(http, queue, job_id)]


async def post(http: Http, queue: str, **params: str) -> str:
    reply = await http.post(f"/q/{queue}", json_body={"n": 1}, params=params or None)
    assert reply.status == 201, reply.body
    return reply.header("X-Presque-Job-Id")


async def seen_worker(http: Http, queue: str) -> None:
    """A worker asks the queue for a job: it has a live worker."""
    await http.get(f"/q/{queue}", headers=WORKER, params={"lease": "30"})


@async_test
async def test_a_ready_job_of_a_queue_no_worker_asks_is_held_by_no_live_worker(
    http: Http,
) -> None:
    job_id = await post(http, "q1")
    [hold] = await held_by(http, "q1", job_id)
    assert hold == {"reason": "no_live_worker", "last_seen": None}


@async_test
async def test_a_ready_job_with_a_live_worker_is_held_by_nothing(http: Http) -> None:
    await seen_worker(http, "q1")
    job_id = await post(http, "q1")
    assert await held_by(http, "q1", job_id) == []


@async_test
async def test_a_job_of_a_closed_queue_is_held_by_the_closed_queue(http: Http) -> None:
    await seen_worker(http, "q1")
    job_id = await post(http, "q1")
    await http.post("/control/q1", body='{"status": "stop"}')
    assert await reasons(http, "q1", job_id) == ["queue_closed"]


@async_test
async def test_a_delayed_job_is_held_until_its_time(http: Http) -> None:
    await seen_worker(http, "q1")
    due = round(time.time() + 60, 3)
    job_id = await post(http, "q1", delayed=str(due))
    [hold] = await held_by(http, "q1", job_id)
    assert hold["reason"] == "delayed"
    assert abs(hold["until"] - due) < 0.01


@async_test
async def test_a_job_behind_the_concurrency_is_held_by_it(http: Http) -> None:
    await limit(http, "q1", concurrency=1)
    await post(http, "q1")
    await seen_worker(http, "q1")
    job_id = await post(http, "q1")
    assert await held_by(http, "q1", job_id) == [{"reason": "concurrency", "leased": 1, "limit": 1}]


@async_test
async def test_a_job_whose_group_is_at_its_limit_is_held_by_the_group(http: Http) -> None:
    await limit(http, "q1", group_concurrency=1)
    await post(http, "q1", group="t1")
    await seen_worker(http, "q1")
    job_id = await post(http, "q1", group="t1")
    other = await post(http, "q1", group="t2")
    assert await held_by(http, "q1", job_id) == [
        {"reason": "group_concurrency", "group": "t1", "leased": 1, "limit": 1}
    ]
    assert await held_by(http, "q1", other) == []


@async_test
async def test_a_job_of_a_queue_out_of_tokens_is_held_by_the_rate(http: Http) -> None:
    await limit(http, "q1", rate=0.5, burst=1)
    await post(http, "q1")
    await seen_worker(http, "q1")
    job_id = await post(http, "q1")
    [hold] = await held_by(http, "q1", job_id)
    assert (hold["reason"], hold["rate"]) == ("rate", 0.5)
    assert 0 < hold["retry_in"] <= 2


@async_test
async def test_a_leased_job_is_held_by_nothing_and_says_none(http: Http) -> None:
    await post(http, "q1")
    leased = await lease_one(http, "q1")
    assert "held_by" not in (await http.get(f"/q/q1/{leased.id}")).json()


@async_test
async def test_a_listed_job_leaves_held_by_out(http: Http) -> None:
    await post(http, "q1")
    [job] = (await http.get("/queues/q1/jobs", params={"state": "ready"})).json()["jobs"]
    assert "held_by" not in job
