"""CONTRACT.md for /q/Q beyond GET and POST: PUT, DELETE, counters, the queue list."""

from __future__ import annotations

from pytest_twisted import ensureDeferred as async_test

from tests.support import (
    JOB_EXISTS,
    JSON,
    NO_JOB,
    NO_QUEUES,
    WORKER,
    Http,
    assert_empty_body_is_job_is_missing,
    assert_gets_count_as_processed,
    assert_needs_a_json_content_type,
    assert_puts_count_as_failed,
    epoch_seconds,
    queue_counts_body,
    run_due,
    take_and_fail_a_job,
)

# PUT /q/Q


@async_test
async def test_put_answers_201(http: Http) -> None:
    reply = await http.put("/q/q1", json_body={"n": 1})
    assert reply.status == 201


@async_test
async def test_put_counts_one_failure_for_the_queue(http: Http) -> None:
    await http.put("/q/q1", json_body={"n": 1})
    counts = await http.queue_counts("q1")
    assert counts["job_failed"] == 1
    await http.put("/q/q1", json_body={"n": 2})
    counts = await http.queue_counts("q1")
    assert counts["job_failed"] == 2
    assert counts["job_processed"] == 0


@async_test
async def test_put_counts_one_failure_for_the_worker_header(http: Http) -> None:
    await assert_puts_count_as_failed(http, "w1")


@async_test
async def test_put_without_worker_header_counts_no_worker_failure(http: Http) -> None:
    await http.post("/w/q1", headers={WORKER: "w1"})
    await http.put("/q/q1", json_body={"n": 1})
    assert await http.worker_counts("w1") == (0, 0)
    assert (await http.queue_counts("q1"))["job_failed"] == 1


@async_test
async def test_put_reinserts_the_body_byte_for_byte(http: Http) -> None:
    raw = '{"n": 1, "failures": ["boom"],  "retries": 2}'
    reply = await http.put("/q/q1", body=raw, headers=JSON)
    assert reply.status == 201
    taken = await http.get("/q/q1")
    assert taken.status == 200
    assert taken.header("Content-Type") == "application/json"
    assert taken.body == raw.encode("utf-8")


