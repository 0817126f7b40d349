"""The /qb/Q routes of CONTRACT.md."""

from __future__ import annotations

import json

from pytest_twisted import ensureDeferred as async_test

from tests.support import (
    JSON,
    NO_JOB,
    NO_QUEUES,
    NOT_JSON_CONTENT_TYPE,
    QUEUE_CLOSED,
    QUEUE_NAME_MISSING,
    WORKER,
    Http,
    assert_error,
    epoch_seconds,
    run_due,
)

NOT_AN_ARRAY = (400, {"error": "jobs should be an array of job"})


# GET /qb/Q


@async_test
async def test_get_batch_takes_ten_jobs_by_default(http: Http) -> None:
    texts = await http.post_jobs("q1", 12)
    reply = await http.get("/qb/q1")
    assert reply.status == 200
    assert reply.json() == texts[:10]
    rest = await http.get("/qb/q1")
    assert (rest.status, rest.json()) == (200, texts[10:])


@async_test
async def test_get_batch_takes_batch_size_jobs(http: Http) -> None:
    texts = await http.post_jobs("q1", 5)
    reply = await http.get("/qb/q1", params={"batch_size": "3"})
    assert (reply.status, reply.json()) == (200, texts[:3])
    assert await http.job_count("q1") == 2


@async_test
async def test_get_batch_returns_fewer_jobs_when_fewer_are_ready(http: Http) -> None:
    texts = await http.post_jobs("q1", 2)
    reply = await http.get("/qb/q1", params={"batch_size": "5"})
    assert (reply.status, reply.json()) == (200, texts)


@async_test
async def test_batch_elements_are_the_jobs_json_texts(http: Http) -> None:
    raw = ['{ "a" : [1, 2.50] }', '"just a string"', '{"é": "ü"}']
    for text in raw:
        await http.post("/q/q1", body=text, headers=JSON)
    elements = (await http.get("/qb/q1")).json()
    assert all(isinstance(element, str) for element in elements)
    assert elements == raw
    assert [json.loads(element) for element in elements] == [
        {"a": [1, 2.5]},
        "just a string",
        {"é": "ü"},
    ]


@async_test
async def test_get_batch_counts_processed_by_the_number_returned(http: Http) -> None:
    await http.post_jobs("q1", 4)
    await http.get("/qb/q1", params={"batch_size": "3"})
    assert (await http.queue_counts("q1"))["job_processed"] == 3
    await http.get("/qb/q1", params={"batch_size": "3"})
    assert (await http.queue_counts("q1"))["job_processed"] == 4


@async_test
async def test_get_batch_counts_processed_for_the_worker(http: Http) -> None:
    await http.post_jobs("q1", 4)
    await http.get("/qb/q1", params={"batch_size": "3"}, headers={WORKER: "w1"})
    assert await http.worker_counts("w1") == (3, 0)


@async_test
async def test_get_batch_with_ids_gives_the_job_ids_in_body_order(http: Http) -> None:
    posted = await http.post(
        "/qb/q1", json_body={"jobs": [{"n": 0}, {"n": 1}, {"n": 2}]}, params={"ids": "1"}
    )
    reply = await http.get("/qb/q1", params={"ids": "1"})
    ids = reply.header("X-Presque-Job-Ids").split(",")
    assert len(set(ids)) == 3
    assert ids == posted.header("X-Presque-Job-Ids").split(",")


@async_test
async def test_batches_carry_no_id_header_unless_asked(http: Http) -> None:
    posted = await http.post("/qb/q1", json_body={"jobs": [{"n": 0}]})
    taken = await http.get("/qb/q1")
    assert posted.header("X-Presque-Job-Ids") is None
    assert taken.header("X-Presque-Job-Ids") is None


@async_test
async def test_get_batch_on_a_closed_queue_is_queue_is_closed(http: Http) -> None:
    await http.post_jobs("q1", 1)
    await http.post("/control/q1", json_body={"status": "stop"})
    reply = await http.get("/qb/q1")
    assert (reply.status, reply.json()) == QUEUE_CLOSED
    assert await http.job_count("q1") == 1


