"""
C{DELETE /queues/Q}: a queue and everything about it goes (its jobs in every
state, counters, settings, status, workers, Idempotency-Keys, its place in
the lists of queues and in the schedule of due work); a later POST creates
it afresh, and a worker still holding one of its jobs learns it is gone.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pytest_twisted import ensureDeferred as async_test

from harness.polling import eventually
from harness.redis import RedisServer
from tests.conftest import Presque
from tests.leasing import Leased, ack, bury, configure, extend, fail, lease_one
from tests.support import (
    NO_JOB,
    NO_QUEUES,
    NO_TOTALS,
    WORKER,
    Http,
    assert_error,
    epoch,
    totals_with,
)

NO_SUCH_JOB = (404, {"error": "no such job"})
DUE_KEY = "presque:{schedule}:due"
DIRTY_KEY = "presque:{schedule}:dirty"


@dataclass
class Populated:
    """The ids of q1's jobs, one in each state."""

    dead: str
    leased: Leased
    ready: str
    delayed: str
    uniq: str

    @property
    def ids(self) -> list[str]:
        return [self.dead, self.leased.id, self.ready, self.delayed, self.uniq]


async def posted(http: Http, queue: str, job: object, **params: str) -> str:
    """POST C{job} to C{queue}; its id."""
    reply = await http.post_job(queue, job, **params)
    assert reply.status == 201, reply.body
    return reply.header("X-Presque-Job-Id")


async def populate(http: Http) -> Populated:
    """q1 with a job in every state, a uniq key, its own lease setting, and a total
    of each kind."""
    dead = await bury(http, "q1", {"n": "dead"})
    await http.post_job("q1", {"n": "leased"})
    leased = await lease_one(http, "q1")
    ready = await posted(http, "q1", {"n": "ready"})
    delayed = await posted(http, "q1", {"n": "delayed"}, delayed=epoch(60))
    uniq = await posted(http, "q1", {"n": "uniq"}, uniq="u1")
    assert (await configure(http, "q1", {"lease": 60})).status == 200
    return Populated(dead, leased, ready, delayed, uniq)


async def delete_queue(http: Http, queue: str = "q1") -> None:
    reply = await http.delete(f"/queues/{queue}")
    assert (reply.status, reply.body) == (204, b"")


async def queue_view(http: Http, queue: str) -> dict:
    reply = await http.get(f"/queues/{queue}")
    assert reply.status == 200, reply.body
    return reply.json()


async def listed_queues(http: Http) -> list[str]:
    reply = await http.get("/queues", params={"limit": "1000"})
    assert reply.status == 200, reply.body
    return [queue["queue"] for queue in reply.json()["queues"]]


async def status_queues(http: Http) -> list[str]:
    reply = await http.get("/status/")
    assert reply.status == 200, reply.body
    return reply.json()["queues"]


def keys_of(redis: RedisServer, queue: str) -> list[str]:
    return redis.call("KEYS", f"presque:{{{queue}}}:*")


@async_test
async def test_delete_answers_204_and_leaves_no_key_of_the_queue(
    http: Http, clean_redis: RedisServer
) -> None:
    await populate(http)
    assert keys_of(clean_redis, "q1")
    await delete_queue(http)
    assert keys_of(clean_redis, "q1") == []


@async_test
async def test_a_deleted_queue_is_no_longer_listed(http: Http) -> None:
    await populate(http)
    await http.post_job("q2", {"n": 1})
    await delete_queue(http)
    assert await status_queues(http) == ["q2"]
    assert await listed_queues(http) == ["q2"]


@async_test
async def test_deleting_a_queue_leaves_the_other_queues_alone(http: Http) -> None:
    await populate(http)
    await http.post_job("q2", {"n": 1})
    await delete_queue(http)
    reply = await http.get("/q/q2")
    assert (reply.status, reply.json()) == (200, {"n": 1})


@async_test
async def test_the_jobs_of_a_deleted_queue_are_gone_in_every_state(http: Http) -> None:
    jobs = await populate(http)
    await delete_queue(http)
    for job_id in jobs.ids:
        reply = await http.get(f"/q/q1/{job_id}")
        assert (reply.status, reply.json()) == NO_SUCH_JOB, job_id
    view = await queue_view(http, "q1")
    assert view["counts"] == {"ready": 0, "delayed": 0, "leased": 0, "dead": 0, "waiting": 0}
    assert view["totals"] == NO_TOTALS
    dead = await http.get("/dead/q1")
    assert dead.json()["total"] == 0
    taken = await http.get("/q/q1")
    assert (taken.status, taken.json()) == NO_JOB


@async_test
async def test_a_deleted_queue_has_the_default_settings_again(http: Http) -> None:
    defaults = (await queue_view(http, "never-seen"))["settings"]
    await populate(http)
    assert (await queue_view(http, "q1"))["settings"]["lease"] == 60
    await delete_queue(http)
    assert (await queue_view(http, "q1"))["settings"] == defaults


