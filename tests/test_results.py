"""Results, progress, and producers that wait for a job's outcome."""

from __future__ import annotations

from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer, reactor
from twisted.internet.task import deferLater

from tests.conftest import Presque
from tests.flow import limit, timed_get
from tests.leasing import ack, fail, lease_one
from tests.support import Http, assert_error, run_due

RECEIPT = "X-Presque-Receipt"


async def ack_with(http: Http, queue: str, job_id: str, receipt: str, body: object) -> int:
    reply = await http.delete(f"/q/{queue}/{job_id}", json_body=body, headers={RECEIPT: receipt})
    return reply.status


async def view(http: Http, queue: str, job_id: str, **params: str) -> dict:
    reply = await http.get(f"/q/{queue}/{job_id}", params=params or None)
    assert reply.status == 200, reply.body
    return reply.json()


@async_test
async def test_an_ack_keeps_its_result_in_the_job_view(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    assert await ack_with(http, "q1", leased.id, leased.receipt, {"result": {"sent": 3}}) == 204
    shown = await view(http, "q1", leased.id)
    assert (shown["state"], shown["result"]) == ("done", {"sent": 3})
    assert shown["finished"] > shown["created"]


@async_test
async def test_an_ack_without_a_result_is_done_without_one(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    await ack(http, "q1", leased.id, leased.receipt)
    shown = await view(http, "q1", leased.id)
    assert (shown["state"], "result" in shown) == ("done", False)


@async_test
async def test_a_null_result_is_kept_as_null(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    await ack_with(http, "q1", leased.id, leased.receipt, {"result": None})
    assert (await view(http, "q1", leased.id))["result"] is None


@async_test
async def test_a_result_larger_than_max_result_size_is_413_and_acks_nothing(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    reply = await http.delete(
        f"/q/q1/{leased.id}", json_body={"result": "x" * 70_000}, headers={RECEIPT: leased.receipt}
    )
    assert assert_error(reply, 413) == "result is larger than 65536 bytes"
    assert (await view(http, "q1", leased.id))["state"] == "leased"


@async_test
async def test_an_ack_body_that_is_not_a_result_is_400_and_acks_nothing(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    for body in ('{"outcome": 1}', "[1]", "{", '{"result": NaN}'):
        reply = await http.delete(
            f"/q/q1/{leased.id}",
            body=body,
            headers={RECEIPT: leased.receipt, "Content-Type": "application/json"},
        )
        assert_error(reply, 400, body)
    assert (await view(http, "q1", leased.id))["state"] == "leased"


@async_test
async def test_results_are_forgotten_after_the_result_ttl(presque: Presque) -> None:
    http = presque.http
    await limit(http, "q1", result_ttl=0.2)
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    await ack_with(http, "q1", leased.id, leased.receipt, {"result": 1})
    await deferLater(reactor, 0.3, lambda: None)
    await run_due(presque.broker)
    assert (await http.get(f"/q/q1/{leased.id}")).status == 404
    assert await presque.broker.redis.execute("HLEN", "presque:{q1}:results") == 0


@async_test
async def test_at_most_max_results_outcomes_are_kept_the_newest(http: Http) -> None:
    await limit(http, "q1", max_results=2)
    ids = []
    for n in range(3):
        await http.post_job("q1", {"n": n})
        leased = await lease_one(http, "q1")
        await ack_with(http, "q1", leased.id, leased.receipt, {"result": n})
        ids.append(leased.id)
    assert (await http.get(f"/q/q1/{ids[0]}")).status == 404
    assert [(await view(http, "q1", job_id))["result"] for job_id in ids[1:]] == [1, 2]


@async_test
async def test_a_worker_reports_progress_shown_in_the_job_view(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    reply = await http.post(
        f"/q/q1/{leased.id}/progress",
        json_body={"progress": 40, "message": "page 4 of 10"},
        headers={RECEIPT: leased.receipt},
    )
    assert reply.status == 204
    progress = (await view(http, "q1", leased.id))["progress"]
    assert (progress["value"], progress["message"]) == (40, "page 4 of 10")


@async_test
async def test_progress_needs_the_current_receipt(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    reply = await http.post(
        f"/q/q1/{leased.id}/progress", json_body={"progress": 1}, headers={RECEIPT: "x.1"}
    )
    assert reply.status == 409


@async_test
async def test_bad_progress_reports_are_400_and_change_nothing(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    for body in (
        {"progress": "half"},
        {"progress": True},
        {},
        [1],
        {"progress": 1e16},
        {"progress": 1, "message": 3},
        {"progress": 1, "message": "m" * 1001},
    ):
        reply = await http.post(
            f"/q/q1/{leased.id}/progress", json_body=body, headers={RECEIPT: leased.receipt}
        )
        assert_error(reply, 400, body)
    assert (await view(http, "q1", leased.id))["progress"] is None


@async_test
async def test_a_producer_waiting_on_a_job_gets_its_result_when_it_is_acked_elsewhere(
    two_servers: list[Presque],
) -> None:
    producer, worker = (server.http for server in two_servers)
    job_id = (await producer.post_job("q1", {"n": 1})).header("X-Presque-Job-Id")
    waiting = defer.Deferred.fromCoroutine(timed_get(producer, f"/q/q1/{job_id}", wait="10"))
    await deferLater(reactor, 0.3, lambda: None)
    assert not waiting.called
    leased = await lease_one(worker, "q1")
    await ack_with(worker, "q1", leased.id, leased.receipt, {"result": "ok"})
    reply, took = await waiting
    assert (reply.json()["state"], reply.json()["result"], took < 3) == ("done", "ok", True)


@async_test
async def test_a_producer_waiting_on_a_job_learns_when_it_goes_to_the_dead_letters(
    http: Http,
) -> None:
    job_id = (await http.post_job("q1", {"n": 1})).header("X-Presque-Job-Id")
    waiting = defer.Deferred.fromCoroutine(timed_get(http, f"/q/q1/{job_id}", wait="10"))
    leased = await lease_one(http, "q1")
    await fail(http, "q1", leased.id, leased.receipt, error="broken", dead="1")
    reply, took = await waiting
    assert (reply.json()["state"], took < 3) == ("dead", True)
    assert reply.json()["errors"][-1]["error"] == "broken"


@async_test
async def test_waiting_on_a_job_that_stays_ready_answers_it_at_the_deadline(http: Http) -> None:
    job_id = (await http.post_job("q1", {"n": 1})).header("X-Presque-Job-Id")
    reply, took = await timed_get(http, f"/q/q1/{job_id}", wait="0.5")
    assert (reply.status, reply.json()["state"]) == (200, "ready")
    assert took >= 0.5


@async_test
async def test_waiting_on_a_done_job_answers_at_once(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    await ack(http, "q1", leased.id, leased.receipt)
    reply, took = await timed_get(http, f"/q/q1/{leased.id}", wait="10")
    assert (reply.json()["state"], took < 1) == ("done", True)


@async_test
async def test_waiting_on_an_unknown_job_is_404_at_once(http: Http) -> None:
    reply, took = await timed_get(http, "/q/q1/nope", wait="10")
    assert (reply.status, took < 1) == (404, True)


@async_test
async def test_a_waiter_for_one_job_is_not_woken_by_another(presque: Presque) -> None:
    http = presque.http
    first = (await http.post_job("q1", {"n": 1})).header("X-Presque-Job-Id")
    await http.post_job("q1", {"n": 2})
    waiting = defer.Deferred.fromCoroutine(timed_get(http, f"/q/q1/{first}", wait="1"))
    await deferLater(reactor, 0.1, lambda: None)
    # The first job is the next one out: lease it, then ack the second.
    one = await lease_one(http, "q1")
    two = await lease_one(http, "q1")
    assert one.id == first
    await ack(http, "q1", two.id, two.receipt)
    reply, took = await waiting
    assert (reply.json()["state"], took >= 1) == ("leased", True)


@async_test
async def test_a_result_too_large_for_json_numbers_is_400(http: Http) -> None:
    await http.post_job("q1", {"n": 1})
    leased = await lease_one(http, "q1")
    reply = await http.delete(
        f"/q/q1/{leased.id}",
        body=b'{"result": 1e999}',
        headers={RECEIPT: leased.receipt, "Content-Type": "application/json"},
    )
    assert assert_error(reply, 400) == "result has a number too large for JSON"
    assert (await view(http, "q1", leased.id))["state"] == "leased"
