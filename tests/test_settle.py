"""POST /qb/Q/settle: many leased jobs acked or failed in one request."""

from __future__ import annotations

import time

from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer, reactor
from twisted.internet.task import deferLater

from harness.polling import eventually
from tests.conftest import Presque
from tests.flow import assert_settling_wakes_a_held_waiter, limit, timed_get
from tests.leasing import configure
from tests.settling import acks, lease_batch, settle, settled, state
from tests.streams import open_stream
from tests.support import WORKER, Http
from tests.test_metrics import scrape, value

STALE = "receipt is not current: the lease ran out or the job was settled"


@async_test
async def test_settle_acks_many_jobs(http: Http) -> None:
    await http.post_jobs("q1", 5)
    held = await lease_batch(http, "q1", 5)
    answer = await settled(http, "q1", {"acks": acks(held)})
    assert answer == {
        "settled": [{"id": job.id, "state": "done", "next_run": None} for job in held],
        "refused": [],
    }
    assert [await state(http, "q1", job.id) for job in held] == ["done"] * 5
    counts = await http.queue_counts("q1")
    assert (counts["job_count"], counts["job_processed"]) == (0, 5)


@async_test
async def test_settle_fails_many_to_be_retried_after_their_delay(http: Http) -> None:
    await http.post_jobs("q1", 3)
    held = await lease_batch(http, "q1", 3)
    before = time.time()
    answer = await settled(http, "q1", {"fails": acks(held, error="smtp down", delay=60)})
    assert [entry["state"] for entry in answer["settled"]] == ["delayed"] * 3
    assert all(before + 59 < entry["next_run"] < time.time() + 61 for entry in answer["settled"])
    view = (await http.get(f"/q/q1/{held[0].id}")).json()
    assert (view["state"], view["errors"][0]["error"]) == ("delayed", "smtp down")


@async_test
async def test_settle_fails_with_the_backoff_when_no_delay_is_given(http: Http) -> None:
    await configure(http, "q1", {"backoff_base": 100, "backoff_cap": 100})
    await http.post_jobs("q1", 2)
    held = await lease_batch(http, "q1", 2)
    answer = await settled(http, "q1", {"fails": acks(held)})
    # Attempt 1: between half the base and all of it.
    assert all(time.time() + 49 < e["next_run"] < time.time() + 101 for e in answer["settled"])


@async_test
async def test_settle_fails_with_a_delay_of_0_makes_the_jobs_ready_at_once(http: Http) -> None:
    await http.post_jobs("q1", 2)
    held = await lease_batch(http, "q1", 2)
    await settled(http, "q1", {"fails": acks(held, delay=0)})
    again = await lease_batch(http, "q1", 2)
    assert [job.id for job in again] == [job.id for job in held]


@async_test
async def test_settle_sends_failed_jobs_with_dead_to_the_dead_letters(http: Http) -> None:
    await http.post_jobs("q1", 2)
    held = await lease_batch(http, "q1", 2)
    answer = await settled(http, "q1", {"fails": acks(held, error="bad input", dead=True)})
    assert answer["settled"] == [{"id": j.id, "state": "dead", "next_run": None} for j in held]
    dead = (await http.get("/dead/q1")).json()
    assert sorted(job["id"] for job in dead["jobs"]) == sorted(job.id for job in held)


@async_test
async def test_settle_sends_jobs_whose_attempts_are_used_up_to_the_dead_letters(
    http: Http,
) -> None:
    await configure(http, "q1", {"max_attempts": 1})
    await http.post_jobs("q1", 2)
    held = await lease_batch(http, "q1", 2)
    answer = await settled(http, "q1", {"fails": acks(held)})
    assert [entry["state"] for entry in answer["settled"]] == ["dead", "dead"]
    assert (await http.get("/queues/q1")).json()["counts"]["dead"] == 2


@async_test
async def test_settle_acks_and_fails_in_one_request(http: Http) -> None:
    await http.post_jobs("q1", 4)
    held = await lease_batch(http, "q1", 4)
    body = {"acks": acks(held[:2]), "fails": acks(held[2:3], delay=60) + acks(held[3:], dead=True)}
    answer = await settled(http, "q1", body)
    assert [(e["id"], e["state"]) for e in answer["settled"]] == [
        (held[0].id, "done"),
        (held[1].id, "done"),
        (held[2].id, "delayed"),
        (held[3].id, "dead"),
    ]
    totals = (await http.get("/queues/q1")).json()["totals"]
    assert (totals["acked"], totals["failed"], totals["retried"], totals["dead"]) == (2, 2, 1, 1)


