"""Leased delivery: GET ?lease=S, then ack, fail or extend with the receipt."""

from __future__ import annotations

import time

from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer, reactor
from twisted.internet.task import deferLater

from tests.conftest import Presque
from tests.leasing import ack, extend, fail, lease_one, state_of
from tests.support import NO_JOB, Http, run_due

STALE = 409
NO_SUCH_JOB = (404, {"error": "no such job"})


@async_test
async def test_a_leased_job_carries_id_attempt_receipt_and_deadline(http: Http) -> None:
    posted = await http.post_job("q1", {"n": 1})
    before = time.time()
    leased = await lease_one(http, "q1", seconds=30)
    assert leased.id == posted.header("X-Presque-Job-Id")
    assert (leased.attempt, leased.job) == (1, {"n": 1})
    assert leased.receipt
    assert before + 29 <= leased.expires <= time.time() + 31


@async_test
async def test_a_leased_job_is_not_handed_out_again_while_leased(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    await lease_one(http, "q1")
    reply = await http.get("/q/q1", params={"lease": "30"})
    assert (reply.status, reply.json()) == NO_JOB


@async_test
async def test_ack_removes_the_job_for_good(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    reply = await ack(http, "q1", leased.id, leased.receipt)
    assert (reply.status, reply.body) == (204, b"")
    shown = (await http.get(f"/q/q1/{leased.id}")).json()
    assert (shown["state"], "job" in shown) == ("done", False)


@async_test
async def test_processed_counts_acks_not_leased_fetches(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    assert (await http.queue_counts("q1"))["job_processed"] == 0
    await ack(http, "q1", leased.id, leased.receipt)
    assert (await http.queue_counts("q1"))["job_processed"] == 1


@async_test
async def test_a_second_ack_is_409(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    await ack(http, "q1", leased.id, leased.receipt)
    reply = await ack(http, "q1", leased.id, leased.receipt)
    assert reply.status == STALE
    assert "receipt is not current" in reply.json()["error"]


@async_test
async def test_a_wrong_receipt_is_409_and_changes_nothing(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    assert (await ack(http, "q1", leased.id, "forged")).status == STALE
    assert (await fail(http, "q1", leased.id, "forged")).status == STALE
    assert (await extend(http, "q1", leased.id, "forged", 60)).status == STALE
    assert await state_of(http, "q1", leased.id) == "leased"
    assert (await ack(http, "q1", leased.id, leased.receipt)).status == 204


@async_test
async def test_settling_an_unknown_job_is_404(http: Http) -> None:
    reply = await ack(http, "q1", "0123456789abcdef", "whatever")
    assert (reply.status, reply.json()) == NO_SUCH_JOB


@async_test
async def test_settling_without_a_receipt_is_400(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    reply = await http.delete(f"/q/q1/{leased.id}")
    assert reply.status == 400
    assert "receipt is missing" in reply.json()["error"]


@async_test
async def test_a_failed_job_is_retried_after_a_backoff(http: Http, presque: Presque) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    before = time.time()
    reply = await fail(http, "q1", leased.id, leased.receipt, error="disk full")
    assert reply.status == 200
    body = reply.json()
    assert (body["id"], body["state"]) == (leased.id, "delayed")
    # Default backoff base 1 s, equal jitter: between 0.5 and 1 s.
    assert before + 0.4 <= body["next_run"] <= time.time() + 1.1
    view = (await http.get(f"/q/q1/{leased.id}")).json()
    assert view["state"] == "delayed"
    assert [e["error"] for e in view["errors"]] == ["disk full"]
    assert before - 1 <= view["errors"][0]["at"] <= time.time() + 1
    assert (await http.queue_counts("q1"))["job_failed"] == 1


@async_test
async def test_fail_with_delay_retries_after_exactly_that(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    await fail(http, "q1", leased.id, leased.receipt, delay="0")
    again = await lease_one(http, "q1")
    assert (again.id, again.attempt) == (leased.id, 2)
    assert again.receipt != leased.receipt


@async_test
async def test_fail_with_delay_0_makes_the_job_ready_at_once(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    await fail(http, "q1", leased.id, leased.receipt, delay="0")
    assert await state_of(http, "q1", leased.id) == "ready"


@async_test
async def test_fail_with_dead_sends_the_job_to_the_dead_letters(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    reply = await fail(http, "q1", leased.id, leased.receipt, error="bad input", dead="1")
    assert reply.json() == {"id": leased.id, "state": "dead", "next_run": None}
    assert await state_of(http, "q1", leased.id) == "dead"


@async_test
async def test_a_job_failing_every_attempt_ends_in_the_dead_letters(
    http: Http, presque: Presque
) -> None:
    await presque.broker.configure("q1", {"max_attempts": 3})
    await http.post_job("q1", {"n": 1})
    for attempt in (1, 2, 3):
        leased = await lease_one(http, "q1")
        assert leased.attempt == attempt
        outcome = (await fail(http, "q1", leased.id, leased.receipt, delay="0")).json()
    assert outcome["state"] == "dead"
    assert (await http.get("/q/q1", params={"lease": "30"})).status == 404


@async_test
async def test_a_failure_after_the_lease_ran_out_is_409(http: Http, presque: Presque) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1", seconds=0.1)
    await deferLater(reactor, 0.2)
    again = await lease_one(http, "q1")
    assert (again.id, again.attempt) == (leased.id, 2)
    assert (await fail(http, "q1", leased.id, leased.receipt)).status == STALE
    assert (await ack(http, "q1", again.id, again.receipt)).status == 204


@async_test
async def test_extend_moves_the_deadline(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1", seconds=5)
    reply = await extend(http, "q1", leased.id, leased.receipt, 120)
    assert reply.status == 200
    assert reply.json()["lease_expires"] >= time.time() + 119
    view = (await http.get(f"/q/q1/{leased.id}")).json()
    assert view["lease_expires"] == reply.json()["lease_expires"]


@async_test
async def test_an_expired_lease_makes_the_job_ready_with_its_attempt_counted(
    http: Http, presque: Presque
) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1", seconds=0.1)
    await deferLater(reactor, 0.2)
    assert await run_due(presque.broker) == (0, 1)
    view = (await http.get(f"/q/q1/{leased.id}")).json()
    assert (view["state"], view["attempts"]) == ("ready", 1)
    assert [e["error"] for e in view["errors"]] == ["lease expired"]
    assert (await http.queue_counts("q1"))["job_failed"] == 1


@async_test
async def test_an_expired_lease_on_the_last_attempt_goes_to_the_dead_letters(
    http: Http, presque: Presque
) -> None:
    await presque.broker.configure("q1", {"max_attempts": 1})
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1", seconds=0.1)
    await deferLater(reactor, 0.2)
    await run_due(presque.broker)
    assert await state_of(http, "q1", leased.id) == "dead"


@async_test
async def test_expiry_racing_an_ack_has_exactly_one_winner(http: Http, presque: Presque) -> None:
    for _ in range(20):
        await http.post_job("race", {"n": 1})
        leased = await lease_one(http, "race", seconds=0.05)
        await deferLater(reactor, 0.06)
        acked, (_, expired) = await defer.gatherResults(
            [
                defer.ensureDeferred(ack(http, "race", leased.id, leased.receipt)),
                defer.ensureDeferred(run_due(presque.broker)),
            ],
            consumeErrors=True,
        )
        if acked.status == 204:
            assert expired == 0
            assert (await http.get(f"/q/race/{leased.id}")).json()["state"] == "done"
        else:
            assert acked.status == STALE
            assert expired == 1
            again = await lease_one(http, "race")
            assert again.id == leased.id
            await ack(http, "race", again.id, again.receipt)


@async_test
async def test_a_uniq_key_stays_taken_until_the_job_is_acked(http: Http) -> None:
    await http.post_job("q1", {"n": 1}, uniq="k")
    leased = await lease_one(http, "q1")
    assert (await http.post_job("q1", {"n": 2}, uniq="k")).status == 400
    await ack(http, "q1", leased.id, leased.receipt)
    assert (await http.post_job("q1", {"n": 3}, uniq="k")).status == 201


@async_test
async def test_a_uniq_key_is_freed_when_the_job_is_dead_lettered(http: Http) -> None:
    await http.post_job("q1", {"n": 1}, uniq="k")
    leased = await lease_one(http, "q1")
    await fail(http, "q1", leased.id, leased.receipt, dead="1")
    assert (await http.post_job("q1", {"n": 2}, uniq="k")).status == 201


@async_test
async def test_an_invalid_lease_is_400(http: Http) -> None:
    for lease in ("-1", "soon", "inf", str(8 * 24 * 3600)):
        reply = await http.get("/q/q1", params={"lease": lease})
        assert reply.status == 400, lease
        assert "lease must be" in reply.json()["error"]


@async_test
async def test_lease_0_takes_the_job_for_good(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    reply = await http.get("/q/q1", params={"lease": "0"})
    assert reply.status == 200
    assert reply.header("X-Presque-Receipt") is None
    assert (await http.get(f"/q/q1/{reply.header('X-Presque-Job-Id')}")).status == 404


@async_test
async def test_a_leased_batch_gives_ids_receipts_and_attempts_in_body_order(http: Http) -> None:
    await http.post("/qb/q1", json_body={"jobs": [{"n": n} for n in range(3)]})
    reply = await http.get("/qb/q1", params={"lease": "30", "batch_size": "3"})
    ids = reply.header("X-Presque-Job-Ids").split(",")
    receipts = reply.header("X-Presque-Receipts").split(",")
    assert reply.header("X-Presque-Attempts") == "1,1,1"
    assert float(reply.header("X-Presque-Lease-Expires")) > time.time()
    assert len(set(receipts)) == 3
    for job_id, job_receipt in zip(ids, receipts, strict=True):
        assert (await ack(http, "q1", job_id, job_receipt)).status == 204


@async_test
async def test_a_leased_batch_holds_at_most_250_jobs(http: Http) -> None:
    await http.post("/qb/q1", json_body={"jobs": [{"n": n} for n in range(300)]})
    reply = await http.get("/qb/q1", params={"lease": "30", "batch_size": "300"})
    assert len(reply.json()) == 250


@async_test
async def test_the_memory_of_acks_keeps_the_last_10000(presque: Presque) -> None:
    broker = presque.broker
    await broker.enqueue("q1", [b"{}"] * 10_050)
    while (delivery := await broker.fetch("q1", 250, lease=60)).jobs:
        for job in delivery.jobs:
            await broker.ack("q1", job.id, job.receipt)
    assert presque.redis_server.command("ZCARD", "presque:{q1}:acked").strip() == "10000"
