"""Jobs that wait for others: POST /q/Q?after=ID and ?depends=KEY (Net::Presque)."""

from __future__ import annotations

import time

from pytest_twisted import ensureDeferred as async_test
from twisted.internet import reactor
from twisted.internet.task import deferLater

from tests.conftest import Presque
from tests.leasing import ack, fail, lease_one
from tests.support import Http, assert_error, run_due


async def post(http: Http, queue: str, n: object, **params: str) -> str:
    reply = await http.post_job(queue, {"n": n}, **params)
    assert reply.status == 201, reply.body
    return reply.header("X-Presque-Job-Id")


async def view(http: Http, queue: str, job_id: str) -> dict:
    reply = await http.get(f"/q/{queue}/{job_id}")
    assert reply.status == 200, reply.body
    return reply.json()


async def state(http: Http, queue: str, job_id: str) -> str:
    return (await view(http, queue, job_id))["state"]


async def done(http: Http, queue: str) -> str:
    """Lease the next job of C{queue} and ack it; its id."""
    leased = await lease_one(http, queue)
    assert (await ack(http, queue, leased.id, leased.receipt)).status == 204
    return leased.id


@async_test
async def test_a_job_after_another_waits_until_it_is_acked(http: Http) -> None:
    first = await post(http, "q1", "first")
    second = await post(http, "q1", "second", after=first)
    assert await state(http, "q1", second) == "waiting"
    assert await done(http, "q1") == first
    assert (await lease_one(http, "q1")).id == second


@async_test
async def test_a_waiting_job_is_not_handed_out(http: Http) -> None:
    first = await post(http, "q1", "first")
    await post(http, "q1", "second", after=first)
    await lease_one(http, "q1")
    assert (await http.get("/q/q1")).status == 404


@async_test
async def test_a_waiting_job_names_what_it_waits_for(http: Http) -> None:
    first = await post(http, "q1", "first")
    second = await post(http, "q1", "second", after=first)
    holds = (await view(http, "q1", second))["held_by"]
    assert {"reason": "waiting", "on": [{"queue": "q1", "id": first}]} in holds


@async_test
async def test_a_job_waits_for_every_job_it_names(http: Http) -> None:
    a = await post(http, "q1", "a")
    b = await post(http, "q1", "b")
    last = await post(http, "q1", "last", after=f"{a},{b}")
    await done(http, "q1")
    assert await state(http, "q1", last) == "waiting"
    await done(http, "q1")
    assert await state(http, "q1", last) == "ready"


@async_test
async def test_depends_names_the_job_holding_a_uniq_key(http: Http) -> None:
    await post(http, "q1", "import", uniq="import-42")
    report = await post(http, "q1", "report", depends="import-42")
    assert await state(http, "q1", report) == "waiting"
    await done(http, "q1")
    assert await state(http, "q1", report) == "ready"


@async_test
async def test_a_job_waits_for_a_job_of_another_queue(presque: Presque) -> None:
    http = presque.http
    parent = await post(http, "imports", "import", uniq="day-1")
    by_id = await post(http, "reports", "by id", after=f"imports:{parent}")
    by_key = await post(http, "reports", "by key", depends="imports:day-1")
    await done(http, "imports")
    await run_due(presque.broker)
    assert [await state(http, "reports", job) for job in (by_id, by_key)] == ["ready", "ready"]


@async_test
async def test_a_dependent_follows_its_job_to_the_dead_letters_with_the_reason(
    http: Http,
) -> None:
    parent = await post(http, "q1", "parent")
    child = await post(http, "q1", "child", after=parent)
    leased = await lease_one(http, "q1")
    await fail(http, "q1", leased.id, leased.receipt, dead="1")
    shown = await view(http, "q1", child)
    assert shown["state"] == "dead"
    assert shown["errors"][-1]["error"] == f"dependency q1 id:{parent} went to the dead letters"


@async_test
async def test_a_chain_of_dependents_follows_to_the_dead_letters(http: Http) -> None:
    a = await post(http, "q1", "a")
    b = await post(http, "q1", "b", after=a)
    c = await post(http, "q1", "c", after=b)
    assert (await http.post(f"/queues/q1/jobs/{a}/dead")).status == 200
    assert [await state(http, "q1", job) for job in (b, c)] == ["dead", "dead"]


@async_test
async def test_a_dependent_of_another_queue_follows_its_job_to_the_dead_letters(
    presque: Presque,
) -> None:
    http = presque.http
    parent = await post(http, "imports", "import")
    child = await post(http, "reports", "report", after=f"imports:{parent}")
    await http.post(f"/queues/imports/jobs/{parent}/dead")
    await run_due(presque.broker)
    assert await state(http, "reports", child) == "dead"


@async_test
async def test_a_dependent_of_a_cancelled_job_goes_to_the_dead_letters(http: Http) -> None:
    parent = await post(http, "q1", "parent")
    child = await post(http, "q1", "child", after=parent)
    assert (await http.delete(f"/queues/q1/jobs/{parent}")).status == 204
    shown = await view(http, "q1", child)
    assert (shown["state"], shown["errors"][-1]["error"]) == (
        "dead",
        f"dependency q1 id:{parent} was cancelled",
    )


