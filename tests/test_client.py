"""
The Python clients against a real presque: L{Client}, which blocks and so
runs in a thread (the server runs in the test's reactor), and L{AsyncClient}.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
from pytest_twisted import ensureDeferred as async_test
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater
from twisted.internet.threads import deferToThread

from harness.daemon import ROOT
from harness.processes import free_port
from harness.redis import RedisServer
from presque.client import (
    AsyncClient,
    Client,
    Full,
    PresqueError,
    QueueClosed,
    StaleReceipt,
    Unavailable,
    UnknownJob,
)
from tests.conftest import Presque, start_presque


async def blocking(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a call of the synchronous client in a thread, as its users' programs do."""
    return await deferToThread(call, *args, **kwargs)


async def leased(client: Client, queue: str = "q1", seconds: float = 30) -> Any:
    """Post one job to C{queue} and fetch it under a lease."""
    await blocking(client.post, queue, {"n": 1})
    return await blocking(client.fetch, queue, lease=seconds)


# The synchronous client.


@async_test
async def test_post_then_fetch_gives_the_job_with_its_id_and_body(client: Client) -> None:
    job_id = await blocking(client.post, "q1", {"to": "alice"})
    job = await blocking(client.fetch, "q1")
    assert (job.id, job.body, job.raw, job.queue) == (
        job_id,
        {"to": "alice"},
        b'{"to":"alice"}',
        "q1",
    )
    assert (job.attempt, job.receipt, job.lease_expires) == (None, None, None)


@async_test
async def test_a_higher_priority_is_handed_out_first(client: Client) -> None:
    await blocking(client.post, "q1", {"n": "low"})
    await blocking(client.post, "q1", {"n": "high"}, priority=9)
    assert (await blocking(client.fetch, "q1")).body == {"n": "high"}


@async_test
async def test_post_many_with_a_priority_goes_first(client: Client) -> None:
    await blocking(client.post, "q1", {"n": "low"})
    await blocking(client.post_many, "q1", [{"n": "a"}, {"n": "b"}], priority=3)
    taken = [(await blocking(client.fetch, "q1")).body["n"] for _ in range(3)]
    assert taken == ["a", "b", "low"]


@async_test
async def test_a_delayed_job_is_not_handed_out_before_its_time(client: Client) -> None:
    job_id = await blocking(client.post, "q1", {"n": 1}, delay=60)
    assert await blocking(client.fetch, "q1") is None
    info = await blocking(client.job_info, "q1", job_id)
    assert info["state"] == "delayed"
    assert info["next_run"] == pytest.approx(time.time() + 60, abs=2)


@async_test
async def test_fetch_on_an_empty_queue_returns_none(client: Client) -> None:
    assert await blocking(client.fetch, "q1") is None


@async_test
async def test_a_leased_fetch_carries_attempt_receipt_and_deadline(client: Client) -> None:
    before = time.time()
    job = await leased(client, seconds=30)
    assert (job.attempt, job.body) == (1, {"n": 1})
    assert job.receipt
    assert before + 29 <= job.lease_expires <= time.time() + 31


@async_test
async def test_ack_removes_a_leased_job_for_good(client: Client) -> None:
    job = await leased(client)
    await blocking(client.ack, job)
    info = await blocking(client.job_info, "q1", job.id)
    assert (info["state"], "job" in info) == ("done", False)


@async_test
async def test_a_second_ack_raises_stale_receipt(client: Client) -> None:
    job = await leased(client)
    await blocking(client.ack, job)
    with pytest.raises(StaleReceipt) as raised:
        await blocking(client.ack, job)
    assert raised.value.status == 409


@async_test
async def test_fail_with_an_error_shows_in_the_job_and_the_queue(client: Client) -> None:
    job = await leased(client)
    outcome = await blocking(client.fail, job, error="smtp timeout")
    assert (outcome["id"], outcome["state"]) == (job.id, "delayed")
    info = await blocking(client.job_info, "q1", job.id)
    assert [(e["attempt"], e["error"]) for e in info["errors"]] == [(1, "smtp timeout")]
    assert (await blocking(client.queue_info, "q1"))["totals"]["failed"] == 1


@async_test
async def test_fail_with_dead_sends_the_job_to_the_dead_letters(client: Client) -> None:
    job = await leased(client)
    assert (await blocking(client.fail, job, dead=True))["state"] == "dead"
    page = await blocking(client.dead_letters, "q1")
    assert (page["total"], [letter["id"] for letter in page["jobs"]]) == (1, [job.id])