@async_test
async def test_a_closed_queue_deleted_is_open_again(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    assert (await http.post("/control/q1", body='{"status": "stop"}')).status == 200
    await delete_queue(http)
    reply = await http.get("/control/q1")
    assert reply.json() == {"queue": "q1", "status": 1}


@async_test
async def test_a_deleted_queue_lists_no_worker(http: Http, clean_redis: RedisServer) -> None:
    await http.post_job("q1", {"n": 1})
    assert (await http.post("/w/q1", headers={WORKER: "w1"})).status == 201
    # The sighting of that request is written after its answer.
    await eventually(
        lambda: clean_redis.call("EXISTS", "presque:{q1}:seen"), 5, "w1 never seen on q1"
    )
    await delete_queue(http)
    assert (await queue_view(http, "q1"))["workers"] == []
    reply = await http.get("/w/", params={"queue_name": "q1"})
    assert reply.json()["workers_list"] == []


@async_test
async def test_a_deleted_queue_leaves_the_schedule_after_a_round(
    presque: Presque, clean_redis: RedisServer
) -> None:
    await populate(presque.http)
    assert clean_redis.call("ZSCORE", DUE_KEY, "q1") is not None
    await delete_queue(presque.http)
    await presque.broker.run_due()
    assert clean_redis.call("ZSCORE", DUE_KEY, "q1") is None
    assert clean_redis.call("SISMEMBER", DIRTY_KEY, "q1") == 0
    assert keys_of(clean_redis, "q1") == []


@async_test
async def test_a_deleted_queue_forgets_the_idempotency_keys_of_its_posts(
    http: Http, clean_redis: RedisServer
) -> None:
    headers = {"Idempotency-Key": "k1"}
    first = await http.post("/q/q1", json_body={"n": 1}, headers=headers)
    assert first.status == 201
    await delete_queue(http)
    assert keys_of(clean_redis, "q1") == []
    # The jobs stored under the key are gone: a repeat must store the job again.
    again = await http.post("/q/q1", json_body={"n": 1}, headers=headers)
    assert again.status == 201
    assert again.header("Idempotent-Replayed") is None
    assert await http.job_count("q1") == 1


# After the deletion


@async_test
async def test_a_post_after_the_deletion_creates_the_queue_afresh(http: Http) -> None:
    defaults = (await queue_view(http, "never-seen"))["settings"]
    await populate(http)
    await delete_queue(http)
    reply = await http.post_job("q1", {"n": "new"})
    assert reply.status == 201
    assert await status_queues(http) == ["q1"]
    assert await listed_queues(http) == ["q1"]
    view = await queue_view(http, "q1")
    assert view["counts"] == {"ready": 1, "delayed": 0, "leased": 0, "dead": 0, "waiting": 0}
    assert view["totals"] == totals_with(enqueued=1)
    assert view["settings"] == defaults
    taken = await http.get("/q/q1")
    assert (taken.status, taken.json()) == (200, {"n": "new"})


@async_test
async def test_the_uniq_keys_of_a_deleted_queue_are_free_again(http: Http) -> None:
    await http.post_job("q1", {"n": 1}, uniq="u1")
    await delete_queue(http)
    reply = await http.post_job("q1", {"n": 2}, uniq="u1")
    assert reply.status == 201


@async_test
async def test_deleting_a_queue_that_never_existed_is_204_and_creates_nothing(
    http: Http, clean_redis: RedisServer
) -> None:
    await delete_queue(http, "never-seen")
    assert clean_redis.call("KEYS", "*") == []
    reply = await http.get("/status/")
    assert reply.json() == NO_QUEUES


@async_test
async def test_deleting_a_queue_twice_is_204_both_times(
    http: Http, clean_redis: RedisServer
) -> None:
    await http.post_job("q1", {"n": 1})
    await delete_queue(http)
    await delete_queue(http)
    assert keys_of(clean_redis, "q1") == []
    assert await status_queues(http) == []


@pytest.mark.parametrize(
    "path",
    ["/queues/a%2Fb", "/queues/%2E%2E", "/queues/%2E", "/queues/a%01b", "/queues/" + "x" * 129],
)
@async_test
async def test_deleting_a_queue_with_a_bad_name_is_400(
    http: Http, clean_redis: RedisServer, path: str
) -> None:
    await http.post_job("q1", {"n": 1})
    reply = await http.delete(path)
    assert_error(reply, 400, path)
    assert await status_queues(http) == ["q1"]
    assert await http.job_count("q1") == 1


# A worker still holding a job of the deleted queue


@pytest.mark.parametrize(
    "settle",
    [
        lambda http, job: ack(http, "q1", job.id, job.receipt),
        lambda http, job: fail(http, "q1", job.id, job.receipt, error="too late"),
        lambda http, job: extend(http, "q1", job.id, job.receipt, 30),
    ],
    ids=["ack", "fail", "extend"],
)
@async_test
async def test_a_worker_settling_a_job_of_a_deleted_queue_gets_404(
    http: Http, clean_redis: RedisServer, settle
) -> None:
    await http.post_job("q1", {"n": 1})
    job = await lease_one(http, "q1")
    await delete_queue(http)
    reply = await settle(http, job)
    assert (reply.status, reply.json()) == NO_SUCH_JOB
    assert keys_of(clean_redis, "q1") == []
