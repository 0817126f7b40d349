"""C{/dead/Q}: a queue's dead letters, listed a page at a time, retried or dropped."""

from __future__ import annotations

import json
import time

import pytest
from pytest_twisted import ensureDeferred as async_test
from twisted.internet import reactor
from twisted.internet.task import deferLater

from tests.conftest import Presque
from tests.leasing import bury, dead_ids, dead_page, fail, lease_one, state_of
from tests.support import JSON, Http, assert_error, run_due

NO_SUCH_JOB = (404, {"error": "no such job"})
NO_SUCH_DEAD_LETTER = (404, {"error": "no such dead letter"})
# The broker moves dead letters in batches of this many per script call.
BATCH = 1000


async def bury_all(http: Http, queue: str, count: int) -> list[str]:
    """Bury jobs C{{"n": 0}}, C{{"n": 1}}... of C{queue}, in order; return their ids."""
    ids = []
    for n in range(count):
        ids.append(await bury(http, queue, {"n": n}, error=f"error {n}"))
    return ids


async def retry(http: Http, queue: str, **kwargs):
    return await http.post(f"/dead/{queue}/retry", **kwargs)


async def ready_count(http: Http, queue: str) -> int:
    return await http.job_count(queue)


async def many_dead_letters(presque: Presque, queue: str, count: int) -> None:
    """C{count} dead letters in C{queue}, made quickly: one attempt each, leases
    of a millisecond, left to run out."""
    broker = presque.broker
    await broker.configure(queue, {"max_attempts": 1})
    await broker.enqueue(queue, [json.dumps({"n": n}).encode() for n in range(count)])
    while (await broker.fetch(queue, 250, lease=0.001)).jobs:
        pass
    await deferLater(reactor, 0.01)
    while (await run_due(broker))[1]:
        pass
    assert (await dead_page(presque.http, queue, limit="1"))["total"] == count


# Listing


@async_test
async def test_a_job_failed_with_dead_is_listed_as_its_job_view_shows_it(
    http: Http,
) -> None:
    before = time.time()
    job_id = await bury(http, "q1", {"to": "alice", "n": [1, 2]}, error="bad input")
    after = time.time()
    page = await dead_page(http, "q1")
    assert (page["queue"], page["total"], page["offset"], page["limit"]) == ("q1", 1, 0, 100)
    [letter] = page["jobs"]
    assert letter == (await http.get(f"/q/q1/{job_id}")).json()
    assert (letter["id"], letter["state"]) == (job_id, "dead")
    assert before - 0.01 <= letter["dead_since"] <= after + 0.01
    assert letter["attempts"] == 1
    assert [(e["attempt"], e["error"]) for e in letter["errors"]] == [(1, "bad input")]
    assert letter["job"] == {"to": "alice", "n": [1, 2]}


@async_test
async def test_a_queue_without_dead_letters_has_an_empty_list(http: Http) -> None:
    assert await dead_page(http, "never-seen") == {
        "queue": "never-seen",
        "state": "dead",
        "total": 0,
        "offset": 0,
        "limit": 100,
        "jobs": [],
    }


@async_test
async def test_dead_letters_are_listed_oldest_first(http: Http) -> None:
    # Created first, dead last: the order is that of death, not of creation.
    await http.post_job("q1", {"n": 0})
    await http.post_job("q1", {"n": 1})
    first = await lease_one(http, "q1")
    second = await lease_one(http, "q1")
    await fail(http, "q1", second.id, second.receipt, dead="1")
    await deferLater(reactor, 0.01)
    await fail(http, "q1", first.id, first.receipt, dead="1")
    page = await dead_page(http, "q1")
    assert [letter["id"] for letter in page["jobs"]] == [second.id, first.id]
    assert page["jobs"][0]["dead_since"] < page["jobs"][1]["dead_since"]


@async_test
async def test_offset_and_limit_give_one_page_with_the_total(http: Http) -> None:
    ids = await bury_all(http, "q1", 5)
    page = await dead_page(http, "q1", offset="1", limit="2")
    assert (page["total"], page["offset"], page["limit"]) == (5, 1, 2)
    assert [letter["id"] for letter in page["jobs"]] == ids[1:3]
    assert [letter["job"] for letter in page["jobs"]] == [{"n": 1}, {"n": 2}]


@async_test
async def test_an_offset_past_the_end_gives_no_jobs_and_the_total(http: Http) -> None:
    await bury_all(http, "q1", 2)
    page = await dead_page(http, "q1", offset="5")
    assert (page["total"], page["jobs"]) == (2, [])


@async_test
async def test_limit_0_gives_no_jobs_and_the_total(http: Http) -> None:
    await bury_all(http, "q1", 3)
    page = await dead_page(http, "q1", limit="0")
    assert (page["total"], page["limit"], page["jobs"]) == (3, 0, [])