@async_test
async def test_fail_of_a_job_taken_for_good_gives_it_back(client: Client) -> None:
    await blocking(client.post, "q1", {"n": 1})
    job = await blocking(client.fetch, "q1")
    outcome = await blocking(client.fail, job)
    assert outcome["state"] == "ready"
    assert (await blocking(client.fetch, "q1")).body == {"n": 1}
    assert (await blocking(client.stats, "q1"))["job_failed"] == 1


@async_test
async def test_extend_moves_the_lease_deadline(client: Client) -> None:
    job = await leased(client, seconds=10)
    deadline = await blocking(client.extend, job, 120)
    assert time.time() + 110 < deadline == job.lease_expires
    info = await blocking(client.job_info, "q1", job.id)
    assert info["lease_expires"] == pytest.approx(deadline, abs=0.01)


@async_test
async def test_post_many_answers_the_ids_in_order_across_batches(client: Client) -> None:
    ids = await blocking(client.post_many, "q1", [{"n": n} for n in range(7)], batch=3)
    assert len(set(ids)) == 7
    jobs = await blocking(client.fetch_many, "q1", 10)
    assert [(job.id, job.body) for job in jobs] == [(i, {"n": n}) for n, i in enumerate(ids)]


@async_test
async def test_lease_zero_takes_for_good_on_a_queue_that_leases_by_default(
    client: Client,
) -> None:
    settings = (await blocking(client.configure, "q1", lease=60))["settings"]
    assert settings["lease"] == 60
    await blocking(client.post_many, "q1", [{"n": 1}, {"n": 2}])
    assert (await blocking(client.fetch, "q1")).receipt
    assert (await blocking(client.fetch, "q1", lease=0)).receipt is None


@async_test
async def test_fetch_many_leases_up_to_count_jobs(client: Client) -> None:
    await blocking(client.post_many, "q1", [{"n": n} for n in range(5)])
    jobs = await blocking(client.fetch_many, "q1", 3, lease=30)
    assert [job.body for job in jobs] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert all(job.receipt and job.attempt == 1 and job.lease_expires for job in jobs)
    assert (await blocking(client.queue_info, "q1"))["counts"]["ready"] == 2


@async_test
async def test_fetch_many_on_an_empty_queue_returns_an_empty_list(client: Client) -> None:
    assert await blocking(client.fetch_many, "q1", 5) == []


@async_test
async def test_a_duplicate_uniq_raises_the_server_error(client: Client) -> None:
    await blocking(client.post, "q1", {"user": 42}, uniq="user-42")
    with pytest.raises(PresqueError) as raised:
        await blocking(client.post, "q1", {"user": 42}, uniq="user-42")
    assert (raised.value.status, raised.value.message) == (400, "job already exists")


@async_test
async def test_fetch_from_a_closed_queue_raises_queue_closed(client: Client) -> None:
    await blocking(client.post, "q1", {"n": 1})
    await blocking(client.pause, "q1")
    with pytest.raises(QueueClosed) as raised:
        await blocking(client.fetch, "q1")
    assert (raised.value.status, raised.value.message) == (404, "queue is closed")


@async_test
async def test_pause_closes_and_resume_opens_the_queue(client: Client) -> None:
    await blocking(client.pause, "q1")
    assert (await blocking(client.queue_info, "q1"))["status"] == "closed"
    await blocking(client.resume, "q1")
    assert (await blocking(client.queue_info, "q1"))["status"] == "open"


@async_test
async def test_retry_dead_puts_the_dead_letters_back_in_the_queue(client: Client) -> None:
    job = await leased(client)
    await blocking(client.fail, job, dead=True)
    assert await blocking(client.retry_dead, "q1", [job.id]) == 1
    again = await blocking(client.fetch, "q1", lease=30)
    assert (again.id, again.attempt) == (job.id, 1)


@async_test
async def test_purge_dead_drops_the_dead_letters(client: Client) -> None:
    await blocking(client.fail, await leased(client), dead=True)
    assert await blocking(client.purge_dead, "q1") == 1
    assert (await blocking(client.dead_letters, "q1"))["total"] == 0


@async_test
async def test_a_post_to_a_full_queue_raises_full(client: Client) -> None:
    await blocking(client.configure, "q1", max_length=1)
    await blocking(client.post, "q1", {"n": 1})
    with pytest.raises(Full) as refused:
        await blocking(client.post, "q1", {"n": 2})
    assert refused.value.status == 429
    assert (await blocking(client.jobs, "q1"))["total"] == 1