@async_test
async def test_a_wrong_receipt_leaves_that_job_leased_and_the_others_settled(
    http: Http,
) -> None:
    await http.post_jobs("q1", 3)
    held = await lease_batch(http, "q1", 3)
    entries = acks(held)
    entries[1]["receipt"] = "not-the-receipt"
    answer = await settled(http, "q1", {"acks": entries})
    assert [entry["id"] for entry in answer["settled"]] == [held[0].id, held[2].id]
    assert answer["refused"] == [{"id": held[1].id, "status": 409, "error": STALE}]
    assert await state(http, "q1", held[1].id) == "leased"


@async_test
async def test_a_job_settled_already_is_refused_as_stale(http: Http) -> None:
    await http.post_jobs("q1", 2)
    held = await lease_batch(http, "q1", 2)
    await settled(http, "q1", {"acks": acks(held)})
    answer = await settled(http, "q1", {"fails": acks(held)})
    assert answer["settled"] == []
    assert [entry["status"] for entry in answer["refused"]] == [409, 409]
    assert [await state(http, "q1", job.id) for job in held] == ["done", "done"]


@async_test
async def test_unknown_ids_are_refused_as_no_such_job(http: Http) -> None:
    await http.post_jobs("q1", 1)
    [held] = await lease_batch(http, "q1", 1)
    body = {
        "acks": [{"id": "nope", "receipt": "r"}],
        "fails": [*acks([held]), {"id": "gone", "receipt": "r"}],
    }
    answer = await settled(http, "q1", body)
    assert answer["settled"] == [
        {"id": held.id, "state": "delayed", "next_run": answer["settled"][0]["next_run"]}
    ]
    assert answer["refused"] == [
        {"id": "nope", "status": 404, "error": "no such job"},
        {"id": "gone", "status": 404, "error": "no such job"},
    ]


@async_test
async def test_an_empty_batch_settles_nothing(http: Http) -> None:
    assert await settled(http, "q1", {"acks": [], "fails": []}) == {"settled": [], "refused": []}
    assert await settled(http, "q1", {}) == {"settled": [], "refused": []}


@async_test
async def test_settle_keeps_the_results_of_the_acks(http: Http) -> None:
    await http.post_jobs("q1", 3)
    held = await lease_batch(http, "q1", 3)
    entries = [
        {"id": held[0].id, "receipt": held[0].receipt, "result": {"sent": 3}},
        {"id": held[1].id, "receipt": held[1].receipt, "result": None},
        {"id": held[2].id, "receipt": held[2].receipt},
    ]
    await settled(http, "q1", {"acks": entries})
    views = [(await http.get(f"/q/q1/{job.id}")).json() for job in held]
    assert [view.get("result", "absent") for view in views] == [{"sent": 3}, None, "absent"]


@async_test
async def test_settle_releases_the_jobs_waiting_on_the_acked_ones(http: Http) -> None:
    await http.post_jobs("q1", 2)
    held = await lease_batch(http, "q1", 2)
    after = f"{held[0].id},{held[1].id}"
    waiting = await http.post_job("q1", {"last": True}, after=after)
    waiting_id = waiting.header("X-Presque-Job-Id")
    assert await state(http, "q1", waiting_id) == "waiting"
    await settled(http, "q1", {"acks": acks(held)})
    assert await state(http, "q1", waiting_id) == "ready"


@async_test
async def test_settle_sends_the_jobs_waiting_on_a_dead_one_to_the_dead_letters(
    http: Http,
) -> None:
    await http.post_jobs("q1", 1)
    held = await lease_batch(http, "q1", 1)
    waiting = await http.post_job("q1", {"next": True}, after=held[0].id)
    await settled(http, "q1", {"fails": acks(held, dead=True)})
    assert await state(http, "q1", waiting.header("X-Presque-Job-Id")) == "dead"


