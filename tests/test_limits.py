"""Rate and concurrency limits of a queue, counted in Redis for every server."""

from __future__ import annotations

import json

from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer, reactor
from twisted.internet.task import deferLater

from tests.conftest import Presque
from tests.flow import assert_settling_wakes_a_held_waiter, held_by, limit, timed_get
from tests.leasing import ack, fail, lease_one
from tests.support import Http


@async_test
async def test_a_rate_hands_out_its_burst_then_holds_fetches_back(http: Http) -> None:
    await limit(http, "q1", rate=0.5, burst=2)
    await http.post_jobs("q1", 3)
    assert [(await http.get("/q/q1")).status for _ in range(2)] == [200, 200]
    assert held_by(await http.get("/q/q1")) == "rate"


@async_test
async def test_the_retry_after_of_a_rate_is_the_time_to_the_next_token(http: Http) -> None:
    await limit(http, "q1", rate=0.25, burst=1)
    await http.post_jobs("q1", 2)
    assert (await http.get("/q/q1")).status == 200
    reply = await http.get("/q/q1")
    assert held_by(reply) == "rate"
    assert reply.header("Retry-After") == "4"


@async_test
async def test_the_bucket_refills_at_the_rate(http: Http) -> None:
    await limit(http, "q1", rate=5, burst=1)
    await http.post_jobs("q1", 2)
    assert (await http.get("/q/q1")).status == 200
    assert held_by(await http.get("/q/q1")) == "rate"
    await deferLater(reactor, 0.25, lambda: None)
    assert (await http.get("/q/q1")).status == 200


@async_test
async def test_a_rate_counts_leased_fetches_and_fetches_for_good(http: Http) -> None:
    await limit(http, "q1", rate=0.5, burst=2)
    await http.post_jobs("q1", 3)
    await lease_one(http, "q1")
    assert (await http.get("/q/q1")).status == 200
    assert held_by(await http.get("/q/q1", params={"lease": "30"})) == "rate"


@async_test
async def test_a_batch_takes_at_most_the_tokens_in_the_bucket(http: Http) -> None:
    await limit(http, "q1", rate=0.5, burst=3)
    await http.post_jobs("q1", 10)
    reply = await http.get("/qb/q1", params={"batch_size": "10"})
    assert [json.loads(job)["n"] for job in reply.json()] == [0, 1, 2]


@async_test
async def test_an_empty_queue_with_a_rate_is_not_held_back(http: Http) -> None:
    await limit(http, "q1", rate=0.5, burst=1)
    await http.post_jobs("q1", 1)
    assert (await http.get("/q/q1")).status == 200
    assert held_by(await http.get("/q/q1")) is None


@async_test
async def test_a_waiting_fetch_held_by_the_rate_gets_a_job_when_the_bucket_refills(
    http: Http,
) -> None:
    await limit(http, "q1", rate=2, burst=1)
    await http.post_jobs("q1", 2)
    assert (await http.get("/q/q1")).status == 200
    reply, took = await timed_get(http, "/q/q1", wait="10")
    assert (reply.status, reply.json()) == (200, {"n": 1})
    assert took < 2


@async_test
async def test_waiters_behind_one_held_by_the_rate_get_jobs_at_the_rate(http: Http) -> None:
    await limit(http, "q1", rate=4, burst=1)
    await http.post_jobs("q1", 5)
    assert (await http.get("/q/q1")).status == 200
    waits = [defer.Deferred.fromCoroutine(timed_get(http, "/q/q1", wait="10")) for _ in range(4)]
    answers = await defer.gatherResults(waits)
    assert sorted(reply.json()["n"] for reply, _ in answers) == [1, 2, 3, 4]
    # Four tokens at four a second: about a second, far from the deadline.
    assert max(took for _, took in answers) < 3


@async_test
async def test_concurrency_bounds_the_jobs_leased_at_once(http: Http) -> None:
    await limit(http, "q1", concurrency=2)
    await http.post_jobs("q1", 3)
    await lease_one(http, "q1")
    await lease_one(http, "q1")
    assert held_by(await http.get("/q/q1", params={"lease": "30"})) == "concurrency"


@async_test
async def test_an_ack_frees_a_slot_of_the_concurrency(http: Http) -> None:
    await limit(http, "q1", concurrency=1)
    await http.post_jobs("q1", 2)
    first = await lease_one(http, "q1")
    assert (await ack(http, "q1", first.id, first.receipt)).status == 204
    assert (await lease_one(http, "q1")).job == {"n": 1}


@async_test
async def test_a_failure_frees_a_slot_of_the_concurrency(http: Http) -> None:
    await limit(http, "q1", concurrency=1)
    await http.post_jobs("q1", 2)
    first = await lease_one(http, "q1")
    assert (await fail(http, "q1", first.id, first.receipt, delay="60")).status == 200
    assert (await lease_one(http, "q1")).job == {"n": 1}


@async_test
async def test_a_lease_that_runs_out_frees_a_slot_of_the_concurrency(http: Http) -> None:
    await limit(http, "q1", concurrency=1)
    await http.post_jobs("q1", 2)
    await lease_one(http, "q1", seconds=0.2)
    await deferLater(reactor, 0.3, lambda: None)
    # The expired job is ready again at the head, and leased again.
    assert (await lease_one(http, "q1")).job == {"n": 0}


@async_test
async def test_a_leased_batch_is_cut_down_to_the_free_slots(http: Http) -> None:
    await limit(http, "q1", concurrency=3)
    await http.post_jobs("q1", 10)
    await lease_one(http, "q1")
    reply = await http.get("/qb/q1", params={"batch_size": "10", "lease": "30"})
    assert len(reply.json()) == 2


@async_test
async def test_fetches_for_good_are_not_counted_by_the_concurrency(http: Http) -> None:
    await limit(http, "q1", concurrency=1)
    await http.post_jobs("q1", 3)
    await lease_one(http, "q1")
    assert (await http.get("/q/q1")).status == 200


@async_test
async def test_a_waiting_fetch_held_by_the_concurrency_is_woken_by_an_ack_on_another_server(
    two_servers: list[Presque],
) -> None:
    one, other = (server.http for server in two_servers)
    await limit(one, "q1", concurrency=1)
    await one.post_jobs("q1", 2)
    first = await lease_one(one, "q1")
    await assert_settling_wakes_a_held_waiter(
        other, lambda: ack(one, "q1", first.id, first.receipt), {"n": 1}
    )


@async_test
async def test_a_limit_can_be_lifted(http: Http) -> None:
    await limit(http, "q1", concurrency=1)
    await http.post_jobs("q1", 2)
    await lease_one(http, "q1")
    await limit(http, "q1", concurrency=0)
    assert (await lease_one(http, "q1")).job == {"n": 1}


@async_test
async def test_limits_are_refused_out_of_range(http: Http) -> None:
    for settings, message in [
        ({"rate": -1}, "rate must be from 0 to 1000000 jobs a second"),
        ({"concurrency": 1.5}, "concurrency must be an integer from 0 to 1000000"),
        ({"burst": "3"}, "burst must be a number"),
        ({"group_concurrency": -2}, "group_concurrency must be an integer from 0 to 1000000"),
    ]:
        reply = await http.request("PATCH", "/queues/q1", json_body=settings)
        assert (reply.status, reply.json()) == (400, {"error": message}), settings
