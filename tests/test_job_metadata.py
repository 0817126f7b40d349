"""
A job's metadata (the queue's info hash) is stored only when it holds more
than the defaults: a plain queued job costs its payload and its place in a
list. What the API shows of a job does not change, and jobs stored by
earlier versions, which have metadata with their creation time, still read,
run and settle as before.
"""

from __future__ import annotations

import json
import time

from pytest_twisted import ensureDeferred as async_test

from presque.broker.keys import KeySpace, job_time, new_job_id
from tests.conftest import Presque
from tests.leasing import ack, dead_ids, fail, lease_one
from tests.support import Http

KEYS = KeySpace()
QUEUE = "meta"


def stored_info(presque: Presque, job_id: str, queue: str = QUEUE) -> dict | None:
    """The metadata Redis holds for C{job_id}, decoded, or None."""
    raw = presque.redis_server.call("HGET", KEYS.queue(queue).info, job_id)
    return None if raw is None else json.loads(raw)


async def posted_id(http: Http, job: object, **params: str) -> str:
    reply = await http.post_job(QUEUE, job, **params)
    assert reply.status == 201, reply.body
    return reply.header("X-Presque-Job-Id")


async def view_of(http: Http, job_id: str) -> dict:
    reply = await http.get(f"/q/{QUEUE}/{job_id}")
    assert reply.status == 200, reply.body
    return reply.json()


def old_layout_job(presque: Presque, job: object, created_ms: int, **info: object) -> str:
    """
    A ready job written straight into Redis as versions before this one
    stored every job: its metadata with its creation time and no attempt.
    """
    keys, job_id = KEYS.queue(QUEUE), new_job_id()
    metadata = {"created": created_ms, "attempts": 0, **info}
    presque.redis_server.call("HSET", keys.jobs, job_id, json.dumps(job))
    presque.redis_server.call("HSET", keys.info, job_id, json.dumps(metadata))
    if "uniq" in info:
        presque.redis_server.call("HSET", keys.uniq, str(info["uniq"]), job_id)
    presque.redis_server.call("RPUSH", keys.ready, job_id)
    return job_id


def an_hour_ago_ms() -> int:
    """A creation time no job id posted now could tell."""
    return int((time.time() - 3600) * 1000)


@async_test
async def test_a_plain_job_posted_alone_stores_no_metadata(presque: Presque) -> None:
    job_id = await posted_id(presque.http, {"n": 1})
    assert stored_info(presque, job_id) is None


@async_test
async def test_plain_jobs_posted_in_a_batch_store_no_metadata(presque: Presque) -> None:
    reply = await presque.http.post(f"/qb/{QUEUE}", json_body={"jobs": [{"n": 1}, {"n": 2}]})
    assert reply.status == 201, reply.body
    assert presque.redis_server.call("HLEN", KEYS.queue(QUEUE).info) == 0
    assert presque.redis_server.call("HLEN", KEYS.queue(QUEUE).jobs) == 2


@async_test
async def test_a_delayed_plain_job_stores_no_metadata(presque: Presque) -> None:
    job_id = await posted_id(presque.http, {"n": 1}, delayed=str(int(time.time()) + 60))
    assert stored_info(presque, job_id) is None


@async_test
async def test_a_plain_job_shows_the_time_its_id_tells_as_created(presque: Presque) -> None:
    before = time.time()
    job_id = await posted_id(presque.http, {"n": 1})
    view = await view_of(presque.http, job_id)
    assert view["created"] == job_time(job_id)
    assert before - 1 <= view["created"] <= time.time() + 1


@async_test
async def test_a_plain_job_in_a_page_of_jobs_shows_its_created_time(presque: Presque) -> None:
    job_id = await posted_id(presque.http, {"n": 1})
    reply = await presque.http.get(f"/queues/{QUEUE}/jobs", params={"state": "ready"})
    assert reply.status == 200, reply.body
    [shown] = reply.json()["jobs"]
    assert (shown["id"], shown["created"]) == (job_id, job_time(job_id))


@async_test
async def test_a_plain_job_shows_every_default(presque: Presque) -> None:
    job_id = await posted_id(presque.http, {"n": 1})
    view = await view_of(presque.http, job_id)
    shown = {name: view[name] for name in ("state", "priority", "group", "attempts", "errors")}
    assert shown == {"state": "ready", "priority": 0, "group": None, "attempts": 0, "errors": []}
    assert (view["delivered"], view["progress"], view["job"]) == (None, None, {"n": 1})


@async_test
async def test_a_job_with_uniq_and_priority_keeps_them_in_its_metadata(presque: Presque) -> None:
    job_id = await posted_id(presque.http, {"n": 1}, uniq="k1", priority="3")
    assert stored_info(presque, job_id) == {"uniq": "k1", "priority": 3}


@async_test
async def test_a_job_with_uniq_and_priority_shows_them_and_its_attempts(
    presque: Presque,
) -> None:
    job_id = await posted_id(presque.http, {"n": 1}, uniq="k1", priority="3")
    leased = await lease_one(presque.http, QUEUE)
    assert (leased.id, leased.attempt) == (job_id, 1)
    reply = await fail(presque.http, QUEUE, job_id, leased.receipt, error="boom", delay="0")
    assert reply.status == 200, reply.body
    view = await view_of(presque.http, job_id)
    shown = {name: view[name] for name in ("state", "priority", "attempts")}
    assert shown == {"state": "ready", "priority": 3, "attempts": 1}
    assert [(e["attempt"], e["error"]) for e in view["errors"]] == [(1, "boom")]
    assert view["created"] == job_time(job_id)
    # The uniq key is still held by the job that may still run.
    refused = await presque.http.post_job(QUEUE, {"n": 2}, uniq="k1")
    assert (refused.status, refused.json()) == (400, {"error": "job already exists"})