@async_test
async def test_jobs_lists_a_page_of_one_state(client: Client) -> None:
    job = await leased(client)
    page = await blocking(client.jobs, "q1", "leased")
    assert (page["state"], page["total"], [j["id"] for j in page["jobs"]]) == (
        "leased",
        1,
        [job.id],
    )


@async_test
async def test_a_job_is_sent_to_the_dead_letters_and_made_ready_again(client: Client) -> None:
    job = await leased(client)
    dead = await blocking(client.send_to_dead, "q1", job.id, "wrong address")
    assert (dead["state"], dead["errors"][-1]["error"]) == ("dead", "wrong address")
    assert (await blocking(client.make_ready, "q1", job.id))["state"] == "ready"


@async_test
async def test_a_job_is_removed(client: Client) -> None:
    job_id = await blocking(client.post, "q1", {"n": 1})
    await blocking(client.remove_job, "q1", job_id)
    assert (await blocking(client.jobs, "q1"))["total"] == 0


@async_test
async def test_summary_adds_up_every_queue(client: Client) -> None:
    await blocking(client.post, "q1", {"n": 1})
    summary = await blocking(client.summary)
    assert summary["redis"] == "up" and "counts" in summary


@async_test
async def test_purge_drops_every_job_of_the_queue(client: Client) -> None:
    await blocking(client.post_many, "q1", [{"n": 1}, {"n": 2}])
    await blocking(client.purge, "q1")
    assert await blocking(client.fetch, "q1") is None


@async_test
async def test_the_worker_id_goes_with_every_request(presque: Presque) -> None:
    client = Client(presque.http.base, worker_id="host1-17")
    await blocking(client.post, "q1", {"n": 1})
    await blocking(client.fetch, "q1")
    assert await presque.http.worker_counts("host1-17") == (1, 0)


@async_test
async def test_register_and_unregister_list_the_worker_on_the_queue(presque: Presque) -> None:
    client = Client(presque.http.base, worker_id="host1-17")
    await blocking(client.register, "q1")
    workers = await presque.http.get("/w/", params={"queue_name": "q1"})
    assert workers.json()["workers_list"] == ["host1-17"]
    await blocking(client.unregister, "q1")
    workers = await presque.http.get("/w/", params={"queue_name": "q1"})
    assert workers.json()["workers_list"] == []


@async_test
async def test_queue_names_are_quoted_in_the_url(client: Client) -> None:
    job_id = await blocking(client.post, "mail é?#%", {"n": 1})
    assert (await blocking(client.fetch, "mail é?#%")).id == job_id


@async_test
async def test_fetch_with_wait_gets_a_job_posted_while_it_waits(
    client: Client, presque: Presque
) -> None:
    started = time.monotonic()
    waiting = deferToThread(client.fetch, "q1", wait=10)
    await deferLater(reactor, 0.3)
    await presque.http.post_job("q1", {"n": 1})
    job = await waiting
    assert job.body == {"n": 1}
    assert 0.3 <= time.monotonic() - started < 5


@async_test
async def test_fetch_with_wait_returns_none_when_nothing_arrives(client: Client) -> None:
    started = time.monotonic()
    assert await blocking(client.fetch, "q1", wait=0.5) is None
    assert time.monotonic() - started >= 0.5


def test_unavailable_when_nothing_listens() -> None:
    client = Client(f"http://127.0.0.1:{free_port()}", timeout=5)
    with pytest.raises(Unavailable) as raised:
        client.post("q1", {"n": 1})
    assert raised.value.status is None


@async_test
async def test_unavailable_with_503_while_redis_is_down(own_redis: RedisServer) -> None:
    server, stop = await start_presque(own_redis)
    try:
        own_redis.stop()
        await deferLater(reactor, 0.2)
        with pytest.raises(Unavailable) as raised:
            await blocking(Client(server.http.base).stats, "q1")
        assert (raised.value.status, raised.value.message) == (503, "redis is unavailable")
    finally:
        await stop()


@async_test
async def test_a_post_sent_again_with_its_idempotency_key_stores_one_job(
    client: Client, presque: Presque
) -> None:
    first = await blocking(client.post, "q1", {"n": 1}, idempotency_key="order-17")
    again = await blocking(client.post, "q1", {"n": 1}, idempotency_key="order-17")
    assert first == again
    assert await presque.http.job_count("q1") == 1


@async_test
async def test_each_post_gets_a_fresh_idempotency_key(client: Client, presque: Presque) -> None:
    await blocking(client.post, "q1", {"n": 1})
    await blocking(client.post, "q1", {"n": 1})
    assert await presque.http.job_count("q1") == 2


