"""The /control/Q routes of CONTRACT.md: opening and closing a queue."""

from __future__ import annotations

from pytest_twisted import ensureDeferred as async_test

from tests.support import QUEUE_CLOSED, Http, assert_error, queue_counts_body


async def control(http: Http, queue: str, body: bytes | str, **headers: str):
    return await http.post(f"/control/{queue}", body=body, headers=headers or None)


async def stop(http: Http, queue: str) -> None:
    reply = await control(http, queue, '{"status": "stop"}')
    assert reply.status == 200


async def start(http: Http, queue: str) -> None:
    reply = await control(http, queue, '{"status": "start"}')
    assert reply.status == 200


async def closed_queue_with_a_job(http: Http, queue: str) -> None:
    await http.post_job(queue, {"n": 1})
    await stop(http, queue)


async def assert_queue_status(http: Http, queue: str, status: int) -> None:
    """C{GET /control/queue} answers 200 with C{status}, an integer."""
    reply = await http.get(f"/control/{queue}")
    assert reply.status == 200
    body = reply.json()
    assert body == {"queue": queue, "status": status}
    assert type(body["status"]) is int


@async_test
async def test_unknown_queue_is_open(http: Http) -> None:
    await assert_queue_status(http, "never-seen", 1)


@async_test
async def test_stop_without_a_json_content_type_is_accepted(http: Http) -> None:
    reply = await control(http, "q1", '{"status":"stop"}')
    assert reply.header("Content-Type") == "application/json"
    assert (reply.status, reply.json()) == (200, {"queue": "q1", "response": "updated"})


@async_test
async def test_stop_with_a_form_content_type_is_accepted(http: Http) -> None:
    reply = await control(
        http,
        "q1",
        '{"status":"stop"}',
        **{"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (reply.status, reply.json()) == (200, {"queue": "q1", "response": "updated"})
    await assert_queue_status(http, "q1", 0)


@async_test
async def test_stop_with_a_json_content_type_is_accepted(http: Http) -> None:
    reply = await http.post("/control/q1", json_body={"status": "stop"})
    assert (reply.status, reply.json()) == (200, {"queue": "q1", "response": "updated"})


@async_test
async def test_stopped_queue_has_status_zero(http: Http) -> None:
    await closed_queue_with_a_job(http, "q1")
    await assert_queue_status(http, "q1", 0)


@async_test
async def test_closed_queue_refuses_get(http: Http) -> None:
    await closed_queue_with_a_job(http, "q1")
    reply = await http.get("/q/q1")
    assert (reply.status, reply.json()) == QUEUE_CLOSED


@async_test
async def test_closed_empty_queue_says_closed_rather_than_no_job(http: Http) -> None:
    await stop(http, "q1")
    reply = await http.get("/q/q1")
    assert (reply.status, reply.json()) == QUEUE_CLOSED


@async_test
async def test_closed_queue_refuses_get_batch(http: Http) -> None:
    await closed_queue_with_a_job(http, "q1")
    reply = await http.get("/qb/q1")
    assert (reply.status, reply.json()) == QUEUE_CLOSED


@async_test
async def test_closed_queue_counts_no_processed_job(http: Http) -> None:
    await closed_queue_with_a_job(http, "q1")
    await http.get("/q/q1")
    await http.get("/qb/q1")
    assert await http.queue_counts("q1") == queue_counts_body("q1", job_count=1)


@async_test
async def test_closed_queue_still_accepts_posts_and_keeps_the_jobs(http: Http) -> None:
    await stop(http, "q1")
    assert (await http.post_job("q1", {"n": 1})).status == 201
    assert (await http.post("/qb/q1", json_body={"jobs": [{"n": 2}]})).status == 201
    assert await http.job_count("q1") == 2
    await assert_queue_status(http, "q1", 0)


@async_test
async def test_first_post_to_a_closed_queue_keeps_it_closed(http: Http) -> None:
    await stop(http, "never-posted")
    await http.post_job("never-posted", {"n": 1})
    reply = await http.get("/q/never-posted")
    assert (reply.status, reply.json()) == QUEUE_CLOSED


@async_test
async def test_start_reopens_a_closed_queue(http: Http) -> None:
    await closed_queue_with_a_job(http, "q1")
    reply = await control(http, "q1", '{"status":"start"}')
    assert (reply.status, reply.json()) == (200, {"queue": "q1", "response": "updated"})
    await assert_queue_status(http, "q1", 1)
    taken = await http.get("/q/q1")
    assert (taken.status, taken.json()) == (200, {"n": 1})


@async_test
async def test_start_on_an_open_queue_keeps_it_open(http: Http) -> None:
    await start(http, "q1")
    await assert_queue_status(http, "q1", 1)


@async_test
async def test_stop_closes_only_that_queue(http: Http) -> None:
    await http.post_job("q2", {"n": 1})
    await stop(http, "q1")
    assert (await http.get("/q/q2")).status == 200
    await assert_queue_status(http, "q2", 1)


@async_test
async def test_missing_body_is_content_is_missing(http: Http) -> None:
    reply = await control(http, "q1", b"")
    assert (reply.status, reply.json()) == (400, {"error": "content is missing"})


@async_test
async def test_invalid_status_is_refused_naming_it(http: Http) -> None:
    reply = await control(http, "q1", '{"status":"pause"}')
    assert "pause" in assert_error(reply)
    await assert_queue_status(http, "q1", 1)


@async_test
async def test_invalid_status_does_not_reopen_a_closed_queue(http: Http) -> None:
    await stop(http, "q1")
    reply = await control(http, "q1", '{"status":"restart"}')
    assert "restart" in assert_error(reply)
    await assert_queue_status(http, "q1", 0)


@async_test
async def test_body_without_status_is_refused(http: Http) -> None:
    reply = await control(http, "q1", '{"state":"stop"}')
    assert_error(reply)
    await assert_queue_status(http, "q1", 1)


@async_test
async def test_invalid_json_body_is_refused(http: Http) -> None:
    reply = await control(http, "q1", "{status: stop")
    assert_error(reply)
    await assert_queue_status(http, "q1", 1)
