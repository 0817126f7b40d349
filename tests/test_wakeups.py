"""
Wake-ups across servers for jobs that become ready without a POST: due
delayed jobs, leases that ran out, retried dead letters and failed jobs
retried at once. A request waiting (GET ?wait=S) on server A gets a job made
ready by server B well before its deadline. No scheduler runs in these
sites: the due work is done by B's fetches or an explicit round on B.
"""

from __future__ import annotations

import time

from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer

from harness.polling import eventually
from tests.conftest import Presque
from tests.leasing import bury, fail, lease_one
from tests.support import Reply, epoch

#: How long the waiter on A waits at most, and the time within which its
#: answer must come: well before its deadline.
WAIT = "5"
WELL_BEFORE = 3.0


class Waiter:
    """A GET /q/q1?wait=5 on one server, once it waits (subscribed to q1's wake-ups)."""

    def __init__(self, reply: defer.Deferred[Reply], started: float) -> None:
        self.reply = reply
        self.started = started

    @classmethod
    async def on(cls, server: Presque) -> Waiter:
        started = time.monotonic()
        reply = defer.ensureDeferred(server.http.get("/q/q1", params={"wait": WAIT}))
        await eventually(lambda: server.longpoll.waiting("q1") == 1, 5, "the GET never waited")
        await eventually(
            lambda: server.redis_server.call("PUBSUB", "NUMSUB", "presque:{q1}:wake")[1] == 1,
            5,
            "the waiting server never subscribed to the queue's wake-ups",
        )
        return cls(reply, started)

    async def answer(self) -> Reply:
        """Its answer, which must be a job and come well before the deadline."""
        reply = await self.reply
        took = time.monotonic() - self.started
        assert reply.status == 200, reply.body
        assert took < WELL_BEFORE, f"the waiter was answered after {took:.2f}s"
        return reply


async def takes_a_job(server: Presque) -> Reply | None:
    """GET /q/q1 on C{server}: its answer if it got a job."""
    reply = await server.http.get("/q/q1")
    return reply if reply.status == 200 else None


@async_test
async def test_due_delayed_jobs_promoted_by_another_server_wake_a_waiter(
    two_servers: list[Presque],
) -> None:
    a, b = two_servers
    due = epoch(0.3)
    for n in (1, 2):
        assert (await b.http.post_job("q1", {"n": n}, delayed=due)).status == 201
    waiter = await Waiter.on(a)
    # B's first GET after the jobs are due promotes both and takes one.
    taken = await eventually(lambda: takes_a_job(b), 5, "the delayed jobs never came due")
    got = await waiter.answer()
    assert sorted([taken.json()["n"], got.json()["n"]]) == [1, 2]


@async_test
async def test_leases_expired_by_another_servers_get_wake_a_waiter(
    two_servers: list[Presque],
) -> None:
    a, b = two_servers
    await b.http.post_jobs("q1", 2)
    leased = await b.http.get("/qb/q1", params={"batch_size": "2", "lease": "0.2"})
    assert leased.status == 200
    assert len(leased.json()) == 2
    waiter = await Waiter.on(a)
    # B's first GET after the leases ran out makes both ready again and takes one.
    taken = await eventually(lambda: takes_a_job(b), 5, "the leases never ran out")
    got = await waiter.answer()
    assert sorted([taken.json()["n"], got.json()["n"]]) == [0, 1]


@async_test
async def test_a_lease_expired_by_another_servers_round_wakes_a_waiter(
    two_servers: list[Presque],
) -> None:
    a, b = two_servers
    await b.http.post_job("q1", {"n": 1})
    await lease_one(b.http, "q1", seconds=0.2)
    waiter = await Waiter.on(a)

    async def expired() -> bool:
        return (await b.broker.run_due()).expired == 1

    await eventually(expired, 5, "B's rounds never expired the lease")
    got = await waiter.answer()
    assert got.json() == {"n": 1}


@async_test
async def test_dead_letters_retried_on_another_server_wake_a_waiter(
    two_servers: list[Presque],
) -> None:
    a, b = two_servers
    await bury(b.http, "q1", {"n": 1})
    waiter = await Waiter.on(a)
    retried = await b.http.post("/dead/q1/retry")
    assert retried.json()["retried"] == 1
    got = await waiter.answer()
    assert got.json() == {"n": 1}


@async_test
async def test_a_job_failed_for_an_immediate_retry_on_another_server_wakes_a_waiter(
    two_servers: list[Presque],
) -> None:
    a, b = two_servers
    await b.http.post_job("q1", {"n": 1})
    leased = await lease_one(b.http, "q1")
    waiter = await Waiter.on(a)
    failed = await fail(b.http, "q1", leased.id, leased.receipt, error="flaky", delay="0")
    assert failed.status == 200, failed.body
    got = await waiter.answer()
    assert got.json() == {"n": 1}
    assert got.header("X-Presque-Job-Id") == leased.id
