"""The /w/ routes of CONTRACT.md: worker registration and statistics."""

from __future__ import annotations

import json
import time

from pytest_twisted import ensureDeferred as async_test

from tests.support import (
    WORKER,
    Http,
    assert_gets_count_as_processed,
    assert_puts_count_as_failed,
    take_and_fail_a_job,
)

MISSING = (400, {"error": "worker_id is missing"})


async def register(http: Http, queue: str, worker: str) -> None:
    reply = await http.post(f"/w/{queue}", headers={WORKER: worker})
    assert reply.status == 201


@async_test
async def test_register_answers_201_with_an_empty_body(http: Http) -> None:
    reply = await http.post("/w/q1", headers={WORKER: "w1"})
    assert (reply.status, reply.body) == (201, b"")


@async_test
async def test_register_without_worker_header_is_refused(http: Http) -> None:
    reply = await http.post("/w/q1")
    assert (reply.status, reply.json()) == MISSING
    assert (await http.get("/w/")).json() == []


@async_test
async def test_unregister_without_worker_header_is_refused(http: Http) -> None:
    await register(http, "q1", "w1")
    reply = await http.delete("/w/q1")
    assert (reply.status, reply.json()) == MISSING
    assert (await http.get("/w/")).json() == ["w1"]


@async_test
async def test_worker_header_name_is_case_insensitive(http: Http) -> None:
    reply = await http.post("/w/q1", headers={"x-presque-WORKERID": "w1"})
    assert reply.status == 201
    assert (await http.get("/w/")).json() == ["w1"]


@async_test
async def test_queue_workers_exact_body(http: Http) -> None:
    await register(http, "q1", "w1")
    reply = await http.get("/w/", params={"queue_name": "q1"})
    assert reply.status == 200
    assert reply.json() == {
        "queue_name": "q1",
        "workers_list": ["w1"],
        "processed": 0,
        "failed": 0,
    }


@async_test
async def test_queue_workers_lists_every_worker_of_that_queue_only(http: Http) -> None:
    await register(http, "q1", "w1")
    await register(http, "q1", "w2")
    await register(http, "q2", "w3")
    body = (await http.get("/w/", params={"queue_name": "q1"})).json()
    assert set(body) == {"queue_name", "workers_list", "processed", "failed"}
    assert sorted(body["workers_list"]) == ["w1", "w2"]


@async_test
async def test_queue_workers_of_an_unknown_queue(http: Http) -> None:
    reply = await http.get("/w/", params={"queue_name": "never-seen"})
    assert (reply.status, reply.json()) == (
        200,
        {"queue_name": "never-seen", "workers_list": [], "processed": 0, "failed": 0},
    )


@async_test
async def test_queue_workers_has_the_queue_counters(http: Http) -> None:
    await register(http, "q1", "w1")
    await http.post_jobs("q1", 3)
    await http.get("/q/q1")
    await http.get("/q/q1")
    await http.put("/q/q1", json_body={"n": 0})
    body = (await http.get("/w/", params={"queue_name": "q1"})).json()
    assert body == {"queue_name": "q1", "workers_list": ["w1"], "processed": 2, "failed": 1}
    assert type(body["processed"]) is int
    assert type(body["failed"]) is int


@async_test
async def test_worker_stats_exact_keys(http: Http) -> None:
    await register(http, "q1", "w1")
    stats = await http.worker_stats("w1")
    assert set(stats) == {"worker_id", "processed", "failed", "started_at"}
    assert {key: stats[key] for key in ("worker_id", "processed", "failed")} == {
        "worker_id": "w1",
        "processed": 0,
        "failed": 0,
    }


@async_test
async def test_worker_started_at_is_an_integer_epoch_near_now(http: Http) -> None:
    before = int(time.time())
    await register(http, "q1", "w1")
    after = time.time()
    started_at = (await http.worker_stats("w1"))["started_at"]
    assert type(started_at) is int
    assert before - 2 <= started_at <= after + 2


@async_test
async def test_all_workers_is_a_list_of_ids(http: Http) -> None:
    await register(http, "q1", "w1")
    await register(http, "q2", "w2")
    reply = await http.get("/w/")
    assert reply.status == 200
    body = reply.json()
    assert isinstance(body, list)
    assert sorted(body) == ["w1", "w2"]


@async_test
async def test_all_workers_when_none_registered(http: Http) -> None:
    reply = await http.get("/w/")
    assert (reply.status, reply.json()) == (200, [])


@async_test
async def test_unregister_answers_204(http: Http) -> None:
    await register(http, "q1", "w1")
    reply = await http.delete("/w/q1", headers={WORKER: "w1"})
    assert (reply.status, reply.body) == (204, b"")


@async_test
async def test_unregistered_worker_leaves_the_lists(http: Http) -> None:
    await register(http, "q1", "w1")
    await register(http, "q1", "w2")
    await http.delete("/w/q1", headers={WORKER: "w1"})
    assert (await http.get("/w/")).json() == ["w2"]
    body = (await http.get("/w/", params={"queue_name": "q1"})).json()
    assert body["workers_list"] == ["w2"]


@async_test
async def test_unregistered_worker_counters_are_dropped(http: Http) -> None:
    await register(http, "q1", "w1")
    await take_and_fail_a_job(http, "w1")
    assert await http.worker_counts("w1") == (1, 1)
    await http.delete("/w/q1", headers={WORKER: "w1"})
    assert await http.worker_counts("w1") == (0, 0)


@async_test
async def test_registering_again_keeps_the_counters(http: Http) -> None:
    await register(http, "q1", "w1")
    await http.post_job("q1", {"n": 1})
    await http.get("/q/q1", headers={WORKER: "w1"})
    await register(http, "q2", "w1")
    await register(http, "q1", "w1")
    assert await http.worker_counts("w1") == (1, 0)
    assert (await http.get("/w/")).json() == ["w1"]


@async_test
async def test_worker_processed_follows_get(http: Http) -> None:
    await register(http, "q1", "w1")
    await assert_gets_count_as_processed(http, "w1")


@async_test
async def test_worker_processed_follows_get_batch_by_number_of_jobs(http: Http) -> None:
    await register(http, "q1", "w1")
    await http.post("/qb/q1", json_body={"jobs": [{"n": n} for n in range(5)]})
    reply = await http.get("/qb/q1", params={"batch_size": "3"}, headers={WORKER: "w1"})
    assert len(reply.json()) == 3
    assert await http.worker_counts("w1") == (3, 0)
    reply = await http.get("/qb/q1", params={"batch_size": "3"}, headers={WORKER: "w1"})
    assert [json.loads(job) for job in reply.json()] == [{"n": 3}, {"n": 4}]
    assert await http.worker_counts("w1") == (5, 0)


@async_test
async def test_worker_failed_follows_put(http: Http) -> None:
    await register(http, "q1", "w1")
    await assert_puts_count_as_failed(http, "w1")


@async_test
async def test_other_workers_counters_do_not_move(http: Http) -> None:
    await register(http, "q1", "w1")
    await register(http, "q1", "w2")
    await take_and_fail_a_job(http, "w1")
    assert await http.worker_counts("w2") == (0, 0)


@async_test
async def test_get_on_an_empty_queue_counts_nothing_for_the_worker(http: Http) -> None:
    await register(http, "q1", "w1")
    await http.get("/q/q1", headers={WORKER: "w1"})
    await http.get("/qb/q1", headers={WORKER: "w1"})
    assert await http.worker_counts("w1") == (0, 0)