@async_test
async def test_a_post_answered_503_is_retried_until_redis_is_back(own_redis: RedisServer) -> None:
    server, stop = await start_presque(own_redis)
    own_redis.stop()
    back = RedisServer(port=own_redis.port)
    try:
        posting = blocking(Client(server.http.base, retries=6).post, "q1", {"n": 1})
        await deferLater(reactor, 0.3)
        back.start()
        job_id = await posting
        assert (await server.http.get("/q/q1")).header("X-Presque-Job-Id") == job_id
    finally:
        await stop()
        back.stop()


@async_test
async def test_a_post_many_is_retried_with_the_same_keys(client: Client, presque: Presque) -> None:
    ids = await blocking(
        client.post_many, "q1", [{"n": n} for n in range(5)], batch=2, idempotency_key="import-3"
    )
    again = await blocking(
        client.post_many, "q1", [{"n": n} for n in range(5)], batch=2, idempotency_key="import-3"
    )
    assert ids == again
    assert await presque.http.job_count("q1") == 5


def test_importing_the_sync_client_does_not_import_twisted() -> None:
    code = "import sys; from presque.client import Client; assert 'twisted' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


# The asynchronous client.


@async_test
async def test_async_post_then_fetch_gives_the_job_with_its_id_and_body(
    aclient: AsyncClient,
) -> None:
    job_id = await aclient.post("q1", {"to": "alice"})
    job = await aclient.fetch("q1")
    assert (job.id, job.body, job.raw) == (job_id, {"to": "alice"}, b'{"to":"alice"}')


@async_test
async def test_async_fetch_on_an_empty_queue_returns_none(aclient: AsyncClient) -> None:
    assert await aclient.fetch("q1") is None


@async_test
async def test_async_ack_removes_a_leased_job_for_good(aclient: AsyncClient) -> None:
    await aclient.post("q1", {"n": 1})
    job = await aclient.fetch("q1", lease=30)
    await aclient.ack(job)
    assert (await aclient.job_info("q1", job.id))["state"] == "done"


@async_test
async def test_async_fail_with_an_error_shows_in_the_job(aclient: AsyncClient) -> None:
    await aclient.post("q1", {"n": 1})
    job = await aclient.fetch("q1", lease=30)
    assert (await aclient.fail(job, error="smtp timeout"))["state"] == "delayed"
    info = await aclient.job_info("q1", job.id)
    assert [e["error"] for e in info["errors"]] == ["smtp timeout"]


@async_test
async def test_async_extend_moves_the_lease_deadline(aclient: AsyncClient) -> None:
    await aclient.post("q1", {"n": 1})
    job = await aclient.fetch("q1", lease=10)
    deadline = await aclient.extend(job, 120)
    assert time.time() + 110 < deadline == job.lease_expires


@async_test
async def test_async_post_many_then_fetch_many_keep_the_order(aclient: AsyncClient) -> None:
    ids = await aclient.post_many("q1", [{"n": n} for n in range(5)], batch=2)
    jobs = await aclient.fetch_many("q1", 10, lease=30)
    assert [(job.id, job.body) for job in jobs] == [(i, {"n": n}) for n, i in enumerate(ids)]


@async_test
async def test_async_duplicate_uniq_raises_the_server_error(aclient: AsyncClient) -> None:
    await aclient.post("q1", {"n": 1}, uniq="k")
    with pytest.raises(PresqueError) as raised:
        await aclient.post("q1", {"n": 1}, uniq="k")
    assert (raised.value.status, raised.value.message) == (400, "job already exists")


@async_test
async def test_async_fetch_from_a_closed_queue_raises_queue_closed(aclient: AsyncClient) -> None:
    await aclient.pause("q1")
    with pytest.raises(QueueClosed):
        await aclient.fetch("q1")


@async_test
async def test_async_dead_letters_retry_and_purge(aclient: AsyncClient) -> None:
    for n in (1, 2):
        await aclient.post("q1", {"n": n})
        await aclient.fail(await aclient.fetch("q1", lease=30), dead=True)
    assert (await aclient.dead_letters("q1"))["total"] == 2
    assert await aclient.retry_dead("q1") == 2
    await aclient.fail(await aclient.fetch("q1", lease=30), dead=True)
    assert await aclient.purge_dead("q1") == 1


