"""
C{/workers}: every worker registered or seen. A request carrying
C{X-presque-workerid} is a sighting, written in the background at most once a
second per (worker, queue): the tests poll briefly for it.
"""

from __future__ import annotations

import time
from typing import Any

from pytest_twisted import ensureDeferred as async_test
from twisted.internet import reactor
from twisted.internet.task import deferLater

from harness.polling import eventually
from tests.conftest import Presque
from tests.leasing import lease_one
from tests.support import WORKER, Http

SIGHTING_WAIT = 1.0  # seconds a sighting may take to be written


async def workers(http: Http) -> list[dict[str, Any]]:
    reply = await http.get("/workers")
    assert reply.status == 200, reply.body
    return reply.json()["workers"]


async def queue_workers(http: Http, queue: str) -> list[dict[str, Any]]:
    reply = await http.get(f"/queues/{queue}")
    assert reply.status == 200, reply.body
    return reply.json()["workers"]


async def worker_entry(http: Http, worker: str, queue: str | None = None) -> dict[str, Any]:
    """C{worker}'s entry in C{/workers} once present (and on C{queue}, if given)."""

    async def check() -> dict[str, Any] | None:
        for entry in await workers(http):
            if entry["worker_id"] == worker and (queue is None or queue in entry["queues"]):
                return entry
        return None

    return await eventually(
        check, SIGHTING_WAIT, f"not seen within {SIGHTING_WAIT}s: {worker} on {queue}"
    )


async def queue_worker_entry(http: Http, queue: str, worker: str) -> dict[str, Any]:
    """C{worker}'s entry in the workers of C{GET /queues/queue} once present."""

    async def check() -> dict[str, Any] | None:
        for entry in await queue_workers(http, queue):
            if entry["worker_id"] == worker:
                return entry
        return None

    return await eventually(
        check, SIGHTING_WAIT, f"not seen within {SIGHTING_WAIT}s: {worker} in /queues/{queue}"
    )


@async_test
async def test_no_worker_is_listed_at_first(http: Http) -> None:
    reply = await http.get("/workers")
    assert (reply.status, reply.json()) == (
        200,
        {"total": 0, "offset": 0, "limit": 100, "workers": []},
    )


