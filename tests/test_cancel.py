"""Cancelling one job: DELETE /queues/Q/jobs/<id>; a leased one only with force=1."""

from __future__ import annotations

import time

from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer

from tests.flow import timed_get
from tests.leasing import ack, lease_one
from tests.support import Http, assert_error


async def post(http: Http, queue: str, **params: str) -> str:
    reply = await http.post(f"/q/{queue}", json_body={"n": 1}, params=params or None)
    assert reply.status == 201, reply.body
    return reply.header("X-Presque-Job-Id")


@async_test
async def test_a_ready_job_is_cancelled(http: Http) -> None:
    job_id = await post(http, "q1")
    assert (await http.delete(f"/queues/q1/jobs/{job_id}")).status == 204
    assert (await http.get(f"/q/q1/{job_id}")).status == 404
    assert (await http.get("/q/q1")).status == 404


@async_test
async def test_a_delayed_job_is_cancelled(http: Http) -> None:
    job_id = await post(http, "q1", delayed=str(time.time() + 60))
    assert (await http.delete(f"/queues/q1/jobs/{job_id}")).status == 204
    assert (await http.get(f"/q/q1/{job_id}")).status == 404


@async_test
async def test_a_leased_job_is_not_cancelled_without_force(http: Http) -> None:
    await post(http, "q1")
    leased = await lease_one(http, "q1")
    reply = await http.delete(f"/queues/q1/jobs/{leased.id}")
    assert "it is leased" in assert_error(reply, 409)
    assert (await ack(http, "q1", leased.id, leased.receipt)).status == 204


@async_test
async def test_a_leased_job_is_cancelled_with_force_and_its_receipt_is_then_unknown(
    http: Http,
) -> None:
    await post(http, "q1")
    leased = await lease_one(http, "q1")
    assert (await http.delete(f"/queues/q1/jobs/{leased.id}?force=1")).status == 204
    assert (await ack(http, "q1", leased.id, leased.receipt)).status == 404


@async_test
async def test_a_producer_waiting_on_a_cancelled_job_hears_of_it_at_once(http: Http) -> None:
    job_id = await post(http, "q1")
    waiting = defer.Deferred.fromCoroutine(timed_get(http, f"/q/q1/{job_id}", wait="10"))
    await http.delete(f"/queues/q1/jobs/{job_id}")
    reply, took = await waiting
    assert (reply.status, took < 3) == (404, True)
