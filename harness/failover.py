"""
Redis disrupted under load: producers post numbered jobs and leasing
consumers ack them through a presque daemon while Redis is disrupted (a
master killed, slots migrated); then every job is accounted for. The
Sentinel and Cluster tests and C{bench/failover.py} play it.
"""

from __future__ import annotations

import collections
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

QUEUE = "failover"
#: Short, so that jobs whose ack was lost with the master come back soon.
LEASE = 2


@dataclass
class Outcome:
    """What the producers and consumers saw."""

    #: Jobs whose POST was answered 201.
    posted: set[int] = field(default_factory=set)
    #: How many times each job's ack was answered 204.
    acked: collections.Counter[int] = field(default_factory=collections.Counter)
    #: Jobs whose ack got no answer or a 503: the master may have been
    #: lost before or after it acked them (the job then comes back).
    unsure: set[int] = field(default_factory=set)
    #: Seconds from the first refused POST after the kill to the next 201.
    without_service: float = 0.0
    #: Answers other than 201 to POSTs, by status.
    refused: collections.Counter[int] = field(default_factory=collections.Counter)

    @property
    def lost(self) -> set[int]:
        """Jobs answered 201 that no consumer acked, nor may have acked."""
        return self.posted - set(self.acked) - self.unsure

    @property
    def acked_twice(self) -> set[int]:
        """Jobs acked, that came back and were acked again."""
        return {n for n, times in self.acked.items() if times > 1}


async def play(
    url: str,
    disrupt: Callable[[], object],
    producers: int = 4,
    consumers: int = 4,
    before: float = 2.0,
    after: float = 2.0,
) -> Outcome:
    """
    Load the daemon at C{url} for C{before} seconds, call C{disrupt} (in a
    thread: it blocks until Redis serves again), load it C{after} seconds
    more, then drain the queue.
    """
    import treq
    from twisted.internet import reactor
    from twisted.internet.defer import gatherResults
    from twisted.internet.task import deferLater
    from twisted.internet.threads import deferToThread
    from twisted.web.client import HTTPConnectionPool

    outcome = Outcome()
    pool = HTTPConnectionPool(reactor, persistent=True)
    numbers = iter(range(1_000_000_000))
    state: dict[str, Any] = {"producing": True, "disrupted": False, "refused_at": None}

    async def request(method: str, path: str, **options: Any) -> tuple[int, bytes, Any]:
        try:
            response = await treq.request(method, url + path, pool=pool, timeout=10, **options)
            return response.code, await response.content(), response.headers
        except Exception:
            return 0, b"", None

    async def produce() -> None:
        while state["producing"]:
            n = next(numbers)
            status, _, _ = await request("POST", f"/q/{QUEUE}", json={"n": n})
            if status == 201:
                outcome.posted.add(n)
                refused_at = state["refused_at"]
                if refused_at is not None and not outcome.without_service:
                    outcome.without_service = time.monotonic() - refused_at
            else:
                outcome.refused[status] += 1
                if state["disrupted"] and state["refused_at"] is None:
                    state["refused_at"] = time.monotonic()
                await deferLater(reactor, 0.01)

    async def consume() -> None:
        idle_since = None
        while True:
            status, body, headers = await request("GET", f"/q/{QUEUE}?lease={LEASE}")
            if status == 200:
                idle_since = None
                job_id = headers.getRawHeaders("X-Presque-Job-Id")[0]
                receipt = headers.getRawHeaders("X-Presque-Receipt")[0]
                settled, _, _ = await request(
                    "DELETE", f"/q/{QUEUE}/{job_id}", headers={"X-Presque-Receipt": receipt}
                )
                n = json.loads(body)["n"]
                if settled == 204:
                    outcome.acked[n] += 1
                elif settled in (0, 503):
                    outcome.unsure.add(n)
                continue
            if not state["producing"]:
                idle_since = idle_since or time.monotonic()
                # Long enough for the leases of acks lost with the master to run out.
                if time.monotonic() - idle_since > LEASE + 3:
                    return
            await deferLater(reactor, 0.02)

    async def fail_over() -> None:
        await deferLater(reactor, before)
        state["disrupted"] = True
        await deferToThread(disrupt)
        await deferLater(reactor, after)
        state["producing"] = False

    load = [produce() for _ in range(producers)] + [consume() for _ in range(consumers)]
    try:
        await gatherResults([*map(_deferred, load), _deferred(fail_over())])
    finally:
        await pool.closeCachedConnections()
    return outcome


def _deferred(coroutine: Any) -> Any:
    from twisted.internet.defer import Deferred

    return Deferred.fromCoroutine(coroutine)
