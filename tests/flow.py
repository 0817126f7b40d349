"""Helpers for the tests of flow control: limits and groups."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from twisted.internet import defer, reactor
from twisted.internet.task import deferLater

from tests.leasing import configure
from tests.support import Http, Reply


async def limit(http: Http, queue: str, **settings: float) -> None:
    """Set C{settings} (rate, concurrency, ...) of C{queue}."""
    reply = await configure(http, queue, settings)
    assert reply.status == 200, reply.body


async def timed_get(http: Http, path: str, **params: str) -> tuple[Reply, float]:
    """GET C{path}: the answer, and the seconds it took."""
    started = time.monotonic()
    reply = await http.get(path, params=params or None)
    return reply, time.monotonic() - started


async def assert_settling_wakes_a_held_waiter(
    other: Http, settle: Callable[[], Awaitable[object]], job: object
) -> None:
    """
    A leased fetch waiting on C{other} (held back by a limit) gets C{job}
    as soon as C{settle()} (an ack, a batch settle, on another server) frees
    the limit, long before its deadline.
    """
    waiting = defer.Deferred.fromCoroutine(timed_get(other, "/q/q1", wait="10", lease="30"))
    await deferLater(reactor, 0.3, lambda: None)
    assert not waiting.called
    await settle()
    reply, took = await waiting
    assert (reply.status, reply.json()) == (200, job)
    assert took < 3


def held_by(reply: Reply) -> str | None:
    """Which limit held a 404 "no job" back, if one did; checks its Retry-After."""
    assert reply.status == 404, reply.body
    assert reply.json() == {"error": "no job"}
    held = reply.header("X-Presque-Held-By")
    if held is not None:
        assert int(reply.header("Retry-After")) >= 1
    return held