@async_test
async def test_a_job_given_a_group_keeps_it_in_its_metadata(presque: Presque) -> None:
    job_id = await posted_id(presque.http, {"n": 1}, group="tenant")
    assert stored_info(presque, job_id) == {"group": "tenant"}
    assert (await view_of(presque.http, job_id))["group"] == "tenant"


@async_test
async def test_an_acked_plain_job_leaves_no_metadata(presque: Presque) -> None:
    job_id = await posted_id(presque.http, {"n": 1})
    leased = await lease_one(presque.http, QUEUE)
    assert stored_info(presque, job_id)["attempts"] == 1
    assert (await ack(presque.http, QUEUE, job_id, leased.receipt)).status == 204
    assert stored_info(presque, job_id) is None


@async_test
async def test_a_ready_plain_job_settled_without_a_lease_is_a_stale_receipt(
    presque: Presque,
) -> None:
    job_id = await posted_id(presque.http, {"n": 1})
    reply = await ack(presque.http, QUEUE, job_id, "not-a-receipt")
    assert reply.status == 409, reply.body


@async_test
async def test_an_unknown_job_settled_is_still_unknown(presque: Presque) -> None:
    reply = await ack(presque.http, QUEUE, new_job_id(), "not-a-receipt")
    assert reply.status == 404, reply.body


@async_test
async def test_a_plain_job_whose_delivery_is_given_back_is_ready_again(
    presque: Presque,
) -> None:
    job_id = await posted_id(presque.http, {"n": 1})
    delivery = await presque.broker.fetch(QUEUE, 1)
    assert [job.id for job in delivery.jobs] == [job_id]
    await presque.broker.undelivered(delivery)
    view = await view_of(presque.http, job_id)
    assert (view["state"], view["attempts"], view["created"]) == ("ready", 0, job_time(job_id))
    assert stored_info(presque, job_id) is None


# Jobs stored by earlier versions


@async_test
async def test_an_old_layout_job_shows_its_stored_creation_time(presque: Presque) -> None:
    created = an_hour_ago_ms()
    job_id = old_layout_job(presque, {"n": 1}, created)
    view = await view_of(presque.http, job_id)
    assert (view["state"], view["attempts"], view["created"]) == ("ready", 0, created / 1000)


@async_test
async def test_an_old_layout_job_is_handed_out_for_good(presque: Presque) -> None:
    job_id = old_layout_job(presque, {"n": 1}, an_hour_ago_ms())
    reply = await presque.http.get(f"/q/{QUEUE}")
    assert (reply.status, reply.json(), reply.header("X-Presque-Job-Id")) == (200, {"n": 1}, job_id)


@async_test
async def test_an_old_layout_job_is_leased_and_acked(presque: Presque) -> None:
    job_id = old_layout_job(presque, {"n": 1}, an_hour_ago_ms())
    leased = await lease_one(presque.http, QUEUE)
    assert (leased.id, leased.attempt, leased.job) == (job_id, 1, {"n": 1})
    assert (await ack(presque.http, QUEUE, job_id, leased.receipt)).status == 204
    assert stored_info(presque, job_id) is None
    assert (await view_of(presque.http, job_id))["state"] == "done"


@async_test
async def test_an_old_layout_job_failed_is_retried_with_its_creation_time(
    presque: Presque,
) -> None:
    created = an_hour_ago_ms()
    job_id = old_layout_job(presque, {"n": 1}, created)
    leased = await lease_one(presque.http, QUEUE)
    reply = await fail(presque.http, QUEUE, job_id, leased.receipt, error="boom", delay="0")
    assert reply.status == 200, reply.body
    view = await view_of(presque.http, job_id)
    assert (view["state"], view["attempts"], view["created"]) == ("ready", 1, created / 1000)
    assert [e["error"] for e in view["errors"]] == ["boom"]


@async_test
async def test_an_old_layout_job_failed_for_good_is_a_dead_letter(presque: Presque) -> None:
    created = an_hour_ago_ms()
    job_id = old_layout_job(presque, {"n": 1}, created)
    leased = await lease_one(presque.http, QUEUE)
    reply = await fail(presque.http, QUEUE, job_id, leased.receipt, error="bad", dead="1")
    assert reply.json()["state"] == "dead", reply.body
    assert await dead_ids(presque.http, QUEUE) == [job_id]
    view = await view_of(presque.http, job_id)
    assert (view["state"], view["created"]) == ("dead", created / 1000)
    assert [e["error"] for e in view["errors"]] == ["bad"]


@async_test
async def test_an_old_layout_job_holds_its_uniq_key_until_taken(presque: Presque) -> None:
    job_id = old_layout_job(presque, {"n": 1}, an_hour_ago_ms(), uniq="k1")
    refused = await presque.http.post_job(QUEUE, {"n": 2}, uniq="k1")
    assert (refused.status, refused.json()) == (400, {"error": "job already exists"})
    assert (await presque.http.get(f"/q/{QUEUE}")).header("X-Presque-Job-Id") == job_id
    assert (await presque.http.post_job(QUEUE, {"n": 2}, uniq="k1")).status == 201
