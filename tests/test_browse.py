"""/queues/Q/jobs: pages of jobs by state, and an operator's actions on one job."""

from __future__ import annotations

import time
from unittest import mock

from pytest_twisted import ensureDeferred as async_test

from presque.broker.browse import PAGE_BYTES
from tests.conftest import Presque
from tests.leasing import ack, bury, dead_ids, lease_one, state_of
from tests.support import Http, assert_error, epoch


async def jobs_page(http: Http, queue: str, state: str, **params: str) -> dict:
    reply = await http.get(f"/queues/{queue}/jobs", params={"state": state, **params})
    assert reply.status == 200, reply.body
    return reply.json()


async def listed(http: Http, queue: str, state: str, **params: str) -> list[object]:
    return [job["job"]["n"] for job in (await jobs_page(http, queue, state, **params))["jobs"]]


async def post_id(http: Http, queue: str, job: object, **params: str) -> str:
    reply = await http.post_job(queue, job, **params)
    assert reply.status == 201, reply.body
    return reply.header("X-Presque-Job-Id")


# Pages


@async_test
async def test_ready_jobs_are_listed_in_the_order_they_will_be_handed_out(http: Http) -> None:
    for n, priority in enumerate([0, 5, 9, 0, 5]):
        await http.post_job("q1", {"n": n}, priority=str(priority))
    assert await listed(http, "q1", "ready") == [2, 1, 4, 0, 3]
    taken = [(await http.get("/q/q1")).json()["n"] for _ in range(5)]
    assert taken == [2, 1, 4, 0, 3]


@async_test
async def test_ready_pages_run_on_from_the_priorities_into_the_ready_list(http: Http) -> None:
    for n, priority in enumerate([0, 5, 9, 0, 5, 0]):
        await http.post_job("q1", {"n": n}, priority=str(priority))
    pages = [await listed(http, "q1", "ready", offset=str(i), limit="2") for i in (0, 2, 4, 6)]
    assert pages == [[2, 1], [4, 0], [3, 5], []]