@async_test
async def test_get_batch_on_an_empty_queue_is_no_job(http: Http) -> None:
    reply = await http.get("/qb/q1")
    assert (reply.status, reply.json()) == NO_JOB


@async_test
async def test_invalid_batch_size_is_refused(http: Http) -> None:
    await http.post_jobs("q1", 1)
    for size in ("0", "-1", "x", "2.5"):
        reply = await http.get("/qb/q1", params={"batch_size": size})
        assert_error(reply, 400, size)
    assert await http.job_count("q1") == 1


@async_test
async def test_batch_size_above_the_maximum_hands_out_the_maximum(http: Http) -> None:
    for _ in range(2):
        await http.post("/qb/q1", json_body={"jobs": [{"n": n} for n in range(1000)]})
    reply = await http.get("/qb/q1", params={"batch_size": "5000"})
    assert reply.status == 200
    assert len(reply.json()) == 1000
    assert await http.job_count("q1") == 1000


@async_test
async def test_get_batch_of_max_batch_size_jobs_is_readable(http: Http) -> None:
    # Four POSTs of 250: each answer stays readable whatever its headers.
    for first in range(0, 1000, 250):
        jobs = [{"n": n} for n in range(first, first + 250)]
        assert (await http.post("/qb/q1", json_body={"jobs": jobs})).status == 201
    reply = await http.get("/qb/q1", params={"batch_size": "1000"})
    assert reply.status == 200
    assert [json.loads(element)["n"] for element in reply.json()] == list(range(1000))
    assert (await http.queue_counts("q1"))["job_processed"] == 1000


# POST /qb/Q


@async_test
async def test_post_batch_answers_201(http: Http) -> None:
    reply = await http.post("/qb/q1", json_body={"jobs": [{"n": 1}]})
    assert reply.status == 201


@async_test
async def test_post_batch_stores_each_element_as_its_own_job_in_order(http: Http) -> None:
    jobs = [{"n": 0}, {"n": 1, "x": [1, 2]}, "text", 3]
    await http.post("/qb/q1", json_body={"jobs": jobs})
    assert await http.job_count("q1") == 4
    taken = []
    for _ in jobs:
        reply = await http.get("/q/q1")
        assert reply.status == 200
        taken.append(reply.json())
    assert taken == jobs


@async_test
async def test_post_batch_jobs_come_back_through_get_batch(http: Http) -> None:
    jobs = [{"n": n} for n in range(3)]
    await http.post("/qb/q1", json_body={"jobs": jobs})
    elements = (await http.get("/qb/q1")).json()
    assert [json.loads(element) for element in elements] == jobs


@async_test
async def test_post_batch_adds_the_queue_to_the_status_list(http: Http) -> None:
    await http.post("/qb/q1", json_body={"jobs": [{"n": 1}]})
    assert (await http.get("/status/")).json() == {"queues": ["q1"], "size": 1}


@async_test
async def test_post_batch_without_jobs_is_refused(http: Http) -> None:
    reply = await http.post("/qb/q1", json_body={"job": [{"n": 1}]})
    assert (reply.status, reply.json()) == NOT_AN_ARRAY
    assert await http.job_count("q1") == 0


@async_test
async def test_post_batch_with_jobs_not_an_array_is_refused(http: Http) -> None:
    for jobs in ({"n": 1}, "x", 1, None):
        reply = await http.post("/qb/q1", json_body={"jobs": jobs})
        assert (reply.status, reply.json()) == NOT_AN_ARRAY, jobs
    assert await http.job_count("q1") == 0


@async_test
async def test_post_batch_with_a_body_that_is_not_an_object_is_refused(http: Http) -> None:
    for body in ([{"n": 1}], "jobs", 3):
        reply = await http.post("/qb/q1", json_body=body)
        assert (reply.status, reply.json()) == NOT_AN_ARRAY, body
    assert await http.job_count("q1") == 0