@async_test
async def test_a_fetch_with_a_worker_id_makes_the_worker_appear(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    before = time.time()
    reply = await http.get("/q/q1", headers={WORKER: "w1"})
    assert reply.status == 200
    entry = await worker_entry(http, "w1", "q1")
    assert sorted(entry) == [
        "alive",
        "failed",
        "last_seen",
        "processed",
        "queues",
        "started_at",
        "worker_id",
    ]
    assert entry["queues"] == ["q1"]
    assert entry["alive"] is True
    assert before - 0.01 <= entry["last_seen"] <= time.time() + 0.01
    assert entry["started_at"] is None
    assert (entry["processed"], entry["failed"]) == (1, 0)


@async_test
async def test_a_fetch_that_finds_no_job_still_counts_as_a_sighting(http: Http) -> None:
    reply = await http.get("/q/q1", headers={WORKER: "w1"})
    assert reply.status == 404
    entry = await worker_entry(http, "w1", "q1")
    assert (entry["alive"], entry["processed"]) == (True, 0)


@async_test
async def test_a_request_outside_a_queue_makes_the_worker_appear_without_a_queue(
    http: Http,
) -> None:
    await http.get("/status/", headers={WORKER: "w1"})
    entry = await worker_entry(http, "w1")
    assert (entry["queues"], entry["alive"]) == ([], True)


@async_test
async def test_a_worker_seen_on_two_queues_lists_both(http: Http) -> None:
    await http.get("/q/q2", headers={WORKER: "w1"})
    await http.get("/qb/q1", headers={WORKER: "w1"})
    entry = await worker_entry(http, "w1", "q1")
    entry = await worker_entry(http, "w1", "q2")
    assert entry["queues"] == ["q1", "q2"]


@async_test
async def test_a_request_without_a_worker_id_lists_no_worker(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    await http.get("/q/q1")
    await deferLater(reactor, 0.1)
    assert await workers(http) == []


@async_test
async def test_a_registered_worker_appears_with_started_at(http: Http) -> None:
    before = int(time.time())
    reply = await http.post("/w/q1", headers={WORKER: "w1"})
    assert reply.status == 201
    entry = await worker_entry(http, "w1", "q1")
    assert before <= entry["started_at"] <= time.time()
    assert entry["queues"] == ["q1"]
    assert (entry["processed"], entry["failed"]) == (0, 0)


@async_test
async def test_workers_are_listed_sorted_by_id(http: Http) -> None:
    for worker in ("w2", "w3", "w1"):
        await http.get("/q/q1", headers={WORKER: worker})
    await worker_entry(http, "w1", "q1")
    await worker_entry(http, "w2", "q1")
    await worker_entry(http, "w3", "q1")
    assert [entry["worker_id"] for entry in await workers(http)] == ["w1", "w2", "w3"]


# GET /queues/Q


@async_test
async def test_the_queue_view_lists_the_workers_seen_on_it(http: Http) -> None:
    await http.post_jobs("q1", 2)
    await http.get("/q/q1", headers={WORKER: "w1"})
    await http.get("/q/q2", headers={WORKER: "w2"})
    entry = await queue_worker_entry(http, "q1", "w1")
    assert (entry["processed"], entry["failed"], entry["alive"]) == (1, 0, True)
    await worker_entry(http, "w2", "q2")
    assert [entry["worker_id"] for entry in await queue_workers(http, "q1")] == ["w1"]


@async_test
async def test_the_queue_view_lists_registered_workers(http: Http) -> None:
    await http.post("/w/q1", headers={WORKER: "w1"})
    entry = await queue_worker_entry(http, "q1", "w1")
    assert entry["started_at"] is not None


@async_test
async def test_an_ack_counts_as_processed_for_its_worker(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    reply = await http.delete(
        f"/q/q1/{leased.id}", headers={"X-Presque-Receipt": leased.receipt, WORKER: "w1"}
    )
    assert reply.status == 204
    entry = await queue_worker_entry(http, "q1", "w1")
    assert (entry["processed"], entry["failed"]) == (1, 0)
    entry = await worker_entry(http, "w1", "q1")
    assert (entry["processed"], entry["failed"]) == (1, 0)


@async_test
async def test_a_leased_fetch_alone_is_not_counted_as_processed(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    reply = await http.get("/q/q1", params={"lease": "30"}, headers={WORKER: "w1"})
    assert reply.header("X-Presque-Receipt")
    entry = await worker_entry(http, "w1", "q1")
    assert (entry["processed"], entry["failed"]) == (0, 0)


@async_test
async def test_a_fail_counts_as_failed_for_its_worker(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    reply = await http.put(
        f"/q/q1/{leased.id}",
        json_body={"error": "oops"},
        headers={"X-Presque-Receipt": leased.receipt, WORKER: "w1"},
    )
    assert reply.status == 200
    entry = await queue_worker_entry(http, "q1", "w1")
    assert (entry["processed"], entry["failed"]) == (0, 1)


@async_test
async def test_a_stale_ack_counts_nothing_for_its_worker(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    reply = await http.delete(
        f"/q/q1/{leased.id}", headers={"X-Presque-Receipt": "forged", WORKER: "w1"}
    )
    assert reply.status == 409
    entry = await worker_entry(http, "w1", "q1")
    assert (entry["processed"], entry["failed"]) == (0, 0)


# The presque 1 view of workers


@async_test
async def test_the_old_queue_workers_list_shows_only_registered_workers(http: Http) -> None:
    await http.post("/w/q1", headers={WORKER: "registered"})
    await http.get("/q/q1", headers={WORKER: "seen"})
    await worker_entry(http, "seen", "q1")
    reply = await http.get("/w/", params={"queue_name": "q1"})
    assert reply.json() == {
        "queue_name": "q1",
        "workers_list": ["registered"],
        "processed": 0,
        "failed": 0,
    }


@async_test
async def test_the_old_list_of_workers_shows_only_registered_workers(http: Http) -> None:
    await http.post("/w/q1", headers={WORKER: "registered"})
    await http.get("/q/q1", headers={WORKER: "seen"})
    await worker_entry(http, "seen", "q1")
    assert (await http.get("/w/")).json() == ["registered"]


@async_test
async def test_the_old_worker_statistics_keep_their_keys_for_a_seen_worker(http: Http) -> None:
    await http.get("/q/q1", headers={WORKER: "seen"})
    await worker_entry(http, "seen", "q1")
    assert await http.worker_stats("seen") == {
        "worker_id": "seen",
        "processed": 0,
        "failed": 0,
        "started_at": None,
    }


# Liveness


@async_test
async def test_a_worker_not_seen_within_the_alive_window_is_not_alive(
    http: Http, presque: Presque
) -> None:
    from presque.broker import Broker

    await http.get("/q/q1", headers={WORKER: "w1"})
    await worker_entry(http, "w1", "q1")
    watcher = Broker(presque.broker.redis, alive_window=0.05)
    await deferLater(reactor, 0.1)
    stats = await watcher.worker_stats("w1")
    assert stats.alive is False
    assert stats.last_seen is not None
    assert (await presque.broker.worker_stats("w1")).alive is True


@async_test
async def test_a_worker_seen_within_the_alive_window_is_alive(http: Http, presque: Presque) -> None:
    from presque.broker import Broker

    await http.get("/q/q1", headers={WORKER: "w1"})
    await worker_entry(http, "w1", "q1")
    watcher = Broker(presque.broker.redis, alive_window=5)
    assert (await watcher.worker_stats("w1")).alive is True


@async_test
async def test_a_registered_worker_never_seen_is_not_alive(presque: Presque) -> None:
    await presque.broker.register_worker("q1", "w1")
    stats = await presque.broker.worker_stats("w1")
    assert (stats.alive, stats.last_seen, stats.queues) == (False, None, ["q1"])


@async_test
async def test_unregistering_forgets_the_worker(http: Http) -> None:
    await http.post("/w/q1", headers={WORKER: "leaving"})
    await worker_entry(http, "leaving", "q1")
    # Past the sighting interval, so that only the farewell itself could
    # record the worker again.
    await deferLater(reactor, 1.05)
    await http.delete("/w/q1", headers={WORKER: "leaving"})
    await deferLater(reactor, 0.2)
    assert [entry["worker_id"] for entry in await workers(http)] == []