@async_test
async def test_a_job_after_one_already_done_is_ready_at_once(http: Http) -> None:
    await post(http, "q1", "first")
    first = await done(http, "q1")
    assert await state(http, "q1", await post(http, "q1", "second", after=first)) == "ready"


@async_test
async def test_a_job_after_an_unknown_one_is_ready_at_once(http: Http) -> None:
    assert await state(http, "q1", await post(http, "q1", "x", after="no-such-job")) == "ready"


@async_test
async def test_a_job_after_a_dead_letter_is_dead_at_once(http: Http) -> None:
    parent = await post(http, "q1", "parent")
    await http.post(f"/queues/q1/jobs/{parent}/dead")
    assert await state(http, "q1", await post(http, "q1", "child", after=parent)) == "dead"


@async_test
async def test_a_job_taken_for_good_counts_as_done_once_its_delivery_is_confirmed(
    http: Http,
) -> None:
    parent = await post(http, "q1", "parent")
    child = await post(http, "q1", "child", after=parent)
    assert (await http.get("/q/q1")).json() == {"n": "parent"}
    await deferLater(reactor, 0.2, lambda: None)
    assert await state(http, "q1", child) == "ready"


@async_test
async def test_waiting_jobs_are_counted_and_listed(http: Http) -> None:
    parent = await post(http, "q1", "parent")
    child = await post(http, "q1", "child", after=parent)
    assert (await http.get("/queues/q1")).json()["counts"]["waiting"] == 1
    page = (await http.get("/queues/q1/jobs", params={"state": "waiting"})).json()
    assert [job["id"] for job in page["jobs"]] == [child]


@async_test
async def test_an_operator_makes_a_waiting_job_ready(http: Http) -> None:
    parent = await post(http, "q1", "parent")
    child = await post(http, "q1", "child", after=parent)
    assert (await http.post(f"/queues/q1/jobs/{child}/ready")).status == 200
    await lease_one(http, "q1")
    assert (await lease_one(http, "q1")).id == child


@async_test
async def test_a_waiting_job_is_cancelled(http: Http) -> None:
    parent = await post(http, "q1", "parent")
    child = await post(http, "q1", "child", after=parent)
    assert (await http.delete(f"/queues/q1/jobs/{child}")).status == 204
    await done(http, "q1")
    assert (await http.get(f"/q/q1/{child}")).status == 404


@async_test
async def test_a_job_that_waits_cannot_be_delayed_too(http: Http) -> None:
    parent = await post(http, "q1", "parent")
    reply = await http.post_job("q1", {}, after=parent, delayed=str(time.time() + 60))
    assert assert_error(reply) == "a job that waits for others cannot be delayed too"


@async_test
async def test_a_job_waits_for_at_most_100_jobs(http: Http) -> None:
    reply = await http.post_job("q1", {}, after=",".join(f"j{n}" for n in range(101)))
    assert assert_error(reply) == "a job waits for at most 100 jobs"
    assert (await http.get("/q/q1")).status == 404


@async_test
async def test_an_empty_dependency_is_400(http: Http) -> None:
    for params in ({"after": "a,,b"}, {"depends": "q2:"}, {"after": "q2:"}):
        assert "names an empty" in assert_error(await http.post_job("q1", {}, **params))


@async_test
async def test_old_clients_see_a_404_while_the_only_job_waits(http: Http) -> None:
    parent = await post(http, "q1", "parent")
    await post(http, "q1", "child", after=parent)
    await lease_one(http, "q1")
    reply = await http.get("/q/q1")
    assert (reply.status, reply.json()) == (404, {"error": "no job"})


@async_test
async def test_a_job_does_not_wait_for_itself(http: Http) -> None:
    job_id = await post(http, "q1", "self", uniq="self-1", depends="self-1")
    assert await state(http, "q1", job_id) == "ready"


@async_test
async def test_a_purged_queue_sends_the_jobs_waiting_on_it_elsewhere_to_the_dead_letters(
    http: Http,
) -> None:
    parent = await post(http, "imports", "import")
    child = await post(http, "reports", "report", after=f"imports:{parent}")
    assert (await http.delete("/q/imports")).status == 204
    shown = await view(http, "reports", child)
    assert (shown["state"], shown["errors"][-1]["error"]) == (
        "dead",
        f"dependency imports id:{parent} was cancelled",
    )


@async_test
async def test_a_deleted_queue_sends_the_jobs_waiting_on_it_elsewhere_to_the_dead_letters(
    http: Http,
) -> None:
    await post(http, "imports", "import", uniq="day-2")
    child = await post(http, "reports", "report", depends="imports:day-2")
    assert (await http.delete("/queues/imports")).status == 204
    assert await state(http, "reports", child) == "dead"


@async_test
async def test_a_batch_cannot_wait_for_others(http: Http) -> None:
    parent = await post(http, "q1", "parent")
    reply = await http.post("/qb/q1", json_body={"jobs": [{}]}, params={"after": parent})
    assert "cannot wait for others" in assert_error(reply)


@async_test
async def test_depends_on_a_key_longer_than_a_uniq_key_may_be_is_400(http: Http) -> None:
    reply = await http.post_job("q1", {}, depends="k" * 257)
    assert assert_error(reply) == "a uniq key of depends is longer than 256 characters"