@async_test
async def test_post_batch_with_invalid_json_is_refused(http: Http) -> None:
    reply = await http.post("/qb/q1", body=b'{"jobs": [', headers=JSON)
    assert_error(reply, 400)
    assert await http.job_count("q1") == 0


@async_test
async def test_post_batch_without_json_content_type_is_refused(http: Http) -> None:
    reply = await http.post(
        "/qb/q1", body='{"jobs": [{"n": 1}]}', headers={"Content-Type": "text/plain"}
    )
    assert (reply.status, reply.json()) == NOT_JSON_CONTENT_TYPE
    assert await http.job_count("q1") == 0


@async_test
async def test_post_batch_accepts_a_content_type_containing_json(http: Http) -> None:
    reply = await http.post(
        "/qb/q1",
        body='{"jobs": [{"n": 1}]}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert reply.status == 201
    assert await http.job_count("q1") == 1


@async_test
async def test_post_batch_honours_delayed(http: Http, presque) -> None:
    later = epoch_seconds(60)
    reply = await http.post(
        "/qb/q1", json_body={"jobs": [{"n": 1}, {"n": 2}]}, params={"delayed": later}
    )
    assert reply.status == 201
    taken = await http.get("/qb/q1")
    assert (taken.status, taken.json()) == NO_JOB
    assert await run_due(presque.broker) == (0, 0)
    assert await http.job_count("q1") == 0


@async_test
async def test_post_batch_with_due_delayed_hands_jobs_out(http: Http) -> None:
    earlier = epoch_seconds(-5)
    jobs = [{"n": n} for n in range(6)]
    await http.post("/qb/q1", json_body={"jobs": jobs}, params={"delayed": earlier})
    elements = (await http.get("/qb/q1")).json()
    # FIFO among jobs due at the same time: the batch comes out in its order.
    assert [json.loads(element) for element in elements] == jobs


@async_test
async def test_post_batch_ignores_uniq(http: Http) -> None:
    await http.post_job("q1", {"n": 0}, uniq="k")
    reply = await http.post("/qb/q1", json_body={"jobs": [{"n": 1}]}, params={"uniq": "k"})
    assert reply.status == 201
    assert await http.job_count("q1") == 2


@async_test
async def test_post_batch_larger_than_max_batch_size_is_refused(http: Http) -> None:
    jobs = [{"n": n} for n in range(1001)]
    reply = await http.post("/qb/q1", json_body={"jobs": jobs})
    assert_error(reply, 400)
    assert await http.job_count("q1") == 0
    assert (await http.get("/status/")).json() == NO_QUEUES


@async_test
async def test_post_batch_of_max_batch_size_is_accepted(http: Http) -> None:
    jobs = [{"n": n} for n in range(1000)]
    reply = await http.post("/qb/q1", json_body={"jobs": jobs})
    assert reply.status == 201
    assert await http.job_count("q1") == 1000


# PUT, DELETE, no queue name


@async_test
async def test_put_batch_is_not_supported(http: Http) -> None:
    reply = await http.put("/qb/q1", json_body={"jobs": [{"n": 1}]})
    assert (reply.status, reply.json()) == (400, {"error": "PUT is not supported in batch mode"})
    assert await http.job_count("q1") == 0


@async_test
async def test_delete_batch_is_not_supported(http: Http) -> None:
    await http.post_jobs("q1", 1)
    reply = await http.delete("/qb/q1")
    assert (reply.status, reply.json()) == (
        400,
        {"error": "DELETE is not supported in batch mode"},
    )
    assert await http.job_count("q1") == 1


@async_test
async def test_batch_queue_name_missing(http: Http) -> None:
    for method in ("GET", "POST", "PUT", "DELETE"):
        reply = await http.request(method, "/qb/", headers=JSON)
        assert (reply.status, reply.json()) == QUEUE_NAME_MISSING, method
