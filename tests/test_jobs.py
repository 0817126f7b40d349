"""The /q/Q routes of CONTRACT.md, plus job ids."""

from __future__ import annotations

from pytest_twisted import ensureDeferred as async_test

from tests.support import (
    JSON,
    NO_JOB,
    QUEUE_NAME_MISSING,
    Http,
    assert_empty_body_is_job_is_missing,
    assert_needs_a_json_content_type,
)


@async_test
async def test_post_answers_201_with_the_job_id(http: Http) -> None:
    reply = await http.post_job("q1", {"n": 1})
    assert reply.status == 201
    job_id = reply.header("X-Presque-Job-Id")
    assert job_id
    assert reply.header("Location") == f"/q/q1/{job_id}"


@async_test
async def test_get_returns_the_posted_bytes_exactly(http: Http) -> None:
    raw = '{ "b" : "00123",  "é": [1.50, 2e3] }'
    await http.post("/q/q1", body=raw, headers=JSON)
    reply = await http.get("/q/q1")
    assert reply.status == 200
    assert reply.header("Content-Type") == "application/json"
    assert reply.body == raw.encode("utf-8")


@async_test
async def test_get_hands_out_the_id_given_at_post(http: Http) -> None:
    posted = await http.post_job("q1", {"n": 1})
    taken = await http.get("/q/q1")
    assert taken.header("X-Presque-Job-Id") == posted.header("X-Presque-Job-Id")


@async_test
async def test_jobs_come_out_in_the_order_they_were_posted(http: Http) -> None:
    await http.post_jobs("q1", 5)
    taken = [(await http.get("/q/q1")).json()["n"] for _ in range(5)]
    assert taken == [0, 1, 2, 3, 4]


@async_test
async def test_a_job_is_handed_out_once(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    assert (await http.get("/q/q1")).status == 200
    reply = await http.get("/q/q1")
    assert (reply.status, reply.json()) == NO_JOB


@async_test
async def test_get_on_an_empty_queue_is_404_no_job(http: Http) -> None:
    reply = await http.get("/q/never-seen")
    assert (reply.status, reply.json()) == NO_JOB


@async_test
async def test_post_without_json_content_type_is_refused(http: Http) -> None:
    await assert_needs_a_json_content_type(http, "POST")


@async_test
async def test_post_with_an_empty_body_is_job_is_missing(http: Http) -> None:
    await assert_empty_body_is_job_is_missing(http, "POST")


@async_test
async def test_post_with_invalid_json_is_refused(http: Http) -> None:
    reply = await http.post("/q/q1", body=b"{not json", headers=JSON)
    assert (reply.status, reply.json()) == (400, {"error": "job is not valid JSON"})
    assert (await http.get("/q/q1")).status == 404


@async_test
async def test_queue_name_missing(http: Http) -> None:
    for method in ("GET", "POST", "PUT", "DELETE"):
        reply = await http.request(method, "/q/", headers=JSON)
        assert (reply.status, reply.json()) == QUEUE_NAME_MISSING