@async_test
async def test_put_job_goes_behind_the_waiting_jobs(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    await http.put("/q/q1", json_body={"n": 2})
    assert (await http.get("/q/q1")).json() == {"n": 1}
    assert (await http.get("/q/q1")).json() == {"n": 2}


@async_test
async def test_put_honours_delayed(http: Http) -> None:
    reply = await http.put("/q/q1", json_body={"n": 1}, params={"delayed": epoch_seconds(60)})
    assert reply.status == 201
    taken = await http.get("/q/q1")
    assert (taken.status, taken.json()) == NO_JOB
    counts = await http.queue_counts("q1")
    assert (counts["job_count"], counts["job_failed"]) == (0, 1)


@async_test
async def test_put_with_due_delayed_is_handed_out(http: Http) -> None:
    await http.put("/q/q1", json_body={"n": 1}, params={"delayed": epoch_seconds(-5)})
    taken = await http.get("/q/q1")
    assert (taken.status, taken.json()) == (200, {"n": 1})


@async_test
async def test_put_honours_uniq_already_held_by_a_posted_job(http: Http) -> None:
    assert (await http.post_job("q1", {"n": 1}, uniq="k")).status == 201
    reply = await http.put("/q/q1", json_body={"n": 2}, params={"uniq": "k"})
    assert (reply.status, reply.json()) == JOB_EXISTS
    assert await http.job_count("q1") == 1


@async_test
async def test_put_with_uniq_holds_the_key(http: Http) -> None:
    assert (await http.put("/q/q1", json_body={"n": 1}, params={"uniq": "k"})).status == 201
    reply = await http.post_job("q1", {"n": 2}, uniq="k")
    assert (reply.status, reply.json()) == JOB_EXISTS


@async_test
async def test_put_without_json_content_type_is_refused(http: Http) -> None:
    await assert_needs_a_json_content_type(http, "PUT")


@async_test
async def test_put_with_an_empty_body_is_job_is_missing(http: Http) -> None:
    await assert_empty_body_is_job_is_missing(http, "PUT")


# DELETE /q/Q


@async_test
async def test_delete_answers_204_with_an_empty_body(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    reply = await http.delete("/q/q1")
    assert reply.status == 204
    assert reply.body == b""


@async_test
async def test_delete_of_an_unknown_queue_answers_204(http: Http) -> None:
    reply = await http.delete("/q/never-seen")
    assert (reply.status, reply.body) == (204, b"")


@async_test
async def test_delete_removes_ready_jobs(http: Http) -> None:
    await http.post_jobs("q1", 3)
    await http.delete("/q/q1")
    assert await http.job_count("q1") == 0
    taken = await http.get("/q/q1")
    assert (taken.status, taken.json()) == NO_JOB


@async_test
async def test_delete_removes_delayed_jobs(http: Http, presque) -> None:
    # Already due: if purge left them behind, the next GET would promote them.
    await http.post_job("q1", {"n": 1}, delayed=epoch_seconds(-5))
    await http.post_job("q1", {"n": 2}, delayed=epoch_seconds(60))
    await http.delete("/q/q1")
    assert await run_due(presque.broker) == (0, 0)
    taken = await http.get("/q/q1")
    assert (taken.status, taken.json()) == NO_JOB


@async_test
async def test_delete_frees_the_uniq_keys(http: Http) -> None:
    assert (await http.post_job("q1", {"n": 1}, uniq="k")).status == 201
    await http.delete("/q/q1")
    assert (await http.post_job("q1", {"n": 2}, uniq="k")).status == 201


@async_test
async def test_delete_resets_processed_and_failed_to_zero(http: Http) -> None:
    await take_and_fail_a_job(http)
    counts = await http.queue_counts("q1")
    assert (counts["job_processed"], counts["job_failed"]) == (1, 1)
    await http.delete("/q/q1")
    assert await http.queue_counts("q1") == queue_counts_body("q1")


@async_test
async def test_delete_leaves_other_queues_alone(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    await http.post_job("q2", {"n": 2}, uniq="k")
    await http.delete("/q/q1")
    assert await http.job_count("q2") == 1
    assert (await http.post_job("q2", {"n": 3}, uniq="k")).status == 400


# processed counters on GET


@async_test
async def test_get_counts_one_processed_job_for_the_queue(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    await http.post_job("q1", {"n": 2})
    await http.get("/q/q1")
    assert (await http.queue_counts("q1"))["job_processed"] == 1
    await http.get("/q/q1")
    assert (await http.queue_counts("q1"))["job_processed"] == 2


@async_test
async def test_get_on_an_empty_queue_counts_nothing(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    await http.get("/q/q1", headers={WORKER: "w1"})
    await http.get("/q/q1", headers={WORKER: "w1"})
    assert (await http.queue_counts("q1"))["job_processed"] == 1
    assert await http.worker_counts("w1") == (1, 0)


@async_test
async def test_get_counts_one_processed_job_for_the_worker_header(http: Http) -> None:
    await assert_gets_count_as_processed(http, "w1", (WORKER, "x-PRESQUE-WorkerId"))


# the set of known queues


@async_test
async def test_first_post_adds_the_queue_to_status_list(http: Http) -> None:
    before = await http.get("/status/")
    assert before.json() == NO_QUEUES
    await http.post_job("q1", {"n": 1})
    after = await http.get("/status/")
    assert (after.status, after.json()) == (200, {"queues": ["q1"], "size": 1})


@async_test
async def test_more_posts_list_the_queue_once(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    await http.post_job("q1", {"n": 2})
    assert (await http.get("/status/")).json() == {"queues": ["q1"], "size": 1}


@async_test
async def test_first_post_opens_the_queue(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    reply = await http.get("/control/q1")
    assert (reply.status, reply.json()) == (200, {"queue": "q1", "status": 1})