@async_test
async def test_a_limit_of_1000_is_accepted(http: Http) -> None:
    await bury_all(http, "q1", 1)
    page = await dead_page(http, "q1", limit="1000")
    assert (page["limit"], len(page["jobs"])) == (1000, 1)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"offset": "-1"}, "offset must be an integer from 0 to 1000000000"),
        ({"offset": "one"}, "offset must be an integer from 0 to 1000000000"),
        ({"offset": "1.5"}, "offset must be an integer from 0 to 1000000000"),
        ({"offset": "1000000001"}, "offset must be an integer from 0 to 1000000000"),
        ({"limit": "-1"}, "limit must be an integer from 0 to 1000"),
        ({"limit": "ten"}, "limit must be an integer from 0 to 1000"),
        ({"limit": "1001"}, "limit must be an integer from 0 to 1000"),
    ],
)
@async_test
async def test_an_invalid_offset_or_limit_is_400(
    http: Http, params: dict[str, str], message: str
) -> None:
    await bury_all(http, "q1", 1)
    reply = await http.get("/dead/q1", params=params)
    assert (reply.status, reply.json()) == (400, {"error": message})


# Retrying


@async_test
async def test_retry_without_a_body_puts_every_dead_letter_back(http: Http) -> None:
    ids = await bury_all(http, "q1", 3)
    reply = await retry(http, "q1")
    assert (reply.status, reply.json()) == (200, {"queue": "q1", "retried": 3})
    assert await dead_page(http, "q1") == {
        "queue": "q1",
        "state": "dead",
        "total": 0,
        "offset": 0,
        "limit": 100,
        "jobs": [],
    }
    assert await ready_count(http, "q1") == 3
    assert [await state_of(http, "q1", job_id) for job_id in ids] == ["ready"] * 3


@async_test
async def test_a_retried_job_starts_again_at_attempt_1(http: Http) -> None:
    job_id = await bury(http, "q1", {"n": 1})
    await retry(http, "q1")
    again = await lease_one(http, "q1")
    assert (again.id, again.attempt, again.job) == (job_id, 1, {"n": 1})


@async_test
async def test_retried_jobs_go_to_the_back_of_the_queue_oldest_dead_first(http: Http) -> None:
    ids = await bury_all(http, "q1", 2)
    waiting = await http.post_job("q1", {"n": "waiting"})
    await retry(http, "q1")
    order = [(await lease_one(http, "q1")).id for _ in range(3)]
    assert order == [waiting.header("X-Presque-Job-Id"), *ids]


@async_test
async def test_retry_with_ids_puts_back_only_those(http: Http) -> None:
    ids = await bury_all(http, "q1", 3)
    reply = await retry(http, "q1", json_body={"ids": [ids[1]]})
    assert (reply.status, reply.json()) == (200, {"queue": "q1", "retried": 1, "missing": []})
    assert await dead_ids(http, "q1") == [ids[0], ids[2]]
    again = await lease_one(http, "q1")
    assert (again.id, again.attempt) == (ids[1], 1)


@async_test
async def test_retry_skips_ids_that_are_not_dead_letters(http: Http) -> None:
    dead = await bury(http, "q1", {"n": 1})
    ready = (await http.post_job("q1", {"n": 2})).header("X-Presque-Job-Id")
    reply = await retry(http, "q1", json_body={"ids": [dead, ready, "0123456789abcdef"]})
    assert (reply.status, reply.json()) == (
        200,
        {"queue": "q1", "retried": 1, "missing": [ready, "0123456789abcdef"]},
    )
    # The ready job is in the queue once, not twice.
    assert await ready_count(http, "q1") == 2
    assert await dead_ids(http, "q1") == []


@async_test
async def test_retry_with_an_empty_ids_list_puts_back_none(http: Http) -> None:
    ids = await bury_all(http, "q1", 2)
    reply = await retry(http, "q1", json_body={"ids": []})
    assert (reply.status, reply.json()) == (200, {"queue": "q1", "retried": 0, "missing": []})
    assert await dead_ids(http, "q1") == ids


@async_test
async def test_retry_naming_ten_thousand_ids_is_answered(http: Http) -> None:
    dead = await bury(http, "q1", {"n": 1})
    unknown = [f"{n:026x}" for n in range(10_000)]
    reply = await retry(http, "q1", json_body={"ids": [*unknown, dead]})
    assert (reply.status, reply.json()["retried"]) == (200, 1)
    assert reply.json()["missing"] == unknown


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"ids": "all"}', "ids must be an array of job ids"),
        ('{"ids": [1, 2]}', "ids must be an array of job ids"),
        ('{"ids": null}', "ids must be an array of job ids"),
        ('{"ids": [["x"]]}', "ids must be an array of job ids"),
        ('["x"]', "body must be a JSON object"),
        ('{"ids": [', "body is not valid JSON"),
    ],
)
@async_test
async def test_a_bad_retry_body_is_400_and_moves_nothing(
    http: Http, body: str, message: str
) -> None:
    ids = await bury_all(http, "q1", 2)
    reply = await retry(http, "q1", body=body, headers=JSON)
    assert (reply.status, reply.json()) == (400, {"error": message})
    assert await dead_ids(http, "q1") == ids
    assert await ready_count(http, "q1") == 0