@async_test
async def test_async_jobs_are_browsed_moved_and_removed(aclient: AsyncClient) -> None:
    job_id = await aclient.post("q1", {"n": 1})
    assert (await aclient.jobs("q1"))["jobs"][0]["id"] == job_id
    assert (await aclient.send_to_dead("q1", job_id))["state"] == "dead"
    assert (await aclient.make_ready("q1", job_id))["state"] == "ready"
    await aclient.remove_job("q1", job_id)
    assert (await aclient.jobs("q1"))["total"] == 0
    assert (await aclient.summary())["redis"] == "up"


@async_test
async def test_async_the_worker_id_goes_with_every_request(presque: Presque) -> None:
    client = AsyncClient(presque.http.base, worker_id="host1-17")
    try:
        await client.post("q1", {"n": 1})
        await client.fetch("q1")
    finally:
        await client.close()
    assert await presque.http.worker_counts("host1-17") == (1, 0)


@async_test
async def test_async_fetch_with_wait_gets_a_job_posted_while_it_waits(
    aclient: AsyncClient, presque: Presque
) -> None:
    fetched = Deferred.fromCoroutine(aclient.fetch("q1", wait=10))
    await deferLater(reactor, 0.3)
    await presque.http.post_job("q1", {"n": 1})
    assert (await fetched).body == {"n": 1}


@async_test
async def test_async_unavailable_when_nothing_listens() -> None:
    client = AsyncClient(f"http://127.0.0.1:{free_port()}", timeout=5)
    try:
        with pytest.raises(Unavailable) as raised:
            await client.post("q1", {"n": 1})
        assert raised.value.status is None
    finally:
        await client.close()


# Results, progress and groups.


@async_test
async def test_post_waiting_for_the_result_answers_the_outcome(client: Client) -> None:
    waiting = deferToThread(client.post, "q1", {"n": 1}, wait_for_result=10)
    job = await eventually_fetched(client)
    await blocking(client.ack, job, {"sent": True})
    outcome = await waiting
    assert (outcome.id, outcome.state, outcome.result) == (job.id, "done", {"sent": True})
    assert outcome.finished


@async_test
async def test_post_waiting_for_a_result_that_does_not_come_answers_the_state(
    client: Client,
) -> None:
    outcome = await blocking(client.post, "q1", {"n": 1}, wait_for_result=0.3)
    assert (outcome.state, outcome.finished) == ("ready", False)


@async_test
async def test_wait_for_a_job_sent_to_the_dead_letters_tells_its_errors(client: Client) -> None:
    job_id = await blocking(client.post, "q1", {"n": 1})
    waiting = deferToThread(client.wait_for, "q1", job_id, 10)
    job = await eventually_fetched(client)
    await blocking(client.fail, job, "no such user", dead=True)
    outcome = await waiting
    assert (outcome.state, outcome.errors[-1]["error"]) == ("dead", "no such user")


@async_test
async def test_progress_shows_in_the_job_info(client: Client) -> None:
    job = await leased(client)
    await blocking(client.progress, job, 3, "third page")
    progress = (await blocking(client.job_info, "q1", job.id))["progress"]
    assert (progress["value"], progress["message"]) == (3, "third page")


@async_test
async def test_post_with_a_group_puts_the_job_in_it(client: Client) -> None:
    job_id = await blocking(client.post, "q1", {"n": 1}, group="tenant-1")
    assert (await blocking(client.job_info, "q1", job_id))["group"] == "tenant-1"


@async_test
async def test_the_async_client_posts_and_waits_for_the_result(aclient: AsyncClient) -> None:
    waiting = Deferred.fromCoroutine(aclient.post("q1", {"n": 1}, wait_for_result=10))
    job = None
    while job is None:
        job = await aclient.fetch("q1", lease=30)
    await aclient.progress(job, 50)
    await aclient.ack(job, [1, 2])
    outcome = await waiting
    assert (outcome.state, outcome.result) == ("done", [1, 2])


async def eventually_fetched(client: Client) -> Any:
    """The next job of q1, leased, once one is there."""
    job = None
    while job is None:
        job = await blocking(client.fetch, "q1", lease=30, wait=1)
    return job


@async_test
async def test_remove_job_cancels_a_leased_job_only_with_force(client: Client) -> None:
    job = await leased(client)
    with pytest.raises(PresqueError) as refused:
        await blocking(client.remove_job, "q1", job.id)
    assert refused.value.status == 409
    await blocking(client.remove_job, "q1", job.id, force=True)
    with pytest.raises(UnknownJob):
        await blocking(client.job_info, "q1", job.id)
