"""
Views over all queues, workers or jobs are paged or bounded: C{/queues},
C{/workers} and C{/dead/Q} a page at a time (offset and limit, at most
1,000), C{/status/Q?with_desc=1} the first 1,000 ready jobs. C{/status/}
alone lists every queue in one list, as presque 1 clients expect.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Sequence
from typing import Any

import pytest
from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer

from harness.polling import eventually
from tests.conftest import Presque
from tests.support import WORKER, Http, assert_error


async def gathered(calls: Sequence[Awaitable], size: int = 100) -> list:
    """Await C{calls}, C{size} at a time; their results in order."""
    results = []
    for first in range(0, len(calls), size):
        batch = [defer.ensureDeferred(call) for call in calls[first : first + size]]
        results += await defer.gatherResults(batch, consumeErrors=True)
    return results


async def make_queues(presque: Presque, count: int) -> list[str]:
    """C{count} queues with a job each; their names, sorted."""
    names = [f"q{n:04d}" for n in range(count)]
    await gathered([presque.broker.enqueue(name, [b"{}"]) for name in names], 200)
    return names


async def page_of(http: Http, path: str, **params: str) -> dict[str, Any]:
    reply = await http.get(path, params=params or None)
    assert reply.status == 200, reply.body
    return reply.json()


def queue_names(page: dict[str, Any]) -> list[str]:
    return [queue["queue"] for queue in page["queues"]]


def worker_names(page: dict[str, Any]) -> list[str]:
    return [worker["worker_id"] for worker in page["workers"]]


# GET /queues


@async_test
async def test_queues_answers_the_first_100_queues_in_order_and_the_total(
    presque: Presque,
) -> None:
    names = await make_queues(presque, 250)
    page = await page_of(presque.http, "/queues")
    assert (page["total"], page["offset"], page["limit"]) == (250, 0, 100)
    assert queue_names(page) == names[:100]


@async_test
async def test_queues_offset_200_gives_the_last_50(presque: Presque) -> None:
    names = await make_queues(presque, 250)
    page = await page_of(presque.http, "/queues", offset="200", limit="100")
    assert (page["total"], page["offset"], page["limit"]) == (250, 200, 100)
    assert queue_names(page) == names[200:]


@async_test
async def test_queues_pages_cover_every_queue_once(presque: Presque) -> None:
    names = await make_queues(presque, 250)
    listed = []
    for offset in range(0, 300, 100):
        listed += queue_names(await page_of(presque.http, "/queues", offset=str(offset)))
    assert listed == names


@async_test
async def test_queues_accepts_a_limit_of_1000(presque: Presque) -> None:
    names = await make_queues(presque, 250)
    page = await page_of(presque.http, "/queues", limit="1000")
    assert (page["total"], page["limit"]) == (250, 1000)
    assert queue_names(page) == names


@async_test
async def test_queues_refuses_a_limit_above_1000(http: Http) -> None:
    reply = await http.get("/queues", params={"limit": "1001"})
    assert assert_error(reply, 400) == "limit must be an integer from 0 to 1000"


# GET /workers


async def make_workers(presque: Presque, count: int) -> list[str]:
    """C{count} workers registered on q1 (POST /w/q1); their names, sorted."""
    names = [f"w{n:04d}" for n in range(count)]
    replies = await gathered([presque.http.post("/w/q1", headers={WORKER: w}) for w in names])
    assert {reply.status for reply in replies} == {201}
    return names


@async_test
async def test_workers_answers_the_first_100_workers_in_order_and_the_total(
    presque: Presque,
) -> None:
    names = await make_workers(presque, 150)
    page = await page_of(presque.http, "/workers")
    assert (page["total"], page["offset"], page["limit"]) == (150, 0, 100)
    assert worker_names(page) == names[:100]


@async_test
async def test_workers_offset_100_gives_the_last_50(presque: Presque) -> None:
    names = await make_workers(presque, 150)
    page = await page_of(presque.http, "/workers", offset="100", limit="100")
    assert (page["total"], page["offset"], page["limit"]) == (150, 100, 100)
    assert worker_names(page) == names[100:]


@async_test
async def test_workers_seen_without_registering_are_paged_too(presque: Presque) -> None:
    names = [f"w{n:04d}" for n in range(150)]
    await gathered([presque.http.get("/j/q1", headers={WORKER: w}) for w in names])

    async def all_seen() -> bool:
        return (await page_of(presque.http, "/workers", limit="1"))["total"] == len(names)

    await eventually(all_seen, 5, "the 150 workers were never all listed")
    first = await page_of(presque.http, "/workers")
    rest = await page_of(presque.http, "/workers", offset="100")
    assert (len(first["workers"]), len(rest["workers"])) == (100, 50)
    assert worker_names(first) + worker_names(rest) == names


@async_test
async def test_workers_accepts_a_limit_of_1000(presque: Presque) -> None:
    names = await make_workers(presque, 150)
    page = await page_of(presque.http, "/workers", limit="1000")
    assert (page["total"], page["limit"]) == (150, 1000)
    assert worker_names(page) == names


@async_test
async def test_workers_refuses_a_limit_above_1000(http: Http) -> None:
    reply = await http.get("/workers", params={"limit": "1001"})
    assert assert_error(reply, 400) == "limit must be an integer from 0 to 1000"


# GET /status/ (presque 1: one list)


@async_test
async def test_status_lists_every_queue_in_one_list(presque: Presque) -> None:
    names = await make_queues(presque, 1500)
    body = await page_of(presque.http, "/status/")
    assert sorted(body) == ["queues", "size"]
    assert body["size"] == 1500
    assert sorted(body["queues"]) == names


# GET /status/Q?with_desc=1


@async_test
async def test_status_with_desc_lists_the_first_1000_ready_jobs_and_the_full_size(
    presque: Presque,
) -> None:
    texts = [json.dumps({"n": n}) for n in range(1500)]
    await presque.broker.enqueue("q1", [text.encode() for text in texts])
    body = await page_of(presque.http, "/status/q1", with_desc="1")
    assert sorted(body) == ["jobs", "queue", "size"]
    assert (body["queue"], body["size"]) == ("q1", 1500)
    assert body["jobs"] == texts[:1000]


# GET /dead/Q


async def many_dead_letters(presque: Presque, queue: str, count: int) -> list[str]:
    """C{count} dead letters in C{queue}: one attempt each, leases of a
    millisecond left to run out. Their ids, oldest first."""
    broker = presque.broker
    await broker.configure(queue, {"max_attempts": 1})
    await broker.enqueue(queue, [json.dumps({"n": n}).encode() for n in range(count)])
    while (await broker.fetch(queue, 250, lease=0.001)).jobs:
        pass

    async def all_dead() -> bool:
        await broker.run_due()
        return (await broker.jobs_in_state(queue, "dead", 0, 0)).total == count

    await eventually(all_dead, 10, f"the {count} leases never all ran out")
    return [letter.id for letter in (await broker.jobs_in_state(queue, "dead", 0, count)).items]


def letter_ids(page: dict[str, Any]) -> list[str]:
    return [letter["id"] for letter in page["jobs"]]


@async_test
async def test_dead_letters_come_100_at_a_time_by_default(presque: Presque) -> None:
    ids = await many_dead_letters(presque, "q1", 1200)
    page = await page_of(presque.http, "/dead/q1")
    assert (page["total"], page["offset"], page["limit"]) == (1200, 0, 100)
    assert letter_ids(page) == ids[:100]


@async_test
async def test_dead_letters_come_at_most_1000_at_a_time(presque: Presque) -> None:
    ids = await many_dead_letters(presque, "q1", 1200)
    first = await page_of(presque.http, "/dead/q1", limit="1000")
    rest = await page_of(presque.http, "/dead/q1", offset="1000", limit="1000")
    assert (first["total"], first["limit"], len(first["jobs"])) == (1200, 1000, 1000)
    assert (rest["total"], rest["offset"], len(rest["jobs"])) == (1200, 1000, 200)
    assert letter_ids(first) + letter_ids(rest) == ids


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "1001"}, "limit must be an integer from 0 to 1000"),
        ({"offset": "-1"}, "offset must be an integer from 0 to 1000000000"),
    ],
)
@async_test
async def test_dead_letters_refuse_a_page_out_of_bounds(
    http: Http, params: dict[str, str], message: str
) -> None:
    reply = await http.get("/dead/q1", params=params)
    assert assert_error(reply, 400) == message