# Dropping


@async_test
async def test_delete_drops_every_dead_letter_and_its_job(http: Http) -> None:
    ids = await bury_all(http, "q1", 3)
    reply = await http.delete("/dead/q1")
    assert (reply.status, reply.json()) == (200, {"queue": "q1", "removed": 3})
    assert (await dead_page(http, "q1"))["total"] == 0
    for job_id in ids:
        shown = await http.get(f"/q/q1/{job_id}")
        assert (shown.status, shown.json()) == NO_SUCH_JOB


@async_test
async def test_delete_leaves_the_jobs_that_are_not_dead(http: Http) -> None:
    await bury(http, "q1", {"n": 1})
    ready = (await http.post_job("q1", {"n": 2})).header("X-Presque-Job-Id")
    reply = await http.delete("/dead/q1")
    assert reply.json() == {"queue": "q1", "removed": 1}
    assert await state_of(http, "q1", ready) == "ready"


@async_test
async def test_delete_without_dead_letters_removes_none(http: Http) -> None:
    reply = await http.delete("/dead/q1")
    assert (reply.status, reply.json()) == (200, {"queue": "q1", "removed": 0})


@async_test
async def test_delete_of_one_dead_letter_is_204_and_drops_only_it(http: Http) -> None:
    ids = await bury_all(http, "q1", 3)
    reply = await http.delete(f"/dead/q1/{ids[1]}")
    assert (reply.status, reply.body) == (204, b"")
    assert await dead_ids(http, "q1") == [ids[0], ids[2]]
    shown = await http.get(f"/q/q1/{ids[1]}")
    assert (shown.status, shown.json()) == NO_SUCH_JOB


@async_test
async def test_drop_with_ids_drops_only_those_dead_letters(http: Http) -> None:
    ids = await bury_all(http, "q1", 3)
    await http.post_job("q1", {"n": "alive"})
    alive = (await http.get("/queues/q1/jobs")).json()["jobs"][0]["id"]
    reply = await http.post("/dead/q1/drop", json_body={"ids": [ids[0], ids[2], alive]})
    assert (reply.status, reply.json()) == (200, {"queue": "q1", "removed": 2})
    assert await dead_ids(http, "q1") == [ids[1]]
    assert (await http.get(f"/q/q1/{alive}")).json()["state"] == "ready"


@async_test
async def test_drop_without_ids_is_refused_and_drops_nothing(http: Http) -> None:
    ids = await bury_all(http, "q1", 2)
    assert "ids is missing" in assert_error(await http.post("/dead/q1/drop", json_body={}))
    assert await dead_ids(http, "q1") == ids


@async_test
async def test_delete_of_an_unknown_dead_letter_is_404(http: Http) -> None:
    await bury(http, "q1", {"n": 1})
    reply = await http.delete("/dead/q1/0123456789abcdef")
    assert (reply.status, reply.json()) == NO_SUCH_DEAD_LETTER
    assert (await dead_page(http, "q1"))["total"] == 1


@async_test
async def test_delete_of_a_job_that_is_not_dead_is_404_and_keeps_it(http: Http) -> None:
    ready = (await http.post_job("q1", {"n": 1})).header("X-Presque-Job-Id")
    reply = await http.delete(f"/dead/q1/{ready}")
    assert (reply.status, reply.json()) == NO_SUCH_DEAD_LETTER
    assert await state_of(http, "q1", ready) == "ready"


@async_test
async def test_the_same_dead_letter_cannot_be_deleted_twice(http: Http) -> None:
    job_id = await bury(http, "q1", {"n": 1})
    assert (await http.delete(f"/dead/q1/{job_id}")).status == 204
    reply = await http.delete(f"/dead/q1/{job_id}")
    assert (reply.status, reply.json()) == NO_SUCH_DEAD_LETTER


# More than one batch


@async_test
async def test_one_retry_puts_back_more_dead_letters_than_a_batch(
    http: Http, presque: Presque
) -> None:
    count = 2 * BATCH + 1
    await many_dead_letters(presque, "q1", count)
    reply = await retry(http, "q1")
    assert (reply.status, reply.json()) == (200, {"queue": "q1", "retried": count})
    assert (await dead_page(http, "q1"))["total"] == 0
    assert await ready_count(http, "q1") == count


@async_test
async def test_one_delete_drops_more_dead_letters_than_a_batch(
    http: Http, presque: Presque
) -> None:
    count = 2 * BATCH + 1
    await many_dead_letters(presque, "q1", count)
    last = (await dead_page(http, "q1", offset=str(count - 1)))["jobs"][0]["id"]
    reply = await http.delete("/dead/q1")
    assert (reply.status, reply.json()) == (200, {"queue": "q1", "removed": count})
    assert (await dead_page(http, "q1"))["total"] == 0
    assert (await http.get(f"/q/q1/{last}")).status == 404