@async_test
async def test_the_state_is_ready_when_not_given(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    reply = await http.get("/queues/q1/jobs")
    assert (reply.json()["state"], reply.json()["total"]) == ("ready", 1)


@async_test
async def test_delayed_jobs_are_listed_by_due_time(http: Http) -> None:
    for n, delay in enumerate([300, 100, 200]):
        await http.post_job("q1", {"n": n}, delayed=epoch(delay))
    page = await jobs_page(http, "q1", "delayed")
    assert [job["job"]["n"] for job in page["jobs"]] == [1, 2, 0]
    assert page["jobs"][0]["next_run"] == min(job["next_run"] for job in page["jobs"])


@async_test
async def test_leased_jobs_are_listed_by_deadline_with_their_worker(http: Http) -> None:
    await http.post_jobs("q1", 2)
    for seconds, worker in ((60, "slow"), (20, "quick")):
        reply = await http.get(
            "/q/q1", params={"lease": str(seconds)}, headers={"X-presque-workerid": worker}
        )
        assert reply.status == 200
    page = await jobs_page(http, "q1", "leased")
    assert [(job["job"]["n"], job["delivered_to"]) for job in page["jobs"]] == [
        (1, "quick"),
        (0, "slow"),
    ]
    assert page["jobs"][0]["lease_expires"] < page["jobs"][1]["lease_expires"]
    assert page["jobs"][0]["delivered"] <= time.time()


@async_test
async def test_dead_letters_are_listed_by_time_of_death(http: Http) -> None:
    first = await bury(http, "q1", {"n": 0})
    second = await bury(http, "q1", {"n": 1})
    page = await jobs_page(http, "q1", "dead")
    assert [job["id"] for job in page["jobs"]] == [first, second]
    assert page["total"] == 2


@async_test
async def test_a_page_item_is_the_job_as_its_own_view_shows_it(http: Http) -> None:
    job_id = await post_id(http, "q1", {"n": 7}, priority="3")
    [job] = (await jobs_page(http, "q1", "ready"))["jobs"]
    # But for what holds it back, which only a job's own view looks at.
    shown = (await http.get(f"/q/q1/{job_id}")).json()
    assert job == {key: value for key, value in shown.items() if key != "held_by"}
    assert (job["priority"], job["attempts"], job["delivered"]) == (3, 0, None)


@async_test
async def test_an_unknown_state_is_refused(http: Http) -> None:
    reply = await http.get("/queues/q1/jobs", params={"state": "running"})
    assert "ready, delayed, leased, dead, waiting" in assert_error(reply, 400)


@async_test
async def test_a_page_of_an_unknown_queue_is_empty(http: Http) -> None:
    page = await jobs_page(http, "never-seen", "leased")
    assert (page["total"], page["jobs"]) == (0, [])


# Making a job ready now


@async_test
async def test_a_delayed_job_made_ready_is_handed_out_next(http: Http) -> None:
    job_id = await post_id(http, "q1", {"n": 1}, delayed=epoch(3600))
    reply = await http.post(f"/queues/q1/jobs/{job_id}/ready")
    assert (reply.status, reply.json()["state"]) == (200, "ready")
    assert (await http.get("/q/q1")).json() == {"n": 1}


@async_test
async def test_a_dead_letter_made_ready_has_fresh_attempts(http: Http) -> None:
    job_id = await bury(http, "q1", {"n": 1})
    reply = await http.post(f"/queues/q1/jobs/{job_id}/ready")
    assert (reply.json()["state"], reply.json()["attempts"]) == ("ready", 0)
    assert await dead_ids(http, "q1") == []
    assert (await lease_one(http, "q1")).attempt == 1


@async_test
async def test_a_leased_job_cannot_be_made_ready(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    reply = await http.post(f"/queues/q1/jobs/{leased.id}/ready")
    assert "it is leased" in assert_error(reply, 409)
    assert await state_of(http, "q1", leased.id) == "leased"


@async_test
async def test_a_ready_job_made_ready_again_is_refused(http: Http) -> None:
    job_id = await post_id(http, "q1", {"n": 1})
    assert "it is ready" in assert_error(await http.post(f"/queues/q1/jobs/{job_id}/ready"), 409)
    assert await listed(http, "q1", "ready") == [1]


@async_test
async def test_making_an_unknown_job_ready_is_not_found(http: Http) -> None:
    assert_error(await http.post("/queues/q1/jobs/nope/ready"), 404)


# Sending a job to the dead letters


@async_test
async def test_a_ready_job_of_any_priority_can_be_sent_to_the_dead_letters(http: Http) -> None:
    plain = await post_id(http, "q1", {"n": 0})
    urgent = await post_id(http, "q1", {"n": 1}, priority="9")
    for job_id in (plain, urgent):
        assert (await http.post(f"/queues/q1/jobs/{job_id}/dead")).status == 200
    assert await listed(http, "q1", "ready") == []
    assert await dead_ids(http, "q1") == [plain, urgent]


@async_test
async def test_a_job_sent_to_the_dead_letters_keeps_the_reason(http: Http) -> None:
    job_id = await post_id(http, "q1", {"n": 0}, delayed=epoch(600))
    reply = await http.post(f"/queues/q1/jobs/{job_id}/dead", json_body={"error": "bad data"})
    view = reply.json()
    assert (view["state"], [e["error"] for e in view["errors"]]) == ("dead", ["bad data"])
    assert (await jobs_page(http, "q1", "delayed"))["total"] == 0


@async_test
async def test_a_job_sent_to_the_dead_letters_without_a_reason_says_an_operator_did(
    http: Http,
) -> None:
    job_id = await post_id(http, "q1", {"n": 0})
    view = (await http.post(f"/queues/q1/jobs/{job_id}/dead")).json()
    assert "operator" in view["errors"][-1]["error"]


@async_test
async def test_a_leased_job_sent_to_the_dead_letters_cannot_be_acked(http: Http) -> None:
    await http.post_job("q1", {"n": 0})
    leased = await lease_one(http, "q1")
    assert (await http.post(f"/queues/q1/jobs/{leased.id}/dead")).status == 200
    assert (await ack(http, "q1", leased.id, leased.receipt)).status in (404, 409)
    assert await dead_ids(http, "q1") == [leased.id]
    assert (await jobs_page(http, "q1", "leased"))["total"] == 0


@async_test
async def test_a_dead_letter_sent_to_the_dead_letters_again_is_refused(http: Http) -> None:
    job_id = await bury(http, "q1", {"n": 0})
    assert "it is dead" in assert_error(await http.post(f"/queues/q1/jobs/{job_id}/dead"), 409)


@async_test
async def test_sending_a_job_to_the_dead_letters_frees_its_uniq_key(http: Http) -> None:
    job_id = await post_id(http, "q1", {"n": 0}, uniq="k")
    await http.post(f"/queues/q1/jobs/{job_id}/dead")
    assert (await http.post_job("q1", {"n": 1}, uniq="k")).status == 201


@async_test
async def test_a_reason_that_is_not_text_is_refused(http: Http) -> None:
    job_id = await post_id(http, "q1", {"n": 0})
    assert_error(await http.post(f"/queues/q1/jobs/{job_id}/dead", json_body={"error": 5}))
    assert await state_of(http, "q1", job_id) == "ready"


# Removing a job


@async_test
async def test_a_job_is_removed_from_any_state(http: Http) -> None:
    ready = await post_id(http, "q1", {"n": 0})
    delayed = await post_id(http, "q1", {"n": 1}, delayed=epoch(600))
    dead = await bury(http, "q2", {"n": 2})
    await http.post_job("q3", {"n": 3})
    leased = (await lease_one(http, "q3")).id
    for queue, job_id in (("q1", ready), ("q1", delayed), ("q2", dead), ("q3", leased)):
        # A leased job only with force (see test_cancel).
        reply = await http.delete(f"/queues/{queue}/jobs/{job_id}", params={"force": "1"})
        assert reply.status == 204
        assert_error(await http.get(f"/q/{queue}/{job_id}"), 404)
    counts = [(await http.get(f"/queues/{q}")).json()["counts"] for q in ("q1", "q2", "q3")]
    assert all(set(c.values()) == {0} for c in counts)


@async_test
async def test_removing_a_job_frees_its_uniq_key(http: Http) -> None:
    job_id = await post_id(http, "q1", {"n": 0}, uniq="k")
    await http.delete(f"/queues/q1/jobs/{job_id}")
    assert (await http.post_job("q1", {"n": 1}, uniq="k")).status == 201


@async_test
async def test_removing_an_unknown_job_is_not_found(http: Http) -> None:
    assert_error(await http.delete("/queues/q1/jobs/nope"), 404)


# Bounds


@async_test
async def test_a_page_of_big_jobs_stops_before_passing_its_bytes(http: Http) -> None:
    big = "x" * (PAGE_BYTES // 4 - 200)  # four fit, as a job is at most 1 MiB
    for n in range(6):
        assert (await http.post_job("q1", {"n": n, "pad": big})).status == 201
    page = await jobs_page(http, "q1", "ready")
    assert (page["total"], len(page["jobs"])) == (6, 4)
    rest = await jobs_page(http, "q1", "ready", offset="4")
    assert [job["job"]["n"] for job in rest["jobs"]] == [4, 5]


@async_test
async def test_a_page_holds_one_job_whatever_its_size(presque: Presque) -> None:
    await presque.http.post_jobs("q1", 2)
    with mock.patch("presque.broker.browse.PAGE_BYTES", 1):
        page = await presque.broker.jobs_in_state("q1", "ready", 0, 10)
    assert (page.total, [view.payload for view in page.items]) == (2, [b'{"n": 0}'])


@async_test
async def test_a_page_without_payloads_has_ids_and_times_only(http: Http) -> None:
    job_id = await post_id(http, "q1", {"n": 0}, delayed=epoch(600))
    page = await jobs_page(http, "q1", "delayed", payloads="0")
    [job] = page["jobs"]
    assert (job["id"], "job" in job, job["next_run"] is not None) == (job_id, False, True)