@async_test
async def test_settle_frees_the_slots_of_the_concurrency(http: Http) -> None:
    await limit(http, "q1", concurrency=2)
    await http.post_jobs("q1", 4)
    held = await lease_batch(http, "q1", 2)
    await settled(http, "q1", {"acks": acks(held[:1]), "fails": acks(held[1:], delay=60)})
    assert len(await lease_batch(http, "q1", 2)) == 2


@async_test
async def test_settle_wakes_a_fetch_held_back_by_the_concurrency(
    two_servers: list[Presque],
) -> None:
    one, other = (server.http for server in two_servers)
    await limit(one, "q1", concurrency=1)
    await one.post_jobs("q1", 2)
    held = await lease_batch(one, "q1", 1)
    await assert_settling_wakes_a_held_waiter(
        other, lambda: settled(one, "q1", {"acks": acks(held)}), {"n": 1}
    )


@async_test
async def test_settle_wakes_a_waiting_fetch_with_the_jobs_it_makes_ready(
    two_servers: list[Presque],
) -> None:
    one, other = (server.http for server in two_servers)
    await one.post_jobs("q1", 1)
    held = await lease_batch(one, "q1", 1)
    waiting = defer.Deferred.fromCoroutine(timed_get(other, "/q/q1", wait="10", lease="30"))
    await deferLater(reactor, 0.3, lambda: None)
    await settled(one, "q1", {"fails": acks(held, delay=0)})
    reply, took = await waiting
    assert (reply.status, reply.json(), took < 3) == (200, {"n": 0}, True)


@async_test
async def test_settle_wakes_a_producer_waiting_on_a_job(two_servers: list[Presque]) -> None:
    one, other = (server.http for server in two_servers)
    await one.post_jobs("q1", 2)
    held = await lease_batch(one, "q1", 2)
    waiting = defer.Deferred.fromCoroutine(timed_get(other, f"/q/q1/{held[1].id}", wait="10"))
    await deferLater(reactor, 0.3, lambda: None)
    await settled(one, "q1", {"acks": acks(held, result=7)})
    reply, took = await waiting
    assert (reply.json()["state"], reply.json()["result"], took < 3) == ("done", 7, True)


@async_test
async def test_settle_lets_a_full_stream_send_its_next_jobs(presque: Presque) -> None:
    http = presque.http
    await http.post_jobs("q1", 4)
    stream = await open_stream(http, "q1", lease="30", prefetch="2")
    await eventually(lambda: len(stream.jobs()) == 2, 5, "the stream never sent 2 jobs")
    sent = stream.jobs()
    await settled(http, "q1", {"acks": [{"id": j["id"], "receipt": j["receipt"]} for j in sent]})
    await eventually(lambda: len(stream.jobs()) == 4, 5, "the stream never sent the next 2")
    stream.close()


@async_test
async def test_settle_moves_the_counters_of_the_queue_and_the_worker(http: Http) -> None:
    await http.post_jobs("q1", 5)
    held = await lease_batch(http, "q1", 5)
    entries = acks(held[:4])
    entries[3]["receipt"] = "wrong"
    body = {"acks": entries, "fails": acks(held[4:], delay=60)}
    await settled(http, "q1", body, **{WORKER: "w1"})
    counts = await http.queue_counts("q1")
    assert (counts["job_processed"], counts["job_failed"]) == (3, 1)
    assert await http.worker_counts("w1") == (3, 1)


@async_test
async def test_settle_times_each_acked_job_and_calls_redis_once(http: Http) -> None:
    await http.post_jobs("q1", 3)
    held = await lease_batch(http, "q1", 3)
    await settled(http, "q1", {"acks": acks(held[:2]), "fails": acks(held[2:])})
    samples = await scrape(http)
    assert value(samples, "presque_job_run_seconds_count", queue="q1") == 2
    assert value(samples, "presque_redis_command_duration_seconds_count", command="settle") == 1
    assert ("presque_redis_command_duration_seconds_count", (("command", "ack"),)) not in samples


@async_test
async def test_settle_on_a_virtual_queue_is_refused(http: Http) -> None:
    body = {"type": "virtual", "action": "set", "queues": ["a", "b"]}
    assert (await http.post("/control/v1", json_body=body)).status == 200
    reply = await settle(http, "v1", {"acks": []})
    assert (reply.status, reply.json()["error"]) == (
        400,
        "this is a virtual queue: act on its queues",
    )
