"""
The Python clients' settle_many and C{presque-worker --batch}: acks and
failures of many jobs go out as POST /qb/Q/settle, as the server counts.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from pytest_twisted import ensureDeferred as async_test

from harness.daemon import Daemon
from harness.polling import wait_until
from harness.redis import RedisServer
from presque.client import Ack, AsyncClient, Client, Fail
from tests.conftest import Presque
from tests.support import Daemons
from tests.test_client import blocking
from tests.test_metrics import samples_of, scrape
from tests.test_worker import Worker

SETTLE = "/qb/{queue}/settle"
ACK = "/q/{queue}/{job}"


def requests_to(samples: dict, route: str, method: str) -> float:
    """How many requests of C{route} the server answered, whatever their status."""
    return sum(
        count
        for (name, labels), count in samples.items()
        if name == "presque_http_request_duration_seconds_count"
        and ("route", route) in labels
        and ("method", method) in labels
    )


@async_test
async def test_settle_many_acks_and_fails_in_one_request(client: Client, presque: Presque) -> None:
    await blocking(client.post_many, "q1", [{"n": n} for n in range(4)])
    jobs = await blocking(client.fetch_many, "q1", 4, lease=30)
    settlement = await blocking(
        client.settle_many,
        acks=[jobs[0], Ack(jobs[1], {"sum": 3})],
        fails=[Fail(jobs[2], "boom", delay=60), Fail(jobs[3], dead=True)],
    )
    assert [(e["id"], e["state"]) for e in settlement.settled] == [
        (jobs[0].id, "done"),
        (jobs[1].id, "done"),
        (jobs[2].id, "delayed"),
        (jobs[3].id, "dead"),
    ]
    assert settlement.refused == []
    assert (await blocking(client.job_info, "q1", jobs[1].id))["result"] == {"sum": 3}
    samples = await scrape(presque.http)
    assert requests_to(samples, SETTLE, "POST") == 1
    assert requests_to(samples, ACK, "DELETE") == requests_to(samples, ACK, "PUT") == 0


@async_test
async def test_settle_many_tells_the_jobs_it_could_not_settle(client: Client) -> None:
    await blocking(client.post_many, "q1", [{"n": n} for n in range(2)])
    jobs = await blocking(client.fetch_many, "q1", 2, lease=30)
    await blocking(client.ack, jobs[0])
    settlement = await blocking(client.settle_many, acks=jobs)
    assert [entry["id"] for entry in settlement.settled] == [jobs[1].id]
    assert [(e["id"], e["status"]) for e in settlement.refused] == [(jobs[0].id, 409)]


@async_test
async def test_settle_many_sends_one_request_per_batch(client: Client, presque: Presque) -> None:
    await blocking(client.post_many, "q1", [{"n": n} for n in range(5)])
    jobs = await blocking(client.fetch_many, "q1", 5, lease=30)
    settlement = await blocking(client.settle_many, acks=jobs, batch=2)
    assert len(settlement.settled) == 5
    assert requests_to(await scrape(presque.http), SETTLE, "POST") == 3


@async_test
async def test_settle_many_settles_the_jobs_of_a_virtual_queue_on_their_queues(
    client: Client, presque: Presque
) -> None:
    await blocking(client.set_virtual, "v1", ["a", "b"])
    await blocking(client.post, "a", {"n": 1})
    await blocking(client.post, "b", {"n": 2})
    jobs = [await blocking(client.fetch, "v1", lease=30) for _ in range(2)]
    assert [job.queue for job in jobs] == ["a", "b"]
    settlement = await blocking(client.settle_many, acks=jobs)
    assert [entry["state"] for entry in settlement.settled] == ["done", "done"]
    assert requests_to(await scrape(presque.http), SETTLE, "POST") == 2


@async_test
async def test_settle_many_leaves_out_the_acks_of_jobs_taken_for_good(
    client: Client, presque: Presque
) -> None:
    await blocking(client.post, "q1", {"n": 1})
    job = await blocking(client.fetch, "q1")
    assert (await blocking(client.settle_many, acks=[job])).settled == []
    assert requests_to(await scrape(presque.http), SETTLE, "POST") == 0


@async_test
async def test_async_settle_many_acks_and_fails_in_one_request(
    aclient: AsyncClient, presque: Presque
) -> None:
    await aclient.post_many("q1", [{"n": n} for n in range(3)])
    jobs = await aclient.fetch_many("q1", 3, lease=30)
    settlement = await aclient.settle_many(acks=jobs[:2], fails=[Fail(jobs[2], "nope")])
    assert [entry["state"] for entry in settlement.settled] == ["done", "done", "delayed"]
    assert (await aclient.job_info("q1", jobs[2].id))["errors"][0]["error"] == "nope"
    assert requests_to(await scrape(presque.http), SETTLE, "POST") == 1


# presque-worker --batch, a real process against a real daemon.


@pytest.fixture
def daemon(tmp_path: Path, daemons: Daemons, clean_redis: RedisServer) -> Daemon:
    return daemons.start(tmp_path, "--redis", clean_redis.url)


@pytest.fixture
def worker(tmp_path: Path, daemon: Daemon):
    started = Worker(tmp_path, daemon)
    yield started
    started.kill()


def daemon_requests(daemon: Daemon, route: str, method: str) -> float:
    status, body = daemon.request("GET", "/metrics")
    assert status == 200
    return requests_to(samples_of(body), route, method)


def test_a_worker_with_batch_settles_each_batch_in_one_request(
    worker: Worker, daemon: Daemon
) -> None:
    client = Client(worker.url)
    client.post_many("jobs", [{"n": n} for n in range(20)])
    worker.start("jobs", "sleep", "--batch", "10")
    wait_until(lambda: client.queue_info("jobs")["totals"]["acked"] == 20, 15, worker.output)
    assert daemon_requests(daemon, SETTLE, "POST") == 2
    assert daemon_requests(daemon, ACK, "DELETE") == 0
    assert sorted(int(note[1]) for note in worker.notes() if note[0] == "end") == list(range(20))
    assert worker.output().count(" acked") == 20


def test_a_worker_with_batch_fails_the_jobs_that_raise_in_the_same_request(
    worker: Worker, daemon: Daemon
) -> None:
    client = Client(worker.url)
    client.configure("jobs", max_attempts=1)
    ids = client.post_many("jobs", [{"n": n} for n in range(3)])
    worker.start("jobs", "boom", "--batch", "5")
    wait_until(lambda: client.queue_info("jobs")["counts"]["dead"] == 3, 15, worker.output)
    assert daemon_requests(daemon, SETTLE, "POST") == 1
    assert daemon_requests(daemon, ACK, "PUT") == 0
    errors = [client.job_info("jobs", job_id)["errors"][0]["error"] for job_id in ids]
    assert errors == [f"ValueError: no luck with {n}" for n in range(3)]
    assert "failed, dead-lettered: ValueError: no luck with 2" in worker.output()


def test_a_worker_with_batch_keeps_the_leases_of_a_long_batch(
    worker: Worker, daemon: Daemon
) -> None:
    client = Client(worker.url)
    client.post_many("jobs", [{"n": n, "seconds": 0.8} for n in range(3)])
    worker.start("jobs", "sleep", "--batch", "3", "--lease", "1")
    wait_until(lambda: client.queue_info("jobs")["totals"]["acked"] == 3, 15, worker.output)
    # The first job waited over 1.6 s for the batch's settle: its lease was extended.
    totals = client.queue_info("jobs")["totals"]
    assert (totals["expired"], totals["failed"]) == (0, 0), json.dumps(totals)
    assert "lost" not in worker.output()


@pytest.mark.parametrize("batch", ["1", "3"])
def test_the_end_of_the_grace_period_gives_back_the_jobs_in_hand_in_one_request(
    worker: Worker, daemon: Daemon, batch: str
) -> None:
    client = Client(worker.url)
    count = int(batch)
    ids = client.post_many("jobs", [{"n": n, "seconds": 5} for n in range(count)])
    worker.start("jobs", "sleep", "--batch", batch, "--grace", "0.5")
    wait_until(lambda: worker.notes(), 10, worker.output)
    assert worker.process is not None
    worker.process.send_signal(signal.SIGTERM)
    assert worker.process.wait(timeout=15) == 0, worker.output()
    # Ready again at once, not when their leases run out; the batch's unrun jobs too.
    assert client.queue_info("jobs")["counts"]["ready"] == count
    assert daemon_requests(daemon, SETTLE, "POST") == 1
    assert daemon_requests(daemon, ACK, "PUT") == 0
    errors = [client.job_info("jobs", job_id)["errors"][-1]["error"] for job_id in ids]
    assert errors == ["worker stopped before the job finished"] * count
    assert worker.output().count("abandoned: still running at the end; given back") == count
