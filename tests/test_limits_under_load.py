"""
The limits measured with real servers: two presque servers sharing one
Redis, many workers on each, for seconds. The figures are asserted with the
margins the issue asks for (within 10% of the rate), never a speed.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter

from pytest_twisted import ensureDeferred as async_test
from twisted.internet import defer, reactor
from twisted.internet.task import deferLater

from tests.conftest import Presque
from tests.flow import limit
from tests.leasing import ack
from tests.support import Http

WORKERS = 20
# Seconds a worker of the load test holds each job.
HOLD = 0.02


def spread(servers: list[Presque], count: int) -> list[Http]:
    """C{count} workers' clients, alternating between the servers."""
    return [server.http for server, _ in zip(itertools.cycle(servers), range(count))]


async def run_workers(clients: list[Http], work, seconds: float) -> None:
    """Run C{work(http, until)} for each client until C{seconds} from now."""
    until = time.monotonic() + seconds
    await defer.gatherResults(
        [defer.Deferred.fromCoroutine(work(http, until)) for http in clients],
        consumeErrors=True,
    )


@async_test
async def test_two_servers_hand_out_within_10_percent_of_the_rate(
    two_servers: list[Presque],
) -> None:
    rate, seconds = 20, 10.0
    http = two_servers[0].http
    await limit(http, "paced", rate=rate, burst=1)
    reply = await http.post("/qb/paced", json_body={"jobs": [{"n": n} for n in range(1000)]})
    assert reply.status == 201
    handed_out: list[float] = []

    async def work(client: Http, until: float) -> None:
        while (left := until - time.monotonic()) > 0:
            reply = await client.get("/q/paced", params={"wait": f"{left:.3f}"})
            if reply.status == 200 and time.monotonic() <= until:
                handed_out.append(time.monotonic())

    await run_workers(spread(two_servers, WORKERS), work, seconds)
    expected = 1 + rate * seconds  # the burst, then the rate
    assert abs(len(handed_out) - expected) <= 0.1 * expected, len(handed_out)


@async_test
async def test_concurrency_and_group_limits_hold_under_load_and_groups_progress_evenly(
    two_servers: list[Presque],
) -> None:
    concurrency, per_group, groups = 6, 2, "abcd"
    http = two_servers[0].http
    await limit(http, "fair", concurrency=concurrency, group_concurrency=per_group)
    # One tenant's burst first, then the others: more than the workers get
    # through, so that no group runs dry.
    for group in groups:
        for _ in range(4 if group == "a" else 2):
            jobs = {"jobs": [{"g": group} for _ in range(500)]}
            reply = await http.post("/qb/fair", json_body=jobs, params={"group": group})
            assert reply.status == 201
    holding: Counter[str] = Counter()
    most_held: Counter[str] = Counter()
    done: Counter[str] = Counter()

    async def work(client: Http, until: float) -> None:
        while (left := until - time.monotonic()) > 0:
            reply = await client.get("/q/fair", params={"wait": f"{left:.3f}", "lease": "30"})
            if reply.status != 200:
                continue
            group = reply.json()["g"]
            holding[group] += 1
            holding["all"] += 1
            for name in (group, "all"):
                most_held[name] = max(most_held[name], holding[name])
            await deferLater(reactor, HOLD, lambda: None)
            # Let go before the ack is sent: the server counts a job until
            # its ack, so this count is never above the server's.
            holding[group] -= 1
            holding["all"] -= 1
            job_id = reply.header("X-Presque-Job-Id")
            assert (
                await ack(client, "fair", job_id, reply.header("X-Presque-Receipt"))
            ).status == 204
            done[group] += 1

    await run_workers(spread(two_servers, WORKERS), work, 5.0)
    assert most_held["all"] <= concurrency
    assert max(most_held[group] for group in groups) <= per_group
    counts = [done[group] for group in groups]
    assert min(counts) > 0
    # Served in turn: the tenant that posted twice as much got no more.
    assert max(counts) - min(counts) <= concurrency, counts
