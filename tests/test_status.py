"""Queue information of CONTRACT.md: /j/Q, /status/ and /status/Q."""

from __future__ import annotations

import json

from pytest_twisted import ensureDeferred as async_test

from tests.support import JSON, NO_QUEUES, Http, queue_counts_body


def assert_integers(body: dict, *keys: str) -> None:
    for key in keys:
        assert type(body[key]) is int, (key, body[key])


# /j/Q


@async_test
async def test_job_counts_of_an_unknown_queue_are_zero(http: Http) -> None:
    reply = await http.get("/j/never-seen")
    assert reply.status == 200
    body = reply.json()
    assert body == queue_counts_body("never-seen")
    assert_integers(body, "job_count", "job_processed", "job_failed")


@async_test
async def test_job_counts_report_ready_processed_and_failed(http: Http) -> None:
    await http.post_jobs("q1", 4)
    await http.get("/q/q1")
    await http.put("/q/q1", json_body={"n": 9})
    await http.put("/q/q1", json_body={"n": 10})
    reply = await http.get("/j/q1")
    assert reply.status == 200
    body = reply.json()
    assert body == queue_counts_body("q1", job_count=5, job_processed=1, job_failed=2)
    assert_integers(body, "job_count", "job_processed", "job_failed")


@async_test
async def test_job_count_does_not_count_jobs_not_yet_due(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    await http.post_job("q1", {"n": 2}, delayed="4102444800")
    assert await http.job_count("q1") == 1


# /status/


@async_test
async def test_status_with_no_queue(http: Http) -> None:
    reply = await http.get("/status/")
    assert (reply.status, reply.json()) == (200, NO_QUEUES)


@async_test
async def test_status_lists_every_queue_and_their_number(http: Http) -> None:
    for queue in ("b", "a", "c"):
        await http.post_job(queue, {"n": 1})
    reply = await http.get("/status/")
    assert reply.status == 200
    body = reply.json()
    assert set(body) == {"queues", "size"}
    assert sorted(body["queues"]) == ["a", "b", "c"]
    assert body["size"] == 3
    assert_integers(body, "size")


@async_test
async def test_status_keeps_a_queue_once_its_jobs_are_taken(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    await http.get("/q/q1")
    assert (await http.get("/status/")).json() == {"queues": ["q1"], "size": 1}


# /status/Q


@async_test
async def test_queue_status_of_an_unknown_queue(http: Http) -> None:
    reply = await http.get("/status/never-seen")
    assert (reply.status, reply.json()) == (200, {"queue": "never-seen", "size": 0})


@async_test
async def test_queue_status_has_the_number_of_ready_jobs(http: Http) -> None:
    await http.post_jobs("q1", 3)
    await http.get("/q/q1")
    reply = await http.get("/status/q1")
    assert reply.status == 200
    body = reply.json()
    assert body == {"queue": "q1", "size": 2}
    assert_integers(body, "size")


@async_test
async def test_queue_status_with_desc_lists_the_job_texts_in_order(http: Http) -> None:
    raw = ['{"n": 0}', '{ "n" : 1, "x": [1.50] }', '"two"']
    for text in raw:
        await http.post("/q/q1", body=text, headers=JSON)
    reply = await http.get("/status/q1", params={"with_desc": "1"})
    assert reply.status == 200
    body = reply.json()
    assert body == {"queue": "q1", "size": 3, "jobs": raw}
    assert [json.loads(job) for job in body["jobs"]] == [{"n": 0}, {"n": 1, "x": [1.5]}, "two"]


@async_test
async def test_queue_status_with_desc_does_not_take_the_jobs(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    await http.get("/status/q1", params={"with_desc": "1"})
    assert (await http.queue_counts("q1"))["job_processed"] == 0
    assert (await http.get("/q/q1")).json() == {"n": 1}


@async_test
async def test_queue_status_with_desc_of_an_empty_queue(http: Http) -> None:
    reply = await http.get("/status/never-seen", params={"with_desc": "1"})
    assert (reply.status, reply.json()) == (200, {"queue": "never-seen", "size": 0, "jobs": []})


@async_test
async def test_queue_status_with_desc_zero_has_no_jobs_key(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    reply = await http.get("/status/q1", params={"with_desc": "0"})
    assert reply.json() == {"queue": "q1", "size": 1}
